import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandRecord } from '../../commands/types.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { localTime } from '../../remote/roster.ts';
import type { SessionRecord } from '../../remote/record.ts';
import type { StepResult } from '../../remote/types.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel, type VehicleModel } from '../../simulators/model/vehicle.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveSessionFrames, SessionJoined, LiveAck } from '../../web/live/events.ts';
import { apiAs, httpLogin, openConsole, type LiveClient, type Login } from '../helpers/live-client.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { TEST_COST } from '../web/helpers.ts';

const PASSWORD = 'correct horse battery staple';
const VEHICLE = 'GV1';
const START_FAILURE = 'generator-start-failure#0';

interface StepView {
  index: number;
  stepId: string | null;
  status: string;
}

/**
 * Issue 11 end to end: the reference gateway on a simulated vehicle with the generator-start-failure
 * scenario (and a mains outage) over the real broker; real HTTP with logins; the session view over
 * the live socket. Simulated time runs on a manual clock (100 ms ticks), so the stored frame rate is
 * measured in simulated seconds without sleeping.
 */
describe('remote session end to end with the simulators', () => {
  let tp: TestPlatform;
  let gw: Gateway;
  let model: VehicleModel;
  let clock: ManualClock;
  let base: string;
  const sockets: LiveClient[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform({ SESSION_RING_MS: '600000', DUTY_LEAD: 'desk' });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
    const { secret } = await tp.addVehicle(VEHICLE, 'C1');
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'desk', name: 'desk', role: 'dispatcher', password: PASSWORD });
    await accounts.add({ id: 'eng', name: 'eng', displayName: 'Engineer Li', role: 'engineer', password: PASSWORD });
    await accounts.add({ id: 'crew-1', name: 'crew', role: 'customer', customerId: 'C1', password: PASSWORD });

    // simulated time starts 4 min in the past, so the frames lie around the request's wall time
    clock = createManualClock(Date.now() - 4 * 60_000);
    model = createVehicleModel({
      vehicleId: VEHICLE,
      seed: 5,
      startTs: clock.now(),
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
      initialSocPct: 95,
    });
    const onset = clock.now() + 10_000;
    // the mains outage is its own fault, so repairing the start failure leaves mains absent
    model.addFault(toModelFault(plannedFault('mains-outage', onset, null), model.profile));
    model.addFault(
      toModelFault(plannedFault('generator-start-failure', onset, null, { withOutage: false }), model.profile),
    );
    gw = createGateway(
      { clock, model, random: () => 0.5 },
      { vehicleId: VEHICLE, secret, brokerUrl: tp.mqttUrl, rateHz: 1, reconnectMinMs: 1000, reconnectMaxMs: 5000 },
    );
    const connected = new Promise<void>((resolve) => {
      const off = gw.on('connected', () => {
        off();
        resolve();
      });
    });
    gw.start();
    gw.tick();
    await withTimeout(connected, 5000, 'the gateway to connect');
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await gw.stop();
    await tp.close();
  });

  /** Runs simulated time on in 100 ms ticks, then waits until the platform stored everything sampled. */
  async function run(seconds: number): Promise<{ from: number; to: number }> {
    const from = clock.now();
    for (let i = 0; i < seconds * 10; i++) {
      clock.advance(100);
      gw.tick();
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    expect(await gw.drain(5000)).toBe(true);
    return { from, to: clock.now() };
  }
  const stored = async (w: { from: number; to: number }) =>
    (await tp.platform.telemetry.frames(VEHICLE, w.from + 1, w.to)).length;
  /** The next settled command on the vehicle that matches (the rate keeper sends on its own). */
  const settled = (match: (c: CommandRecord) => boolean) =>
    withTimeout(
      new Promise<CommandRecord>((resolve) => {
        const off = tp.platform.bus.on('command.settled', ({ command }) => {
          if (command.vehicleId !== VEHICLE || !match(command)) return;
          off();
          resolve(command);
        });
      }),
      5000,
      'a command to settle',
    );

  it('a start failure opens a ticket; crew and engineer run the guided session to resolved remotely', async () => {
    const started = Date.now();
    // 1. the scenario opens a ticket by the rules
    const opened = withTimeout(
      new Promise<Ticket>((resolve) => {
        const off = tp.platform.bus.on('ticket.opened', (e) => {
          if (e.ticket.vehicleId !== VEHICLE) return;
          off();
          resolve(e.ticket);
        });
      }),
      10_000,
      'the ticket',
    );
    await run(150);
    const ticket = await opened;
    expect(ticket).toMatchObject({ faultCode: 'GEN-START-FAIL', level: 'extra_urgent', customerId: 'C1' });
    expect(model.state().generatorTrip).toBe('GEN_START_FAIL');

    // 2. the duty roster: the engineer is on duty now (a whole-day shift today)
    const desk = await httpLogin(base, 'desk', PASSWORD);
    const eng = await httpLogin(base, 'eng', PASSWORD);
    const crew = await httpLogin(base, 'crew-1', PASSWORD);
    const api = (who: Login, method: string, path: string, body?: unknown) => apiAs(base, who, method, path, body);
    const shift = await api(desk, 'POST', '/api/roster/shifts', {
      weekday: localTime(Date.now(), 'Asia/Shanghai').weekday,
      start: '00:00',
      end: '00:00',
      primary: 'eng',
      dutyLead: 'desk',
    });
    expect(shift.status).toBe(201);

    // the stored rate before the session: 1 Hz
    expect(await stored(await run(20))).toBeGreaterThanOrEqual(19);

    // 3. the crew requests support: the session joins the rules' ticket and rings the engineer
    const rung = withTimeout(
      new Promise<string[]>((resolve) => {
        const off = tp.platform.bus.on('remote.ringing', (e) => {
          off();
          resolve(e.accounts);
        });
      }),
      5000,
      'the ring',
    );
    const requested = await api(crew, 'POST', '/api/sessions', {
      vehicleId: VEHICLE,
      description: 'generator will not start, we are on battery',
    });
    expect(requested.status).toBe(201);
    const { session } = (await requested.json()) as { session: { id: number; ticketId: number; status: string } };
    expect(session).toMatchObject({ ticketId: ticket.id, status: 'ringing' });
    expect(await rung).toEqual(['eng']);
    const sid = session.id;

    // the session view: the engineer's and the crew's live sockets join the session
    const engLive = await openConsole(base, 'eng', PASSWORD, { opened: sockets });
    const crewLive = await openConsole(base, 'crew-1', PASSWORD, { opened: sockets });
    for (const s of [engLive.s, crewLive.s]) {
      const joined = (await s.timeout(5000).emitWithAck('session.join', { sessionId: sid })) as LiveAck<SessionJoined>;
      expect(joined.ok).toBe(true);
    }

    // 4. the engineer answers: the rate keeper raises the vehicle to 10 Hz
    const raised = settled((c) => c.name === 'setTelemetryRate' && c.sessionId === sid);
    const answered = await api(eng, 'POST', `/api/sessions/${sid}/answer`);
    expect(answered.status).toBe(200);
    expect(await raised).toMatchObject({ state: 'done', args: { hz: 10, durationS: 300 } });
    const fast = await run(20);
    const fastStored = await stored(fast);
    expect(fastStored).toBeGreaterThanOrEqual(195);
    expect(fastStored).toBeLessThanOrEqual(205);
    // every stored frame of the window reached both session views (the engineer's and the crew's)
    const viewed = (rec: typeof engLive.rec) =>
      rec.got
        .filter((g) => g.event === 'remote.frames')
        .flatMap((g) => (g.payload as LiveSessionFrames).frames)
        .filter((f) => f.ts > fast.from && f.ts <= fast.to).length;
    const allViewed = (live: typeof engLive) =>
      withTimeout(
        new Promise<void>((resolve) => {
          const check = () => {
            if (viewed(live.rec) < fastStored) return;
            live.s.off('remote.frames', check);
            resolve();
          };
          live.s.on('remote.frames', check);
          check();
        }),
        5000,
        'the session view to show the 10 Hz frames',
      );
    await Promise.all([allViewed(engLive), allViewed(crewLive)]);
    expect(viewed(engLive.rec)).toBe(fastStored);

    // 5. the guided steps of the GEN-START-FAIL plan
    const steps = async () =>
      (await (await api(crew, 'GET', `/api/sessions/${sid}/steps`)).json()) as {
        current: number | null;
        steps: StepView[];
      };
    let view = await steps();
    const resetAt = view.steps.findIndex((s) => s.stepId === 'reset-trip');
    const startAt = view.steps.findIndex((s) => s.stepId === 'start-generator');
    expect(resetAt).toBeGreaterThan(0);
    expect(startAt).toBe(resetAt + 1);
    // the crew's checks before it: the crew marks each done with what it sees
    for (const s of view.steps.slice(0, resetAt)) {
      if (['done', 'passed', 'skipped'].includes(s.status)) continue;
      const r = await api(crew, 'POST', `/api/sessions/${sid}/steps/${s.index}/done`, {
        observation: `${s.stepId}: checked`,
      });
      expect(r.status).toBe(200);
    }
    view = await steps();
    expect(view.current).toBe(resetAt);

    // the crew fixes the cause on the vehicle (the simulated fault ends: the set would start now),
    // then the engineer resets the latched trip as the plan's step says (resetFault, confirmed)
    expect(model.endFault(START_FAILURE)).toBe(true);
    const chat = await api(crew, 'POST', `/api/sessions/${sid}/chat`, { text: 'fuel line bled, ready for reset' });
    expect(chat.status).toBe(201);
    const command = (name: string, args: Record<string, unknown> = {}) =>
      api(eng, 'POST', `/api/vehicles/${VEHICLE}/commands`, { name, args, confirmed: true, sessionId: sid });
    const reset = await command('resetFault', { code: 'GEN_START_FAIL' });
    expect(reset.status).toBe(200);
    expect(await reset.json()).toMatchObject({ state: 'done', result: { cleared: 'GEN_START_FAIL' } });
    expect(model.state().generatorTrip).toBeNull();
    const resetDone = await api(crew, 'POST', `/api/sessions/${sid}/steps/${resetAt}/done`, {
      observation: 'controller shows no fault, in AUTO',
    });
    expect(resetDone.status).toBe(200);

    // the start step is current and checking its expected observation
    view = await steps();
    expect(view.current).toBe(startAt);
    expect(view.steps[startAt]!.status).toBe('checking');
    // the engineer starts the set after the confirmation; the step passes from live values
    const verdict = engLive.rec.next<{ sessionId: number; result: StepResult }>(
      'remote.step',
      (m) => m.sessionId === sid && m.result.index === startAt && m.result.status !== 'current',
      20_000,
    );
    const start = await command('startGenerator');
    expect(await start.json()).toMatchObject({ state: 'done', result: { phase: 'cranking' } });
    await run(40);
    const passed = (await verdict).result;
    expect(passed.status).toBe('passed');
    expect(passed.evidence!.condition).toBe('generator.rpm > 1400');
    expect(passed.evidence!.values['generator.rpm']).toBeGreaterThan(1400);
    const deciding = await tp.platform.telemetry.frames(VEHICLE, passed.evidence!.frameTs!, passed.evidence!.frameTs!);
    expect(deciding[0]?.frame.generator?.rpm).toBe(passed.evidence!.values['generator.rpm']);

    // 6. an unsafe command is refused with the gateway's reason: mains is still absent
    expect(model.state().mainsPresent).toBe(false);
    const stop = await command('stopGenerator');
    expect(stop.status).toBe(200);
    const refused = (await stop.json()) as CommandRecord;
    expect(refused.state).toBe('refused');
    expect(refused.error).toMatch(/^unsafe: the generator is the only AC source \(mains absent\)/);
    expect(model.state().generatorRunning).toBe(true);
    expect(
      (await api(eng, 'POST', `/api/sessions/${sid}/chat`, { text: 'generator running, keep it on' })).status,
    ).toBe(201);

    // a command names its session: one that does not exist, or one on another vehicle, is not sent
    await tp.addVehicle('GV2', 'C1');
    const other = await api(eng, 'POST', '/api/vehicles/GV2/commands', { name: 'snapshot', sessionId: sid });
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: { code: 'SESSION_INVALID_STATE' } });
    const none = await api(eng, 'POST', `/api/vehicles/${VEHICLE}/commands`, { name: 'snapshot', sessionId: 999 });
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });

    // 7. the engineer ends the session resolved remotely; the rate falls back to the gateway's base
    const lowered = settled((c) => c.name === 'setTelemetryRate' && c.sessionId === sid);
    const ended = await api(eng, 'POST', `/api/sessions/${sid}/end`, { outcome: 'resolved_remotely' });
    expect(ended.status).toBe(200);
    expect(await lowered).toMatchObject({ state: 'done', args: { hz: 'default' }, result: { hz: 1, default: true } });
    // a command from the ended session is not sent
    const late = await command('snapshot');
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ error: { code: 'SESSION_INVALID_STATE' } });
    const after = await stored(await run(20));
    expect(after).toBeGreaterThanOrEqual(19);
    expect(after).toBeLessThanOrEqual(21);

    // 8. the ticket lists the session; the record has both sides, the whole timeline and the telemetry
    const t = (await (await api(eng, 'GET', `/api/tickets/${ticket.id}`)).json()) as {
      sessions: { id: number; status: string; outcome: string | null }[];
    };
    expect(t.sessions).toEqual([expect.objectContaining({ id: sid, status: 'ended', outcome: 'resolved_remotely' })]);
    const recordRes = await api(eng, 'GET', `/api/sessions/${sid}/record`);
    expect(recordRes.status).toBe(200);
    const record = (await recordRes.json()) as SessionRecord;
    expect(record.participants.staff.map((p) => [p.id, p.role])).toEqual([['eng', 'lead']]);
    expect(record.participants.crew.map((p) => p.id)).toContain('crew-1');
    expect(record.timeToAnswerMs).toBeGreaterThanOrEqual(0);
    const kinds = new Set(record.timeline.map((e) => e.kind));
    for (const k of ['step', 'command', 'ack', 'chat']) expect(kinds).toContain(k);
    const texts = record.timeline.map((e) => e.text ?? '');
    expect(texts).toContain('resetFault {"code":"GEN_START_FAIL"}');
    expect(texts).toContain('startGenerator: done');
    expect(texts.some((x) => x.startsWith('stopGenerator: refused (unsafe: the generator is the only AC source'))).toBe(
      true,
    );
    expect(texts).toContain('fuel line bled, ready for reset');
    expect(texts.some((x) => x.startsWith(`step ${startAt + 1}: passed`))).toBe(true);
    const { telemetry } = record;
    expect(telemetry.from).toBe(record.session.requestedAt - 5 * 60_000);
    expect(telemetry.truncated).toBe(false);
    const ts = telemetry.frames.map((f) => f.frame.ts);
    expect(ts.some((x) => x < record.session.requestedAt)).toBe(true); // from before the request
    expect(telemetry.frames.length).toBeGreaterThan(fastStored + 400); // 10 Hz while live
    const html = await api(crew, 'GET', `/api/sessions/${sid}/record.html`);
    expect(html.status).toBe(200);
    const page = await html.text();
    for (const s of ['Engineer Li', 'generator will not start', 'startGenerator', 'resolved'])
      expect(page).toContain(s);
    expect(page).not.toContain('>eng<'); // the crew's copy names staff, never their login ids

    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);
});
