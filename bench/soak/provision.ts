import { sql } from 'kysely';
import { openSqliteRecords } from '../../records/db.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { vehiclePlan } from '../../simulators/fleet/provision.ts';
import { createAccounts, generatePassword } from '../../web/auth/accounts.ts';
import type { SoakVehicle } from './ipc.ts';
import { recordsFile } from '../../platform/data-files.ts';

export const soakVehicleId = (i: number) => `SOAK${String(i + 1).padStart(5, '0')}`;

export interface ConsoleLogin {
  username: string;
  password: string;
}

/**
 * Provisions `count` vehicles through the real registry (scrypt-hashed secrets, as `npm run
 * vehicles -- add` does) into a fresh data dir — the simulators' seeded mix of power systems
 * (mostly 24 V with a generator, some 12 V without), spread over `customers` customers — and
 * `consoles` staff console accounts (engineers and dispatchers in turn, scrypt at the production
 * cost) plus an enabled admin, so the platform has no reason to create its one-time setup admin.
 * The records file is in a throw-away temp dir: written with synchronous=OFF.
 */
export async function provision(
  dataDir: string,
  options: { count: number; customers: number; consoles: number; seed: string | number },
  onProgress?: (done: number) => void,
): Promise<{ vehicles: SoakVehicle[]; logins: ConsoleLogin[] }> {
  const db = await openSqliteRecords({ file: recordsFile(dataDir) });
  try {
    await sql`PRAGMA synchronous = OFF`.execute(db);
    const registry = createVehicleRegistry({ db });
    const vehicles: SoakVehicle[] = [];
    const CHUNK = 256;
    for (let start = 0; start < options.count; start += CHUNK) {
      const added = await Promise.all(
        Array.from({ length: Math.min(CHUNK, options.count - start) }, async (_, k) => {
          const i = start + k;
          const id = soakVehicleId(i);
          const customerId = `soak-c${(i % options.customers) + 1}`;
          const plan = vehiclePlan(i, options.seed);
          const a = await registry.add({
            id,
            customerId,
            name: `${plan.model} ${id}`,
            model: plan.model,
            profile: plan.profile,
          });
          return { id, secret: a.secret, customerId, profile: a.vehicle.profile };
        }),
      );
      vehicles.push(...added);
      onProgress?.(vehicles.length);
    }
    const accounts = createAccounts({ db });
    await accounts.add({ id: 'soak-admin', name: 'Soak admin', role: 'admin', password: generatePassword() });
    const logins: ConsoleLogin[] = [];
    for (let i = 0; i < options.consoles; i++) {
      const login = { username: `soak-console-${i + 1}`, password: generatePassword() };
      await accounts.add({
        id: login.username,
        name: `Soak console ${i + 1}`,
        role: i % 2 === 0 ? 'engineer' : 'dispatcher',
        password: login.password,
      });
      logins.push(login);
    }
    return { vehicles, logins };
  } finally {
    await db.destroy();
  }
}
