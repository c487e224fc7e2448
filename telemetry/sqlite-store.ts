import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NUMERIC_FIELD_PATHS, type NumericFieldPath } from '../protocol/index.ts';
import { PlatformError } from '../core/errors.ts';
import { ALL_COLUMNS, FIELD_COLUMNS, TEXT_COLUMNS, columnOf, decodeRows, encodeRows, unflatten, type EncodedRows } from './columns.ts';
import { bucketWidth, type AppendResult, type Series, type StoredFrame, type TelemetryStore } from './store.ts';
import { startSqliteWriterThread, type SqliteWriter } from './sqlite-writer-thread.ts';

export interface SqliteTelemetryOptions {
  /** A file path, or ':memory:'. */
  file: string;
  /** `full` fsyncs every commit (survives power loss); `normal` survives a process crash only. */
  synchronous?: 'full' | 'normal';
  /**
   * Where writes run. `thread` (the default for a file): a worker thread with its own connection
   * does INSERT, COMMIT and its fsync, so the ingest thread is never blocked by the disk.
   * `inline`: on the caller's thread (always so for ':memory:', which one connection owns).
   */
  writer?: 'thread' | 'inline';
}

const DELETE_CHUNK = 5000;

/** The embedded telemetry store: one SQLite file in WAL mode, batched transactions, a unique (vehicle, seq, ts) key. */
export function createSqliteTelemetryStore(options: SqliteTelemetryOptions): TelemetryStore {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  const pragmas = [
    'journal_mode = WAL',
    `synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`,
    'busy_timeout = 5000',
    // Each commit of frames from many vehicles dirties about one index page per vehicle. With the
    // default checkpoint every 1000 WAL pages nearly every full batch also ran a checkpoint (write
    // back to the database file, and its fsync). Checkpointing every ~40 MB of WAL writes a hot page
    // back once for many commits; durability is unchanged (under synchronous=FULL every commit
    // still fsyncs the WAL). See docs/benchmarks.md.
    'wal_autocheckpoint = 10000',
    `journal_size_limit = ${64 * 1024 * 1024}`,
  ];
  for (const p of pragmas) db.pragma(p);
  db.exec(`
    CREATE TABLE IF NOT EXISTS telemetry (
      vehicle_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      ts INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      source TEXT NOT NULL,
      sections INTEGER NOT NULL,
      mains_present INTEGER,
      generator_running INTEGER,
      charging_engine_running INTEGER,
      ${FIELD_COLUMNS.map((f) => `${f.column} REAL`).join(',\n      ')}
    );
    CREATE UNIQUE INDEX IF NOT EXISTS telemetry_vehicle_ts_seq ON telemetry (vehicle_id, ts, seq);
    CREATE INDEX IF NOT EXISTS telemetry_ts ON telemetry (ts);
  `);

  // positional parameters: binding an array is cheaper than binding 26 named ones from an object
  const insertSql = `INSERT OR IGNORE INTO telemetry (${ALL_COLUMNS.join(', ')}) VALUES (${ALL_COLUMNS.map(() => '?').join(', ')})`;
  const deleteSql = `DELETE FROM telemetry WHERE rowid IN (SELECT rowid FROM telemetry WHERE ts < ? LIMIT ?)`;
  const writer: SqliteWriter =
    options.file !== ':memory:' && (options.writer ?? 'thread') === 'thread'
      ? startSqliteWriterThread({ file: options.file, pragmas, insertSql, deleteSql, columnCount: ALL_COLUMNS.length, textColumns: TEXT_COLUMNS })
      : inlineWriter(db, insertSql, deleteSql);
  const selectFrames = db.prepare(
    `SELECT * FROM telemetry WHERE vehicle_id = ? AND ts >= ? AND ts <= ? ORDER BY ts, seq LIMIT ?`,
  );
  const selectLatest = db.prepare(`SELECT * FROM telemetry WHERE vehicle_id = ? ORDER BY ts DESC, seq DESC LIMIT 1`);
  const countAll = db.prepare(`SELECT count(*) AS n FROM telemetry`);
  const countVehicle = db.prepare(`SELECT count(*) AS n FROM telemetry WHERE vehicle_id = ?`);
  const countRange = db.prepare(`SELECT count(*) AS n FROM telemetry WHERE vehicle_id = ? AND ts >= ? AND ts <= ?`);
  const bucketQueries = new Map<string, Database.Statement>();

  const toStored = (row: Record<string, unknown>): StoredFrame => ({
    vehicleId: String(row.vehicle_id),
    receivedAt: Number(row.received_at),
    frame: unflatten(row),
  });

  function bucketQuery(fields: NumericFieldPath[]): Database.Statement {
    const key = fields.join(',');
    let stmt = bucketQueries.get(key);
    if (!stmt) {
      const aggs = fields.map((f) => {
        const c = columnOf(f);
        return `min(${c}) AS "${f}:min", max(${c}) AS "${f}:max", avg(${c}) AS "${f}:avg"`;
      });
      stmt = db.prepare(
        `SELECT (ts - CAST(@from AS INTEGER)) / CAST(@bucket AS INTEGER) AS b, count(*) AS n, ${aggs.join(', ')}
         FROM telemetry WHERE vehicle_id = @vehicleId AND ts >= @from AND ts <= @to GROUP BY b ORDER BY b`,
      );
      bucketQueries.set(key, stmt);
    }
    return stmt;
  }

  let closed = false;
  const guard = () => {
    if (closed) throw new PlatformError('SHUTTING_DOWN', 'telemetry store is closed');
  };

  return {
    async append(frames): Promise<AppendResult> {
      guard();
      if (frames.length === 0) return { inserted: [] };
      try {
        return { inserted: await writer.insert(encodeRows(frames)) };
      } catch (err) {
        throw err instanceof PlatformError ? err : new PlatformError('STORAGE_FAILED', 'telemetry append failed', { cause: err });
      }
    },
    async frames(vehicleId, from, to, limit = 100_000) {
      guard();
      return (selectFrames.all(vehicleId, from, to, limit) as Record<string, unknown>[]).map(toStored);
    },
    async latest(vehicleId) {
      guard();
      const row = selectLatest.get(vehicleId) as Record<string, unknown> | undefined;
      return row ? toStored(row) : undefined;
    },
    async series(q): Promise<Series> {
      guard();
      const fields = q.fields?.length ? q.fields : NUMERIC_FIELD_PATHS;
      const n = (countRange.get(q.vehicleId, q.from, q.to) as { n: number }).n;
      const out: Series = { vehicleId: q.vehicleId, from: q.from, to: q.to, bucketMs: 0, ts: [], count: [], fields: {} };
      for (const f of fields) out.fields[f] = { min: [], max: [], avg: [] };
      if (n <= q.maxPoints) {
        const rows = selectFrames.all(q.vehicleId, q.from, q.to, n) as Record<string, unknown>[];
        for (const row of rows) {
          out.ts.push(Number(row.ts));
          out.count.push(1);
          for (const f of fields) {
            const v = row[columnOf(f)] as number | null;
            const s = out.fields[f]!;
            s.min.push(v);
            s.max.push(v);
            s.avg.push(v);
          }
        }
        return out;
      }
      const bucket = bucketWidth(q.from, q.to, q.maxPoints);
      out.bucketMs = bucket;
      const rows = bucketQuery(fields).all({ vehicleId: q.vehicleId, from: q.from, to: q.to, bucket }) as Record<string, number | null>[];
      for (const row of rows) {
        out.ts.push(q.from + Number(row.b) * bucket);
        out.count.push(Number(row.n));
        for (const f of fields) {
          const s = out.fields[f]!;
          s.min.push(row[`${f}:min`] ?? null);
          s.max.push(row[`${f}:max`] ?? null);
          s.avg.push(row[`${f}:avg`] ?? null);
        }
      }
      return out;
    },
    async count(vehicleId) {
      guard();
      const row = (vehicleId === undefined ? countAll.get() : countVehicle.get(vehicleId)) as { n: number };
      return row.n;
    },
    async deleteOlderThan(ts) {
      guard();
      let total = 0;
      for (;;) {
        const changes = await writer.deleteChunk(ts, DELETE_CHUNK);
        total += changes;
        if (changes < DELETE_CHUNK) break;
        // yield between chunks so ingest keeps flowing during a large purge
        await new Promise((r) => setImmediate(r));
      }
      return total;
    },
    async close() {
      if (closed) return;
      closed = true;
      // the writer first: its last connection to close checkpoints and removes the WAL
      await writer.close().catch(() => undefined);
      db.close();
    },
  };
}

/** Writes on the caller's thread, through the caller's connection. */
function inlineWriter(db: Database.Database, insertSql: string, deleteSql: string): SqliteWriter {
  const insert = db.prepare(insertSql);
  const del = db.prepare(deleteSql);
  const insertMany = db.transaction((rows: EncodedRows) => {
    const inserted: boolean[] = new Array(rows.count);
    decodeRows(rows, (values, i) => (inserted[i] = insert.run(values).changes === 1));
    return inserted;
  });
  return {
    insert: async (rows) => insertMany(rows),
    deleteChunk: async (ts, limit) => del.run(ts, limit).changes,
    close: async () => undefined,
  };
}
