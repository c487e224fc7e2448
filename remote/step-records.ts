import type { Generated } from 'kysely';
import type { RecordsDb } from '../records/db.ts';
import type { StepResult } from './types.ts';

/**
 * `pending`: not reached yet; `current`: the step to do now; `checking`: current, its expected
 * observation being evaluated until `check_until`; `failed`: current, the observation did not come
 * (check again, skip, or the crew marks it done); `done` / `passed` / `skipped`: settled.
 */
export const STEP_STATUSES = ['pending', 'current', 'checking', 'failed', 'done', 'passed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
/** Settled steps: the session moves past them. */
export const SETTLED: ReadonlySet<StepStatus> = new Set(['done', 'passed', 'skipped']);

export interface SessionStepsTable {
  session_id: number;
  /** The step's identity within its session (0, 1, …: plan steps first, added ones after), never reused. */
  idx: number;
  /** Order of the steps: an added step goes right after the current one. */
  position: number;
  vehicle_id: string;
  plan_code: string | null;
  /** The plan's step id; null for an added step. */
  step_id: string | null;
  actor_kind: 'crew' | 'engineer';
  instruction_en: string;
  instruction_zh: string;
  /** JSON `{condition, withinS, text}`. */
  expect: string | null;
  /** JSON `{name, args}`. */
  command: string | null;
  safety_en: string | null;
  safety_zh: string | null;
  status: StepStatus;
  /** Who added it (added steps). */
  added_by: string | null;
  /** While `checking`: when the expected observation's window ends. */
  check_until: number | null;
  updated_at: number;
}

export interface SessionStepResultsTable {
  id: Generated<number>;
  session_id: number;
  idx: number;
  status: StepResult['status'];
  actor: string;
  at: number;
  observation: string | null;
  /** JSON of StepResult['evidence']. */
  evidence: string | null;
  reason: string | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    session_steps: SessionStepsTable;
    session_step_results: SessionStepResultsTable;
  }
}

export type StepRow = SessionStepsTable;

export async function stepsOf(db: RecordsDb, sessionId: number): Promise<StepRow[]> {
  return db.selectFrom('session_steps').selectAll().where('session_id', '=', sessionId).orderBy('position').execute();
}

export async function resultsOf(db: RecordsDb, sessionId: number) {
  return db.selectFrom('session_step_results').selectAll().where('session_id', '=', sessionId).orderBy('id').execute();
}

export async function updateStep(
  db: RecordsDb,
  row: Pick<StepRow, 'session_id' | 'idx'>,
  set: Partial<Pick<StepRow, 'status' | 'check_until' | 'updated_at'>>,
): Promise<void> {
  await db
    .updateTable('session_steps')
    .set(set)
    .where('session_id', '=', row.session_id)
    .where('idx', '=', row.idx)
    .execute();
}

export async function recordResult(db: RecordsDb, r: StepResult): Promise<void> {
  await db
    .insertInto('session_step_results')
    .values({
      session_id: r.sessionId,
      idx: r.index,
      status: r.status,
      actor: r.actor,
      at: r.at,
      observation: r.observation,
      evidence: r.evidence ? JSON.stringify(r.evidence) : null,
      reason: r.reason ?? null,
    })
    .execute();
}

/** Steps being checked when the platform stopped (to resume or fail at start). */
export async function checkingSteps(db: RecordsDb): Promise<StepRow[]> {
  return db.selectFrom('session_steps').selectAll().where('status', '=', 'checking').execute();
}
