import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { vi } from 'vitest';
import { createPostgresPool, openPostgresRecords, openSqliteRecords, type RecordsDb } from '../../records/db.ts';

/**
 * The one switch between the records dialects in tests. `TEST_DATABASE_URL` (a PostgreSQL URL whose
 * user may CREATE DATABASE, e.g. postgres://postgres@127.0.0.1:5432/postgres) runs the records on
 * PostgreSQL: every `openTestRecords()` gets a database of its own, copied from a template migrated
 * once per run (vitest.postgres.config.ts), and dropped again on `destroy()`. Unset: SQLite, as before.
 */
const ADMIN_URL = process.env.TEST_DATABASE_URL;
/** Set by vitest.postgres.config.ts for the run; the prefix of every database the run creates. */
const RUN = process.env.PW_PG_RUN ?? `r${randomBytes(4).toString('hex')}`;

export const TEST_RECORDS_DIALECT: 'sqlite' | 'postgres' = ADMIN_URL ? 'postgres' : 'sqlite';

export function testDatabasePrefix(run = RUN): string {
  return `pwt_${run}_`;
}

export function templateDatabase(run = RUN): string {
  return `${testDatabasePrefix(run)}template`;
}

/** The URL of database `name` on the server TEST_DATABASE_URL names. */
export function databaseUrl(name: string, adminUrl = ADMIN_URL): string {
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set');
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>, adminUrl = ADMIN_URL): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const OBJECT_IN_USE = '55006';

/** Creates database `name` as a copy of the run's migrated template (or empty when `empty`). */
async function createDatabase(name: string, opts: { empty?: boolean; ifMissing?: boolean } = {}): Promise<void> {
  await withAdmin(async (admin) => {
    if (opts.ifMissing) {
      const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount) return;
    }
    const source = opts.empty ? 'template0' : templateDatabase();
    // two CREATE DATABASE from one template at once: the second may find it "being accessed"
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`create database "${name}" template "${source}"`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== OBJECT_IN_USE || attempt >= 50) throw err;
        await new Promise((r) => setImmediate(r));
      }
    }
  });
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.query(`drop database if exists "${name}" with (force)`));
}

let counter = 0;

function freshName(): string {
  return `${testDatabasePrefix()}${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
}

/** The database a file path stands for on PostgreSQL: the same path, the same database (reopening it). */
function nameForFile(file: string): string {
  return `${testDatabasePrefix()}f_${createHash('sha256').update(file).digest('hex').slice(0, 16)}`;
}

/**
 * A fresh PostgreSQL database for a test (copied from the migrated template, or `empty`), or the one
 * standing for `file` when given (created on first use, kept until `dropTestDatabaseFor(file)` or the
 * run's teardown). Returns its URL.
 */
export async function createTestDatabase(opts: { file?: string; empty?: boolean } = {}): Promise<string> {
  const name = opts.file ? nameForFile(opts.file) : freshName();
  await createDatabase(name, { empty: opts.empty, ifMissing: Boolean(opts.file) });
  return databaseUrl(name);
}

export async function dropTestDatabaseFor(file: string): Promise<void> {
  if (TEST_RECORDS_DIALECT === 'postgres') await dropDatabase(nameForFile(file));
}

export async function dropTestDatabase(url: string): Promise<void> {
  await dropDatabase(new URL(url).pathname.slice(1));
}

/**
 * Opens a records store for a test on the dialect the run uses. Without `file`: an empty store of
 * its own (SQLite in memory, or a fresh PostgreSQL database dropped by `destroy()`). With `file`:
 * that SQLite file, or the PostgreSQL database standing for it, so a test can close and reopen it.
 */
export async function openTestRecords(opts: { file?: string } = {}): Promise<RecordsDb> {
  if (TEST_RECORDS_DIALECT === 'sqlite') return openSqliteRecords({ file: opts.file ?? ':memory:' });
  const file = opts.file === ':memory:' ? undefined : opts.file;
  const url = await createTestDatabase(file ? { file } : {});
  const pool = createPostgresPool({ url, maxConnections: 4 });
  const db = await openPostgresRecords({ url, pool });
  pools.add(pool);
  const end = pool.end.bind(pool);
  pool.end = () => {
    pools.delete(pool);
    return end();
  };
  if (file) return db;
  const destroy = db.destroy.bind(db);
  db.destroy = async () => {
    await destroy();
    await dropTestDatabase(url);
  };
  return db;
}

/** The pools of the PostgreSQL records open in this test process. */
const pools = new Set<pg.Pool>();
// taken before a test fakes timers: waiting for the database is waiting for real I/O
const realSetImmediate = globalThis.setImmediate;
const realNow = performance.now.bind(performance);

/**
 * Resolves once no records query is running (PostgreSQL: no pooled connection checked out for two
 * turns of the event loop). SQLite answers synchronously, so there it resolves at once. Tests with
 * fake timers call it (through `advanceTimers`) where they counted on a query finishing in microtasks.
 */
export async function recordsSettled(timeoutMs = 10_000): Promise<void> {
  if (TEST_RECORDS_DIALECT === 'sqlite') return;
  const busy = () => [...pools].some((p) => p.totalCount - p.idleCount > 0 || p.waitingCount > 0);
  const until = realNow() + timeoutMs;
  for (let idle = 0; idle < 2;) {
    await new Promise<void>((r) => realSetImmediate(r));
    idle = busy() ? 0 : idle + 1;
    if (realNow() > until) throw new Error(`records still busy after ${timeoutMs} ms`);
  }
}

/**
 * `vi.advanceTimersByTimeAsync(ms)` for code that reads and writes the records when its timers
 * fire. On SQLite exactly that; on PostgreSQL in steps of `stepMs`, letting the queries each step
 * started finish (real I/O) before the clock moves on, as they would in real time.
 */
export async function advanceTimers(ms: number, stepMs = 1000): Promise<void> {
  if (TEST_RECORDS_DIALECT === 'sqlite') {
    await vi.advanceTimersByTimeAsync(ms);
    return;
  }
  await recordsSettled();
  for (let left = ms; left > 0; left -= stepMs) {
    await vi.advanceTimersByTimeAsync(Math.min(stepMs, left));
    await recordsSettled();
  }
  if (ms === 0) await vi.advanceTimersByTimeAsync(0);
  await recordsSettled();
}
