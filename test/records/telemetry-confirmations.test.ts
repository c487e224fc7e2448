import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordsDb } from '../../records/db.ts';
import type { RecordsSchema } from '../../records/schema.ts';
import { createConfirmationStore, type ConfirmationRow } from '../../records/telemetry-confirmations.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';

const byId = (a: ConfirmationRow, b: ConfirmationRow) => a.vehicleId.localeCompare(b.vehicleId);

describe(`the confirmation marks in the records (${TEST_RECORDS_DIALECT})`, () => {
  let db: RecordsDb;
  beforeEach(async () => {
    db = await openTestRecords();
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('upserts a save in one statement: new rows, moved marks, untouched others, the time of the save', async () => {
    const store = createConfirmationStore({ db });
    // ids as a gateway may have them, numbers up to 2^53
    const odd = ['V-1', 'v"2', "v'3", 'v\\4', '车辆-5', 'v 6'];
    await store.save(
      odd.map((vehicleId, i) => ({ vehicleId, seq: i + 1, ts: 1_796_000_000_000 + i })),
      1_000,
    );
    await store.save(
      [
        { vehicleId: 'V-1', seq: 2 ** 40, ts: 1_796_000_100_000 },
        { vehicleId: 'new', seq: Number.MAX_SAFE_INTEGER, ts: 1 },
      ],
      2_000,
    );
    const rows = (await store.load()).sort(byId);
    expect(rows).toEqual(
      [
        { vehicleId: 'V-1', seq: 2 ** 40, ts: 1_796_000_100_000 },
        { vehicleId: 'new', seq: Number.MAX_SAFE_INTEGER, ts: 1 },
        ...odd.slice(1).map((vehicleId, i) => ({ vehicleId, seq: i + 2, ts: 1_796_000_000_001 + i })),
      ].sort(byId),
    );
    const at = await db.selectFrom('telemetry_confirmations').select(['vehicle_id', 'updated_at']).execute();
    expect(Object.fromEntries(at.map((r) => [r.vehicle_id, Number(r.updated_at)]))).toMatchObject({
      'V-1': 2_000,
      new: 2_000,
      'v"2': 1_000,
      '车辆-5': 1_000,
    });
  });

  it('saves the marks of a whole fleet at once (2,000 vehicles), and forgets a removed one', async () => {
    const store = createConfirmationStore({ db });
    const fleet = Array.from({ length: 2000 }, (_, i) => ({
      vehicleId: `F${i}`,
      seq: i * 7,
      ts: 1_796_000_000_000 + i,
    }));
    await store.save(fleet, 5);
    await store.save([], 6);
    await store.remove('F7');
    const rows = (await store.load()).sort(byId);
    expect(rows).toEqual(fleet.filter((r) => r.vehicleId !== 'F7').sort(byId));
  });

  it('saves all or nothing: a row the table refuses leaves every mark as it was', async () => {
    const store = createConfirmationStore({ db });
    await store.save([{ vehicleId: 'A', seq: 1, ts: 10 }], 1);
    const bad = { vehicleId: 'B', seq: null, ts: 20 } as unknown as ConfirmationRow;
    await expect(store.save([{ vehicleId: 'A', seq: 2, ts: 11 }, bad], 2)).rejects.toThrow();
    expect(await store.load()).toEqual([{ vehicleId: 'A', seq: 1, ts: 10 }]);
  });

  it('refuses a records store it does not know the engine of', () => {
    const other = new Kysely<RecordsSchema>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    expect(() => createConfirmationStore({ db: other })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    void other.destroy();
  });
});
