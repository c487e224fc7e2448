import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { SERVICE_MODES } from '../tickets/status.ts';
import { compileExpectation } from './expectations.ts';

const text = z.strictObject({ en: z.string().min(1), zh: z.string().min(1) });

/** Who carries a guided step out: the vehicle's crew (the user's technician) or our engineer. */
export const STEP_ACTORS = ['crew', 'engineer'] as const;
export type StepActor = (typeof STEP_ACTORS)[number];

/** An expected observation: a condition in the rules' language, held by a live frame within `withinS`. */
export const stepExpectSchema = z
  .strictObject({
    condition: z.union([z.string().min(1).max(500), z.record(z.string(), z.unknown())], {
      error: 'must be a condition: a line like "generator.rpm > 1400" or the rules\' {field, op, value} form',
    }),
    withinS: z.number().int().min(1).max(600),
  })
  .transform((e, ctx) => {
    try {
      // compiled with the rules' condition compiler now, so a bad condition fails the start-up
      return { ...e, text: compileExpectation(e.condition).text };
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['condition'], message: (err as Error).message });
      return z.NEVER;
    }
  });
export type StepExpect = z.infer<typeof stepExpectSchema>;

/** A command the engineer may send at this step (commands/: the vehicle's command table, docs/protocol.md). */
export const stepCommandSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z][a-zA-Z0-9]{1,39}$/, { error: 'must be a command name like startGenerator' }),
  args: z.record(z.string(), z.unknown()).default({}),
});

/** One guided step of a remote session (远程支援): who acts, what to do, what should be seen after. */
export const planStepSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,47}$/, { error: 'must be lower-case-with-dashes, 2–48 characters' }),
  actor: z.enum(STEP_ACTORS, { error: `must be one of ${STEP_ACTORS.join(', ')}` }),
  instruction: text,
  expect: stepExpectSchema.optional(),
  command: stepCommandSchema.optional(),
  safety: text.optional(),
});
export type PlanStep = z.infer<typeof planStepSchema>;

export const emergencyPlanSchema = z.strictObject({
  code: z.string().regex(/^[A-Z][A-Z0-9-]{2,31}$/, { error: 'must be a fault code like GEN-START-FAIL' }),
  version: z.number().int().min(1),
  reviewedAt: z.iso.date({ error: 'must be a date YYYY-MM-DD' }),
  reviewEveryDays: z.number().int().min(1).max(3650),
  faultType: z.enum(['electrical', 'mechanical', 'thermal', 'fuel', 'communication', 'sensor']),
  title: text,
  likelyCauses: z.array(text).min(1),
  remoteChecks: z.array(text).min(1),
  parts: z.array(z.strictObject({ partNo: z.string().min(1), name: text, qty: z.number().int().min(1) })).default([]),
  recommendedMode: z.enum(SERVICE_MODES),
  safety: text.optional(),
  /** The guided steps of a remote session for this fault, in order (remote/steps.ts). */
  steps: z
    .array(planStepSchema)
    .max(50)
    .default([])
    .superRefine((steps, ctx) => {
      const seen = new Set<string>();
      steps.forEach((st, i) => {
        if (seen.has(st.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate step id ${st.id}` });
        seen.add(st.id);
      });
    }),
});
export type EmergencyPlan = z.infer<typeof emergencyPlanSchema>;

const fileSchema = z.strictObject({ version: z.number().int().min(1), plans: z.array(z.unknown()).min(1) });

export interface PlanBook {
  get(code: string): EmergencyPlan | undefined;
  all(): EmergencyPlan[];
  /** Plans whose review date has passed: they must be reviewed as technology, models and demand change. */
  overdueForReview(now: number): { plan: EmergencyPlan; dueAt: number }[];
}

/** Emergency plans (应急预案) as data: validated at load, errors name the plan and the field. */
export function parsePlanFile(textIn: string, source = 'plans'): PlanBook {
  let raw: unknown;
  const lines = new LineCounter();
  const doc = parseDocument(textIn, { lineCounter: lines });
  try {
    if (doc.errors.length) throw doc.errors[0]!;
    raw = doc.toJS();
  } catch (err) {
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `invalid plan file: ${source} is not valid YAML/JSON: ${(err as Error).message}`,
    );
  }
  /** " (line N)" of the deepest node of `path` the document has. */
  const lineOf = (path: readonly PropertyKey[]): string => {
    for (let n = path.length; n > 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number] } | undefined;
      if (node && typeof node === 'object' && node.range) return ` (line ${lines.linePos(node.range[0]).line})`;
    }
    return '';
  };
  const file = fileSchema.safeParse(raw);
  if (!file.success)
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `invalid plan file: ${source}: ${file.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const plans = new Map<string, EmergencyPlan>();
  file.data.plans.forEach((item, index) => {
    const code = (item as { code?: unknown })?.code;
    const p = emergencyPlanSchema.safeParse(item);
    if (!p.success) {
      const i = p.error.issues[0]!;
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `invalid plan file: ${source} plan ${typeof code === 'string' ? `"${code}" ` : ''}at plans.${index}.${i.path.join('.')}${lineOf(['plans', index, ...i.path])}: ${i.message}`,
      );
    }
    if (plans.has(p.data.code))
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `invalid plan file: ${source} plan "${p.data.code}" at plans.${index}: duplicate code`,
      );
    plans.set(p.data.code, p.data);
  });
  return {
    get: (code) => plans.get(code),
    all: () => [...plans.values()],
    overdueForReview(now) {
      return [...plans.values()]
        .map((plan) => ({ plan, dueAt: reviewDueAt(plan) }))
        .filter((p) => p.dueAt < now)
        .sort((a, b) => a.dueAt - b.dueAt);
    },
  };
}

/** When a plan is next due for review: `reviewEveryDays` after it was last reviewed. */
export function reviewDueAt(plan: EmergencyPlan): number {
  return Date.parse(plan.reviewedAt) + plan.reviewEveryDays * 86_400_000;
}

export function loadPlanFile(path: string): PlanBook {
  return parsePlanFile(readFileSync(path, 'utf8'), path);
}
