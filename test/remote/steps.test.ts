import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInProcessBus, type EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { parsePlanFile, type PlanStep } from '../../diagnostics/plans/plans.ts';
import { DEFAULT_POWER_PROFILE, type TelemetryFrame } from '../../protocol/index.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords, recordsSettled } from '../helpers/records.ts';
import { createStepRunner, type StepRunner } from '../../remote/steps.ts';
import type { RemoteSession, StepResult } from '../../remote/types.ts';
import { frame } from '../helpers/platform.ts';

const STEPS = parsePlanFile(`version: 1
plans:
  - code: GEN-START-FAIL
    version: 1
    reviewedAt: 2026-11-01
    reviewEveryDays: 180
    faultType: mechanical
    title: { en: a, zh: 甲 }
    likelyCauses: [{ en: x, zh: 乙 }]
    remoteChecks: [{ en: y, zh: 丙 }]
    recommendedMode: remote_support
    steps:
      - { id: check-fuel, actor: crew, instruction: { en: check fuel, zh: 检查燃油 } }
      - id: start-generator
        actor: engineer
        instruction: { en: start it, zh: 启动 }
        command: { name: startGenerator }
        expect: { condition: "generator.rpm > 1400", withinS: 60 }
      - { id: confirm, actor: crew, instruction: { en: confirm, zh: 确认 } }
`).get('GEN-START-FAIL')!.steps;

const session = (id: number, status: RemoteSession['status']): RemoteSession => ({
  id,
  ticketId: 1,
  vehicleId: 'V1',
  customerId: 'C1',
  status,
  outcome: null,
  description: '',
  requestedBy: 'crew1',
  requestedAt: 0,
  answeredAt: null,
  answeredBy: null,
  endedAt: null,
  participants: [],
});

const rpmFrame = (seq: number, rpm: number): TelemetryFrame =>
  frame(seq, Date.now(), {
    generator: {
      running: rpm > 0,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm,
      fuelPct: 60,
      coolantC: 40,
      oilKpa: 0,
    },
  }) as unknown as TelemetryFrame;

