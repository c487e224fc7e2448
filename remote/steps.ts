import type { EventBus } from '../core/bus.ts';
import { PlatformError } from '../core/errors.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { compileExpectation, type EvidenceValue } from '../diagnostics/plans/expectations.ts';
import type { PlanStep } from '../diagnostics/plans/plans.ts';
import type { PowerProfile, TelemetryFrame } from '../protocol/index.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import type {} from './errors.ts';
import { checkingSteps, recordResult, resultsOf, SETTLED, stepsOf, updateStep, type StepRow } from './step-records.ts';
import { parseJson, sessionStepsView, type SessionStepsView, type StepExpectView } from './step-view.ts';
import type { StepResult } from './types.ts';

/** The plan a session follows: the ticket's emergency plan (its steps may be none), and the session's vehicle. */
export interface SessionPlan {
  vehicleId: string;
  planCode: string | null;
  steps: PlanStep[];
}

export interface StepRunnerDeps {
  db: RecordsDb;
  bus: Pick<EventBus<PlatformEvents>, 'on' | 'emit'>;
  log: Logger;
  now?: () => number;
  /** The session's vehicle and its ticket's plan; null when there is no such session. */
  planOfSession(sessionId: number): Promise<SessionPlan | null>;
  /** The vehicle's power profile (thresholds like 0.93 × mains nominal voltage). */
  profileOf(vehicleId: string): Promise<PowerProfile>;
}

export interface AddStepInput {
  actor: 'crew' | 'engineer';
  instruction: { en: string; zh: string };
  expect?: { condition: string; withinS: number };
}

interface RunningCheck {
  vehicleId: string;
  until: number;
  text: string;
  check: (f: TelemetryFrame) => { holds: boolean; values: Record<string, EvidenceValue> };
  last: { values: Record<string, EvidenceValue>; frameTs: number } | null;
  withinS: number;
  timer: NodeJS.Timeout;
  /** A frame held (its values are `last`); the verdict is on its way. */
  held: boolean;
}

const key = (sessionId: number, index: number) => `${sessionId}:${index}`;

/**
 * Guided steps of remote sessions (远程支援: our technician guides, the user's technician carries out
 * each step and reports the result). Per session: the plan's steps (copied when the session goes live
 * or is first asked about) and the ones an engineer added; the current step is the first not settled.
 * A step with an expected observation is checked when it becomes current (or on "check now") against
 * the vehicle's frames as they are stored, until the condition holds on a frame (passed, with that
 * frame's values and ts) or `withinS` passes (failed, with the last values seen). Every change is
 * written with its result row in one transaction, then announced as `remote.step`.
 *
 * Restart: a check in progress resumes with its original deadline (the frames of the outage that the
 * gateway sends later still count, as they arrive); one whose deadline passed while the platform was
 * down is failed with the reason `platform restarted after the check window ended`.
 */
