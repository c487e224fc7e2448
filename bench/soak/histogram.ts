/**
 * A fixed-bucket latency histogram (0.1 ms – ~100 s, 5 % wide buckets) that can be sent between
 * processes as a plain array and merged by adding: the fleet processes each keep one per status
 * interval, the orchestrator adds them up.
 */
const BASE = 1.05;
const MIN_MS = 0.1;
export const BUCKETS = 300;

export type Buckets = number[];

export const emptyBuckets = (): Buckets => new Array<number>(BUCKETS).fill(0);

export function record(b: Buckets, ms: number, weight = 1): void {
  const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / Math.log(BASE)));
  b[i]! += weight;
}

export function merge(into: Buckets, from: readonly number[]): Buckets {
  for (let i = 0; i < BUCKETS; i++) into[i]! += from[i] ?? 0;
  return into;
}

export const count = (b: readonly number[]): number => b.reduce((x, y) => x + y, 0);

/** The upper edge of the bucket holding the p-th percentile (at most 5 % high); null when empty. */
export function percentile(b: readonly number[], p: number): number | null {
  const n = count(b);
  if (n === 0) return null;
  const target = (p / 100) * n;
  let acc = 0;
  for (let i = 0; i < BUCKETS; i++) {
    acc += b[i]!;
    if (acc >= target) return Math.round(MIN_MS * BASE ** i * 10) / 10;
  }
  return Math.round(MIN_MS * BASE ** (BUCKETS - 1));
}

/** Exact percentile of a list of values (nearest rank); null when empty. */
export function exactPercentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
