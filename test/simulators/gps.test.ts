import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { openSqliteRecords } from '../../records/db.ts';
import { createStock } from '../../resources/stock/stock.ts';
import { seedDemoStock } from '../../simulators/demo-stock.ts';
import { telemetryFrameSchema, type TelemetryFrame } from '../../protocol/index.ts';
import { distanceKm } from '../../resources/stock/geo.ts';
import { readCredentialsFile, writeCredentialsFile } from '../../simulators/fleet/credentials-file.ts';
import {
  HOME_BASES,
  provisionFleet,
  vehicleHome,
  type ProvisioningRegistry,
} from '../../simulators/fleet/provision.ts';
import { createVehicleModel, type VehicleModelOptions } from '../../simulators/model/vehicle.ts';

const START = Date.UTC(2025, 5, 2, 0, 0, 0);
const HOUR = 3_600_000;

function frames(options: Partial<VehicleModelOptions>, hours: number, everyMs: number): TelemetryFrame[] {
  const model = createVehicleModel({ vehicleId: 'V1', seed: 11, startTs: START, ...options });
  const out: TelemetryFrame[] = [];
  for (let t = START + everyMs; t <= START + hours * HOUR; t += everyMs) {
    model.advanceTo(t);
    out.push(model.sample(t));
  }
  return out;
}

describe('simulated gateways send a GPS position near their vehicle’s home', () => {
  const home = { lat: 39.95, lon: 116.33 };
  const week = frames({ home }, 7 * 24, 60_000);

  it('every frame carries a valid position, within 1 km of home, drifting and jittering around it', () => {
    expect(week.every((f) => telemetryFrameSchema.safeParse(f).success)).toBe(true);
    const km = week.map((f) => distanceKm(home, f.position!));
    expect(Math.max(...km)).toBeLessThanOrEqual(1);
    // not a fixed point: the fixes spread over a few hundred metres, and consecutive ones differ
    expect(Math.max(...km)).toBeGreaterThan(0.2);
    expect(new Set(week.map((f) => `${f.position!.lat},${f.position!.lon}`)).size).toBeGreaterThan(week.length / 2);
    // a minute apart the vehicle has barely moved: GPS noise and a slow drift, no jumps
    const steps = week.slice(1).map((f, i) => distanceKm(week[i]!.position!, f.position!));
    expect(Math.max(...steps)).toBeLessThan(0.1);
  });

  it('is deterministic, and does not disturb the power system’s readings', () => {
    expect(frames({ home }, 6, 10_000)).toEqual(frames({ home }, 6, 10_000));
    const without = frames({}, 6, 10_000);
    expect(without.every((f) => f.position === undefined)).toBe(true);
    expect(frames({ home }, 6, 10_000).map(({ position: _p, ...rest }) => rest)).toEqual(without);
  });
});

describe('the vehicle definition declares its home', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-gps-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const registry = (): ProvisioningRegistry => {
    const vehicles = new Map<string, { id: string; customerId: string; profile: never }>();
    return {
      async add(input) {
        vehicles.set(input.id, { id: input.id, customerId: input.customerId, profile: input.profile as never });
        return { secret: `s-${input.id}`, vehicle: { profile: input.profile as never } };
      },
      async get(id) {
        return vehicles.get(id);
      },
      async rotateSecret(id) {
        return { secret: `r-${id}` };
      },
    };
  };

  it('provisioning gives each vehicle a home a few km from one of the bases, kept in the credentials file and across runs', async () => {
    const reg = registry();
    const first = await provisionFleet(reg, { count: 10, prefix: 'GPS', customers: 2, seed: 'demo' });
    for (const [i, v] of first.vehicles.entries()) {
      const base = HOME_BASES[i % HOME_BASES.length]!;
      expect(distanceKm(base, v.home!)).toBeLessThan(15);
      expect(v.home).toEqual(vehicleHome(i, 'demo'));
    }
    // bases in the north, the centre and the west: the vehicles are not all in one place
    expect(new Set(first.vehicles.map((v) => Math.round(v.home!.lat)))).toEqual(new Set([29, 28, 31, 40, 39, 30]));
    const file = join(dir, 'creds.json');
    writeCredentialsFile(file, first.vehicles);
    const read = readCredentialsFile(file);
    expect(read.map((v) => v.home)).toEqual(first.vehicles.map((v) => v.home));
    // a home edited in the file is the vehicle's from then on
    const moved = read.map((v, i) => (i === 0 ? { ...v, home: { lat: 22.54, lon: 114.06 } } : v));
    const again = await provisionFleet(reg, { count: 10, prefix: 'GPS', customers: 2, seed: 'demo', known: moved });
    expect(again.reused).toBe(10);
    expect(again.vehicles[0]!.home).toEqual({ lat: 22.54, lon: 114.06 });
    expect(again.vehicles[1]!.home).toEqual(first.vehicles[1]!.home);
  });

  it('refuses a home that is not a position', () => {
    const file = join(dir, 'bad.json');
    writeCredentialsFile(file, [{ id: 'GPS0001', secret: 's', home: { lat: 123, lon: 0 } }]);
    expect(() => readCredentialsFile(file)).toThrow(/home\.lat/);
  });
});