export function createStepRunner(deps: StepRunnerDeps) {
  const { db, bus } = deps;
  const log = deps.log.child({ module: 'steps' });
  const now = deps.now ?? Date.now;
  const checks = new Map<string, RunningCheck>();
  /** Sessions known live (remote.session.changed): actions need a live session. */
  const live = new Map<number, string>();
  const queues = new Map<number, Promise<unknown>>();
  const offs: (() => void)[] = [];

  /** One change at a time per session (a pass and a timeout, or two clicks, never interleave). */
  function serial<T>(sessionId: number, fn: () => Promise<T>): Promise<T> {
    const prev = queues.get(sessionId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    queues.set(sessionId, settled);
    void settled.then(() => {
      if (queues.get(sessionId) === settled) queues.delete(sessionId);
    });
    return next;
  }

  async function ensure(sessionId: number): Promise<StepRow[]> {
    const rows = await stepsOf(db, sessionId);
    if (rows.length) return rows;
    const plan = await deps.planOfSession(sessionId);
    if (!plan) throw new PlatformError('SESSION_NOT_FOUND', `remote session ${sessionId} not found`);
    const at = now();
    const fresh: StepRow[] = plan.steps.map((s, i) => ({
      session_id: sessionId,
      idx: i,
      position: i + 1,
      vehicle_id: plan.vehicleId,
      plan_code: plan.planCode,
      step_id: s.id,
      actor_kind: s.actor,
      instruction_en: s.instruction.en,
      instruction_zh: s.instruction.zh,
      expect: s.expect ? JSON.stringify(s.expect) : null,
      command: s.command ? JSON.stringify(s.command) : null,
      safety_en: s.safety?.en ?? null,
      safety_zh: s.safety?.zh ?? null,
      status: 'pending',
      added_by: null,
      check_until: null,
      updated_at: at,
    }));
    if (fresh.length) await db.insertInto('session_steps').values(fresh).execute();
    // the vehicle is known even for a plan without steps (an added step needs it)
    if (!fresh.length) vehicles.set(sessionId, plan.vehicleId);
    return fresh;
  }
  /** Sessions whose plan had no steps: their vehicle, for steps added later. */
  const vehicles = new Map<number, string>();

  async function vehicleOf(sessionId: number, rows: StepRow[]): Promise<string> {
    const v = rows[0]?.vehicle_id ?? vehicles.get(sessionId) ?? live.get(sessionId);
    if (v) return v;
    const plan = await deps.planOfSession(sessionId);
    if (!plan) throw new PlatformError('SESSION_NOT_FOUND', `remote session ${sessionId} not found`);
    return plan.vehicleId;
  }

  /** Writes the step's new status and its result in one transaction, then announces it. */
  async function settle(row: StepRow, set: Partial<StepRow>, result: StepResult): Promise<void> {
    await inTransaction(db, async (tx) => {
      await updateStep(tx, row, { ...set, updated_at: result.at });
      await recordResult(tx, result);
    });
    Object.assign(row, set, { updated_at: result.at });
    bus.emit('remote.step', { result });
  }

  const result = (row: StepRow, status: StepResult['status'], actor: string, more: Partial<StepResult> = {}) =>
    ({
      sessionId: row.session_id,
      index: row.idx,
      status,
      actor,
      at: now(),
      observation: null,
      evidence: null,
      reason: null,
      ...more,
    }) satisfies StepResult;

  function stopCheck(row: StepRow): RunningCheck | undefined {
    const c = checks.get(key(row.session_id, row.idx));
    if (!c) return undefined;
    clearTimeout(c.timer);
    checks.delete(key(row.session_id, row.idx));
    return c;
  }

  async function startCheck(row: StepRow, until: number): Promise<void> {
    const expect = parseJson<StepExpectView>(row.expect)!;
    const compiled = compileExpectation(expect.condition);
    const profile = await deps.profileOf(row.vehicle_id);
    stopCheck(row);
    const c: RunningCheck = {
      vehicleId: row.vehicle_id,
      until,
      text: compiled.text,
      check: compiled.checker(profile),
      last: null,
      withinS: expect.withinS,
      held: false,
      timer: setTimeout(
        () => void serial(row.session_id, () => decide(row, c, false)).catch(failedLog),
        Math.max(0, until - now()),
      ),
    };
    c.timer.unref?.();
    checks.set(key(row.session_id, row.idx), c);
  }

  /** The check's verdict: passed on the frame that held, or failed at the deadline with the last values. */
  async function decide(row: StepRow, c: RunningCheck, held: boolean, reason: string | null = null): Promise<void> {
    if (checks.get(key(row.session_id, row.idx)) !== c) return; // stopped or restarted meanwhile
    stopCheck(row);
    held ||= c.held; // a frame held before the deadline: its verdict was queued behind the timeout
    const evidence = { condition: c.text, values: c.last?.values ?? {}, frameTs: c.last?.frameTs ?? null };
    const status = held ? 'passed' : 'failed';
    await settle(
      row,
      { status, check_until: null },
      result(row, status, 'system', {
        evidence,
        reason: held ? null : (reason ?? `no frame within ${c.withinS} s held ${c.text}`),
      }),
    );
    if (held) await advance(row.session_id, await stepsOf(db, row.session_id));
  }

  /** Makes the first unsettled step current (and starts its check); nothing when it already is. */
  async function advance(sessionId: number, rows: StepRow[]): Promise<void> {
    const next = rows.find((r) => !SETTLED.has(r.status));
    if (!next || next.status !== 'pending') return;
    if (next.expect) {
      const { withinS } = parseJson<StepExpectView>(next.expect)!;
      const until = now() + withinS * 1000;
      await settle(next, { status: 'checking', check_until: until }, result(next, 'current', 'system'));
      await startCheck(next, until);
    } else await settle(next, { status: 'current' }, result(next, 'current', 'system'));
  }

  function onFrames(vehicleId: string, frames: TelemetryFrame[]): void {
    for (const [k, c] of checks) {
      if (c.vehicleId !== vehicleId || c.held) continue;
      for (const f of frames) {
        const r = c.check(f);
        c.last = { values: r.values, frameTs: f.ts };
        if (!r.holds) continue;
        c.held = true;
        const [sid, idx] = k.split(':').map(Number) as [number, number];
        void serial(sid, async () => {
          const row = (await stepsOf(db, sid)).find((x) => x.idx === idx);
          if (row) await decide(row, c, true);
        }).catch(failedLog);
        break;
      }
    }
  }

  const failedLog = (err: unknown) => log.error({ err }, 'guided step change failed');

  function requireLive(sessionId: number): void {
    if (!live.has(sessionId))
      throw new PlatformError('INVALID_TRANSITION', `session ${sessionId} is not live; steps change only while it is`);
  }

  function findStep(rows: StepRow[], index: number): StepRow {
    const row = rows.find((r) => r.idx === index);
    if (!row) throw new PlatformError('STEP_NOT_FOUND', `no step ${index} in this session`);
    return row;
  }

  function requireOpen(row: StepRow, what: string): void {
    if (SETTLED.has(row.status))
      throw new PlatformError('INVALID_TRANSITION', `step ${row.idx} is already ${row.status}; cannot ${what} it`);
  }

  async function view(sessionId: number): Promise<SessionStepsView> {
    return sessionStepsView(sessionId, await ensure(sessionId), await resultsOf(db, sessionId));
  }

  async function goLive(sessionId: number, vehicleId: string): Promise<void> {
    live.set(sessionId, vehicleId);
    await serial(sessionId, async () => advance(sessionId, await ensure(sessionId)));
  }

  async function end(sessionId: number): Promise<void> {
    live.delete(sessionId);
    await serial(sessionId, async () => {
      for (const row of await stepsOf(db, sessionId)) {
        const c = checks.get(key(sessionId, row.idx));
        if (c) await decide(row, c, false, 'the session ended during the check');
      }
    });
  }

  return {
    async start(liveSessions: () => Promise<{ id: number; vehicleId: string }[]> = async () => []): Promise<void> {
      offs.push(
        bus.on('remote.session.changed', ({ session }) => {
          if (session.status === 'live' && !live.has(session.id))
            void goLive(session.id, session.vehicleId).catch(failedLog);
          else if (session.status === 'ended' && live.has(session.id)) void end(session.id).catch(failedLog);
        }),
        bus.on('telemetry.stored', (e) => {
          if (checks.size) onFrames(e.vehicleId, e.frames);
        }),
      );
      for (const s of await liveSessions()) live.set(s.id, s.vehicleId);
      const at = now();
      for (const row of await checkingSteps(db)) {
        await serial(row.session_id, async () => {
          if (live.has(row.session_id) && row.check_until !== null && row.check_until > at) {
            await startCheck(row, row.check_until);
            log.info({ session: row.session_id, step: row.idx }, 'guided step check resumed after restart');
          } else {
            const text = compileExpectation(parseJson<StepExpectView>(row.expect)!.condition).text;
            await settle(
              row,
              { status: 'failed', check_until: null },
              result(row, 'failed', 'system', {
                evidence: { condition: text, values: {}, frameTs: null },
                reason: live.has(row.session_id)
                  ? 'platform restarted after the check window ended'
                  : 'the session is no longer live',
              }),
            );
          }
        });
      }
    },
    async stop(): Promise<void> {
      for (const off of offs.splice(0)) off();
      for (const c of checks.values()) clearTimeout(c.timer);
      checks.clear();
      await Promise.all([...queues.values()]);
    },
    /** The session's steps with every result; `current` is the step to do now. */
    list: (sessionId: number) => serial(sessionId, () => view(sessionId)),
    /** The crew (or an engineer) marks a step done, with what it saw. A running check stops; its last values go with it. */
    async done(sessionId: number, index: number, actor: string, observation: string | null) {
      requireLive(sessionId);
      return serial(sessionId, async () => {
        const rows = await ensure(sessionId);
        const row = findStep(rows, index);
        requireOpen(row, 'mark done');
        const c = stopCheck(row);
        const evidence = c
          ? { condition: c.text, values: c.last?.values ?? {}, frameTs: c.last?.frameTs ?? null }
          : null;
        await settle(row, { status: 'done', check_until: null }, result(row, 'done', actor, { observation, evidence }));
        await advance(sessionId, rows);
        return view(sessionId);
      });
    },
    /** An engineer skips a step. */
    async skip(sessionId: number, index: number, actor: string, reason: string | null) {
      requireLive(sessionId);
      return serial(sessionId, async () => {
        const rows = await ensure(sessionId);
        const row = findStep(rows, index);
        requireOpen(row, 'skip');
        stopCheck(row);
        await settle(row, { status: 'skipped', check_until: null }, result(row, 'skipped', actor, { reason }));
        await advance(sessionId, rows);
        return view(sessionId);
      });
    },
    /** Checks a step's expected observation now (again): a fresh window of `withinS` from now. */
    async check(sessionId: number, index: number, actor: string) {
      requireLive(sessionId);
      return serial(sessionId, async () => {
        const rows = await ensure(sessionId);
        const row = findStep(rows, index);
        requireOpen(row, 'check');
        if (!row.expect)
          throw new PlatformError('INVALID_ARGUMENT', `step ${index} has no expected observation to check`);
        const { withinS } = parseJson<StepExpectView>(row.expect)!;
        const until = now() + withinS * 1000;
        await settle(row, { status: 'checking', check_until: until }, result(row, 'current', actor));
        await startCheck(row, until);
        return view(sessionId);
      });
    },
    /** An engineer adds a step; it goes right after the current one (or last). */
    async add(sessionId: number, actor: string, input: AddStepInput) {
      requireLive(sessionId);
      const compiled = input.expect ? compileExpectation(input.expect.condition) : null;
      return serial(sessionId, async () => {
        const rows = await ensure(sessionId);
        const vehicleId = await vehicleOf(sessionId, rows);
        const curAt = rows.findIndex((r) => !SETTLED.has(r.status));
        const after = curAt === -1 ? rows.at(-1) : rows[curAt];
        const before = curAt === -1 ? undefined : rows[curAt + 1];
        const position =
          after === undefined ? 1 : before === undefined ? after.position + 1 : (after.position + before.position) / 2;
        const at = now();
        const row: StepRow = {
          session_id: sessionId,
          idx: rows.reduce((m, r) => Math.max(m, r.idx + 1), 0),
          position,
          vehicle_id: vehicleId,
          plan_code: null,
          step_id: null,
          actor_kind: input.actor,
          instruction_en: input.instruction.en,
          instruction_zh: input.instruction.zh,
          expect:
            input.expect && compiled
              ? JSON.stringify({
                  condition: input.expect.condition,
                  withinS: input.expect.withinS,
                  text: compiled.text,
                })
              : null,
          command: null,
          safety_en: null,
          safety_zh: null,
          status: 'pending',
          added_by: actor,
          check_until: null,
          updated_at: at,
        };
        const added = result(row, 'added', actor);
        await inTransaction(db, async (tx) => {
          await tx.insertInto('session_steps').values(row).execute();
          await recordResult(tx, added);
        });
        bus.emit('remote.step', { result: added });
        await advance(sessionId, await stepsOf(db, sessionId));
        return view(sessionId);
      });
    },
    /** Whether a session is live for the runner (tests, routes). */
    isLive: (sessionId: number) => live.has(sessionId),
  };
}

export type StepRunner = ReturnType<typeof createStepRunner>;
export type { SessionStepsView, StepExpectView, StepView } from './step-view.ts';
