import { NUMERIC_FIELD_PATHS, readField } from '../protocol/index.ts';
import { PlatformError } from '../core/errors.ts';
import { bucketing, emptySeries, type StoredFrame, type TelemetryStore } from './store.ts';

const byTime = (a: StoredFrame, b: StoredFrame) => a.frame.ts - b.frame.ts || a.frame.seq - b.frame.seq;

/** In-memory telemetry store: the same contract as SQLite, for unit tests and tools. Not durable. */
export function createMemoryTelemetryStore(): TelemetryStore {
  const perVehicle = new Map<string, StoredFrame[]>();
  const keys = new Set<string>();
  let closed = false;
  const guard = () => {
    if (closed) throw new PlatformError('SHUTTING_DOWN', 'telemetry store is closed');
  };
  const inRange = (vehicleId: string, from: number, to: number) =>
    (perVehicle.get(vehicleId) ?? []).filter((f) => f.frame.ts >= from && f.frame.ts <= to);

  return {
    async append(frames) {
      guard();
      const touched = new Set<StoredFrame[]>();
      const inserted = frames.map((f) => {
        const key = `${f.vehicleId}\0${f.frame.seq}\0${f.frame.ts}`;
        if (keys.has(key)) return false;
        keys.add(key);
        let list = perVehicle.get(f.vehicleId);
        if (!list) perVehicle.set(f.vehicleId, (list = []));
        list.push(structuredClone(f));
        touched.add(list);
        return true;
      });
      for (const list of touched) list.sort(byTime);
      return { inserted };
    },
    async frames(vehicleId, from, to, limit = 100_000) {
      guard();
      return inRange(vehicleId, from, to)
        .slice(0, limit)
        .map((f) => structuredClone(f));
    },
    async latest(vehicleId) {
      guard();
      const list = perVehicle.get(vehicleId);
      return list?.length ? structuredClone(list[list.length - 1]) : undefined;
    },
    async latestMany(vehicleIds) {
      guard();
      const out = new Map<string, StoredFrame>();
      for (const id of vehicleIds) {
        const list = perVehicle.get(id);
        if (list?.length && !out.has(id)) out.set(id, structuredClone(list[list.length - 1]!));
      }
      return out;
    },
    async series(q) {
      guard();
      const fields = q.fields?.length ? q.fields : NUMERIC_FIELD_PATHS;
      const rows = inRange(q.vehicleId, q.from, q.to);
      const out = emptySeries(q, fields);
      const raw = rows.length <= q.maxPoints;
      const { start, width } = raw ? { start: q.from, width: 0 } : bucketing(q.from, q.to, q.maxPoints);
      out.bucketMs = width;
      const groups = new Map<number, StoredFrame[]>();
      for (const r of rows) {
        const key = raw ? groups.size : Math.floor((r.frame.ts - start) / width);
        const g = groups.get(key);
        if (g) g.push(r);
        else groups.set(key, [r]);
      }
      for (const [b, group] of groups) {
        out.ts.push(raw ? group[0]!.frame.ts : start + b * width);
        out.count.push(group.length);
        for (const f of fields) {
          const values = group.map((r) => readField(r.frame, f)).filter((v): v is number => v !== null);
          const s = out.fields[f]!;
          s.min.push(values.length ? Math.min(...values) : null);
          s.max.push(values.length ? Math.max(...values) : null);
          s.avg.push(values.length ? values.reduce((a, v) => a + v, 0) / values.length : null);
        }
      }
      return out;
    },
    async count(vehicleId) {
      guard();
      if (vehicleId !== undefined) return perVehicle.get(vehicleId)?.length ?? 0;
      let n = 0;
      for (const list of perVehicle.values()) n += list.length;
      return n;
    },
    async deleteOlderThan(ts) {
      guard();
      let removed = 0;
      for (const [id, list] of perVehicle) {
        const keep = list.filter((f) => f.frame.ts >= ts);
        removed += list.length - keep.length;
        for (const f of list) if (f.frame.ts < ts) keys.delete(`${f.vehicleId}\0${f.frame.seq}\0${f.frame.ts}`);
        perVehicle.set(id, keep);
      }
      return removed;
    },
    async close() {
      closed = true;
    },
  };
}
