import { PlatformError } from '../core/errors.ts';
import type { Series } from './store.ts';

/**
 * The JSON of a telemetry series (the `Series` answer of GET /api/vehicles/:id/telemetry, through
 * web/series-json.ts; series-bytes.ts writes the same layout) without zod's walk. A day at 2,000
 * points is ~110,000 numbers: zod's encode checked each and copied every array (a third of the
 * request's main-thread time and most of its garbage, docs/benchmarks.md). This checks the same
 * things — a finite number in ts and count, a finite number or null in min/max/avg, the scalars'
 * types — and also that every column is as long as ts, and writes exactly what the zod serializer
 * wrote (the schema's keys in the schema's order, nothing else), with one JSON.stringify over the
 * arrays as they are.
 */
export function seriesJson(s: Series): string {
  const n = s.ts.length;
  const bad = (what: string) =>
    new PlatformError('INTERNAL', `telemetry series does not match its schema: ${what}`, { details: { what } });
  if (typeof s.vehicleId !== 'string') throw bad('vehicleId');
  for (const k of ['from', 'to', 'bucketMs'] as const) if (!Number.isFinite(s[k])) throw bad(k);
  if (!numbers(s.ts, n, false)) throw bad('ts');
  if (!numbers(s.count, n, false)) throw bad('count');
  const fields: Record<string, { min: (number | null)[]; max: (number | null)[]; avg: (number | null)[] }> = {};
  for (const [name, f] of Object.entries(s.fields)) {
    if (!f || !numbers(f.min, n, true) || !numbers(f.max, n, true) || !numbers(f.avg, n, true))
      throw bad(`fields.${name}`);
    fields[name] = { min: f.min, max: f.max, avg: f.avg };
  }
  return JSON.stringify({
    vehicleId: s.vehicleId,
    from: s.from,
    to: s.to,
    bucketMs: s.bucketMs,
    ts: s.ts,
    count: s.count,
    fields,
  });
}

/** An array of `length` finite numbers (and nulls where `nullable`); a sparse array's holes fail. */
function numbers(a: unknown, length: number, nullable: boolean): boolean {
  if (!Array.isArray(a) || a.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const v: unknown = a[i];
    if (typeof v === 'number' ? !Number.isFinite(v) : !(nullable && v === null)) return false;
  }
  return true;
}
