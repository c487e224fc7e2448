import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandRecord, CommandSender } from '../../commands/types.ts';
import { loadPlanFile } from '../../diagnostics/plans/plans.ts';
import type { CommandAck } from '../../protocol/index.ts';
import type { StepResult } from '../../remote/types.ts';
import { createManualClock, type ManualClock } from '../../simulators/clock.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { fakeSessionAccess, remoteSession } from './fakes.ts';

const PLANS = loadPlanFile(fileURLToPath(new URL('../../diagnostics/plans/default-plans.yaml', import.meta.url)));

/**
 * A remote session against the real reference gateway over the real broker: 10 Hz while live and
 * back to the base rate after, and the generator-start step passing on live values. The command
 * service (commands/) is not on this branch: a small in-test CommandSender publishes the command and
 * waits for the gateway's ack on the bus.
 */
describe('remote session with the reference gateway', () => {
  let tp: TestPlatform;
  let gw: Gateway;
  let clock: ManualClock;
  const sent: { name: string; args: Record<string, unknown>; ack: CommandAck }[] = [];
  const access = fakeSessionAccess([remoteSession(7, 'SV1', 'C1', 'live')]);
  let n = 0;

  const commands: CommandSender = {
    async send(r) {
      const id = `t-${++n}`;
      const acked = new Promise<CommandAck>((resolve) => {
        const off = tp.platform.bus.on('command.ack', (e) => {
          if (e.vehicleId !== r.vehicleId || e.ack.id !== id) return;
          off();
          resolve(e.ack);
        });
      });
      const sentAt = Date.now();
      await tp.platform.broker.publishToVehicle(r.vehicleId, 'commands', {
        id,
        ts: sentAt,
        name: r.name,
        args: r.args,
      });
      const ack = await withTimeout(acked, 5000, `the ack of ${r.name}`);
      sent.push({ name: r.name, args: r.args, ack });
      return {
        id,
        vehicleId: r.vehicleId,
        name: r.name,
        args: r.args,
        actor: r.actor,
        sessionId: r.sessionId ?? null,
        sentAt,
        state: ack.ok ? 'done' : 'refused',
        settledAt: Date.now(),
        result: ack.result ?? null,
        error: ack.error ?? null,
      } satisfies CommandRecord;
    },
  };

  beforeAll(async () => {
    tp = await startTestPlatform(
      {},
      {
        remote: {
          access: access.access,
          timeline: { since: async () => [] },
          commands,
          planOfSession: async (id) =>
            id === 7 || id === 8
              ? { vehicleId: 'SV1', planCode: 'GEN-START-FAIL', steps: PLANS.get('GEN-START-FAIL')!.steps }
              : null,
        },
      },
    );
    await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
    const { secret } = await tp.addVehicle('SV1', 'C1');
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
  /** The next command the gateway answered (the rate keeper sends on its own). */
  const nextAck = () =>
    new Promise<(typeof sent)[number]>((resolve) => {
      const before = sent.length;
      // the sender records the command once it has the ack: look after this turn
      const off = tp.platform.bus.on('command.ack', () => {
        setImmediate(() => {
          if (sent.length === before) return;
          off();
          resolve(sent[before]!);
        });
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
    expect(await stored(await run(20))).toBeLessThanOrEqual(21);

    const raising = nextAck();
    tp.platform.bus.emit('remote.session.changed', { session: remoteSession(7, 'SV1', 'C1', 'live'), action: 'live' });
    const raised = await withTimeout(raising, 5000, 'setTelemetryRate');
    expect(raised.args).toEqual({ hz: 10, durationS: 300 });
    expect(raised.ack).toMatchObject({ ok: true, result: { hz: 10, durationS: 300 } });
    const live = await stored(await run(20));
    expect(live).toBeGreaterThanOrEqual(195);
    expect(live).toBeLessThanOrEqual(205);

    const lowering = nextAck();
    tp.platform.bus.emit('remote.session.changed', {
      session: remoteSession(7, 'SV1', 'C1', 'ended'),
      action: 'ended',
    });
    const lowered = await withTimeout(lowering, 5000, 'setTelemetryRate default');
    expect(lowered.args).toEqual({ hz: 'default' });
    expect(lowered.ack).toMatchObject({ ok: true, result: { hz: 1, default: true } });
    const after = await stored(await run(20));
    expect(after).toBeGreaterThanOrEqual(19);
    expect(after).toBeLessThanOrEqual(21);
  });

  it('the generator-start step passes on live values once the engineer started the generator', async () => {
    const steps = tp.platform.steps!;
    const first = nextStep((r) => r.sessionId === 8 && r.status === 'current');
    tp.platform.bus.emit('remote.session.changed', { session: remoteSession(8, 'SV1', 'C1', 'live'), action: 'live' });
    await withTimeout(first, 5000, 'the first step');
    // the engineer moves to the start step
    let view = await steps.list(8);
    const startAt = view.steps.findIndex((s) => s.stepId === 'start-generator');
    for (const s of view.steps.slice(0, startAt))
      if (!['done', 'passed', 'skipped'].includes(s.status))
        view = await steps.skip(8, s.index, 'eng1', 'done by phone');
    const start = view.steps[startAt]!;
    expect(view.current).toBe(start.index);
    expect(start.status).toBe('checking');

    await run(5); // the generator is not running yet: no verdict
    expect((await steps.list(8)).steps[startAt]!.status).toBe('checking');
    const cmd = await commands.send({
      vehicleId: 'SV1',
      name: 'startGenerator',
      args: {},
      actor: 'eng1',
      sessionId: 8,
    });
    expect(cmd.state).toBe('done');
    const passing = nextStep((r) => r.sessionId === 8 && r.index === start.index && r.status !== 'current');
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
