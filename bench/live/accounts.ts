import { openSqliteRecords } from '../../records/db.ts';
import { createAccounts, generatePassword, type Role } from '../../web/auth/accounts.ts';
import { recordsFile } from '../../platform/data-files.ts';

export interface ConsoleLogin {
  username: string;
  password: string;
  role: Role;
}

/**
 * Console accounts for the bench, written into a fresh data dir's records.db before the platform
 * starts, through the real accounts module (scrypt at the production cost, so each login costs what
 * it costs in production): `count` staff accounts, engineers and dispatchers in turn, plus an
 * enabled admin so that the platform has no reason to create its one-time setup admin.
 */
export async function createConsoleAccounts(dataDir: string, count: number): Promise<ConsoleLogin[]> {
  const db = await openSqliteRecords({ file: recordsFile(dataDir) });
  try {
    const accounts = createAccounts({ db });
    await accounts.add({ id: 'bench-admin', name: 'Bench admin', role: 'admin', password: generatePassword() });
    const logins: ConsoleLogin[] = Array.from({ length: count }, (_, i) => ({
      username: `console-${String(i + 1).padStart(3, '0')}`,
      password: generatePassword(),
      role: i % 2 === 0 ? 'engineer' : 'dispatcher',
    }));
    // scrypt runs on the libuv pool: a few at a time
    for (let i = 0; i < logins.length; i += 4) {
      await Promise.all(
        logins
          .slice(i, i + 4)
          .map((l) =>
            accounts.add({ id: l.username, name: `Console ${l.username}`, role: l.role, password: l.password }),
          ),
      );
    }
    return logins;
  } finally {
    await db.destroy();
  }
}
