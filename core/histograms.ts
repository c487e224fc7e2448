/**
 * Named latency histograms with fixed cumulative buckets (seconds), in the shape Prometheus
 * exposes them (`_bucket{le}`, `_sum`, `_count`). Plain numbers in memory; a name not seen before
 * gets the default buckets, so a part can observe without registering first.
 */
export interface Histograms {
  /** Records one value (seconds). */
  observe(name: string, seconds: number): void;
  snapshot(): Record<string, HistogramSnapshot>;
}

export interface HistogramSnapshot {
  /** Upper bounds (seconds), ascending, without +Inf. */
  bounds: readonly number[];
  /** How many values were at most each bound (cumulative), same order as `bounds`. */
  cumulative: number[];
  count: number;
  sum: number;
}

/** From 0.5 ms to 10 s: MQTT round trips and SQLite commits, down to the fast case. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export function createHistograms(buckets: readonly number[] = LATENCY_BUCKETS_S): Histograms {
  const all = new Map<string, { counts: number[]; count: number; sum: number }>();
  return {
    observe(name, seconds) {
      if (!Number.isFinite(seconds)) return;
      let h = all.get(name);
      if (!h) all.set(name, (h = { counts: buckets.map(() => 0), count: 0, sum: 0 }));
      const i = buckets.findIndex((b) => seconds <= b);
      if (i >= 0) h.counts[i]!++;
      h.count++;
      h.sum += seconds;
    },
    snapshot() {
      const out: Record<string, HistogramSnapshot> = {};
      for (const [name, h] of all) {
        let acc = 0;
        out[name] = {
          bounds: buckets,
          cumulative: h.counts.map((c) => (acc += c)),
          count: h.count,
          sum: h.sum,
        };
      }
      return out;
    },
  };
}

/** Seconds since a `process.hrtime.bigint()` reading. */
export const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;
