import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { RecordsDb } from '../../records/db.ts';
import { createStock, type Stock } from '../../resources/stock/stock.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { frame } from '../helpers/platform.ts';
import { openTestRecords } from '../helpers/records.ts';

const NOW = Date.UTC(2026, 11, 6, 8, 0, 0);

/**
 * The vehicles' positions from telemetry, written in groups (resources/stock/positions.ts): one
 * upsert per 200 vehicles, on SQLite and on PostgreSQL (npm run test:postgres runs this file again).
 */
describe('vehicle positions from telemetry, written in groups', () => {
  let db: RecordsDb;
  let stock: Stock;
  const bus = createInProcessBus<PlatformEvents>(silentLogger());

  beforeEach(async () => {
    db = await openTestRecords();
    stock = createStock({ db, log: silentLogger(), bus, planParts: () => undefined });
    await stock.start();
  });
  afterEach(async () => {
    await stock.stop();
    await db.destroy();
  });

  const heard = (vehicleId: string, ts: number, lat: number, lon: number) =>
    bus.emit('telemetry.stored', {
      vehicleId,
      receivedAt: ts,
      frames: [frame(1, ts, { position: { lat, lon } }) as TelemetryFrame],
    });
  const rows = async () =>
    (await db.selectFrom('stock_vehicle_positions').selectAll().orderBy('vehicle_id').execute()).map((r) => [
      r.vehicle_id,
      r.lat,
      r.lon,
      r.source,
      Number(r.at),
    ]);

  it('stores a fleet’s first fixes (more than one statement’s worth) and then updates the vehicles that moved', async () => {
    const ids = Array.from({ length: 450 }, (_, i) => `VP${String(i).padStart(3, '0')}`);
    await stock.reservations.setVehiclePosition('VP001', { lat: 1, lon: 1 }, 'manual', 'desk', NOW - 60_000);
    ids.forEach((id, i) => heard(id, NOW, 30 + i / 100, 110));
    await stock.positionsIdle();
    const first = await rows();
    expect(first).toHaveLength(450);
    expect(first[0]).toEqual(['VP000', 30, 110, 'telemetry', NOW]);
    expect(first[1]).toEqual(['VP001', 30.01, 110, 'telemetry', NOW]);
    expect(first[449]).toEqual(['VP449', 34.49, 110, 'telemetry', NOW]);

    heard('VP002', NOW + 60_000, 31, 111); // ~100 km on
    heard('VP003', NOW + 60_000, 30.03, 110); // standing still: not written again
    await stock.positionsIdle();
    const after = await rows();
    expect(after[2]).toEqual(['VP002', 31, 111, 'telemetry', NOW + 60_000]);
    expect(after[3]).toEqual(['VP003', 30.03, 110, 'telemetry', NOW]);
    expect(after.filter((r, i) => JSON.stringify(r) !== JSON.stringify(first[i]))).toHaveLength(1);
  });
});
