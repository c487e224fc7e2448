import { z } from 'zod';
import { NUMERIC_FIELD_PATHS } from '../../protocol/index.ts';
import { durationSchema } from './duration.ts';

/** Signals the platform derives from each frame and the vehicle's profile and history. */
export const DERIVED_SIGNALS = [
  'derived.timeToEmptyMin',
  'derived.mainsExpected',
  'derived.sinceMainsLostS',
  'derived.batteryCellV',
] as const;
export const BOOLEAN_FIELDS = ['mains.present', 'generator.running', 'charging.engineRunning'] as const;

export const FIELD_REFS = [...NUMERIC_FIELD_PATHS, ...BOOLEAN_FIELDS, 'source', ...DERIVED_SIGNALS] as const;
export type FieldRef = (typeof FIELD_REFS)[number];
const fieldRef = z.enum(FIELD_REFS, { error: `must be a known signal (${FIELD_REFS.join(', ')})` });
const numericRef = z.enum(
  [...NUMERIC_FIELD_PATHS, 'derived.timeToEmptyMin', 'derived.sinceMainsLostS', 'derived.batteryCellV'] as const,
  {
    error: 'must be a numeric signal',
  },
);

export const PROFILE_PARAMS = [
  'battery.nominalV',
  'battery.capacityAh',
  'mains.nominalV',
  'mains.frequencyHz',
] as const;
export type ProfileParam = (typeof PROFILE_PARAMS)[number];

/** A threshold: a number, or a multiple of the vehicle's power profile (e.g. 0.9 × mains nominal voltage). */
const valueRef = z.union([
  z.number(),
  z.boolean(),
  z.string(),
  z.strictObject({
    profile: z.enum(PROFILE_PARAMS, { error: `must be one of ${PROFILE_PARAMS.join(', ')}` }),
    times: z.number().default(1),
    plus: z.number().default(0),
  }),
]);
export type ValueRef = z.infer<typeof valueRef>;

const OPS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type CompareOp = (typeof OPS)[number];
const op = z.enum(OPS, { error: `must be one of ${OPS.join(' ')}` });

export type Condition =
  | { field: FieldRef; op: CompareOp; value: ValueRef }
  | { field: FieldRef; outside: [ValueRef, ValueRef] }
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { rate: FieldRef; per: number; op: CompareOp; value: number }
  | { stuck: FieldRef; for: number }
  | { noDataFor: number };

export const conditionSchema: z.ZodType<Condition, unknown> = z.lazy(() =>
  z.union(
    [
      z.strictObject({ field: fieldRef, op, value: valueRef }),
      z.strictObject({ field: numericRef, outside: z.tuple([valueRef, valueRef]) }),
      z.strictObject({ all: z.array(conditionSchema).min(1) }),
      z.strictObject({ any: z.array(conditionSchema).min(1) }),
      z.strictObject({ not: conditionSchema }),
      z.strictObject({ rate: numericRef, per: durationSchema, op, value: z.number() }),
      z.strictObject({ stuck: numericRef, for: durationSchema }),
      z.strictObject({ noDataFor: durationSchema }),
    ],
    {
      error:
        'must be one condition: {field, op, value}, {field, outside}, {all}, {any}, {not}, {rate, per, op, value}, {stuck, for} or {noDataFor}',
    },
  ),
) as z.ZodType<Condition, unknown>;

export const ALARM_SEVERITIES = ['minor', 'major', 'critical'] as const;
export type AlarmSeverity = (typeof ALARM_SEVERITIES)[number];

/** Orders severities, minor < major < critical (anything else below them all). */
export const severityRank = (severity: string): number => (ALARM_SEVERITIES as readonly string[]).indexOf(severity);

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, { error: 'must be lower_snake_case, 2–64 characters' }),
  code: z.string().regex(/^[A-Z][A-Z0-9-]{2,31}$/, { error: 'must be like PWR-MAINS-LOST' }),
  severity: z.enum(ALARM_SEVERITIES, { error: `must be one of ${ALARM_SEVERITIES.join(', ')}` }),
  title: z.strictObject({ en: z.string().min(1), zh: z.string().min(1) }),
  description: z.strictObject({ en: z.string(), zh: z.string() }).optional(),
  /** Root-cause family: alarms of one vehicle in the same group join one incident. */
  group: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/)
    .default('general'),
  /** Rules whose active alarm explains this one (this one is then downstream). */
  causedBy: z.array(z.string()).default([]),
  /** Only for vehicles whose profile matches. */
  requires: z.strictObject({ generator: z.boolean().optional() }).default({}),
  when: conditionSchema,
  /**
   * The signals this alarm is about: their thresholds in `when` are the limits the console draws
   * (diagnostics/limits.ts). Unset: the one numeric signal `when` compares, when it compares one.
   */
  watches: z.array(numericRef).optional(),
  for: durationSchema.default(0),
  clear: conditionSchema.optional(),
  clearFor: durationSchema.default(0),
  enabled: z.boolean().default(true),
});
export type Rule = z.infer<typeof ruleSchema>;

export const ruleFileSchema = z.strictObject({
  version: z.number().int().min(1),
  rules: z.array(z.unknown()).min(1),
  /** Per vehicle model: rules to disable and fields to override (thresholds, hold times, severity). */
  models: z
    .record(
      z.string(),
      z.strictObject({
        disable: z.array(z.string()).default([]),
        override: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
      }),
    )
    .default({}),
});
