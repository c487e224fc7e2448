import { openSqliteRecords } from '../../records/db.ts';
import { createCustomers } from '../../registry/customers.ts';
import { createAccounts, generatePassword } from '../../web/auth/accounts.ts';
import { recordsFile } from '../../platform/data-files.ts';
import type { ConsoleLogin } from '../live/accounts.ts';

/** The bench's unit: bench/shared/provision.ts puts every vehicle in it. */
export const BENCH_UNIT = 'bench';

/**
 * The people of bench:sessions, written into a fresh data dir's records.db before the platform
 * starts, through the real accounts module (scrypt at the production cost): per session one crew
 * account (a customer account of the vehicles' unit) and one engineer, plus an enabled admin so
 * that the platform creates no one-time setup admin.
 */
export async function createSessionAccounts(
  dataDir: string,
  sessions: number,
): Promise<{ crews: ConsoleLogin[]; engineers: ConsoleLogin[] }> {
  const db = await openSqliteRecords({ file: recordsFile(dataDir) });
  try {
    const customers = createCustomers({ db });
    if (!(await customers.list()).some((c) => c.id === BENCH_UNIT))
      await customers.add({ id: BENCH_UNIT, name: 'Bench unit' });
    const accounts = createAccounts({ db });
    await accounts.add({ id: 'bench-admin', name: 'Bench admin', role: 'admin', password: generatePassword() });
    const n = (i: number) => String(i + 1).padStart(3, '0');
    const crews: ConsoleLogin[] = Array.from({ length: sessions }, (_, i) => ({
      username: `crew-${n(i)}`,
      password: generatePassword(),
      role: 'customer',
    }));
    const engineers: ConsoleLogin[] = Array.from({ length: sessions }, (_, i) => ({
      username: `engineer-${n(i)}`,
      password: generatePassword(),
      role: 'engineer',
    }));
    const all = [...crews, ...engineers];
    for (let i = 0; i < all.length; i += 4) {
      await Promise.all(
        all.slice(i, i + 4).map((l) =>
          accounts.add({
            id: l.username,
            name: l.username,
            role: l.role,
            password: l.password,
            ...(l.role === 'customer' ? { customerId: BENCH_UNIT } : {}),
          }),
        ),
      );
    }
    return { crews, engineers };
  } finally {
    await db.destroy();
  }
}
