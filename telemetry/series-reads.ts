import type Database from 'better-sqlite3';
import { NUMERIC_FIELD_PATHS, type NumericFieldPath } from '../protocol/index.ts';
import { columnOf } from './columns.ts';
import { bucketSql, FRAME_READ_SQL } from './frame-reads.ts';
import { BucketAccumulator, coarseInterval, rollupQueries, splitRange } from './rollup.ts';
import { slotOf } from './slots.ts';
import { bucketing, emptySeries, ROLLUP_COARSE_MS, type Bucketing, type Series, type SeriesQuery } from './store.ts';

/** A connection's prepared series reads (the store's own connection, or the reader thread's). */
export interface SeriesReads {
  series(q: SeriesQuery): Series;
}

/**
 * The SQLite store's downsampled reads on one connection: the frames as they are when the range
 * holds at most maxPoints of them; otherwise buckets, from the rollups where the vehicle's mark
 * allows (aligned buckets) or grouped from the frames (narrow ones).
 */
export function prepareSeriesReads(db: Database.Database): SeriesReads {
  const selectFrames = db.prepare(FRAME_READ_SQL.frames);
  const countRange = db.prepare(FRAME_READ_SQL.countRange);
  const selectRolledTo = db.prepare(`SELECT rolled_to FROM telemetry_rollup_state WHERE vehicle_id = ?`).pluck();
  const bucketQueries = new Map<string, Database.Statement>();
  const mergeQueries = new Map<
    string,
    { rollups: Database.Statement; coarse: Database.Statement; frames: Database.Statement }
  >();

  function bucketQuery(fields: NumericFieldPath[]): Database.Statement {
    const key = fields.join(',');
    let stmt = bucketQueries.get(key);
    if (!stmt) {
      stmt = db.prepare(bucketSql(fields));
      bucketQueries.set(key, stmt);
    }
    return stmt;
  }

  function mergeQuery(fields: NumericFieldPath[]) {
    const key = fields.join(',');
    let q = mergeQueries.get(key);
    if (!q) {
      const sql = rollupQueries(fields);
      q = {
        rollups: db.prepare(sql.rollups).raw(true),
        coarse: db.prepare(sql.coarse).raw(true),
        frames: db.prepare(sql.frames).raw(true),
      };
      mergeQueries.set(key, q);
    }
    return q;
  }

  /**
   * Buckets of whole intervals: rollups where the vehicle's mark allows, frames elsewhere, merged
   * per bucket. One read transaction, so the mark, the rollups and the frames are one snapshot.
   */
  const readAligned = db.transaction((out: Series, q: SeriesQuery, fields: NumericFieldPath[], g: Bucketing) => {
    const mark = (selectRolledTo.get(q.vehicleId) as number | undefined) ?? -Infinity;
    const stmt = mergeQuery(fields);
    const acc = new BucketAccumulator(fields, g);
    const end = q.to + 1;
    // minute buckets: the whole minutes below the mark's minute from the minute rollups, the rest as below
    let ranges: [number, number][] = [[q.from, end]];
    if (g.level === ROLLUP_COARSE_MS) {
      const a = Math.ceil(q.from / ROLLUP_COARSE_MS) * ROLLUP_COARSE_MS;
      const z = Math.min(coarseInterval(end), coarseInterval(mark));
      if (z > a) {
        acc.addRollups(stmt.coarse.all({ vehicleId: q.vehicleId, from: a, to: z }) as [number, Buffer][]);
        ranges = (
          [
            [q.from, a],
            [z, end],
          ] as [number, number][]
        ).filter(([x, y]) => y > x);
      }
    }
    for (const [x, y] of ranges) {
      const parts = splitRange(x, y - 1, mark);
      if (parts.rollups)
        acc.addRollups(
          stmt.rollups.all({ vehicleId: q.vehicleId, from: parts.rollups[0], to: parts.rollups[1] }) as [
            number,
            Buffer,
          ][],
        );
      for (const [from, to] of parts.frames)
        acc.addFrames(
          stmt.frames.all({
            vehicleId: q.vehicleId,
            start: g.start,
            width: g.width,
            from,
            to,
            fromSlot: slotOf(from),
            toSlot: slotOf(to),
          }) as (number | null)[][],
        );
    }
    acc.emit(out);
  });

  return {
    series(q) {
      const fields = q.fields?.length ? q.fields : NUMERIC_FIELD_PATHS;
      const slots = [slotOf(q.from), slotOf(q.to)] as const;
      const n = (countRange.get(q.vehicleId, ...slots, q.from, q.to, q.maxPoints + 1) as { n: number }).n;
      const out = emptySeries(q, fields);
      if (n <= q.maxPoints) {
        const rows = selectFrames.all(q.vehicleId, ...slots, q.from, q.to, n) as Record<string, unknown>[];
        for (const row of rows) {
          out.ts.push(Number(row.ts));
          out.count.push(1);
          for (const f of fields) {
            const v = row[columnOf(f)] as number | null;
            const s = out.fields[f]!;
            s.min.push(v);
            s.max.push(v);
            s.avg.push(v);
          }
        }
        return out;
      }
      const g = bucketing(q.from, q.to, q.maxPoints);
      out.bucketMs = g.width;
      if (g.aligned) {
        readAligned(out, q, fields, g);
        return out;
      }
      const bucket = g.width;
      const rows = bucketQuery(fields).all({
        vehicleId: q.vehicleId,
        from: q.from,
        to: q.to,
        fromSlot: slots[0],
        toSlot: slots[1],
        bucket,
      }) as Record<string, number | null>[];
      for (const row of rows) {
        out.ts.push(q.from + Number(row.b) * bucket);
        out.count.push(Number(row.n));
        for (const f of fields) {
          const s = out.fields[f]!;
          s.min.push(row[`${f}:min`] ?? null);
          s.max.push(row[`${f}:max`] ?? null);
          s.avg.push(row[`${f}:avg`] ?? null);
        }
      }
      return out;
    },
  };
}
