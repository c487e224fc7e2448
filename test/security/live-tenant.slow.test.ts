import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../diagnostics/types.ts';
import { createScaledClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { FleetUpdate, LiveAck, LiveAlarm, LiveFrame, LiveTicket } from '../../web/live/events.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, RULES, TEST_COST } from '../web/helpers.ts';
import {
  apiAs,
  askVehicle,
  openConsole,
  type LiveClient,
  type LiveRecorder,
  type Login,
} from '../helpers/live-client.ts';
import { fleetEntries } from '../../web/live/fleet-wire.ts';

/**
 * One minute of live traffic (real time): unit B's simulated vehicle streams at 4 Hz through the
 * reference gateway, with a mains outage and a generator that will not start, loses its link for a
 * few seconds; B's customer opens tickets, the duty desk comments on them and handles B's alarms.
 * Unit A's customer, on a WebSocket and a long-polling connection, watching its own vehicle and
 * trying B's every few seconds, receives zero frames, fleet entries, alarms or tickets of B.
 * B's customer and the staff receive all of it (so the rooms are not simply empty).
 */
const DURATION_MS = 60_000;
const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];

describe('a minute of unit B’s live traffic reaches none of unit A’s consoles', () => {
  let tp: TestPlatform;
  let base: string;
  const gateways: Gateway[] = [];
  const sockets: LiveClient[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform({ DIAGNOSTICS_TICK_MS: '1000' });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CA', name: 'Unit A' });
    await tp.platform.customers.add({ id: 'CB', name: 'Unit B' });
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
      ['desk', 'dispatcher', null],
    ] as const) {
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    }
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.disconnect();
    await Promise.all(gateways.map((g) => g.stop().catch(() => undefined)));
    await tp?.close();
  });

  function startVehicle(id: string, secret: string): Gateway {
    const clock = createScaledClock({ startTs: Date.now(), speed: 1 });
    const model = createVehicleModel({
      vehicleId: id,
      seed: id,
      startTs: clock.now(),
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    const gw = createGateway(
      { clock, model },
      { vehicleId: id, secret, brokerUrl: tp.mqttUrl, rateHz: 4, reconnectMinMs: 500, reconnectMaxMs: 1000 },
    );
    gw.start();
    gw.tick();
    timers.push(setInterval(() => gw.tick(), 50));
    gateways.push(gw);
    return gw;
  }

  const console_ = (username: string, transport: 'websocket' | 'polling') =>
    openConsole(base, username, PASSWORD, { transport, opened: sockets });
  const ask = askVehicle;
  const api = (login: Login, method: string, path: string, body?: unknown) => apiAs(base, login, method, path, body);

  it('A gets nothing of B: no frame, fleet entry, alarm or ticket, over WebSocket and long-polling', async () => {
    const a = await tp.addVehicle('VA1', 'CA');
    const b = await tp.addVehicle('VB1', 'CB');
    const gwA = startVehicle(a.id, a.secret);
    const gwB = startVehicle(b.id, b.secret);
    const t0 = Date.now();
    // B's vehicle: the grid fails and the generator will not start
    gwB.model.addFault(toModelFault(plannedFault('mains-outage', t0 + 2000, 600), gwB.model.profile));
    gwB.model.addFault(toModelFault(plannedFault('generator-start-failure', t0 + 2000, 600, {}, 1), gwB.model.profile));

    const aWs = await console_('cust-a', 'websocket');
    const aPoll = await console_('cust-a', 'polling');
    const bWs = await console_('cust-b', 'websocket');
    const staff = await console_('desk', 'polling');
    for (const c of [aWs, aPoll]) expect(await ask(c.s, 'subscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    expect(await ask(bWs.s, 'subscribe', 'VB1')).toEqual({ ok: true, vehicleId: 'VB1' });
    expect(await ask(staff.s, 'subscribe', 'VB1')).toEqual({ ok: true, vehicleId: 'VB1' });

    // the minute: every few seconds A tries B's vehicle again; B's people and the desk work on B
    const refusals: LiveAck<{ vehicleId: string }>[] = [];
    const bTickets: number[] = [];
    const bAlarms: Alarm[] = [];
    const rule = RULES.rules.find((r) => r.id === 'mains_lost')!;
    let step = 0;
    let failure: unknown;
    const busy = new Set<Promise<unknown>>();
    const act = (p: Promise<unknown>) => {
      const q = p.catch((err: unknown) => (failure ??= err)).finally(() => busy.delete(q));
      busy.add(q);
    };
    timers.push(
      setInterval(() => {
        step++;
        for (const c of [aWs, aPoll]) act(ask(c.s, 'subscribe', 'VB1').then((r) => refusals.push(r)));
        if (step % 3 === 1) {
          act(
            api(bWs.login, 'POST', '/api/tickets', {
              vehicleId: 'VB1',
              title: `no power ${step}`,
              need: 'the generator will not start',
              contacts,
            }).then(async (res) => {
              expect(res.status).toBe(201);
              const id = ((await res.json()) as { ticket: { id: number } }).ticket.id;
              bTickets.push(id);
              expect(
                (await api(staff.login, 'POST', `/api/tickets/${id}/comments`, { text: 'calling the site' })).status,
              ).toBe(201);
            }),
          );
        }
        if (step % 3 === 2) {
          act(
            (async () => {
              const { alarm } = await tp.platform.diagnostics.alarms.raise('VB1', rule, Date.now(), true, null);
              tp.platform.bus.emit('alarm.raised', { alarm });
              bAlarms.push(alarm);
              const res = await api(staff.login, 'POST', `/api/alarms/${alarm.id}/acknowledge`, { comment: 'seen' });
              expect([200, 409]).toContain(res.status);
            })(),
          );
        }
        if (step === 6) gwB.cutLink(3000); // B drops off and comes back: presence changes in the fleet
      }, 5000),
    );
    await new Promise<void>((resolve) => {
      const end = setTimeout(resolve, DURATION_MS);
      timers.push(end);
    });
    clearInterval(timers.pop()!);
    await Promise.all([...busy]);
    if (failure) throw failure;

    // B stops; then one last thing of A's: when A has it, anything of B sent before would be there too
    await gwB.stop();
    const { alarm: alarmA } = await tp.platform.diagnostics.alarms.raise('VA1', rule, Date.now(), true, null);
    tp.platform.bus.emit('alarm.raised', { alarm: alarmA });
    const ticketA = (await (
      await api(aWs.login, 'POST', '/api/tickets', { vehicleId: 'VA1', title: 'last', need: 'sentinel', contacts })
    ).json()) as { ticket: { id: number } };
    for (const c of [aWs, aPoll]) {
      await c.rec.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmA.id, 10_000);
      await c.rec.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketA.ticket.id, 10_000);
      const after = c.rec.got.length;
      await c.rec.next<FleetUpdate>('fleet', () => c.rec.got.length > after, 10_000);
    }

    // what B and the desk got: the rooms were busy
    const of = (c: { rec: LiveRecorder }, event: string) =>
      c.rec.got.filter((g) => g.event === event).map((g) => g.payload);
    const bFrames = of(bWs, 'frame') as LiveFrame[];
    expect(bFrames.length, 'B’s frames at B').toBeGreaterThan(100);
    expect(bFrames.every((f) => f.vehicleId === 'VB1')).toBe(true);
    const bAlarmEvents = of(bWs, 'alarm') as LiveAlarm[];
    expect(bAlarmEvents.every((m) => m.alarm.vehicleId === 'VB1')).toBe(true);
    for (const al of bAlarms)
      expect(
        bAlarmEvents.some((m) => m.alarm.id === al.id),
        `alarm ${al.id} at B`,
      ).toBe(true);
    expect(new Set((of(bWs, 'ticket') as LiveTicket[]).map((m) => m.ticket.id))).toEqual(new Set(bTickets));
    const bFleet = (of(bWs, 'fleet') as FleetUpdate[]).flatMap(fleetEntries);
    expect(bFleet.some((v) => v.id === 'VB1' && v.online === false)).toBe(true);
    expect(bFleet.some((v) => v.id === 'VB1' && v.online === true)).toBe(true);
    expect((of(staff, 'frame') as LiveFrame[]).length).toBeGreaterThan(100);
    expect((of(staff, 'alarm') as LiveAlarm[]).some((m) => m.alarm.vehicleId === 'VB1')).toBe(true);
    expect(bTickets.length).toBeGreaterThanOrEqual(4);

    // what A got: its own, and nothing of B
    expect(refusals.length).toBeGreaterThanOrEqual(20);
    expect(refusals.every((r) => !r.ok && r.error.code === 'VEHICLE_NOT_FOUND')).toBe(true);
    for (const c of [aWs, aPoll]) {
      const frames = of(c, 'frame') as LiveFrame[];
      expect(frames.length, 'A’s own frames').toBeGreaterThan(100);
      expect(frames.filter((f) => f.vehicleId !== 'VA1')).toEqual([]);
      expect((of(c, 'fleet') as FleetUpdate[]).flatMap(fleetEntries).filter((v) => v.id !== 'VA1')).toEqual([]);
      expect((of(c, 'alarm') as LiveAlarm[]).filter((m) => m.alarm.vehicleId !== 'VA1')).toEqual([]);
      expect(
        (of(c, 'ticket') as LiveTicket[]).filter((m) => m.ticket.customerId !== 'CA' || m.ticket.vehicleId === 'VB1'),
      ).toEqual([]);
      const everything = JSON.stringify(c.rec.got);
      expect(everything).not.toContain('VB1');
      expect(everything).not.toContain('"CB"');
      for (const id of bTickets)
        expect(c.rec.got.filter((g) => g.event === 'ticket' && (g.payload as LiveTicket).ticket.id === id)).toEqual([]);
    }
    expect(gwA.stats().framesAcked).toBeGreaterThan(200);
  });
});
