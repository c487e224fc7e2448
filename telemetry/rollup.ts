import type { NumericFieldPath } from '../protocol/index.ts';
import { ALL_COLUMNS, FIELD_COLUMNS, columnOf } from './columns.ts';
import { VEHICLE_FRAMES } from './slots.ts';
import { ROLLUP_COARSE_MS, ROLLUP_MS, type Bucketing, type Series } from './store.ts';

/**
 * Rollups of the SQLite telemetry store: per vehicle and ROLLUP_MS interval of the clock, the frame
 * count and each field's min, max, sum and count, packed as doubles into one BLOB (AGGREGATE_LAYOUT).
 * A day of one vehicle at 1 Hz is 8,640 rollup rows instead of 86,400 frames, and a row is merged
 * in JavaScript over a typed array instead of by a hundred SQL aggregate steps.
 *
 * The invariant readers rely on: for a vehicle with a state row `rolled_to = T`, every interval
 * before T has a rollup row exactly when it has frames, equal to the aggregate of those frames.
 * Intervals from T on (and every interval of a vehicle without a state row) are read from the
 * frames. The writer thread (rollup-compactor.ts) moves T forward in the background, interval
 * by interval, once an interval is more than ROLLUP_GRACE_MS in the past; a frame stored late
 * (before T) moves T back to its interval in the transaction that stores it, so the interval is
 * read from the frames until it is rolled up again. Retention trims rollups with the frames.
 *
 * A second, coarser level (`telemetry_rollup_1m`, the same BLOB layout) holds per vehicle and
 * minute of the clock the merge of that minute's 10 s rollups, for long charts (a day: 1,440 rows
 * instead of 8,640). Its invariant: every minute wholly before the vehicle's mark rounded down to
 * the minute has a row exactly when it has frames, equal to their aggregate. The compactor keeps it
 * so: whenever it moves a mark from M0 to M1 it merges the minutes [minute(M0), minute(M1)) again
 * from the 10 s rollups (a late frame moved the mark back, so its minute is merged again too).
 */

/** An interval is rolled up once it ended this long ago; frames arriving later move the mark back. */
export const ROLLUP_GRACE_MS = 2 * ROLLUP_MS;
/** How often the writer thread rolls up what has closed. */
export const ROLLUP_INTERVAL_MS = 5_000;
/** At most this much of one vehicle's time is rolled up by one statement (bounded work per step). */
export const ROLLUP_STEP_MS = 3_600_000;
/**
 * …and at most about this many of its frames (fewer intervals where they are dense, at least one):
 * an hour at 1 Hz took 25–90 ms in one step, a whole turn during which the writes waited (the first
 * rolling up of a large file, docs/benchmarks.md); 300 frames take a few milliseconds.
 */
export const ROLLUP_STEP_FRAMES = 300;
/** A rolling-up turn on the writer thread gives way to queued writes after this long. */
export const ROLLUP_TURN_MS = 4;

/**
 * A rollup's doubles: [frame count, then per field in FIELD_COLUMNS order: min, max, sum, count]
 * (min and max NaN where the count is 0). The same layout, with nulls, is what AGGREGATE_SQL
 * selects after its leading key column, so packing is a copy.
 */
export const AGGREGATE_WIDTH = 1 + 4 * FIELD_COLUMNS.length;
const FRAME_AGGREGATES = FIELD_COLUMNS.map(({ column: c }) => `min(${c}), max(${c}), total(${c}), count(${c})`).join(
  ', ',
);
/** The same over one vehicle's frames (`t`, telemetry/slots.ts). */
const VEHICLE_AGGREGATES = FIELD_COLUMNS.map(
  ({ column: c }) => `min(t.${c}), max(t.${c}), total(t.${c}), count(t.${c})`,
).join(', ');

