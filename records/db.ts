import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { RecordsSchema } from './schema.ts';
import { migrationProvider } from './migrations.ts';
import { PlatformError } from '../core/errors.ts';

export type RecordsDb = Kysely<RecordsSchema>;

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
  const db = new Kysely<RecordsSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateRecords(db, 'sqlite');
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

/**
 * Rows per INSERT statement for multi-row inserts: SQLite allows 32,766 bound parameters per
 * statement, PostgreSQL 65,535; 200 rows of up to ~10 columns stays well inside both.
 */
export const INSERT_CHUNK_ROWS = 200;

/** Runs `insert` on successive slices of `rows` (INSERT_CHUNK_ROWS each), one after another. */
export async function insertInChunks<T>(rows: readonly T[], insert: (chunk: readonly T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) await insert(rows.slice(i, i + INSERT_CHUNK_ROWS));
}
