import { insertInChunks, type RecordsDb } from './db.ts';

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

/** The confirmation marks in the records store (`telemetry_confirmations`), one row per vehicle. */
export function createConfirmationStore(deps: { db: RecordsDb }): ConfirmationStore {
  const { db } = deps;
  return {
    async load() {
      const rows = await db.selectFrom('telemetry_confirmations').select(['vehicle_id', 'seq', 'ts']).execute();
      return rows.map((r) => ({ vehicleId: r.vehicle_id, seq: Number(r.seq), ts: Number(r.ts) }));
    },
    async save(rows, at) {
      if (rows.length === 0) return;
      await db.transaction().execute(async (tx) => {
        await insertInChunks(rows, (chunk) =>
          tx
            .insertInto('telemetry_confirmations')
            .values(chunk.map((r) => ({ vehicle_id: r.vehicleId, seq: r.seq, ts: r.ts, updated_at: at })))
            .onConflict((oc) =>
              oc.column('vehicle_id').doUpdateSet((eb) => ({
                seq: eb.ref('excluded.seq'),
                ts: eb.ref('excluded.ts'),
                updated_at: eb.ref('excluded.updated_at'),
              })),
            )
            .execute(),
        );
      });
    },
    async remove(vehicleId) {
      await db.deleteFrom('telemetry_confirmations').where('vehicle_id', '=', vehicleId).execute();
    },
  };
}