/** Lets the runner's queued database work finish (fake timers leave promises and setImmediate alone). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  await recordsSettled(); // PostgreSQL: the queries are real I/O
};

describe('guided steps (remote/steps.ts)', () => {
  let db: RecordsDb;
  let bus: EventBus<PlatformEvents>;
  let results: StepResult[];
  let runners: StepRunner[];

  const runner = (steps: PlanStep[] = STEPS) => {
    const r = createStepRunner({
      db,
      bus,
      log: silentLogger(),
      planOfSession: async (id) => (id === 404 ? null : { vehicleId: 'V1', planCode: 'GEN-START-FAIL', steps }),
      profileOf: async () => DEFAULT_POWER_PROFILE,
    });
    runners.push(r);
    return r;
  };

  beforeEach(async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    db = await openTestRecords();
    bus = createInProcessBus<PlatformEvents>(silentLogger());
    results = [];
    runners = [];
    bus.on('remote.step', (e) => void results.push(e.result));
  });
  afterEach(async () => {
    for (const r of runners) await r.stop();
    await db.destroy();
    vi.useRealTimers();
  });

  async function liveRunner() {
    const r = runner();
    await r.start();
    bus.emit('remote.session.changed', { session: session(7, 'live'), action: 'live' });
    await settle();
    return r;
  }

  it('goes live on the first step; done with an observation moves on; rpm > 1400 passes with the deciding values', async () => {
    const r = await liveRunner();
    let v = await r.list(7);
    expect(v.current).toBe(0);
    expect(v.steps.map((s) => s.status)).toEqual(['current', 'pending', 'pending']);

    v = await r.done(7, 0, 'crew1', 'fuel 60 %, E-stop released');
    expect(v.current).toBe(1);
    expect(v.steps[1]!.status).toBe('checking');
    expect(v.steps[1]!.checkUntil).toBe(Date.now() + 60_000);

    bus.emit('telemetry.stored', { vehicleId: 'V2', receivedAt: Date.now(), frames: [rpmFrame(1, 1500)] }); // another vehicle
    bus.emit('telemetry.stored', {
      vehicleId: 'V1',
      receivedAt: Date.now(),
      frames: [rpmFrame(2, 600), rpmFrame(3, 1200)],
    });
    await settle();
    expect((await r.list(7)).steps[1]!.status).toBe('checking');
    vi.advanceTimersByTime(20_000);
    const deciding = rpmFrame(4, 1480);
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: Date.now(), frames: [deciding, rpmFrame(5, 1500)] });
    await settle();

    v = await r.list(7);
    expect(v.steps.map((s) => s.status)).toEqual(['done', 'passed', 'current']);
    expect(v.current).toBe(2);
    const passed = results.find((x) => x.status === 'passed')!;
    expect(passed).toMatchObject({
      sessionId: 7,
      index: 1,
      actor: 'system',
      evidence: { condition: 'generator.rpm > 1400', values: { 'generator.rpm': 1480 }, frameTs: deciding.ts },
    });
    expect(results.map((x) => `${x.index}:${x.status}`)).toEqual([
      '0:current',
      '0:done',
      '1:current',
      '1:passed',
      '2:current',
    ]);
    expect(results[1]).toMatchObject({ actor: 'crew1', observation: 'fuel 60 %, E-stop released' });
    // the record keeps every result with who and when
    expect(v.steps[0]!.results.map((x) => [x.status, x.actor])).toEqual([
      ['current', 'system'],
      ['done', 'crew1'],
    ]);
  });

  it('fails at the deadline with the last values; the step stays current until checked again, skipped or done', async () => {
    const r = await liveRunner();
    await r.done(7, 0, 'crew1', null);
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: Date.now(), frames: [rpmFrame(2, 300)] });
    await settle();
    vi.advanceTimersByTime(59_999);
    await settle();
    expect((await r.list(7)).steps[1]!.status).toBe('checking');
    const last = rpmFrame(3, 900);
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: Date.now(), frames: [last] });
    vi.advanceTimersByTime(1);
    await settle();
    let v = await r.list(7);
    expect(v.current).toBe(1);
    expect(v.steps[1]!.status).toBe('failed');
    expect(results.at(-1)).toMatchObject({
      status: 'failed',
      index: 1,
      evidence: { condition: 'generator.rpm > 1400', values: { 'generator.rpm': 900 }, frameTs: last.ts },
      reason: 'no frame within 60 s held generator.rpm > 1400',
    });

    // check now: a fresh window; then the engineer skips it
    v = await r.check(7, 1, 'eng1');
    expect(v.steps[1]!.status).toBe('checking');
    v = await r.skip(7, 1, 'eng1', 'starter relay replaced on site instead');
    expect(v.steps.map((s) => s.status)).toEqual(['done', 'skipped', 'current']);
    expect(results.at(-2)).toMatchObject({
      status: 'skipped',
      actor: 'eng1',
      reason: expect.stringContaining('relay'),
    });
    // the skipped step's window passes without a second verdict
    vi.advanceTimersByTime(120_000);
    await settle();
    expect(results.filter((x) => x.index === 1 && x.status === 'failed')).toHaveLength(1);
    await expect(r.skip(7, 1, 'eng1', null)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('an added step goes right after the current one, with its own expected observation', async () => {
    const r = await liveRunner();
    let v = await r.add(7, 'eng1', {
      actor: 'crew',
      instruction: { en: 'open the fuel valve', zh: '打开油阀' },
      expect: { condition: 'generator.fuelPct > 50', withinS: 30 },
    });
    expect(v.steps.map((s) => s.index)).toEqual([0, 3, 1, 2]);
    expect(v.steps[1]).toMatchObject({
      addedBy: 'eng1',
      status: 'pending',
      expect: { text: 'generator.fuelPct > 50' },
    });
    v = await r.done(7, 0, 'crew1', null);
    expect(v.current).toBe(3);
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: Date.now(), frames: [rpmFrame(2, 0)] }); // fuel 60
    await settle();
    v = await r.list(7);
    expect(v.steps.map((s) => s.status)).toEqual(['done', 'passed', 'checking', 'pending']);
    expect(results.some((x) => x.status === 'added' && x.index === 3 && x.actor === 'eng1')).toBe(true);
    await expect(
      r.add(7, 'eng1', {
        actor: 'crew',
        instruction: { en: 'x', zh: '甲' },
        expect: { condition: 'rpm >', withinS: 5 },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses changes outside a live session, and unknown steps and sessions', async () => {
    const r = runner();
    await r.start();
    await expect(r.done(7, 0, 'crew1', null)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    bus.emit('remote.session.changed', { session: session(7, 'live'), action: 'live' });
    await settle();
    await expect(r.done(7, 9, 'crew1', null)).rejects.toMatchObject({ code: 'STEP_NOT_FOUND' });
    await expect(r.list(404)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    bus.emit('remote.session.changed', { session: session(7, 'ended'), action: 'ended' });
    await settle();
    await expect(r.skip(7, 0, 'eng1', null)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('ending the session fails a running check with the reason', async () => {
    const r = await liveRunner();
    await r.done(7, 0, 'crew1', null);
    bus.emit('remote.session.changed', { session: session(7, 'ended'), action: 'ended' });
    await settle();
    expect(results.at(-1)).toMatchObject({ index: 1, status: 'failed', reason: 'the session ended during the check' });
  });

  it('restart: a check still inside its window resumes; one whose window passed is failed with the reason', async () => {
    const r1 = await liveRunner();
    await r1.done(7, 0, 'crew1', null);
    await r1.stop();

    // back 30 s later: the check resumes with its original deadline and passes on a frame
    vi.advanceTimersByTime(30_000);
    const r2 = runner();
    await r2.start(async () => [{ id: 7, vehicleId: 'V1' }]);
    expect((await r2.list(7)).steps[1]).toMatchObject({ status: 'checking' });
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: Date.now(), frames: [rpmFrame(9, 1600)] });
    await settle();
    expect((await r2.list(7)).steps[1]!.status).toBe('passed');
    await r2.stop();

    // a session whose check window passed while the platform was down
    const r3 = runner();
    await r3.start();
    bus.emit('remote.session.changed', { session: session(8, 'live'), action: 'live' });
    await settle();
    await r3.done(8, 0, 'crew1', null);
    await r3.stop();
    vi.advanceTimersByTime(120_000);
    const r4 = runner();
    await r4.start(async () => [{ id: 8, vehicleId: 'V1' }]);
    const v = await r4.list(8);
    expect(v.steps[1]!.status).toBe('failed');
    expect(results.at(-1)).toMatchObject({
      sessionId: 8,
      index: 1,
      status: 'failed',
      reason: 'platform restarted after the check window ended',
      evidence: { condition: 'generator.rpm > 1400', values: {}, frameTs: null },
    });
  });
});
