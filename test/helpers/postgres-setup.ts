import { openPostgresRecords } from '../../records/db.ts';
import { databaseUrl, dropDatabase, templateDatabase, testDatabasePrefix, withAdmin } from './records.ts';

/**
 * vitest.postgres.config.ts global setup: migrates the run's template database once (every test's
 * database is a copy of it) and at the end drops every database the run created, including those
 * of tests that failed before they could clean up.
 */
export async function setup(): Promise<() => Promise<void>> {
  await dropRunDatabases();
  const template = templateDatabase();
  await withAdmin((admin) => admin.query(`create database "${template}"`));
  const db = await openPostgresRecords({ url: databaseUrl(template), maxConnections: 1 });
  await db.destroy();
  return dropRunDatabases;
}

async function dropRunDatabases(): Promise<void> {
  const prefix = testDatabasePrefix();
  const names = await withAdmin(async (admin) => {
    const r = await admin.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1) order by datname = $2',
      [prefix, `${prefix}template`],
    );
    return r.rows.map((row) => row.datname);
  });
  for (const name of names) await dropDatabase(name);
}
