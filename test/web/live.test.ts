import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { FleetUpdate, LiveAlarm, LiveFrame, LiveTicket, LiveWelcome } from '../../web/live/events.ts';
import {
  askVehicle,
  connectRefused,
  httpLogin,
  openConsole,
  openLive,
  type LiveClient as Client,
} from '../helpers/live-client.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, RULES, TEST_COST } from './helpers.ts';
import { fleetEntries } from '../../web/live/fleet-wire.ts';

type Got = { event: string; at: number; payload: unknown };

const RATE_HZ = 4;

/** A connected console: every message it received, and a way to wait for one. */
interface Console {
  socket: Client;
  got: Got[];
  next<T>(event: string, match?: (m: T) => boolean, ms?: number): Promise<T>;
  close(): void;
}

/** The live layer inside the whole platform: real socket.io clients over 127.0.0.1, frames over MQTT. */
describe('the live layer (socket.io)', () => {
  let tp: TestPlatform;
  let base: string;
  const gateways = new Map<string, MqttClient>();
  const opened: Client[] = [];
  let seq = 1;

  beforeAll(async () => {
    tp = await startTestPlatform({
      LIVE_MAX_RATE_HZ: String(RATE_HZ),
      LIVE_FLEET_INTERVAL_MS: '100',
      LIVE_MAX_BUFFERED: '4',
    });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const p = tp.platform;
    await p.customers.add({ id: 'CA', name: 'Unit A' });
    await p.customers.add({ id: 'CB', name: 'Unit B' });
    for (const [id, cid] of [
      ['VA1', 'CA'],
      ['VB1', 'CB'],
    ] as const) {
      const { secret } = await tp.addVehicle(id, cid);
      gateways.set(id, await tp.connect(id, secret));
    }
    const accounts = createAccounts({ db: p.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['engineer', 'engineer', null],
      ['engineer2', 'engineer', null],
      ['boss', 'admin', null],
      ['temp', 'dispatcher', null],
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
    ] as const) {
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    }
  });

  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await tp.close();
  });

  const login = (username: string) => httpLogin(base, username, PASSWORD);

  function open(headers: Record<string, string>, transport: 'websocket' | 'polling' = 'websocket'): Client {
    const s = openLive(base, headers, { transport });
    opened.push(s);
    return s;
  }

  /** Resolves with the connect_error (the connection must be refused). */
  const refused = (s: Client) => connectRefused(s);

  async function connect(
    username: string,
    transport: 'websocket' | 'polling' = 'websocket',
  ): Promise<Console & { cookie: string; csrf: string }> {
    const {
      login: l,
      s: socket,
      rec,
    } = await openConsole(base, username, PASSWORD, { transport, opened, on: 'connect' });
    return { socket, got: rec.got, cookie: l.cookie, csrf: l.csrf, next: rec.next, close: () => socket.disconnect() };
  }

  const subscribe = (c: Console, vehicleId: string) => askVehicle(c.socket, 'subscribe', vehicleId);

  /** Publishes `n` frames of a vehicle at once (QoS 1) and waits for every PUBACK; returns the last seq. */
  async function publish(vehicleId: string, n = 1): Promise<number> {
    const gw = gateways.get(vehicleId)!;
    const list = Array.from({ length: n }, () => seq++);
    await Promise.all(
      list.map((s) =>
        gw.publishAsync(
          vehicleTopic(vehicleId, 'telemetry'),
          JSON.stringify(frame(s, Date.now(), { loadKw: s % 100 })),
          { qos: 1 },
        ),
      ),
    );
    return list[list.length - 1]!;
  }

  const frames = (c: Console, vehicleId?: string) =>
    c.got.filter((g) => g.event === 'frame' && (!vehicleId || (g.payload as LiveFrame).vehicleId === vehicleId));

  it('refuses a connection without a session, with a clear message', async () => {
    const err = await refused(open({}));
    expect(err.message).toMatch(/log in first/);
    expect(err.data?.code).toBe('UNAUTHENTICATED');
    const bogus = await refused(open({ cookie: '__Host-pw_session=not-a-session-token-at-all-0123456789' }));
    expect(bogus.message).toMatch(/session has ended/);
    expect(tp.platform.counters.get('live.refused', 'unauthenticated')).toBeGreaterThanOrEqual(2);
  });

  it('refuses a page of another site (foreign Origin), accepts the console’s own', async () => {
    const { cookie } = await login('engineer');
    await refused(open({ cookie, origin: 'https://evil.example' }));
    await refused(open({ cookie, origin: 'https://evil.example' }, 'polling'));
    expect(tp.platform.counters.get('live.refused', 'origin')).toBeGreaterThanOrEqual(2);
    const own = open({ cookie, origin: base });
    const welcome = await withTimeout(
      new Promise<LiveWelcome>((resolve) => own.once('welcome', resolve)),
      5000,
      'welcome',
    );
    expect(welcome).toMatchObject({
      account: { id: 'engineer', role: 'engineer', customerId: null },
      maxRateHz: RATE_HZ,
    });
    own.disconnect();
  });

  it('an engineer subscribes to a vehicle and gets its frames, at most N a second, the latest winning', async () => {
    const eng = await connect('engineer');
    expect(await subscribe(eng, 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    const first = await publish('VA1');
    await eng.next<LiveFrame>('frame', (m) => m.frame.seq === first);

    // publish in bursts for at least 1.5 s: far more frames than the console may get
    const startedAt = performance.now();
    let last = first;
    let published = 0;
    while (performance.now() - startedAt < 1500) {
      last = await publish('VA1', 5);
      published += 5;
    }
    const lastFrame = await eng.next<LiveFrame>('frame', (m) => m.frame.seq === last, 3000);
    expect(lastFrame.vehicleId).toBe('VA1');
    expect(lastFrame.frame.loadKw).toBe(last % 100);

    const got = frames(eng, 'VA1');
    const seqs = got.map((g) => (g.payload as LiveFrame).frame.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // in order, never an older one after a newer
    expect(got.length).toBeLessThan(published / 2);
    // no more than RATE_HZ frames within any second (some slack for timer and network jitter)
    for (let i = 0; i + RATE_HZ < got.length; i++) expect(got[i + RATE_HZ]!.at - got[i]!.at).toBeGreaterThan(850);
    expect(got.length).toBeGreaterThanOrEqual(Math.floor((performance.now() - startedAt) / 1000) * RATE_HZ - 2);
    eng.close();
  });

  it('a customer cannot subscribe to another unit’s vehicle and never receives its frames, alarms, tickets or fleet changes', async () => {
    const a = await connect('cust-a');
    const b = await connect('cust-b');
    const staff = await connect('engineer');
    const foreign = await subscribe(a, 'VB1');
    const missing = await subscribe(a, 'NO-SUCH-VEHICLE');
    expect(foreign).toEqual({ ok: false, error: { code: 'VEHICLE_NOT_FOUND', message: 'vehicle VB1 not found' } });
    expect(missing).toEqual({
      ok: false,
      error: { code: 'VEHICLE_NOT_FOUND', message: 'vehicle NO-SUCH-VEHICLE not found' },
    });
    expect(await subscribe(a, 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    expect(await subscribe(b, 'VB1')).toEqual({ ok: true, vehicleId: 'VB1' });
    expect(await subscribe(staff, 'VB1')).toEqual({ ok: true, vehicleId: 'VB1' });

    // unit B streams, raises an alarm, gets a ticket
    const d = tp.platform.diagnostics;
    const rule = RULES.rules.find((r) => r.id === 'mains_lost')!;
    let lastB = 0;
    for (let i = 0; i < 5; i++) lastB = await publish('VB1', 3);
    const alarmB = (await d.alarms.raise('VB1', rule, Date.now(), true, null)).alarm;
    tp.platform.bus.emit('alarm.raised', { alarm: alarmB });
    const ticketB = await openTicket('VB1', 'CB');
    await b.next<LiveFrame>('frame', (m) => m.frame.seq === lastB);
    await b.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmB.id);
    await b.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketB.id);
    await b.next<FleetUpdate>('fleet', (m) => fleetEntries(m).some((v) => v.id === 'VB1' && v.latest !== undefined));
    await staff.next<LiveFrame>('frame', (m) => m.frame.seq === lastB);
    await staff.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmB.id);
    await staff.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketB.id);

    // then unit A: once A has its own, everything of B sent before would have arrived too
    const lastA = await publish('VA1');
    const alarmA = (await d.alarms.raise('VA1', rule, Date.now(), true, null)).alarm;
    tp.platform.bus.emit('alarm.raised', { alarm: alarmA });
    const ticketA = await openTicket('VA1', 'CA');
    await a.next<LiveFrame>('frame', (m) => m.frame.seq === lastA);
    await a.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarmA.id);
    await a.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketA.id);
    await a.next<FleetUpdate>('fleet', (m) =>
      fleetEntries(m).some((v) => v.id === 'VA1' && v.latest?.ts !== undefined),
    );

    const mentionsB = JSON.stringify(a.got.map((g) => g.payload));
    expect(mentionsB).not.toContain('VB1');
    expect(mentionsB).not.toContain('"CB"');
    expect(a.got.filter((g) => g.event === 'ticket').map((g) => (g.payload as LiveTicket).ticket.customerId)).toEqual(
      a.got.filter((g) => g.event === 'ticket').map(() => 'CA'),
    );
    expect(JSON.stringify(b.got.map((g) => g.payload))).not.toContain('VA1');
    a.close();
    b.close();
    staff.close();
  });

  it('a stalled console does not block the others, nor ingest; frames for it are dropped, counted', async () => {
    const healthy = await connect('engineer');
    const stalledWs = await connect('engineer2');
    const stalledPolling = await connect('engineer2', 'polling');
    for (const c of [healthy, stalledWs, stalledPolling]) expect(await subscribe(c, 'VA1')).toMatchObject({ ok: true });
    const warm = await publish('VA1');
    for (const c of [healthy, stalledWs, stalledPolling]) await c.next<LiveFrame>('frame', (m) => m.frame.seq === warm);

    // stop reading: the WebSocket's TCP socket is paused; the polling one stops polling
    const engine = stalledWs.socket.io.engine as unknown as { transport: { ws: { _socket: { pause(): void } } } };
    engine.transport.ws._socket.pause();
    const polling = stalledPolling.socket.io.engine as unknown as { transport: { pause(cb: () => void): void } };
    await withTimeout(new Promise<void>((resolve) => polling.transport.pause(resolve)), 5000, 'polling to pause');
    const wsBefore = frames(stalledWs).length;
    const pollingBefore = frames(stalledPolling).length;
    const droppedBefore = tp.platform.counters.get('live.frames_dropped');

    const startedAt = performance.now();
    let last = warm;
    let slowest = 0;
    while (performance.now() - startedAt < 2500) {
      const t = performance.now();
      last = await publish('VA1', 5);
      slowest = Math.max(slowest, performance.now() - t);
    }
    await healthy.next<LiveFrame>('frame', (m) => m.frame.seq === last, 3000);
    expect(frames(healthy).length).toBeGreaterThanOrEqual(8);
    expect(slowest).toBeLessThan(1000); // PUBACKs (after the commit) kept coming
    expect(frames(stalledWs).length).toBe(wsBefore);
    expect(frames(stalledPolling).length).toBe(pollingBefore);
    expect(tp.platform.counters.get('live.frames_dropped')).toBeGreaterThan(droppedBefore);
    // the stalled polling connection's backlog stays bounded (frames dropped, not queued)
    const serverSide = [...tp.platform.web.live!.io.sockets.sockets.values()].find(
      (s) => s.conn.transport.name === 'polling' && s.data.account.id === 'engineer2',
    );
    const queued = () => (serverSide!.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
    expect(queued()).toBeLessThanOrEqual(4 + 2);
    // an alarm is never dropped: it waits in the stalled connection's queue
    const before = queued();
    const alarm = (
      await tp.platform.diagnostics.alarms.raise(
        'VA1',
        RULES.rules.find((r) => r.id === 'mains_lost')!,
        Date.now(),
        true,
        null,
      )
    ).alarm;
    tp.platform.bus.emit('alarm.raised', { alarm });
    await healthy.next<LiveAlarm>('alarm', (m) => m.alarm.id === alarm.id);
    expect(queued()).toBe(before + 1);
    for (const c of [healthy, stalledWs, stalledPolling]) c.close();
  });

  it('logging out disconnects that session’s live connection within a second', async () => {
    const eng = await connect('engineer');
    const other = await connect('engineer');
    const disconnected = new Promise<string>((resolve) => eng.socket.once('disconnect', (reason) => resolve(reason)));
    const t = performance.now();
    const res = await fetch(`${base}/api/auth/logout`, {
      method: 'POST',
      headers: { cookie: eng.cookie, 'x-csrf-token': eng.csrf },
    });
    expect(res.status).toBe(204);
    expect(await withTimeout(disconnected, 1000, 'the disconnect after logout')).toBe('io server disconnect');
    expect(performance.now() - t).toBeLessThan(1000);
    expect(eng.got.some((g) => g.event === 'session.ended')).toBe(true);
    expect(other.socket.connected).toBe(true); // another session of the same account stays
    // and the ended session cannot connect again
    const err = await refused(open({ cookie: eng.cookie }));
    expect(err.data?.code).toBe('UNAUTHENTICATED');
    other.close();
  });

  it('disabling an account disconnects its live connections within a second', async () => {
    const temp = await connect('temp');
    const admin = await login('boss');
    const disconnected = new Promise<void>((resolve) => temp.socket.once('disconnect', () => resolve()));
    const res = await fetch(`${base}/api/accounts/temp`, {
      method: 'PATCH',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ disabled: true }),
    });
    expect(res.status).toBe(200);
    await withTimeout(disconnected, 1000, 'the disconnect after disabling');
    expect(temp.got.find((g) => g.event === 'session.ended')?.payload).toEqual({
      reason: 'your session was ended (account changed)',
    });
  });

  async function openTicket(vehicleId: string, customerId: string): Promise<Ticket> {
    return tp.platform.tickets.open(
      {
        source: 'rule',
        vehicleId,
        customerId,
        level: 'extra_urgent',
        title: `${vehicleId}: fault GEN-START-FAIL`,
        need: 'GEN-START-FAIL detected automatically',
        faultCode: 'GEN-START-FAIL',
      },
      'system',
    );
  }
});
