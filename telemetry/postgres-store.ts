import type pg from 'pg';
import { lazyModule } from '../core/lazy-module.ts';
import { survivePoolConnectionErrors } from '../core/pg-pool.ts';
import { NUMERIC_FIELD_PATHS, type NumericFieldPath } from '../protocol/index.ts';
import { PlatformError } from '../core/errors.ts';
import { ALL_COLUMNS, columnOf, decodeRows, encodeRows, storedFromValues } from './columns.ts';
import {
  alignedSeriesSql,
  createPartitionsSql,
  DAY_MS,
  dayOf,
  dayOfPartition,
  FRAMES_TABLE,
  INSERT_SQL,
  LIST_PARTITIONS,
  PARTITION_LOCK,
  PARTITIONED_TABLES,
  partitionName,
  reRollupSql,
  ROLLUP_TABLES,
  SCHEMA_SQL,
  SELECT_COLUMNS,
} from './postgres-schema.ts';
import type { ExportCursor, ExportSource } from './influx-export.ts';
import { postgresExportCursor, postgresExportSource, type PostgresExportPosition } from './postgres-export.ts';
import { bucketing, emptySeries, ROLLUP_COARSE_MS, ROLLUP_MS, type Series, type TelemetryStore } from './store.ts';

/** `pg`, loaded when PostgreSQL is first used (core/lazy-module.ts). */
const pgLib = lazyModule<typeof pg>('pg');

export interface PostgresTelemetryOptions {
  /** A `postgres://user@host:port/database` connection string. */
  url: string;
  /** Pool size (connections). */
  maxConnections?: number;
  /** Told about an idle pooled connection that failed (the pool replaces it). */
  onIdleError?: (err: Error) => void;
}

/** The PostgreSQL store also feeds the InfluxDB export, with its cursor in the database (postgres-export.ts). */
export interface PostgresTelemetryStore extends TelemetryStore, ExportSource<PostgresExportPosition> {
  /** The cursor of the export called `name`, kept in `telemetry_export_cursor`. */
  exportCursor(name: string): ExportCursor<PostgresExportPosition>;
}

/** PostgreSQL type oids read as JS numbers (epoch ms, seq, counts, sums), all below 2^53. */
const PG_INT8 = 20;
const PG_NUMERIC = 1700;
/** Tried again: a deadlock between concurrent batches, a partition dropped by another node meanwhile. */
const RETRYABLE = new Set(['40P01', '23514']);
const MAX_TRIES = 3;

/**
 * The telemetry store on PostgreSQL (TELEMETRY_STORE=postgres): frames in a table partitioned by
 * day, a (vehicle, ts, seq) primary key that decides duplicates, both rollup levels maintained in
 * the statement that stores the frames, retention by dropping whole days. Every append is one
 * statement in its own transaction; it resolves after the COMMIT, which the session waits to be
 * flushed (`synchronous_commit = on`, whatever the server's default), so a PUBACK sent after it
 * survives a crash of the platform or of the database server. Schema and partitions: postgres-schema.ts.
 */
