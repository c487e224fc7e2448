/** A fixed-bucket latency histogram (0.1 ms – ~100 s, 5 % wide buckets): cheap to feed, good percentiles. */
export function createLatencyHistogram() {
  const base = 1.05;
  const min = 0.1;
  const buckets = new Float64Array(300);
  let count = 0;
  let max = 0;
  return {
    record(ms: number, weight = 1) {
      const i = ms <= min ? 0 : Math.min(buckets.length - 1, Math.ceil(Math.log(ms / min) / Math.log(base)));
      buckets[i]! += weight;
      count += weight;
      if (ms > max) max = ms;
    },
    percentile(p: number): number | null {
      if (count === 0) return null;
      const target = (p / 100) * count;
      let acc = 0;
      for (let i = 0; i < buckets.length; i++) {
        acc += buckets[i]!;
        if (acc >= target) return Math.min(max, min * base ** i);
      }
      return max;
    },
    count: () => count,
    max: () => max,
  };
}