describe('in the demo: the simulated position is the vehicle’s last known location for its parts', () => {
  const dbP = openSqliteRecords({ file: ':memory:' });
  afterAll(async () => (await dbP).destroy());

  it('a Beijing-based vehicle’s frames → its last known position → the north service point is the nearest store', async () => {
    const db = await dbP;
    const bus = createInProcessBus<PlatformEvents>(silentLogger());
    let planPart = '';
    const stock = createStock({
      db,
      log: silentLogger(),
      bus,
      planParts: () => [{ partNo: planPart, name: { en: planPart, zh: planPart }, qty: 1 }],
    });
    await stock.start();
    try {
      // DEMO0004 is the fourth vehicle: based in Beijing (HOME_BASES)
      const home = vehicleHome(3, 'demo');
      expect(distanceKm(home, HOME_BASES[3]!)).toBeLessThan(15);
      await seedDemoStock({ stock, vehicleIds: ['DEMO0004'] });
      planPart = (await stock.balances({ storeId: 'SP-NORTH' })).find((b) => b.available > 0)!.partNo;
      const sent = frames({ home }, 1, 60_000);
      bus.emit('telemetry.stored', { vehicleId: 'DEMO0004', receivedAt: sent.at(-1)!.ts, frames: sent });
      await stock.positionsIdle();
      const ticket = { id: 1, customerId: null, vehicleId: 'DEMO0004', faultCode: 'X', planRef: null };
      const proposal = await stock.reservations.proposal(ticket);
      expect(proposal.origin).toMatchObject({ source: 'telemetry' });
      expect(distanceKm(home, proposal.origin!)).toBeLessThan(1);
      expect(proposal.origin).toMatchObject(sent.at(-1)!.position!);
      const [line] = proposal.lines;
      expect(line!.proposedStoreId).toBe('SP-NORTH');
      expect(line!.options[0]).toMatchObject({ storeId: 'SP-NORTH' });
      expect(line!.options[0]!.distanceKm).toBeLessThan(20);

      // the vehicles' fixes are written in groups: a proposal reads the ones heard before it, written
      // or not yet (no positionsIdle here), each vehicle's row updated in place, the others' left alone
      await stock.reservations.setVehiclePosition('DEMO0005', { lat: 31.23, lon: 121.47 }, 'manual', 'desk');
      const moved = { lat: home.lat + 0.5, lon: home.lon };
      bus.emit('telemetry.stored', {
        vehicleId: 'DEMO0004',
        receivedAt: sent.at(-1)!.ts + 1000,
        frames: [{ ...sent.at(-1)!, seq: sent.at(-1)!.seq + 1, ts: sent.at(-1)!.ts + 1000, position: moved }],
      });
      expect((await stock.reservations.proposal(ticket)).origin).toEqual({ ...moved, source: 'telemetry' });
      const rows = await db.selectFrom('stock_vehicle_positions').selectAll().orderBy('vehicle_id').execute();
      expect(rows.map((r) => [r.vehicle_id, r.lat, r.lon, r.source])).toEqual([
        ['DEMO0004', moved.lat, moved.lon, 'telemetry'],
        ['DEMO0005', 31.23, 121.47, 'manual'],
      ]);
    } finally {
      await stock.stop();
    }
  });
});
