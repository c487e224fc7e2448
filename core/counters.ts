/**
 * Named counters, optionally per key (e.g. per vehicle). Plain numbers in memory; the platform
 * exposes a snapshot. Keys per counter are bounded so that a flood of ids cannot grow memory.
 */
export interface Counters {
  inc(name: string, key?: string, by?: number): void;
  get(name: string, key?: string): number;
  snapshot(): CountersSnapshot;
}

export interface CountersSnapshot {
  totals: Record<string, number>;
  byKey: Record<string, Record<string, number>>;
}

export function createCounters(maxKeysPerCounter = 100_000): Counters {
  const totals = new Map<string, number>();
  const byKey = new Map<string, Map<string, number>>();
  return {
    inc(name, key, by = 1) {
      totals.set(name, (totals.get(name) ?? 0) + by);
      if (key === undefined) return;
      let m = byKey.get(name);
      if (!m) byKey.set(name, (m = new Map()));
      const current = m.get(key);
      if (current === undefined && m.size >= maxKeysPerCounter) {
        m.set('(other)', (m.get('(other)') ?? 0) + by);
        return;
      }
      m.set(key, (current ?? 0) + by);
    },
    get(name, key) {
      if (key === undefined) return totals.get(name) ?? 0;
      return byKey.get(name)?.get(key) ?? 0;
    },
    snapshot() {
      return {
        totals: Object.fromEntries(totals),
        byKey: Object.fromEntries([...byKey].map(([k, m]) => [k, Object.fromEntries(m)])),
      };
    },
  };
}
