import { PlatformError } from '../../core/errors.ts';
import type { PowerProfile, TelemetryFrame } from '../../protocol/index.ts';
import { derive, newMemory } from '../derived-signals.ts';
import { compile, newConditionMemory } from '../engine/conditions.ts';
import { readSignal } from '../engine/signals.ts';
import {
  conditionSchema,
  FIELD_REFS,
  type CompareOp,
  type Condition,
  type FieldRef,
  type ValueRef,
} from '../rules/schema.ts';

/**
 * A guided step's expected observation (plan steps, remote/steps.ts): a condition in the rules'
 * condition language, checked frame by frame against a vehicle's live values. Written either as the
 * rules write it (`{field, op, value}`, `{all: […]}`, `{rate…}`, `{stuck…}` — docs/rules.md) or as
 * one line of comparisons joined by `and` or by `or`: `generator.rpm > 1400 and source == generator`.
 * `noDataFor` has no meaning on a frame and is refused.
 */
export type ExpectationSource = string | Condition;

/** A value a step's evidence records: numbers, the booleans, the power source. */
export type EvidenceValue = number | boolean | string | null;

export interface ExpectationCheck {
  holds: boolean;
  /** Each signal the condition reads, as the frame had it. */
  values: Record<string, EvidenceValue>;
}

export interface Expectation {
  /** The condition as one line of text (what evidence and the console show). */
  text: string;
  condition: Condition;
  /** The signals it reads, in order of first use. */
  fields: FieldRef[];
  /** A checker with its own history (rate and stuck conditions need consecutive frames). */
  checker(profile: PowerProfile): (frame: TelemetryFrame) => ExpectationCheck;
}

const OPS: readonly CompareOp[] = ['<=', '>=', '==', '!=', '<', '>'];
const FIELDS = new Set<string>(FIELD_REFS);

function parseValue(raw: string): number | boolean | string {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const quoted = /^"([^"]*)"$|^'([^']*)'$/.exec(raw);
  if (quoted) return quoted[1] ?? quoted[2]!;
  if (/^[a-z_]+$/i.test(raw)) return raw;
  throw new Error(`"${raw}" is not a value (a number, true, false or a word like generator)`);
}

function parseComparison(part: string): Condition {
  for (const op of OPS) {
    const at = part.indexOf(op);
    if (at <= 0) continue;
    const field = part.slice(0, at).trim();
    const raw = part.slice(at + op.length).trim();
    if (!FIELDS.has(field)) throw new Error(`"${field}" is not a known signal (e.g. generator.rpm, mains.present)`);
    if (!raw) throw new Error(`"${part.trim()}" has no value after ${op}`);
    return { field: field as FieldRef, op, value: parseValue(raw) };
  }
  throw new Error(`"${part.trim()}" is not a comparison like generator.rpm > 1400`);
}

/** `a > 1 and b == true` (or `… or …`, not both) into the rules' condition. */
export function parseConditionText(text: string): Condition {
  const t = text.trim();
  if (!t) throw new Error('the condition is empty');
  const hasAnd = /\s(and|&&)\s/.test(t);
  const hasOr = /\s(or|\|\|)\s/.test(t);
  if (hasAnd && hasOr)
    throw new Error('use either "and" or "or" in one line; for both write the rules\' {all}/{any} form');
  const parts = t.split(/\s(?:and|&&|or|\|\|)\s/).map(parseComparison);
  if (parts.length === 1) return parts[0]!;
  return hasOr ? { any: parts } : { all: parts };
}

function valueText(v: ValueRef): string {
  if (typeof v === 'object')
    return `${v.times !== 1 ? `${v.times} × ` : ''}${v.profile}${v.plus ? ` + ${v.plus}` : ''}`;
  return String(v);
}

/** One line of text for a condition (the text form where it has one). */
export function conditionText(c: Condition): string {
  if ('all' in c) return c.all.map((p) => ('any' in p ? `(${conditionText(p)})` : conditionText(p))).join(' and ');
  if ('any' in c) return c.any.map((p) => ('all' in p ? `(${conditionText(p)})` : conditionText(p))).join(' or ');
  if ('not' in c) return `not (${conditionText(c.not)})`;
  if ('outside' in c) return `${c.field} outside [${valueText(c.outside[0])}, ${valueText(c.outside[1])}]`;
  if ('rate' in c) return `rate(${c.rate} per ${c.per / 1000} s) ${c.op} ${c.value}`;
  if ('stuck' in c) return `stuck(${c.stuck} for ${c.for / 1000} s)`;
  if ('noDataFor' in c) return `no data for ${c.noDataFor / 1000} s`;
  return `${c.field} ${c.op} ${valueText(c.value)}`;
}

function fieldsOf(c: Condition, into: FieldRef[] = []): FieldRef[] {
  const add = (f: FieldRef) => void (into.includes(f) ? undefined : into.push(f));
  if ('all' in c) c.all.forEach((p) => fieldsOf(p, into));
  else if ('any' in c) c.any.forEach((p) => fieldsOf(p, into));
  else if ('not' in c) fieldsOf(c.not, into);
  else if ('rate' in c) add(c.rate);
  else if ('stuck' in c) add(c.stuck);
  else if ('field' in c) add(c.field);
  return into;
}

function hasNoData(c: Condition): boolean {
  if ('all' in c) return c.all.some(hasNoData);
  if ('any' in c) return c.any.some(hasNoData);
  if ('not' in c) return hasNoData(c.not);
  return 'noDataFor' in c;
}

/**
 * Validates and compiles an expected observation with the rules' condition compiler; throws
 * INVALID_ARGUMENT with what is wrong (the plan loader adds the file and the place).
 */
export function compileExpectation(source: unknown): Expectation {
  let condition: Condition;
  if (typeof source === 'string') {
    try {
      condition = parseConditionText(source);
    } catch (err) {
      throw new PlatformError('INVALID_ARGUMENT', (err as Error).message);
    }
  } else {
    const parsed = conditionSchema.safeParse(source);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new PlatformError('INVALID_ARGUMENT', `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`);
    }
    condition = parsed.data;
  }
  if (hasNoData(condition))
    throw new PlatformError('INVALID_ARGUMENT', 'noDataFor cannot be observed on a frame; expect a value instead');
  const compiled = compile(condition, 'expect');
  const fields = fieldsOf(condition);
  return {
    text: conditionText(condition),
    condition,
    fields,
    checker(profile) {
      const memory = newConditionMemory();
      const derivedMemory = newMemory();
      return (frame) => {
        const ctx = { frame, profile, derived: derive(frame, profile, derivedMemory) };
        memory.frameNo++;
        const holds = compiled({ ctx, profile, memory, now: frame.ts }, true);
        const values: Record<string, EvidenceValue> = {};
        for (const f of fields) values[f] = readSignal(ctx, f);
        return { holds, values };
      };
    },
  };
}
