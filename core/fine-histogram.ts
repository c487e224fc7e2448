/**
 * A cumulative latency histogram of fine, log-spaced buckets (8 per doubling: ≤ 9 % wide) from
 * 1 µs up, in milliseconds. Cumulative so that anyone can read it twice and take the difference:
 * a bench reads the platform's histograms at the start and the end of its window
 * (`diffHistograms`) and reports the window alone (`summariseHistogram`). Plain numbers, so a
 * snapshot crosses threads and JSON as is.
 */
export interface FineHistogramSnapshot {
  count: number;
  /** Σ of the values (ms). */
  sum: number;
  /** The largest value recorded (ms); 0 when none. */
  max: number;
  /** Bucket index → how many values fell into it (only buckets that have any). */
  buckets: Record<string, number>;
}

export interface FineHistogram {
  record(ms: number): void;
  /** Records `times` values of `ms` at once. */
  recordMany(ms: number, times: number): void;
  snapshot(): FineHistogramSnapshot;
}

/** The summary the benches print. Percentiles are bucket upper bounds (≤ 9 % high), capped at max. */
export interface HistogramSummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
}

const MIN_MS = 0.001;
const PER_DOUBLING = 8;

/** The bucket a value falls into: 0 for ≤ 1 µs, then 8 per doubling. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  return 1 + Math.floor(Math.log2(ms / MIN_MS) * PER_DOUBLING);
}

/** A bucket's upper bound (ms). */
export function bucketUpperMs(index: number): number {
  return MIN_MS * 2 ** (index / PER_DOUBLING);
}

export function createFineHistogram(): FineHistogram {
  const counts = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let max = 0;
  return {
    record(ms) {
      this.recordMany(ms, 1);
    },
    recordMany(ms, times) {
      if (!Number.isFinite(ms) || ms < 0 || !(times > 0)) return;
      const b = bucketOf(ms);
      counts.set(b, (counts.get(b) ?? 0) + times);
      count += times;
      sum += ms * times;
      if (ms > max) max = ms;
    },
    snapshot() {
      const buckets: Record<string, number> = {};
      for (const [b, n] of counts) buckets[b] = n;
      return { count, sum, max, buckets };
    },
  };
}

export const emptyHistogram = (): FineHistogramSnapshot => ({ count: 0, sum: 0, max: 0, buckets: {} });

/**
 * What was recorded between two snapshots of one histogram. The maximum is exact when it was set in
 * between (the later max is larger); otherwise it is the upper bound of the highest bucket that
 * grew, capped at the earlier max.
 */
export function diffHistograms(before: FineHistogramSnapshot, after: FineHistogramSnapshot): FineHistogramSnapshot {
  const buckets: Record<string, number> = {};
  let top = -1;
  for (const [b, n] of Object.entries(after.buckets)) {
    const d = n - (before.buckets[b] ?? 0);
    if (d > 0) {
      buckets[b] = d;
      top = Math.max(top, Number(b));
    }
  }
  const count = after.count - before.count;
  const max =
    count <= 0 ? 0 : after.max > before.max ? after.max : Math.min(before.max, top >= 0 ? bucketUpperMs(top) : 0);
  return { count: Math.max(0, count), sum: Math.max(0, after.sum - before.sum), max, buckets };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Count, p50, p99, max and total of a snapshot (or of a diff). */
export function summariseHistogram(h: FineHistogramSnapshot): HistogramSummary {
  const sorted = Object.entries(h.buckets)
    .map(([b, n]) => [Number(b), n] as const)
    .sort((a, b) => a[0] - b[0]);
  const at = (q: number): number => {
    if (h.count === 0) return 0;
    const rank = Math.ceil(q * h.count);
    let seen = 0;
    for (const [b, n] of sorted) {
      seen += n;
      if (seen >= rank) return Math.min(bucketUpperMs(b), h.max);
    }
    return h.max;
  };
  return { count: h.count, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), maxMs: round(h.max), totalMs: round(h.sum) };
}
