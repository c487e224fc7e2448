import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { recordsFile } from '../../platform/data-files.ts';

type RecordsModule = typeof import('../../records/db.ts');
type VehiclesModule = typeof import('../../registry/vehicles.ts');

/** A provisioned vehicle's MQTT login (client id = username = vehicle id). */
export interface Credential {
  id: string;
  secret: string;
}

export const benchVehicleId = (i: number) => `bench-${String(i + 1).padStart(5, '0')}`;

/**
 * Provisions `count` vehicles through the real registry (scrypt-hashed secrets, as `npm run
 * vehicles -- add` does) into a fresh data dir, and returns their credentials. Hashing runs on the
 * libuv pool, so adds go in parallel chunks; the records file lives in a throw-away temp dir, so
 * it is written with synchronous=OFF instead of one fsync per vehicle. `platformRoot` is the
 * checkout whose registry (and records migrations) are used: the one whose platform will run.
 */
export async function provisionVehicles(
  platformRoot: string,
  dataDir: string,
  count: number,
  onProgress?: (done: number) => void,
  /** The customer unit of vehicle `i` (default: every vehicle in unit `bench`). */
  customerOf: (i: number) => string = () => 'bench',
): Promise<Credential[]> {
  const load = <T>(path: string) => import(pathToFileURL(join(platformRoot, path)).href) as Promise<T>;
  const { openSqliteRecords } = await load<RecordsModule>('records/db.ts');
  const { createVehicleRegistry } = await load<VehiclesModule>('registry/vehicles.ts');
  const db = await openSqliteRecords({ file: recordsFile(dataDir) });
  try {
    await sql`PRAGMA synchronous = OFF`.execute(db);
    return await addBenchVehicles(createVehicleRegistry({ db }), count, onProgress, customerOf);
  } finally {
    await db.destroy();
  }
}

/**
 * The same on the PostgreSQL records database at `url` (bench:cluster: the nodes' shared records),
 * migrated first if it is new.
 */
export async function provisionVehiclesInPostgres(
  platformRoot: string,
  url: string,
  count: number,
  onProgress?: (done: number) => void,
): Promise<Credential[]> {
  const load = <T>(path: string) => import(pathToFileURL(join(platformRoot, path)).href) as Promise<T>;
  const { openPostgresRecords } = await load<RecordsModule>('records/db.ts');
  const { createVehicleRegistry } = await load<VehiclesModule>('registry/vehicles.ts');
  const db = await openPostgresRecords({ url, maxConnections: 8 });
  try {
    return await addBenchVehicles(createVehicleRegistry({ db }), count, onProgress, () => 'bench');
  } finally {
    await db.destroy();
  }
}

async function addBenchVehicles(
  registry: ReturnType<VehiclesModule['createVehicleRegistry']>,
  count: number,
  onProgress: ((done: number) => void) | undefined,
  customerOf: (i: number) => string,
): Promise<Credential[]> {
  const creds: Credential[] = [];
  const CHUNK = 256;
  for (let start = 0; start < count; start += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, count - start) }, (_, k) => benchVehicleId(start + k));
    const added = await Promise.all(
      ids.map((id, k) =>
        registry.add({
          id,
          customerId: customerOf(start + k),
          model: 'bench-gateway',
          profile: { hasGenerator: true, battery: { nominalV: 24, capacityAh: 200 } },
        }),
      ),
    );
    for (const a of added) creds.push({ id: a.vehicle.id, secret: a.secret });
    onProgress?.(creds.length);
  }
  return creds;
}
