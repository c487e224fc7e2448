import type { StoredFrame, TelemetryStore } from './store.ts';

/** Whether `a` is later than `b` as `latest` picks (ts, then seq). */
const later = (a: StoredFrame, b: StoredFrame) =>
  a.frame.ts > b.frame.ts || (a.frame.ts === b.frame.ts && a.frame.seq > b.frame.seq);

/**
 * A telemetry store whose latest frame per vehicle is also kept in memory, so that fleet views
 * (`GET /api/vehicles`: 2,000 vehicles a request) read no database: every frame the store
 * acknowledged as stored updates it after its commit, a vehicle not seen since the start is read
 * from the store once (its absence too, until a frame arrives), and retention forgets what it
 * deleted. Everything else goes to the store as is (its other methods too: `{ ...store }`).
 * The frames handed out are shared: callers read them, never change them.
 */
export function withLatestFrames<S extends TelemetryStore>(store: S): S {
  const latest = new Map<string, StoredFrame | null>();
  const keep = (f: StoredFrame) => {
    const known = latest.get(f.vehicleId);
    if (!known || later(f, known)) latest.set(f.vehicleId, f);
  };

  async function latestMany(vehicleIds: readonly string[]): Promise<Map<string, StoredFrame>> {
    const unknown = vehicleIds.filter((id) => !latest.has(id));
    if (unknown.length) {
      const found = await store.latestMany(unknown);
      for (const id of unknown) {
        const f = found.get(id);
        if (f) keep(f);
        else if (!latest.has(id)) latest.set(id, null);
      }
    }
    const out = new Map<string, StoredFrame>();
    for (const id of vehicleIds) {
      const f = latest.get(id);
      if (f) out.set(id, f);
    }
    return out;
  }

  return {
    ...store,
    async append(frames) {
      const result = await store.append(frames);
      for (let i = 0; i < frames.length; i++) if (result.inserted[i]) keep(frames[i]!);
      return result;
    },
    async latest(vehicleId) {
      return (await latestMany([vehicleId])).get(vehicleId);
    },
    latestMany,
    async deleteOlderThan(ts) {
      const removed = await store.deleteOlderThan(ts);
      for (const [id, f] of latest) if (f && f.frame.ts < ts) latest.delete(id);
      return removed;
    },
  };
}
