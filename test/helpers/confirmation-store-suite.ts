import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfirmationRow, ConfirmationStore } from '../../records/telemetry-confirmations.ts';

const byId = (a: ConfirmationRow, b: ConfirmationRow) => a.vehicleId.localeCompare(b.vehicleId);

/**
 * What every keeper of the delivery confirmations' marks does (ingest/confirmations.ts asks for a
 * ConfirmationStore): the records store's table, and telemetry.db's through its writer.
 */
export function describeConfirmationStore(
  name: string,
  open: () => Promise<{ store: ConfirmationStore; close(): Promise<void> }>,
) {
  describe(`the confirmation marks: ${name}`, () => {
    let store: ConfirmationStore;
    let close: () => Promise<void>;
    beforeEach(async () => {
      ({ store, close } = await open());
    });
    afterEach(async () => {
      await close();
    });

    it('upserts a save: new rows, moved marks, untouched others', async () => {
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
      expect((await store.load()).sort(byId)).toEqual(
        [
          { vehicleId: 'V-1', seq: 2 ** 40, ts: 1_796_000_100_000 },
          { vehicleId: 'new', seq: Number.MAX_SAFE_INTEGER, ts: 1 },
          ...odd.slice(1).map((vehicleId, i) => ({ vehicleId, seq: i + 2, ts: 1_796_000_000_001 + i })),
        ].sort(byId),
      );
    });

    it('saves the marks of a whole fleet at once (2,000 vehicles), and forgets a removed one', async () => {
      const fleet = Array.from({ length: 2000 }, (_, i) => ({
        vehicleId: `F${i}`,
        seq: i * 7,
        ts: 1_796_000_000_000 + i,
      }));
      await store.save(fleet, 5);
      await store.save([], 6);
      await store.remove('F7');
      await store.remove('never-saved');
      expect((await store.load()).sort(byId)).toEqual(fleet.filter((r) => r.vehicleId !== 'F7').sort(byId));
    });

    it('saves all or nothing: a row the table refuses leaves every mark as it was', async () => {
      await store.save([{ vehicleId: 'A', seq: 1, ts: 10 }], 1);
      const bad = { vehicleId: 'B', seq: null, ts: 20 } as unknown as ConfirmationRow;
      await expect(store.save([{ vehicleId: 'A', seq: 2, ts: 11 }, bad], 2)).rejects.toThrow();
      expect(await store.load()).toEqual([{ vehicleId: 'A', seq: 1, ts: 10 }]);
      // and the next save goes through
      await store.save([{ vehicleId: 'A', seq: 3, ts: 12 }], 3);
      expect(await store.load()).toEqual([{ vehicleId: 'A', seq: 3, ts: 12 }]);
    });
  });
}
