import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { SERVICE_MODES } from '../tickets/status.ts';

const text = z.strictObject({ en: z.string().min(1), zh: z.string().min(1) });

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
  try {
    raw = parseYaml(textIn);
  } catch (err) {
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `invalid plan file: ${source} is not valid YAML/JSON: ${(err as Error).message}`,
    );
  }
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
        `invalid plan file: ${source} plan ${typeof code === 'string' ? `"${code}" ` : ''}at plans.${index}.${i.path.join('.')}: ${i.message}`,
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
