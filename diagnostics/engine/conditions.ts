import type { PowerProfile } from '../../protocol/index.ts';
import type { CompareOp, Condition, FieldRef } from '../rules/schema.ts';
import { readSignal, resolveValue, type SignalContext, type SignalValue } from './signals.ts';

/** Per-vehicle, per-condition history for rate-of-change and stuck-value conditions. */
export interface ConditionMemory {
  rate: Map<string, { ts: number; v: number }[]>;
  stuck: Map<string, { v: number; since: number; lastFrame: number }>;
  /** Counts evaluated frames: a stuck or rate condition not evaluated on the previous frame starts over. */
  frameNo: number;
  /** When the last frame was received (wall clock), for absence conditions. */
  lastReceivedAt: number | null;
}

export function newConditionMemory(): ConditionMemory {
  return { rate: new Map(), stuck: new Map(), frameNo: 0, lastReceivedAt: null };
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

/** A condition compiled once per rule: memory keys and thresholds' shapes resolved ahead of time. */
export type CompiledCondition = (input: EvalInput, update: boolean) => boolean;

/**
 * Compiles a condition. With a frame (`ctx`), absence conditions are false (a frame just came);
 * without one (a timer tick), only absence conditions can be true.
 * `update` is true once per frame so that rate and stuck histories advance exactly once.
 */
export function compile(cond: Condition, key: string): CompiledCondition {
  if ('all' in cond) {
    const parts = cond.all.map((c, i) => compile(c, `${key}.${i}`));
    // parts are guards in order: once one is false the rest are not evaluated on this frame, so
    // "generator running AND voltage stuck" counts stuck time only while the generator runs
    return (input, update) => {
      for (const p of parts) if (!p(input, update)) return false;
      return true;
    };
  }
  if ('any' in cond) {
    const parts = cond.any.map((c, i) => compile(c, `${key}.${i}`));
    return (input, update) => {
      let ok = false;
      for (const p of parts) ok = p(input, update) || ok;
      return ok;
    };
  }
  if ('not' in cond) {
    const inner = compile(cond.not, `${key}.n`);
    return (input, update) => !inner(input, update);
  }
  if ('noDataFor' in cond) {
    const ms = cond.noDataFor;
    return (input) =>
      !input.ctx && input.memory.lastReceivedAt !== null && input.now - input.memory.lastReceivedAt >= ms;
  }
  if ('rate' in cond) {
    const test = (r: number) => compare(r, cond.op, cond.value);
    return (input, update) => !!input.ctx && rateOf(cond.rate, cond.per, input.ctx, input.memory, key, update, test);
  }
  if ('stuck' in cond)
    return (input, update) => !!input.ctx && stuck(cond.stuck, cond.for, input.ctx, input.memory, key, update);
  if ('outside' in cond) {
    const [lo, hi] = cond.outside;
    return (input) => {
      if (!input.ctx) return false;
      const v = readSignal(input.ctx, cond.field);
      if (typeof v !== 'number') return false;
      return v < (resolveValue(lo, input.profile) as number) || v > (resolveValue(hi, input.profile) as number);
    };
  }
  const { field, op, value } = cond;
  return (input) => !!input.ctx && compare(readSignal(input.ctx, field), op, resolveValue(value, input.profile));
}

/** Whether a condition can only become true on a timer tick (it contains `noDataFor`). */
export function hasAbsence(cond: Condition): boolean {
  if ('all' in cond) return cond.all.some(hasAbsence);
  if ('any' in cond) return cond.any.some(hasAbsence);
  if ('not' in cond) return hasAbsence(cond.not);
  return 'noDataFor' in cond;
}

function rateOf(
  field: FieldRef,
  per: number,
  ctx: SignalContext,
  memory: ConditionMemory,
  key: string,
  update: boolean,
  test: (rate: number) => boolean,
): boolean {
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

function stuck(
  field: FieldRef,
  forMs: number,
  ctx: SignalContext,
  memory: ConditionMemory,
  key: string,
  update: boolean,
): boolean {
  const v = readSignal(ctx, field);
  if (typeof v !== 'number') {
    if (update) memory.stuck.delete(key);
    return false;
  }
  let s = memory.stuck.get(key);
  if (update) {
    if (!s || s.v !== v || s.lastFrame !== memory.frameNo - 1)
      memory.stuck.set(key, (s = { v, since: ctx.frame.ts, lastFrame: memory.frameNo }));
    else s.lastFrame = memory.frameNo;
  }
  return !!s && s.v === v && ctx.frame.ts - s.since >= forMs;
}
