import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordsDb } from '../../records/db.ts';
import type { RecordsSchema } from '../../records/schema.ts';
import { createConfirmationStore } from '../../records/telemetry-confirmations.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { describeConfirmationStore } from '../helpers/confirmation-store-suite.ts';

describeConfirmationStore(`the records store (${TEST_RECORDS_DIALECT})`, async () => {
  const db = await openTestRecords();
  return { store: createConfirmationStore({ db }), close: () => db.destroy() };
});

describe(`the confirmation marks in the records store (${TEST_RECORDS_DIALECT})`, () => {
  let db: RecordsDb;
  beforeEach(async () => {
    db = await openTestRecords();
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('keeps the time of each save beside the rows it moved', async () => {
    const store = createConfirmationStore({ db });
    await store.save(
      [
        { vehicleId: 'A', seq: 1, ts: 10 },
        { vehicleId: 'B', seq: 2, ts: 20 },
      ],
      1_000,
    );
    await store.save([{ vehicleId: 'A', seq: 3, ts: 30 }], 2_000);
    const at = await db.selectFrom('telemetry_confirmations').select(['vehicle_id', 'updated_at']).execute();
    expect(Object.fromEntries(at.map((r) => [r.vehicle_id, Number(r.updated_at)]))).toEqual({ A: 2_000, B: 1_000 });
  });

  it('clears every mark at once (once they were carried to telemetry.db)', async () => {
    const store = createConfirmationStore({ db });
    await store.save(
      [
        { vehicleId: 'A', seq: 1, ts: 10 },
        { vehicleId: 'B', seq: 2, ts: 20 },
      ],
      1,
    );
    await store.clear();
    expect(await store.load()).toEqual([]);
    await store.save([{ vehicleId: 'A', seq: 3, ts: 30 }], 2);
    expect(await store.load()).toEqual([{ vehicleId: 'A', seq: 3, ts: 30 }]);
  });

  it('refuses a records store it does not know the engine of', () => {
    const other = new Kysely<RecordsSchema>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    expect(() => createConfirmationStore({ db: other })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    void other.destroy();
  });
});
