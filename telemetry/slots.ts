import { ROLLUP_MS } from './store.ts';

/**
 * How the SQLite store finds one vehicle's frames without a (vehicle, ts) index.
 *
 * A unique index led by the vehicle puts each vehicle's newest frames in its own index leaf, so
 * every second of ingest dirtied one leaf per vehicle sending (≈ 1,000–2,000 random pages), and
 * the WAL checkpoint wrote all of them back and synced them once a second: 45–70 ms during which
 * the writer thread committed nothing (docs/benchmarks.md). The frames' unique key now leads with
 * the 10 s slot of the clock their ts falls into, (slot, vehicle, ts, seq): a second of ingest only
 * touches the current slot's part of the index, a few dozen leaves.
 *
 * A vehicle's frames are then found through `telemetry_slots`, one row per vehicle and slot with
 * frames, in vehicle order: a read joins it to the frames' index, one seek per slot of the vehicle.
 * A row is added when the first frame of a vehicle's slot is stored (so the directory's leaves
 * are dirtied once per vehicle and 10 s, not once a second), and retention removes the slots
 * wholly before its cut-off. A slot row may outlive its frames (a retention cut-off inside the
 * slot); a read then finds nothing there. The other way round never: every stored frame's slot
 * has its row, in the transaction that stored the frame.
 */

/** The width of a slot: the rollups' interval, so a rollup interval is one slot (ROLLUP_SQL.aggregate). */
export const SLOT_MS = ROLLUP_MS;

/** The slot of a time, as SQLite computes the column (integer division, toward zero). */
export function slotOf(ts: number): number {
  return Math.trunc(ts / SLOT_MS);
}

/** The frames table's slot column: computed, not stored (it takes room in the index only). */
export const SLOT_COLUMN = `slot INTEGER AS (ts / ${SLOT_MS}) VIRTUAL`;

/** The frames' unique key and the slot directory (after the frames table). */
export const SLOT_SCHEMA = `
  CREATE UNIQUE INDEX IF NOT EXISTS telemetry_slot_vehicle ON telemetry (slot, vehicle_id, ts, seq);
  CREATE TABLE IF NOT EXISTS telemetry_slots (
    vehicle_id TEXT NOT NULL,
    slot INTEGER NOT NULL,
    PRIMARY KEY (vehicle_id, slot)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS telemetry_slots_slot ON telemetry_slots (slot);
`;

/**
 * A file from before the slots: the column, the new key and the directory of what it holds, then
 * the old (vehicle, ts, seq) index goes. Run in one transaction before SLOT_SCHEMA's statements.
 */
export const SLOT_UPGRADE = {
  column: `ALTER TABLE telemetry ADD COLUMN ${SLOT_COLUMN}`,
  fill: `INSERT OR IGNORE INTO telemetry_slots (vehicle_id, slot) SELECT DISTINCT vehicle_id, slot FROM telemetry`,
  dropOld: `DROP INDEX IF EXISTS telemetry_vehicle_ts_seq`,
};

/**
 * One vehicle's frames, as `t`, in (ts, seq) order when ordered by `s.slot, t.ts, t.seq`: put after
 * FROM (CROSS JOIN: the slots are always the outer loop, never a scan of the frames' ts index), then `WHERE s.vehicle_id = ?` and, for a time range, `s.slot >= ? AND s.slot <= ?` (slotOf
 * the range's ends) beside the range on `t.ts`.
 */
export const VEHICLE_FRAMES = `telemetry_slots s CROSS JOIN telemetry t ON t.slot = s.slot AND t.vehicle_id = s.vehicle_id`;

export const SLOT_SQL = {
  /** (vehicleId, slot): the slot has a frame of the vehicle. */
  add: `INSERT OR IGNORE INTO telemetry_slots (vehicle_id, slot) VALUES (?, ?)`,
  /** (vehicleId, fromSlot, toSlot, limit): the vehicle's slots in [fromSlot, toSlot), in order. */
  between: `SELECT slot FROM telemetry_slots WHERE vehicle_id = ? AND slot >= ? AND slot < ? ORDER BY slot LIMIT ?`,
  /** (slot, limit): retention, in chunks: slots wholly before the cut-off's slot. */
  trimChunk: `DELETE FROM telemetry_slots WHERE (vehicle_id, slot) IN (SELECT vehicle_id, slot FROM telemetry_slots WHERE slot < ? LIMIT ?)`,
};
