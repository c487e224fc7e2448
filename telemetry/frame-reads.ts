import type { NumericFieldPath } from '../protocol/index.ts';
import { ALL_COLUMNS, columnOf } from './columns.ts';
import { VEHICLE_FRAMES } from './slots.ts';

const COLUMNS = ALL_COLUMNS.join(', ');
const FRAME_COLUMNS = ALL_COLUMNS.map((c) => `t.${c}`).join(', ');

/**
 * The SQLite store's reads of frames, on the caller's connection. A vehicle's frames are read
 * through the slot directory (telemetry/slots.ts); a range's slots are slotOf its ends.
 */
export const FRAME_READ_SQL = {
  /** (vehicleId, fromSlot, toSlot, from, to, limit): a vehicle's frames in [from, to], in (ts, seq) order. */
  frames: `SELECT ${FRAME_COLUMNS} FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ? AND s.slot >= ? AND s.slot <= ?
      AND t.ts >= ? AND t.ts <= ? ORDER BY s.slot, t.ts, t.seq LIMIT ?`,
  /** (position, limit): frames in the order they were stored, with their rowid as position. */
  after: `SELECT rowid AS position, ${COLUMNS} FROM telemetry WHERE rowid > ? ORDER BY rowid LIMIT ?`,
  /**
   * (position, position): frames stored after position, and the oldest one's receive time. Cheap at
   * any lag: rowids are handed out one after another, and the next row is the oldest unexported.
   */
  lag: `SELECT (SELECT max(rowid) FROM telemetry) - ? AS frames,
      (SELECT received_at FROM telemetry WHERE rowid > ? ORDER BY rowid LIMIT 1) AS oldest`,
  /** (vehicleId): the newest frame. */
  latest: `SELECT ${FRAME_COLUMNS} FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ?
      ORDER BY s.slot DESC, t.ts DESC, t.seq DESC LIMIT 1`,
  /**
   * (JSON array of ids): each one's newest frame, in ALL_COLUMNS order. One statement for many
   * vehicles (any count fits one prepared statement): per id the same seeks as `latest`, then one
   * lookup per row; read raw, as arrays, which costs a third of building row objects.
   */
  latestMany: `SELECT ${COLUMNS} FROM telemetry WHERE rowid IN (
      SELECT (SELECT t.rowid FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ids.value
              ORDER BY s.slot DESC, t.ts DESC, t.seq DESC LIMIT 1) FROM json_each(?) AS ids)`,
  countAll: `SELECT count(*) AS n FROM telemetry`,
  /** (vehicleId) */
  countVehicle: `SELECT count(*) AS n FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ?`,
  /**
   * (vehicleId, fromSlot, toSlot, from, to, limit): counts no further than it needs to — whether
   * the range holds more than maxPoints frames.
   */
  countRange: `SELECT count(*) AS n FROM (SELECT 1 FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = ?
      AND s.slot >= ? AND s.slot <= ? AND t.ts >= ? AND t.ts <= ? LIMIT ?)`,
};

/**
 * @vehicleId @from @to @fromSlot @toSlot @bucket: a downsampled series of buckets not on the
 * rollup grid, straight from the frames: per bucket b (from `from`) the count and each field's
 * min, max and avg.
 */
export function bucketSql(fields: readonly NumericFieldPath[]): string {
  const aggs = fields.map((f) => {
    const c = columnOf(f);
    return `min(t.${c}) AS "${f}:min", max(t.${c}) AS "${f}:max", avg(t.${c}) AS "${f}:avg"`;
  });
  return `SELECT (t.ts - CAST(@from AS INTEGER)) / CAST(@bucket AS INTEGER) AS b, count(*) AS n, ${aggs.join(', ')}
    FROM ${VEHICLE_FRAMES} WHERE s.vehicle_id = @vehicleId AND s.slot >= @fromSlot AND s.slot <= @toSlot
      AND t.ts >= @from AND t.ts <= @to GROUP BY b ORDER BY b`;
}
