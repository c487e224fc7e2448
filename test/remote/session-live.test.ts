import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandRecord } from '../../commands/types.ts';
import type { CommandAck } from '../../protocol/index.ts';
import type { RemoteSession, SessionPrincipal, StepResult } from '../../remote/types.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { apiAs, httpLogin } from '../helpers/live-client.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

/**
 * A remote session against the real reference gateway over the real broker, the real session
 * records, the real command service and policy: 10 Hz while live and back to the base rate after,
 * and the generator-start step passing on live values once the lead engineer started the generator
 * over HTTP.
 */
describe('remote session with the reference gateway', () => {
  let tp: TestPlatform;
  let gw: Gateway;
  let clock: ManualClock;
  const crew: SessionPrincipal = { id: 'crew1', role: 'customer', customerId: 'C1' };
  const eng: SessionPrincipal = { id: 'eng1', role: 'engineer', customerId: null };
  /** Every ack the gateway sent, by command id. */
  const acks = new Map<string, CommandAck>();

  /** A crew's request on SV1 (it joins the vehicle's open ticket, GEN-START-FAIL): ringing. */
  const requested = async (): Promise<RemoteSession> => {
    const { session } = await tp.platform.remote.request(crew, { vehicleId: 'SV1', description: 'no start' });
    expect(session.status).toBe('ringing');
    return session;
  };

  beforeAll(async () => {
    tp = await startTestPlatform();
    tp.platform.bus.on('command.ack', (e) => void acks.set(e.ack.id, e.ack));
    await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
    const { secret } = await tp.addVehicle('SV1', 'C1');
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'eng1', name: 'eng1', role: 'engineer', password: PASSWORD });
    await accounts.add({ id: 'eng2', name: 'eng2', role: 'engineer', password: PASSWORD });
    await accounts.add({ id: 'crew1', name: 'crew1', role: 'customer', customerId: 'C1', password: PASSWORD });
    // the fault's ticket, whose emergency plan the session's steps follow
    await tp.platform.tickets.open(
      {
        source: 'hotline',
        vehicleId: 'SV1',
        customerId: 'C1',
        level: 'urgent',
        title: 'SV1: generator failed to start',
        need: 'the generator does not start',
        faultCode: 'GEN-START-FAIL',
      },
      'desk',
    );
    clock = createManualClock(Date.now() - 30 * 60_000);
    const model = createVehicleModel({
      vehicleId: 'SV1',
      seed: 5,
      startTs: clock.now(),
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    gw = createGateway(
      { clock, model, random: () => 0.5 },
      { vehicleId: 'SV1', secret, brokerUrl: tp.mqttUrl, rateHz: 1, reconnectMinMs: 1000, reconnectMaxMs: 5000 },
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
    (await tp.platform.telemetry.frames('SV1', w.from + 1, w.to)).length;
  /** The next `name` command the command service settles (the rate keeper sends on its own), with the gateway's ack. */
  const nextSettled = (name: string) =>
    new Promise<{ command: CommandRecord; ack: CommandAck | undefined }>((resolve) => {
      const off = tp.platform.bus.on('command.settled', ({ command }) => {
        if (command.name !== name || command.vehicleId !== 'SV1') return;
        off();
        resolve({ command, ack: acks.get(command.id) });
      });
    });
  /** The first `remote.step` result from now on that matches. */
  const nextStep = (match: (r: StepResult) => boolean) =>
    new Promise<StepResult>((resolve) => {
      const off = tp.platform.bus.on('remote.step', (e) => {
        if (!match(e.result)) return;
        off();
        resolve(e.result);
      });
    });

  it('the stored frame rate rises to 10 Hz while the session is live and falls back after it ends', async () => {
    expect(await stored(await run(20))).toBeGreaterThanOrEqual(19);
    const session = await requested();
    // ringing is not live: still the base rate
    expect(await stored(await run(20))).toBeLessThanOrEqual(21);

    const raising = nextSettled('setTelemetryRate');
    expect((await tp.platform.remote.answer(eng, session.id)).status).toBe('live');
    const raised = await withTimeout(raising, 5000, 'setTelemetryRate');
    expect(raised.command.args).toEqual({ hz: 10, durationS: 300 });
    expect(raised.command).toMatchObject({ state: 'done', result: { hz: 10, durationS: 300 } });
    expect(raised.ack).toMatchObject({ ok: true, result: { hz: 10, durationS: 300 } });
    const live = await stored(await run(20));
    expect(live).toBeGreaterThanOrEqual(195);
    expect(live).toBeLessThanOrEqual(205);

    const lowering = nextSettled('setTelemetryRate');
    expect((await tp.platform.remote.end(eng, session.id, 'resolved_remotely')).status).toBe('ended');
    const lowered = await withTimeout(lowering, 5000, 'setTelemetryRate default');
    expect(lowered.command.args).toEqual({ hz: 'default' });
    expect(lowered.ack).toMatchObject({ ok: true, result: { hz: 1, default: true } });
    const after = await stored(await run(20));
    expect(after).toBeGreaterThanOrEqual(19);
    expect(after).toBeLessThanOrEqual(21);
  });

  it('the generator-start step passes on live values once the lead engineer started the generator', async () => {
    const steps = tp.platform.sessionParts.steps;
    const session = await requested();
    const id = session.id;
    expect(await tp.platform.sessionParts.planOfSession(id)).toMatchObject({
      vehicleId: 'SV1',
      planCode: 'GEN-START-FAIL',
    });
    const first = nextStep((r) => r.sessionId === id && r.status === 'current');
    expect((await tp.platform.remote.answer(eng, id)).status).toBe('live');
    await withTimeout(first, 5000, 'the first step');
    // the engineer moves to the start step
    let view = await steps.list(id);
    const startAt = view.steps.findIndex((s) => s.stepId === 'start-generator');
    for (const s of view.steps.slice(0, startAt))
      if (!['done', 'passed', 'skipped'].includes(s.status))
        view = await steps.skip(id, s.index, 'eng1', 'done by phone');
    const start = view.steps[startAt]!;
    expect(view.current).toBe(start.index);
    expect(start.status).toBe('checking');

    await run(5); // the generator is not running yet: no verdict
    expect((await steps.list(id)).steps[startAt]!.status).toBe('checking');
    const base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const startGenerator = { name: 'startGenerator', args: {}, confirmed: true };
    // an engineer who is not in the session may not change the power state
    const other = await apiAs(base, await httpLogin(base, 'eng2', PASSWORD), 'POST', '/api/vehicles/SV1/commands', {
      ...startGenerator,
    });
    expect(other.status).toBe(403);
    // the session's lead may: over HTTP, through the policy and the command service to the gateway
    const res = await apiAs(base, await httpLogin(base, 'eng1', PASSWORD), 'POST', '/api/vehicles/SV1/commands', {
      ...startGenerator,
    });
    expect(res.status).toBe(200);
    const cmd = (await res.json()) as CommandRecord;
    expect(cmd).toMatchObject({ name: 'startGenerator', actor: 'eng1', state: 'done' });
    expect(acks.get(cmd.id)).toMatchObject({ ok: true });
    const passing = nextStep((r) => r.sessionId === id && r.index === start.index && r.status !== 'current');
    await run(40);
    const passed = await withTimeout(passing, 5000, 'the start step to pass');
    expect(passed.status).toBe('passed');
    expect(passed.evidence!.condition).toBe('generator.rpm > 1400');
    expect(passed.evidence!.values['generator.rpm']).toBeGreaterThan(1400);
    const decidingFrame = (
      await tp.platform.telemetry.frames('SV1', passed.evidence!.frameTs!, passed.evidence!.frameTs!)
    )[0];
    expect(decidingFrame?.frame.generator?.rpm).toBe(passed.evidence!.values['generator.rpm']);
  });
});
