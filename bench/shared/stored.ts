import Database from 'better-sqlite3';
import pg from 'pg';
import { FRAMES_TABLE } from '../../telemetry/postgres-schema.ts';

/** Frames stored per vehicle in a platform's telemetry.db (read-only): the zero-loss check's count. */
export function storedByVehicle(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT vehicle_id AS id, count(*) AS n FROM telemetry GROUP BY vehicle_id').all() as {
      id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    db.close();
  }
}

/** The same count from the PostgreSQL telemetry store at `url` (TELEMETRY_STORE=postgres). */
export async function storedByVehicleInPostgres(url: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; n: string }>(
      `SELECT vehicle_id AS id, count(*) AS n FROM ${FRAMES_TABLE} GROUP BY vehicle_id`,
    );
    return new Map(rows.map((r) => [r.id, Number(r.n)]));
  } finally {
    await client.end();
  }
}

/**
 * A database of the bench's own on the PostgreSQL server `adminUrl` names (its user may CREATE
 * DATABASE), for TELEMETRY_STORE=postgres: its URL, and `drop` to remove it at the end of the run.
 */
export async function createBenchDatabase(
  adminUrl: string,
  prefix: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}${process.pid}_${Date.now().toString(36)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/**
 * The pids of the PostgreSQL backends connected to the database at `url` (the server's shared
 * processes — WAL writer, checkpointer — serve every database and are not among them).
 */
export async function postgresBackends(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/**
 * The run's database's activity counters so far (`pg_stat_database`: committed transactions and
 * rows inserted), for database writes per frame; the server publishes them within about a second.
 */
export async function databaseActivity(url: string): Promise<{ commits: number; rowsInserted: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ commits: string; rows: string }>(
      `SELECT xact_commit AS commits, tup_inserted AS rows FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { commits: Number(rows[0]?.commits ?? NaN), rowsInserted: Number(rows[0]?.rows ?? NaN) };
  } finally {
    await client.end();
  }
}
