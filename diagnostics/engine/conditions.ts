import type { PowerProfile } from '../../protocol/index.ts';
import type { CompareOp, Condition, FieldRef } from '../rules/schema.ts';
import { readSignal, resolveValue, type SignalContext, type SignalValue } from './signals.ts';

/** Per-vehicle, per-condition history for rate-of-change and stuck-value conditions. */
export interface ConditionMemory {
  rate: Map<string, { ts: number; v: number }[]>;
  stuck: Map<string, { v: number; since: number }>;
  /** When the last frame was received (wall clock), for absence conditions. */
  lastReceivedAt: number | null;
}

export function newConditionMemory(): ConditionMemory {
  return { rate: new Map(), stuck: new Map(), lastReceivedAt: null };
}

function compare(a: SignalValue, op: CompareOp, b: number | boolean | string): boolean {
  if (a === null) return false; // a missing reading never triggers anything
  switch (op) {
    case '<':
      return typeof a === 'number' && typeof b === 'number' && a < b;
    case '<=':
      return typeof a === 'number' && typeof b === 'number' && a <= b;
    case '>':
      return typeof a === 'number' && typeof b === 'number' && a > b;
    case '>=':
      return typeof a === 'number' && typeof b === 'number' && a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

export interface EvalInput {
  ctx: SignalContext | null;
  profile: PowerProfile;
  memory: ConditionMemory;
  /** Wall clock, for absence conditions. */
  now: number;
}

/**
 * Evaluates a condition. With a frame (`ctx`), absence conditions are false (a frame just came);
 * without one (a timer tick), only absence conditions can be true.
 * `update` is true once per frame so that rate and stuck histories advance exactly once.
 */
export function evaluate(cond: Condition, input: EvalInput, key: string, update: boolean): boolean {
  if ('all' in cond) return cond.all.map((c, i) => evaluate(c, input, `${key}.${i}`, update)).every(Boolean);
  if ('any' in cond) return cond.any.map((c, i) => evaluate(c, input, `${key}.${i}`, update)).some(Boolean);
  if ('not' in cond) return !evaluate(cond.not, input, `${key}.n`, update);
  if ('noDataFor' in cond) {
    if (input.ctx) return false;
    return input.memory.lastReceivedAt !== null && input.now - input.memory.lastReceivedAt >= cond.noDataFor;
  }
  const ctx = input.ctx;
  if (!ctx) return false;
  if ('rate' in cond) return rateOf(cond.rate, cond.per, ctx, input.memory, key, update, (r) => compare(r, cond.op, cond.value));
  if ('stuck' in cond) return stuck(cond.stuck, cond.for, ctx, input.memory, key, update);
  if ('outside' in cond) {
    const v = readSignal(ctx, cond.field);
    if (typeof v !== 'number') return false;
    const lo = resolveValue(cond.outside[0], input.profile) as number;
    const hi = resolveValue(cond.outside[1], input.profile) as number;
    return v < lo || v > hi;
  }
  return compare(readSignal(ctx, cond.field), cond.op, resolveValue(cond.value, input.profile));
}

function rateOf(field: FieldRef, per: number, ctx: SignalContext, memory: ConditionMemory, key: string, update: boolean, test: (rate: number) => boolean): boolean {
  const v = readSignal(ctx, field);
  let hist = memory.rate.get(key);
  if (!hist) memory.rate.set(key, (hist = []));
  if (update && typeof v === 'number') {
    hist.push({ ts: ctx.frame.ts, v });
    while (hist.length > 2 && ctx.frame.ts - hist[1]!.ts >= per) hist.shift();
  }
  if (typeof v !== 'number' || hist.length < 2) return false;
  const first = hist[0]!;
  const span = ctx.frame.ts - first.ts;
  if (span < per / 2) return false; // not enough history to judge a rate over `per`
  return test(((v - first.v) / span) * per);
}

function stuck(field: FieldRef, forMs: number, ctx: SignalContext, memory: ConditionMemory, key: string, update: boolean): boolean {
  const v = readSignal(ctx, field);
  if (typeof v !== 'number') {
    if (update) memory.stuck.delete(key);
    return false;
  }
  let s = memory.stuck.get(key);
  if (update && (!s || s.v !== v)) memory.stuck.set(key, (s = { v, since: ctx.frame.ts }));
  return !!s && s.v === v && ctx.frame.ts - s.since >= forMs;
}
