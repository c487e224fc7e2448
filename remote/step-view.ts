import type { SessionStepResultsTable, StepRow } from './step-records.ts';
import { SETTLED } from './step-records.ts';
import type { StepResult } from './types.ts';

export const parseJson = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

export interface StepExpectView {
  condition: unknown;
  withinS: number;
  text: string;
}

export interface StepView {
  index: number;
  stepId: string | null;
  planCode: string | null;
  actor: 'crew' | 'engineer';
  instruction: { en: string; zh: string };
  expect: StepExpectView | null;
  command: { name: string; args: Record<string, unknown> } | null;
  safety: { en: string; zh: string } | null;
  status: StepRow['status'];
  addedBy: string | null;
  /** While checking: when the window ends. */
  checkUntil: number | null;
  /** Every result given to this step, oldest first. */
  results: StepResult[];
}

/** A session's steps as the API and the console show them; `current` is the step to do now. */
export interface SessionStepsView {
  current: number | null;
  steps: StepView[];
}

type ResultRow = Omit<SessionStepResultsTable, 'id'>;

/** The steps in order with every result given to each, oldest first. */
export function sessionStepsView(sessionId: number, rows: StepRow[], results: ResultRow[]): SessionStepsView {
  const steps = rows.map((r): StepView => ({
    index: r.idx,
    stepId: r.step_id,
    planCode: r.plan_code,
    actor: r.actor_kind,
    instruction: { en: r.instruction_en, zh: r.instruction_zh },
    expect: parseJson<StepExpectView>(r.expect),
    command: parseJson(r.command),
    safety: r.safety_en !== null ? { en: r.safety_en, zh: r.safety_zh ?? r.safety_en } : null,
    status: r.status,
    addedBy: r.added_by,
    checkUntil: r.check_until,
    results: results
      .filter((x) => x.idx === r.idx)
      .map((x) => ({
        sessionId,
        index: x.idx,
        status: x.status,
        actor: x.actor,
        at: x.at,
        observation: x.observation,
        evidence: parseJson<StepResult['evidence']>(x.evidence),
        reason: x.reason,
      })),
  }));
  const cur = rows.find((r) => !SETTLED.has(r.status) && r.status !== 'pending');
  return { current: cur?.idx ?? null, steps };
}
