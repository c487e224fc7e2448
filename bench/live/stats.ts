/** Percentiles of samples (nearest rank), rounded to 0.1 ms. */
export interface Summary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: sorted.length,
    min: r1(sorted.length ? sorted[0]! : NaN),
    p50: r1(percentile(sorted, 50)),
    p95: r1(percentile(sorted, 95)),
    p99: r1(percentile(sorted, 99)),
    max: r1(sorted.length ? sorted[sorted.length - 1]! : NaN),
    mean: r1(sorted.length ? sum / sorted.length : NaN),
  };
}

/**
 * A latency histogram with 1 ms buckets up to HISTOGRAM_MS (the last bucket holds everything
 * above): bounded memory whatever the count, cheap to send between processes and to merge.
 */
export const HISTOGRAM_MS = 30_000;

export function newHistogram(): Uint32Array {
  return new Uint32Array(HISTOGRAM_MS + 1);
}

export function record(h: Uint32Array, ms: number): void {
  h[Math.min(HISTOGRAM_MS, Math.max(0, Math.round(ms)))]!++;
}

export function mergeHistograms(hs: readonly Uint32Array[]): Uint32Array {
  const out = newHistogram();
  for (const h of hs) for (let i = 0; i < out.length; i++) out[i]! += h[i] ?? 0;
  return out;
}

/** Percentiles (nearest rank) of a histogram, in whole ms; `max` of HISTOGRAM_MS means "at least". */
export function summarizeHistogram(h: ArrayLike<number>): Summary {
  let count = 0;
  let sum = 0;
  let max = NaN;
  let min = NaN;
  for (let i = 0; i < h.length; i++) {
    const n = h[i]!;
    if (!n) continue;
    if (count === 0) min = i;
    count += n;
    sum += n * i;
    max = i;
  }
  const at = (p: number) => {
    if (count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * count));
    let seen = 0;
    for (let i = 0; i < h.length; i++) {
      seen += h[i]!;
      if (seen >= rank) return i;
    }
    return max;
  };
  return { count, min, p50: at(50), p95: at(95), p99: at(99), max, mean: count ? r1(sum / count) : NaN };
}

/** A histogram as [ms, count] pairs of its non-empty buckets, for the IPC channel (JSON), and back. */
export function histogramToPairs(h: Uint32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < h.length; i++) if (h[i]) out.push([i, h[i]!]);
  return out;
}

export function pairsToHistogram(pairs: readonly [number, number][]): Uint32Array {
  const h = newHistogram();
  for (const [ms, n] of pairs) h[Math.min(HISTOGRAM_MS, ms)]! += n;
  return h;
}

/**
 * The `app` metric's duration in a `Server-Timing` header (the platform's own time over a request,
 * docs/api.md), in ms; undefined without one.
 */
export function appTiming(header: string | null): number | undefined {
  if (!header) return undefined;
  for (const metric of header.split(',')) {
    const [name, ...params] = metric.split(';').map((x) => x.trim());
    if (name !== 'app') continue;
    for (const p of params) {
      const m = /^dur=([0-9]+(?:\.[0-9]+)?)$/.exec(p);
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}
