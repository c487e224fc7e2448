import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { lazyModule } from '../core/lazy-module.ts';
import { survivePoolConnectionErrors } from '../core/pg-pool.ts';
import type { RecordsSchema } from './schema.ts';
import { migrationProvider } from './migrations.ts';
import { withStatementCache } from './statement-cache.ts';
import { PlatformError } from '../core/errors.ts';

/** `pg`, loaded when PostgreSQL is first used (core/lazy-module.ts). */
const pgLib = lazyModule<typeof pg>('pg');

export type RecordsDb = Kysely<RecordsSchema>;

/** The engine of each records store opened here (openSqliteRecords, openPostgresRecords). */
const dialects = new WeakMap<RecordsDb, 'sqlite' | 'postgres'>();

/**
 * Which engine a records store opened by this module runs on; undefined for a Kysely instance made
 * elsewhere, or a transaction. For the few statements that are cheaper written for each engine
 * (records/telemetry-confirmations.ts); everything else is the same Kysely code on both.
 */
export function recordsDialect(db: RecordsDb): 'sqlite' | 'postgres' | undefined {
  return dialects.get(db);
}

export interface SqliteRecordsOptions {
  /** A file path, or ':memory:'. */
  file: string;
  /** How long a writer waits for another process's lock (the CLI and the platform share the file). */
  busyTimeoutMs?: number;
}

/**
 * Opens the records store on SQLite. Every query in the platform goes through Kysely, so the same
 * code targets PostgreSQL by swapping this dialect for `PostgresDialect` (see docs/architecture.md).
 */
export async function openSqliteRecords(options: SqliteRecordsOptions): Promise<RecordsDb> {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const sqlite = new Database(options.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  const db = new Kysely<RecordsSchema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  dialects.set(db, 'sqlite');
  await migrateRecords(db, 'sqlite');
  return db;
}

export interface PostgresRecordsOptions {
  /** A `postgres://user@host:port/database` connection string. */
  url: string;
  /** Pool size (connections); the default suits one platform process. */
  maxConnections?: number;
  /**
   * Told about an idle pooled connection that failed (the server restarted, an administrator ended
   * it): the pool drops it and the next query opens a new one, so this is reported, not thrown.
   */
  onIdleError?: (err: Error) => void;
}

/** PostgreSQL type oids whose text the records read as JS numbers (epoch ms, counts, sums). */
const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/**
 * The `pg` Pool the PostgreSQL records use. `bigint` (int8) and `numeric` come back as JS numbers,
 * as they do from SQLite: the records hold epoch milliseconds, ids, counts and sums, all below
 * 2^53. The parsers are set on this pool's own type table, not globally on `pg`.
 */
export function createPostgresPool(options: PostgresRecordsOptions): pg.Pool {
  const types = new (pgLib().TypeOverrides)();
  types.setTypeParser(PG_INT8, (v) => Number(v));
  types.setTypeParser(PG_NUMERIC, (v) => Number(v));
  const pool = new (pgLib().Pool)({ connectionString: options.url, max: options.maxConnections ?? 10, types });
  pool.on('error', (err) => options.onIdleError?.(err));
  survivePoolConnectionErrors(pool);
  return pool;
}

/**
 * Opens the records store on PostgreSQL (a `pg` Pool behind Kysely's PostgresDialect; `pool` when
 * given, else one from `createPostgresPool`) and brings its schema to the latest migration.
 * `destroy()` ends the pool.
 */
export async function openPostgresRecords(options: PostgresRecordsOptions & { pool?: pg.Pool }): Promise<RecordsDb> {
  const pool = options.pool ?? createPostgresPool(options);
  const db = new Kysely<RecordsSchema>({ dialect: new PostgresDialect({ pool }) });
  dialects.set(db, 'postgres');
  try {
    await migrateRecords(db, 'postgres');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

export async function migrateRecords(db: RecordsDb, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new PlatformError('STORAGE_FAILED', `records migration ${failed} failed`, { cause: error });
  }
}

/**
 * Runs `fn` in a transaction, or inside the caller's transaction when `db` already is one, so that
 * a chain of record changes (alarm → incident → ticket) can commit once.
 */
export function inTransaction<T>(db: RecordsDb, fn: (tx: RecordsDb) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** Whether `err` is a unique-key violation (PostgreSQL 23505, SQLite's SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY). */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * `inTransaction` again when it lost a race for a unique key (a number taken as max + 1 by two
 * transactions at once): PostgreSQL runs them side by side, so the second one's insert fails and
 * the whole transaction is tried again (it then reads the first one's row). SQLite's single writer
 * never gets here. Inside a caller's transaction there is nothing to retry: the error goes up.
 */
export async function inTransactionRetryingUnique<T>(
  db: RecordsDb,
  fn: (tx: RecordsDb) => Promise<T>,
  attempts = 20,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTransaction(db, fn);
    } catch (err) {
      if (db.isTransaction || attempt >= attempts || !isUniqueViolation(err)) throw err;
    }
  }
}

/**
 * Rows per INSERT statement for multi-row inserts: SQLite allows 32,766 bound parameters per
 * statement, PostgreSQL 65,535; 200 rows of up to ~10 columns stays well inside both.
 */
export const INSERT_CHUNK_ROWS = 200;

/**
 * Runs `insert` on successive slices of `rows` (INSERT_CHUNK_ROWS each), one after another, with a
 * turn of the event loop between two: on SQLite each statement runs synchronously, so without it a
 * large batch holds the main thread in one stretch (the confirmation marks of 2,000 vehicles, ten
 * statements once a second, did ≈ 30 ms at a time: docs/benchmarks.md, bench:live). In a
 * transaction, the others wait meanwhile.
 */
export async function insertInChunks<T>(rows: readonly T[], insert: (chunk: readonly T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    await insert(rows.slice(i, i + INSERT_CHUNK_ROWS));
  }
}
