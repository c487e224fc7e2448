import type Database from 'better-sqlite3';

/**
 * The delivery confirmations' marks in telemetry.db (ingest/confirmations.ts keeps them; one row per
 * vehicle: the highest seq and its ts confirmed to the gateway), beside the frames they speak of.
 *
 * Saved by the writer thread, in the order of its other writes: a mark moves only after the commit
 * of its frames was answered, so its save commits after them in the same WAL, and no file, after a
 * crash or a backup, holds a mark ahead of its frames. The platform saves ~200 marks ten times a
 * second (2,000 vehicles at 1 Hz): in records.db each save was a COMMIT with its fsync, and now and
 * then a WAL checkpoint, on the main thread (docs/benchmarks.md, bench:live).
 */
export const CONFIRMATION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS telemetry_confirmations (
    vehicle_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
`;

/** One vehicle's mark. */
export interface MarkRow {
  vehicleId: string;
  seq: number;
  ts: number;
}

/** The marks of a store that keeps them (the shape ingest/confirmations.ts asks for). */
export interface ConfirmationMarks {
  load(): Promise<MarkRow[]>;
  /** Upserts the rows in one transaction; resolves once committed. */
  save(rows: readonly MarkRow[], at: number): Promise<void>;
  remove(vehicleId: string): Promise<void>;
}

/** (json, at): the rows as one JSON array of [vehicleId, seq, ts], upserted in one statement. */
const UPSERT_SQL = `INSERT INTO telemetry_confirmations (vehicle_id, seq, ts, updated_at)
  SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, ? FROM json_each(?) AS r WHERE true
  ON CONFLICT (vehicle_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts, updated_at = excluded.updated_at`;

/** The rows of a save as the writer takes them (JSON crosses to the thread as one string). */
export const marksJson = (rows: readonly MarkRow[]): string =>
  JSON.stringify(rows.map((r) => [r.vehicleId, r.seq, r.ts]));

/** The writes of the marks, on the writer's connection. */
export interface MarkWrites {
  /** Upserts the rows of `json` (marksJson) in one statement, one transaction. */
  save(json: string, at: number): void;
  remove(vehicleId: string): void;
}

export function prepareMarkWrites(db: Database.Database): MarkWrites {
  const upsert = db.prepare(UPSERT_SQL);
  const del = db.prepare(`DELETE FROM telemetry_confirmations WHERE vehicle_id = ?`);
  return {
    save: (json, at) => void upsert.run(at, json),
    remove: (vehicleId) => void del.run(vehicleId),
  };
}

/** Every mark, on a reading connection. */
export function readMarks(db: Database.Database): MarkRow[] {
  const rows = db.prepare(`SELECT vehicle_id, seq, ts FROM telemetry_confirmations`).raw(true).all() as [
    string,
    number,
    number,
  ][];
  return rows.map(([vehicleId, seq, ts]) => ({ vehicleId, seq: Number(seq), ts: Number(ts) }));
}
