import { sql } from 'kysely';
import { PlatformError } from '../core/errors.ts';
import { recordsDialect, type RecordsDb } from './db.ts';

export interface ConfirmationRow {
  vehicleId: string;
  seq: number;
  ts: number;
}

/** Where the delivery confirmations' high-water marks survive a restart: what ingest/confirmations.ts is given. */
export interface ConfirmationStore {
  load(): Promise<ConfirmationRow[]>;
  /** Upserts the rows in one transaction; resolves once committed. */
  save(rows: readonly ConfirmationRow[], at: number): Promise<void>;
  remove(vehicleId: string): Promise<void>;
}

/**
 * The marks' upsert as one short statement with the rows as one JSON parameter, per engine. The
 * platform saves the marks of ~200 vehicles ten times a second (2,000 vehicles at 1 Hz): as a
 * Kysely multi-row insert each save built and compiled 800 values and SQLite prepared a new
 * 800-parameter statement — 3–4 ms of the main thread each time on a slow machine, synchronously
 * (docs/benchmarks.md, bench:live). One statement is also one transaction.
 */
function upsertJson(dialect: 'sqlite' | 'postgres', json: string, at: number) {
  return dialect === 'sqlite'
    ? sql`INSERT INTO telemetry_confirmations (vehicle_id, seq, ts, updated_at)
        SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, ${at} FROM json_each(${json}) AS r WHERE true
        ON CONFLICT (vehicle_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts, updated_at = excluded.updated_at`
    : sql`INSERT INTO telemetry_confirmations (vehicle_id, seq, ts, updated_at)
        SELECT r ->> 0, (r ->> 1)::bigint, (r ->> 2)::bigint, ${at}::bigint FROM json_array_elements(${json}::json) AS r
        ON CONFLICT (vehicle_id) DO UPDATE SET seq = excluded.seq, ts = excluded.ts, updated_at = excluded.updated_at`;
}

/**
 * The confirmation marks in the records store (`telemetry_confirmations`), one row per vehicle: where
 * they are kept when the telemetry is on PostgreSQL. With the embedded telemetry they are in
 * telemetry.db (telemetry/confirmation-marks.ts); `clear` empties this table once they were carried there.
 */
export function createConfirmationStore(deps: { db: RecordsDb }): ConfirmationStore & { clear(): Promise<void> } {
  const { db } = deps;
  const dialect = recordsDialect(db);
  if (!dialect)
    throw new PlatformError('INVALID_ARGUMENT', 'the confirmation marks need a records store opened by records/db.ts');
  return {
    async load() {
      const rows = await db.selectFrom('telemetry_confirmations').select(['vehicle_id', 'seq', 'ts']).execute();
      return rows.map((r) => ({ vehicleId: r.vehicle_id, seq: Number(r.seq), ts: Number(r.ts) }));
    },
    async save(rows, at) {
      if (rows.length === 0) return;
      await upsertJson(dialect, JSON.stringify(rows.map((r) => [r.vehicleId, r.seq, r.ts])), at).execute(db);
    },
    async remove(vehicleId) {
      await db.deleteFrom('telemetry_confirmations').where('vehicle_id', '=', vehicleId).execute();
    },
    async clear() {
      await db.deleteFrom('telemetry_confirmations').execute();
    },
  };
}