export async function openPostgresTelemetryStore(options: PostgresTelemetryOptions): Promise<PostgresTelemetryStore> {
  const types = new (pgLib().TypeOverrides)();
  types.setTypeParser(PG_INT8, (v) => Number(v));
  types.setTypeParser(PG_NUMERIC, (v) => Number(v));
  const pool = new (pgLib().Pool)({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types,
    options: '-c synchronous_commit=on',
    application_name: 'powerwatch-telemetry',
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  survivePoolConnectionErrors(pool);

  /** The days whose partitions exist (as far as this process knows). */
  const days = new Set<number>();
  async function loadDays(): Promise<void> {
    days.clear();
    const { rows } = await pool.query<{ relname: string }>(LIST_PARTITIONS, [FRAMES_TABLE]);
    for (const r of rows) {
      const day = dayOfPartition(FRAMES_TABLE, r.relname);
      if (day !== undefined) days.add(day);
    }
  }

  /** Runs `fn` in a transaction holding the partition lock (creating or dropping partitions). */
  async function underPartitionLock<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Creates the partitions of these days and of each next day (ahead of the frames), if missing. */
  async function ensureDays(wanted: Iterable<number>): Promise<void> {
    const missing = new Set<number>();
    for (const day of wanted) for (const d of [day, day + DAY_MS]) if (!days.has(d)) missing.add(d);
    if (!missing.size) return;
    await underPartitionLock(async (client) => {
      for (const day of missing) await client.query(createPartitionsSql(day));
    });
    for (const d of missing) days.add(d);
  }

  try {
    await underPartitionLock((client) => client.query(SCHEMA_SQL));
    await loadDays();
    await ensureDays([dayOf(Date.now())]);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new PlatformError('STORAGE_FAILED', 'cannot open the PostgreSQL telemetry store', { cause: err });
  }

  let closed = false;
  const guard = () => {
    if (closed) throw new PlatformError('SHUTTING_DOWN', 'telemetry store is closed');
  };
  const failed = (what: string, err: unknown) =>
    err instanceof PlatformError
      ? err
      : new PlatformError('STORAGE_FAILED', `telemetry ${what} failed`, { cause: err });
  const rowsOf = async (sql: string, params: unknown[]) =>
    (await pool.query({ text: sql, values: params, rowMode: 'array' })).rows as unknown[][];
  const framesSql = (columns: string) =>
    `SELECT ${columns} FROM ${FRAMES_TABLE} WHERE vehicle_id = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts, seq LIMIT $4`;

  /** Stores the rows (one array per column) whose frames fall on `wanted` days. */
  async function insert(
    columns: unknown[][],
    wanted: Set<number>,
  ): Promise<{ vehicle_id: string; seq: number; ts: number }[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureDays(wanted);
        return (await pool.query<{ vehicle_id: string; seq: number; ts: number }>(INSERT_SQL, columns)).rows;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (!code || !RETRYABLE.has(code) || attempt >= MAX_TRIES) throw err;
        // "no partition": another node's retention dropped a day meanwhile; read the list again
        if (code === '23514') await loadDays();
      }
    }
  }

  const exportSource = postgresExportSource(pool);
  const store: PostgresTelemetryStore = {
    async framesAfter(position, limit) {
      guard();
      return exportSource.framesAfter(position, limit);
    },
    async exportLag(position) {
      guard();
      return exportSource.exportLag(position);
    },
    exportCursor: (name) => postgresExportCursor(pool, name),
    async append(frames) {
      guard();
      if (frames.length === 0) return { inserted: [] };
      try {
        // one array per column (ALL_COLUMNS order), so that the batch is one statement whatever its size
        const columns: unknown[][] = ALL_COLUMNS.map(() => new Array(frames.length));
        decodeRows(encodeRows(frames), (values, r) => {
          for (let c = 0; c < values.length; c++) columns[c]![r] = values[c];
        });
        const stored = new Map<string, number>();
        for (const row of await insert(columns, new Set(frames.map((f) => dayOf(f.frame.ts))))) {
          const key = `${row.vehicle_id}\0${row.seq}\0${row.ts}`;
          stored.set(key, (stored.get(key) ?? 0) + 1);
        }
        // the first of equal frames in a batch is the one stored
        const inserted = frames.map((f) => {
          const key = `${f.vehicleId}\0${f.frame.seq}\0${f.frame.ts}`;
          const n = stored.get(key) ?? 0;
          if (n > 0) stored.set(key, n - 1);
          return n > 0;
        });
        return { inserted };
      } catch (err) {
        throw failed('append', err);
      }
    },
    async frames(vehicleId, from, to, limit = 100_000) {
      guard();
      return (await rowsOf(framesSql(SELECT_COLUMNS), [vehicleId, from, to, limit])).map(storedFromValues);
    },
    async latest(vehicleId) {
      return (await store.latestMany([vehicleId])).get(vehicleId);
    },
    async latestMany(vehicleIds) {
      guard();
      const out = new Map<string, ReturnType<typeof storedFromValues>>();
      if (!vehicleIds.length) return out;
      // per vehicle one index seek from the newest partition on (ts is the partition key)
      const rows = await rowsOf(
        `SELECT l.* FROM (SELECT DISTINCT unnest($1::text[]) AS id) AS ids CROSS JOIN LATERAL (
           SELECT ${SELECT_COLUMNS} FROM ${FRAMES_TABLE} t WHERE t.vehicle_id = ids.id ORDER BY ts DESC, seq DESC LIMIT 1) AS l`,
        [vehicleIds],
      );
      for (const row of rows) {
        const f = storedFromValues(row);
        out.set(f.vehicleId, f);
      }
      return out;
    },
    async series(q): Promise<Series> {
      guard();
      const fields: NumericFieldPath[] = q.fields?.length ? q.fields : NUMERIC_FIELD_PATHS;
      const cols = fields.map(columnOf);
      const out = emptySeries(q, fields);
      const [[n]] = (await rowsOf(
        `SELECT count(*) FROM (SELECT 1 FROM ${FRAMES_TABLE} WHERE vehicle_id = $1 AND ts >= $2 AND ts <= $3 LIMIT $4) AS s`,
        [q.vehicleId, q.from, q.to, q.maxPoints + 1],
      )) as [[number]];
      if (n <= q.maxPoints) {
        for (const row of await rowsOf(framesSql(['ts', ...cols].join(', ')), [q.vehicleId, q.from, q.to, n])) {
          out.ts.push(row[0] as number);
          out.count.push(1);
          fields.forEach((f, k) => {
            const v = row[k + 1] as number | null;
            const s = out.fields[f]!;
            s.min.push(v);
            s.max.push(v);
            s.avg.push(v);
          });
        }
        return out;
      }
      const g = bucketing(q.from, q.to, q.maxPoints);
      out.bucketMs = g.width;
      let rows: unknown[][];
      if (g.aligned) {
        const parts = alignedParts(q.from, q.to + 1, g.level);
        const pair = (ranges: [number, number][]) => [
          ranges.map((r) => r[0]),
          ranges.map((r) => r[1]),
          ranges.length ? Math.min(...ranges.map((r) => r[0])) : 0,
          ranges.length ? Math.max(...ranges.map((r) => r[1])) : 0,
        ];
        rows = await rowsOf(alignedSeriesSql(fields), [
          q.vehicleId,
          g.start,
          g.width,
          ...pair(parts.minutes),
          ...pair(parts.tens),
          ...pair(parts.frames),
        ]);
      } else {
        rows = await rowsOf(
          `SELECT (ts - $2) / $4 AS b, count(*), ${cols.map((c) => `min(${c}), max(${c}), sum(${c}), count(${c})`).join(', ')}
           FROM ${FRAMES_TABLE} WHERE vehicle_id = $1 AND ts >= $2 AND ts <= $3 GROUP BY b ORDER BY b`,
          [q.vehicleId, q.from, q.to, g.width],
        );
      }
      for (const row of rows) {
        out.ts.push(g.start + (row[0] as number) * g.width);
        out.count.push(row[1] as number);
        fields.forEach((f, k) => {
          const s = out.fields[f]!;
          const [min, max, sum, count] = row.slice(2 + 4 * k, 6 + 4 * k) as (number | null)[];
          s.min.push(count ? min! : null);
          s.max.push(count ? max! : null);
          s.avg.push(count ? sum! / count : null);
        });
      }
      return out;
    },
    async count(vehicleId) {
      guard();
      const [[n]] = (await (vehicleId === undefined
        ? rowsOf(`SELECT count(*) FROM ${FRAMES_TABLE}`, [])
        : rowsOf(`SELECT count(*) FROM ${FRAMES_TABLE} WHERE vehicle_id = $1`, [vehicleId]))) as [[number]];
      return n;
    },
    async deleteOlderThan(cutoff) {
      guard();
      try {
        return await deleteOlderThan(cutoff);
      } catch (err) {
        throw failed('retention', err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };

  /**
   * Retention: the days wholly before the cut-off are dropped (every table's partition of that day:
   * no row-by-row delete, no vacuum debt); in the day the cut-off falls into, the frames before it
   * are deleted and the rollup intervals the cut-off cuts are rolled up again from what is left.
   */
  async function deleteOlderThan(cutoff: number): Promise<number> {
    await loadDays();
    let removed = 0;
    for (const day of [...days].sort((a, b) => a - b)) {
      if (day + DAY_MS > cutoff) break;
      removed += await underPartitionLock(async (client) => {
        const name = partitionName(FRAMES_TABLE, day);
        const exists = await client.query(`SELECT to_regclass($1) AS t`, [name]);
        if (exists.rows[0].t === null) return 0;
        const [[n]] = (await client.query({ text: `SELECT count(*) FROM ${name}`, rowMode: 'array' })).rows as [
          [number],
        ];
        await client.query(`DROP TABLE IF EXISTS ${PARTITIONED_TABLES.map((t) => partitionName(t, day)).join(', ')}`);
        return n;
      });
      days.delete(day);
    }
    const edge = dayOf(cutoff);
    if (cutoff > edge && days.has(edge)) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const deleted = await client.query(`DELETE FROM ${FRAMES_TABLE} WHERE ts >= $1 AND ts < $2`, [edge, cutoff]);
        removed += deleted.rowCount ?? 0;
        for (const { table, width } of ROLLUP_TABLES) {
          const cut = Math.floor(cutoff / width) * width;
          await client.query(`DELETE FROM ${table} WHERE bucket >= $1 AND bucket < $2`, [edge, cut]);
          if (cut < cutoff) {
            await client.query(`DELETE FROM ${table} WHERE bucket = $1`, [cut]);
            await client.query(reRollupSql(table, width), [cut]);
          }
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    }
    return removed;
  }

  return store;
}

/**
 * Where the parts of [from, end) (half-open) are read: whole minutes (when the buckets are minutes)
 * from the minute rollups, whole 10 s intervals from the 10 s rollups, the partial intervals at
 * both ends from the frames. The rollups always equal the frames' aggregate, so any cut gives the
 * same answer; this one reads the fewest rows.
 */
export function alignedParts(
  from: number,
  end: number,
  level: number,
): { minutes: [number, number][]; tens: [number, number][]; frames: [number, number][] } {
  const out = { minutes: [] as [number, number][], tens: [] as [number, number][], frames: [] as [number, number][] };
  let rest: [number, number][] = [[from, end]];
  const cut = (width: number, into: [number, number][]) => {
    const next: [number, number][] = [];
    for (const [x, y] of rest) {
      const a = Math.ceil(x / width) * width;
      const z = Math.floor(y / width) * width;
      if (z <= a) {
        next.push([x, y]);
        continue;
      }
      into.push([a, z]);
      if (a > x) next.push([x, a]);
      if (y > z) next.push([z, y]);
    }
    rest = next;
  };
  if (level === ROLLUP_COARSE_MS) cut(ROLLUP_COARSE_MS, out.minutes);
  cut(ROLLUP_MS, out.tens);
  out.frames = rest;
  return out;
}