export const ROLLUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS telemetry_rollup (
    vehicle_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    agg BLOB NOT NULL,
    PRIMARY KEY (vehicle_id, bucket)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS telemetry_rollup_bucket ON telemetry_rollup (bucket);
  CREATE TABLE IF NOT EXISTS telemetry_rollup_1m (
    vehicle_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    agg BLOB NOT NULL,
    rev INTEGER,
    PRIMARY KEY (vehicle_id, bucket)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS telemetry_rollup_1m_bucket ON telemetry_rollup_1m (bucket);
  CREATE TABLE IF NOT EXISTS telemetry_rollup_state (
    vehicle_id TEXT PRIMARY KEY,
    rolled_to INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** A file from before the minute rows' revisions: their column (NULL for the rows already there). */
export const ROLLUP_REV_UPGRADE = `ALTER TABLE telemetry_rollup_1m ADD COLUMN rev INTEGER`;

/** The statements that maintain rollups (run by the writer, on its connection). */
export const ROLLUP_SQL = {
  /**
   * (vehicleId, fromSlot, toSlot, from, to), from and to on the interval grid (slotOf them: an interval
   * is a slot): per interval [bucket, count, (min, max, sum, count) per field].
   */
  aggregate: `SELECT s.slot * ${ROLLUP_MS} AS bucket, count(*), ${VEHICLE_AGGREGATES}
    FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ? AND s.slot >= ? AND s.slot <= ? AND t.ts >= ? AND t.ts < ?
    GROUP BY s.slot`,
  /** (from, to): per vehicle with frames in [from, to), [vehicle, count, (min, max, sum, count) per field]. */
  aggregateAll: `SELECT vehicle_id, count(*), ${FRAME_AGGREGATES}
    FROM telemetry WHERE ts >= ? AND ts < ? GROUP BY vehicle_id`,
  /** (vehicleId, bucket, agg) */
  put: `INSERT OR REPLACE INTO telemetry_rollup (vehicle_id, bucket, agg) VALUES (?, ?, ?)`,
  /** (vehicleId, slotOf(ts), ts, n): the time of the frame n places after the first at or after ts (n frames before it), if any. */
  nthTs: `SELECT t.ts FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ? AND s.slot >= ? AND t.ts >= ?
    ORDER BY s.slot, t.ts, t.seq LIMIT 1 OFFSET ?`,
  /** (vehicleId, slotOf(ts), ts): the first frame's time at or after ts, if any. */
  firstTs: `SELECT t.ts FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ? AND s.slot >= ? AND t.ts >= ?
    ORDER BY s.slot, t.ts, t.seq LIMIT 1`,
  /** (vehicleId): the vehicle's newest frame time, if any. */
  lastTs: `SELECT t.ts FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ? ORDER BY s.slot DESC, t.ts DESC, t.seq DESC LIMIT 1`,
  /** (vehicleId): the next vehicle with slots after it, in id order (an index seek per vehicle; it may have no frames left). */
  nextVehicle: `SELECT vehicle_id FROM telemetry_slots WHERE vehicle_id > ? ORDER BY vehicle_id LIMIT 1`,
  states: `SELECT vehicle_id, rolled_to FROM telemetry_rollup_state`,
  /** (vehicleId, rolledTo) */
  setState: `INSERT INTO telemetry_rollup_state (vehicle_id, rolled_to) VALUES (?, ?) ON CONFLICT (vehicle_id) DO UPDATE SET rolled_to = excluded.rolled_to`,
  /** (rolledTo, vehicleId, rolledTo): moves the mark back (never forward). */
  lower: `UPDATE telemetry_rollup_state SET rolled_to = ? WHERE vehicle_id = ? AND rolled_to > ?`,
  /** (bucket, limit): retention, in chunks. */
  trimChunk: `DELETE FROM telemetry_rollup WHERE (vehicle_id, bucket) IN (SELECT vehicle_id, bucket FROM telemetry_rollup WHERE bucket < ? LIMIT ?)`,
  /** (bucket): the interval the retention cut-off falls into, rolled up again (aggregateAll, put) from the frames that are left. */
  edgeDelete: `DELETE FROM telemetry_rollup WHERE bucket = ?`,
  /** (vehicleId, from, to) on the minute grid: the 10 s rollups of those minutes, as [bucket, agg]. */
  tensOf: `SELECT bucket, agg FROM telemetry_rollup WHERE vehicle_id = ? AND bucket >= ? AND bucket < ?`,
  /** (vehicleId, from, to): the minute rollups of a range, before they are merged again. */
  coarseDelete: `DELETE FROM telemetry_rollup_1m WHERE vehicle_id = ? AND bucket >= ? AND bucket < ?`,
  /**
   * (vehicleId, bucket, agg): with a new revision each time, a random 53-bit number — a reader that
   * kept a minute's text knows it by its revision (series-bytes.ts)
   */
  coarsePut: `INSERT OR REPLACE INTO telemetry_rollup_1m (vehicle_id, bucket, agg, rev) VALUES (?, ?, ?, random() >> 11)`,
  /** (bucket, limit): retention of the minute rollups, in chunks. */
  coarseTrimChunk: `DELETE FROM telemetry_rollup_1m WHERE (vehicle_id, bucket) IN (SELECT vehicle_id, bucket FROM telemetry_rollup_1m WHERE bucket < ? LIMIT ?)`,
  /** (from, to): every vehicle's 10 s rollups of one minute, as [vehicle, bucket, agg] (the retention edge). */
  tensOfAll: `SELECT vehicle_id, bucket, agg FROM telemetry_rollup WHERE bucket >= ? AND bucket < ? ORDER BY vehicle_id`,
  /** (bucket): the minute the retention cut-off falls into, merged again from the 10 s rollups that are left. */
  coarseEdgeDelete: `DELETE FROM telemetry_rollup_1m WHERE bucket = ?`,
};

export type RollupSql = typeof ROLLUP_SQL;

/** The start of the ROLLUP_MS interval `ts` falls into. */
export function rollupInterval(ts: number): number {
  return Math.floor(ts / ROLLUP_MS) * ROLLUP_MS;
}

/**
 * Packs an aggregate row (key columns first, then AGGREGATE_WIDTH values, nulls where a field had
 * no value) into the BLOB layout.
 */
export function packAggregate(row: readonly unknown[], offset: number): Buffer {
  const a = new Float64Array(AGGREGATE_WIDTH);
  for (let i = 0; i < AGGREGATE_WIDTH; i++) {
    const v = row[offset + i];
    a[i] = v === null || v === undefined ? NaN : (v as number);
  }
  return Buffer.from(a.buffer);
}

/** The start of the minute `ts` falls into. */
export function coarseInterval(ts: number): number {
  return Math.floor(ts / ROLLUP_COARSE_MS) * ROLLUP_COARSE_MS;
}

/** A rollup BLOB's doubles (copied where the BLOB is not 8-byte aligned). */
export function aggregateOf(blob: Buffer): Float64Array {
  return blob.byteOffset % 8 === 0
    ? new Float64Array(blob.buffer, blob.byteOffset, AGGREGATE_WIDTH)
    : new Float64Array(Uint8Array.from(blob).buffer);
}

/** An aggregate of no frames: count 0, each field's min and max NaN, sum and count 0 (as packAggregate writes one). */
export function emptyAggregate(): Float64Array {
  const a = new Float64Array(AGGREGATE_WIDTH);
  for (let i = 1; i < AGGREGATE_WIDTH; i += 4) a[i] = a[i + 1] = NaN;
  return a;
}

/** Where each field's value is in a row of ALL_COLUMNS (the values an insert binds). */
const FIELD_POSITIONS = FIELD_COLUMNS.map((f) => ALL_COLUMNS.indexOf(f.column));

/** Adds one stored row (values in ALL_COLUMNS order, null where a reading is missing) to an aggregate. */
export function addToAggregate(a: Float64Array, values: readonly unknown[]): void {
  a[0]! += 1;
  for (let k = 0, i = 1; k < FIELD_POSITIONS.length; k++, i += 4) {
    const v = values[FIELD_POSITIONS[k]!];
    if (typeof v !== 'number') continue;
    if (!a[i + 3] || v < a[i]!) a[i] = v;
    if (!a[i + 3] || v > a[i + 1]!) a[i + 1] = v;
    a[i + 2]! += v;
    a[i + 3]! += 1;
  }
}

/** Adds aggregate `v` into `a` (min of mins, max of maxes, sums and counts added). */
export function mergeAggregate(a: Float64Array, v: Float64Array): void {
  a[0]! += v[0]!;
  for (let i = 1; i < AGGREGATE_WIDTH; i += 4) {
    const n = v[i + 3]!;
    if (!n) continue;
    if (!a[i + 3] || v[i]! < a[i]!) a[i] = v[i]!;
    if (!a[i + 3] || v[i + 1]! > a[i + 1]!) a[i + 1] = v[i + 1]!;
    a[i + 2]! += v[i + 2]!;
    a[i + 3]! += n;
  }
}

/** Merges 10 s rollups ([bucket, agg], any order) into one aggregate per minute. */
export function mergeIntoMinutes(rows: Iterable<readonly [number, Buffer]>): Map<number, Float64Array> {
  const out = new Map<number, Float64Array>();
  for (const [bucket, blob] of rows) {
    const v = aggregateOf(blob);
    const minute = coarseInterval(bucket);
    const a = out.get(minute);
    if (!a) out.set(minute, Float64Array.from(v));
    else mergeAggregate(a, v);
  }
  return out;
}

/** Reading a downsampled series of whole intervals: rollup rows, and the frames where there are none. */
export function rollupQueries(fields: NumericFieldPath[]) {
  const cols = fields.map(columnOf);
  return {
    /** @vehicleId @from @to: the rollups of the intervals in [from, to), as [bucket, agg]. */
    rollups: `SELECT bucket, agg FROM telemetry_rollup WHERE vehicle_id = @vehicleId AND bucket >= @from AND bucket < @to`,
    /** @vehicleId @from @to: the minute rollups of the minutes in [from, to), as [bucket, agg]. */
    coarse: `SELECT bucket, agg FROM telemetry_rollup_1m WHERE vehicle_id = @vehicleId AND bucket >= @from AND bucket < @to`,
    /**
     * @vehicleId @start @width @from @to @fromSlot @toSlot (slotOf from and to): frames with ts in
     * [from, to) per output bucket, as [b, count, (min, max, sum, count) per field].
     */
    frames: `SELECT (t.ts - CAST(@start AS INTEGER)) / CAST(@width AS INTEGER) AS b, count(*),
        ${cols.map((c) => `min(t.${c}), max(t.${c}), total(t.${c}), count(t.${c})`).join(', ')}
      FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = @vehicleId AND s.slot >= @fromSlot AND s.slot <= @toSlot
        AND t.ts >= @from AND t.ts < @to GROUP BY b`,
  };
}

/**
 * Which parts of [from, to] (inclusive) come from rollups and which from frames, given the
 * vehicle's mark: whole intervals before the mark from rollups, the partial intervals at both ends
 * and everything from the mark on from frames. Half-open [from, to) ranges.
 */
export function splitRange(
  from: number,
  to: number,
  rolledTo: number,
): { rollups: [number, number] | null; frames: [number, number][] } {
  const end = to + 1;
  const a = Math.ceil(from / ROLLUP_MS) * ROLLUP_MS;
  const z = Math.min(Math.floor(end / ROLLUP_MS) * ROLLUP_MS, rolledTo);
  if (z <= a) return { rollups: null, frames: [[from, end]] };
  return {
    rollups: [a, z],
    frames: [
      [from, a],
      [z, end],
    ].filter(([x, y]) => y! > x!) as [number, number][],
  };
}

/**
 * Per output bucket: [frame count, then per requested field min, max, sum, count] (min and max
 * meaningful only where the count is not 0).
 */
export class BucketAccumulator {
  private readonly acc = new Map<number, Float64Array>();
  /** Where each requested field sits in a rollup's doubles. */
  private readonly offsets: number[];

  constructor(
    private readonly fields: NumericFieldPath[],
    private readonly g: Bucketing,
  ) {
    const index = new Map(FIELD_COLUMNS.map((f, i) => [f.path, i]));
    this.offsets = fields.map((f) => 1 + 4 * index.get(f)!);
  }

  private bucket(b: number): Float64Array {
    let a = this.acc.get(b);
    if (!a) this.acc.set(b, (a = new Float64Array(1 + 4 * this.fields.length)));
    return a;
  }

  private merge(a: Float64Array, i: number, min: number, max: number, sum: number, count: number): void {
    if (!count) return;
    if (!a[i + 3] || min < a[i]!) a[i] = min;
    if (!a[i + 3] || max > a[i + 1]!) a[i + 1] = max;
    a[i + 2]! += sum;
    a[i + 3]! += count;
  }

  /** Rollup rows [bucket, agg BLOB]. */
  addRollups(rows: [number, Buffer][]): void {
    const { start, width } = this.g;
    for (const [bucket, blob] of rows) {
      const v = aggregateOf(blob);
      const a = this.bucket(Math.floor((bucket - start) / width));
      a[0]! += v[0]!;
      for (let k = 0; k < this.offsets.length; k++) {
        const o = this.offsets[k]!;
        this.merge(a, 1 + 4 * k, v[o]!, v[o + 1]!, v[o + 2]!, v[o + 3]!);
      }
    }
  }

  /** Frame aggregates [b, count, (min, max, sum, count) per requested field]. */
  addFrames(rows: (number | null)[][]): void {
    for (const row of rows) {
      const a = this.bucket(row[0] as number);
      a[0]! += row[1] as number;
      for (let k = 0; k < this.fields.length; k++) {
        const j = 2 + 4 * k;
        this.merge(
          a,
          1 + 4 * k,
          row[j] ?? NaN,
          row[j + 1] ?? NaN,
          (row[j + 2] as number | null) ?? 0,
          (row[j + 3] as number | null) ?? 0,
        );
      }
    }
  }

  /** Writes the buckets into a series, in time order (avg = sum / count). */
  emit(out: Series): void {
    for (const b of [...this.acc.keys()].sort((x, y) => x - y)) {
      const a = this.acc.get(b)!;
      if (!a[0]) continue;
      out.ts.push(this.g.start + b * this.g.width);
      out.count.push(a[0]);
      this.fields.forEach((f, k) => {
        const s = out.fields[f]!;
        const i = 1 + 4 * k;
        const n = a[i + 3]!;
        s.min.push(n ? a[i]! : null);
        s.max.push(n ? a[i + 1]! : null);
        s.avg.push(n ? a[i + 2]! / n : null);
      });
    }
  }
}
