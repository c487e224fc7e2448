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
  // one entry per name: `inc` runs several times per ingested message, so one lookup for the name
  // (and one read and one write for its key) instead of separate maps for totals and keys
  const entries = new Map<string, { total: number; byKey: Map<string, number> | undefined }>();
  return {
    inc(name, key, by = 1) {
      let e = entries.get(name);
      if (!e) entries.set(name, (e = { total: 0, byKey: undefined }));
      e.total += by;
      if (key === undefined) return;
      const m = (e.byKey ??= new Map());
      const current = m.get(key);
      if (current === undefined && m.size >= maxKeysPerCounter) {
        m.set('(other)', (m.get('(other)') ?? 0) + by);
        return;
      }
      m.set(key, (current ?? 0) + by);
    },
    get(name, key) {
      const e = entries.get(name);
      if (key === undefined) return e?.total ?? 0;
      return e?.byKey?.get(key) ?? 0;
    },
    snapshot() {
      const all = [...entries];
      return {
        totals: Object.fromEntries(all.map(([name, e]) => [name, e.total])),
        byKey: Object.fromEntries(
          all.flatMap(([name, e]) => (e.byKey ? [[name, Object.fromEntries(e.byKey)] as const] : [])),
        ),
      };
    },
  };
}
