import type { NumericFieldPath, PowerProfile } from '../protocol/index.ts';
import { resolveValue } from './engine/signals.ts';
import type { AlarmSeverity, CompareOp, Condition, Rule } from './rules/schema.ts';

/**
 * A limit of one telemetry field for one vehicle: where a rule starts to raise its alarm, resolved
 * against the vehicle's power profile (e.g. 0.93 × mains nominal V). `low`: the alarm is raised
 * below it; `high`: above it. What the console draws on the charts and marks on the values.
 */
export interface FieldLimit {
  field: NumericFieldPath;
  low: number | null;
  high: number | null;
  ruleId: string;
  code: string;
  severity: AlarmSeverity;
  title: { en: string; zh: string };
  /**
   * When the limit counts: the rule's other comparisons it is gated on (the generator's voltage
   * counts while `generator.running == true` and `generator.rpm > 1000`). A stopped generator's
   * 0 V is past no limit. Derived signals are left out (the console cannot read them off a frame).
   */
  onlyWhile: LimitGate[];
}

export interface LimitGate {
  field: string;
  op: CompareOp;
  value: number | boolean | string;
}

type Leaf = { field: string; low: number | null; high: number | null };

/** A derived signal expressed on a raw field: the per-cell battery voltage is the battery voltage over its cells. */
function onRawField(field: string, v: number, profile: PowerProfile): { field: string; v: number } | null {
  if (field === 'derived.batteryCellV') return { field: 'battery.voltageV', v: v * (profile.battery.nominalV / 2) };
  if (field.startsWith('derived.')) return null;
  return { field, v };
}

/** The numeric thresholds a condition sets off at (never inside a `not`: that is the opposite). */
function leaves(cond: Condition, profile: PowerProfile, out: Leaf[]): void {
  if ('all' in cond) for (const c of cond.all) leaves(c, profile, out);
  else if ('any' in cond) for (const c of cond.any) leaves(c, profile, out);
  else if ('outside' in cond) {
    const lo = resolveValue(cond.outside[0], profile);
    const hi = resolveValue(cond.outside[1], profile);
    if (typeof lo !== 'number' || typeof hi !== 'number') return;
    const a = onRawField(cond.field, lo, profile);
    const b = onRawField(cond.field, hi, profile);
    if (a && b) out.push({ field: a.field, low: a.v, high: b.v });
  } else if ('op' in cond && 'field' in cond) {
    const v = resolveValue(cond.value, profile);
    if (typeof v !== 'number' || cond.op === '==' || cond.op === '!=') return;
    const r = onRawField(cond.field, v, profile);
    if (!r) return;
    const below = cond.op === '<' || cond.op === '<=';
    out.push({ field: r.field, low: below ? r.v : null, high: below ? null : r.v });
  }
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

/** The comparisons of a top-level `all` on other signals than the watched ones: what the limits are gated on. */
function gatesOf(cond: Condition, watched: Set<string>, profile: PowerProfile): LimitGate[] {
  if (!('all' in cond)) return [];
  const out: LimitGate[] = [];
  for (const c of cond.all) {
    if (!('op' in c) || !('field' in c) || c.field.startsWith('derived.') || watched.has(c.field)) continue;
    const value = resolveValue(c.value, profile);
    out.push({ field: c.field, op: c.op, value: typeof value === 'number' ? round(value)! : value });
  }
  return out;
}

/**
 * The limits of a vehicle's fields from the rules that apply to it (its model's rules, those its
 * profile has the parts for). A rule contributes the thresholds on the signals it `watches`, or,
 * unset, on the one numeric signal its `when` compares; a gating comparison (the generator turning
 * above 1000 rpm before its voltage counts) is no limit.
 */
export function fieldLimits(rules: Rule[], profile: PowerProfile): FieldLimit[] {
  const out: FieldLimit[] = [];
  for (const rule of rules) {
    if (!rule.enabled) continue;
    if (rule.requires.generator !== undefined && rule.requires.generator !== profile.hasGenerator) continue;
    const found: Leaf[] = [];
    leaves(rule.when, profile, found);
    let watched: Set<string>;
    if (rule.watches) {
      watched = new Set(
        rule.watches
          .map((f) => (f === 'derived.batteryCellV' ? 'battery.voltageV' : f))
          .filter((f) => !f.startsWith('derived.')),
      );
    } else {
      const fields = new Set(found.map((l) => l.field));
      watched = fields.size === 1 ? fields : new Set();
    }
    const onlyWhile = gatesOf(rule.when, watched, profile);
    for (const l of found) {
      if (!watched.has(l.field)) continue;
      out.push({
        field: l.field as NumericFieldPath,
        low: round(l.low),
        high: round(l.high),
        ruleId: rule.id,
        code: rule.code,
        severity: rule.severity,
        title: rule.title,
        onlyWhile,
      });
    }
  }
  return out;
}
