import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NUMERIC_FIELD_PATHS, type NumericFieldPath } from '../protocol/index.ts';
import { PlatformError } from '../core/errors.ts';
import { FIELD_COLUMNS, columnOf, encodeRows, storedFromValues, unflatten } from './columns.ts';
import { prepareFrameWrites } from './frame-writes.ts';
import {
  BucketAccumulator,
  coarseInterval,
  ROLLUP_REV_UPGRADE,
  ROLLUP_SCHEMA,
  rollupQueries,
  splitRange,
} from './rollup.ts';
import { SLOT_COLUMN, SLOT_SCHEMA, SLOT_UPGRADE, slotOf } from './slots.ts';
import { bucketSql, FRAME_READ_SQL } from './frame-reads.ts';
import {
  bucketing,
  emptySeries,
  ROLLUP_COARSE_MS,
  type AppendResult,
  type Bucketing,
  type Series,
  type SeriesQuery,
  type StoredFrame,
  type TelemetryStore,
} from './store.ts';
import {
  CONFIRMATION_SCHEMA,
  marksJson,
  prepareMarkWrites,
  readMarks,
  type ConfirmationMarks,
} from './confirmation-marks.ts';
import { createSeriesBytes, type MinuteRows, type SeriesBytesStats } from './series-bytes.ts';
import { seriesJson } from './series-json.ts';
import { startSqliteWriterThread, type SqliteWriter } from './sqlite-writer-thread.ts';
import type { WriterStats } from './sqlite-writer-messages.ts';

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
  /** How often the writer thread checkpoints the WAL while writing (default CHECKPOINT_EVERY_MS). */
  checkpointEveryMs?: number;
  /**
   * Told before and after a file from an older layout is upgraded in place (one transaction that
   * reads every frame: minutes for a large file), so that an operator sees why start-up waits.
   */
  onUpgrade?: (event: SqliteUpgradeEvent) => void;
}

/** What `onUpgrade` is told: the upgrade, the frames it goes through (the newest rowid: at most that many), and when done how long it took. */
export type SqliteUpgradeEvent =
  | { phase: 'start'; upgrade: 'slot-key'; frames: number }
  | { phase: 'done'; upgrade: 'slot-key'; frames: number; seconds: number };

/** The middle of a series in minute points, for series-bytes.ts: the rows read, and which BLOBs it wants. */
interface Middle {
  rows: MinuteRows;
  missing: (minutes: readonly number[], revs: readonly number[]) => number[];
}

const DELETE_CHUNK = 5000;
/** The writer thread checkpoints the WAL itself this often (while writing), outside the commits. */
const CHECKPOINT_EVERY_MS = 1000;
/** Vehicles per query of latestMany; between chunks the event loop gets a turn. */
const LATEST_CHUNK = 1000;

/** The SQLite store also answers for its rollups (telemetry/rollup.ts). */
export interface SqliteTelemetryStore extends TelemetryStore {
  /**
   * Rolls up every closed interval now and resolves when done (the writer thread does so on its
   * own every few seconds; tests and tools call this). The inline writer keeps no rollups.
   */
  compactRollups(): Promise<void>;
  /**
   * Frames in the order they were stored, after `position` (a row's position: SQLite's rowid, which
   * only grows while the newest row stays — retention deletes the oldest), at most `limit`: what an
   * exporter reads from its durable cursor (telemetry/influx-export.ts).
   */
  framesAfter(position: number, limit: number): Promise<{ position: number; frame: StoredFrame }[]>;
  /** The newest row's position and the oldest stored frame's receive time after `position` (export lag). */
  exportLag(position: number): Promise<{ frames: number; oldestReceivedAt: number | null }>;
  /**
   * The writer thread's timings, cumulative since it started: commits, checkpoints, rollup turns
   * (`/metrics.json`, the benches' cause breakdown). Undefined for the inline writer.
   */
  writerStats(): Promise<WriterStats | undefined>;
  /** A day in minute points as JSON bytes, its closed minutes' text kept (series-bytes.ts); undefined for other shapes. */
  seriesBytes(query: SeriesQuery): Promise<Buffer | undefined>;
  /** How often the day chart's minutes were copied from kept text or written again (series-bytes.ts). */
  seriesBytesStats(): SeriesBytesStats;
  /**
   * The delivery confirmations' marks, kept in this file beside the frames (confirmation-marks.ts):
   * saved by the writer (the thread: no fsync on the caller's thread), read on the caller's connection.
   */
  readonly confirmations: ConfirmationMarks;
}

/** The pragmas of every connection to the file, the writer thread's too, applied in order. */
function connectionPragmas(synchronous: 'full' | 'normal'): string[] {
  return [
    'journal_mode = WAL',
    `synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`,
    'busy_timeout = 5000',
    // Each commit of frames from many vehicles dirties about one index page per vehicle. With the
    // default checkpoint every 1000 WAL pages nearly every full batch also ran a checkpoint (write
    // back to the database file, and its fsync). Checkpointing every ~40 MB of WAL writes a hot page
    // back once for many commits; durability is unchanged (under synchronous=FULL every commit
    // still fsyncs the WAL). See docs/benchmarks.md.
    'wal_autocheckpoint = 10000',
    `journal_size_limit = ${64 * 1024 * 1024}`,
  ];
}

const TELEMETRY_SCHEMA = `
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
    ${FIELD_COLUMNS.map((f) => `${f.column} REAL`).join(',\n    ')},
    ${SLOT_COLUMN}
  );
  ${SLOT_SCHEMA}
  CREATE INDEX IF NOT EXISTS telemetry_ts ON telemetry (ts);
  ${ROLLUP_SCHEMA}
  ${CONFIRMATION_SCHEMA}
`;

/**
 * The embedded telemetry store: one SQLite file in WAL mode, batched transactions, a unique
 * (vehicle, seq, ts) key, and rollups per ROLLUP_MS interval for long downsampled ranges.
 */
export function createSqliteTelemetryStore(options: SqliteTelemetryOptions): SqliteTelemetryStore {
  if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
  const db = new Database(options.file);
  const pragmas = connectionPragmas(options.synchronous ?? 'full');
  for (const p of pragmas) db.pragma(p);
  const hadCoarse = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'telemetry_rollup_1m'`).get() !== undefined;
  const hadFrames = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'telemetry'`).get() !== undefined;
  const hadSlots = hadFrames && db.prepare(`SELECT 1 FROM pragma_table_xinfo('telemetry') WHERE name = 'slot'`).get();
  const upgradeSlots = hadFrames && !hadSlots;
  const upgradeFrames = upgradeSlots
    ? Number(db.prepare(`SELECT coalesce(max(rowid), 0) FROM telemetry`).pluck().get())
    : 0;
  const upgradeStarted = performance.now();
  if (upgradeSlots) options.onUpgrade?.({ phase: 'start', upgrade: 'slot-key', frames: upgradeFrames });
  db.transaction(() => {
    // a file from before the slots (telemetry/slots.ts): the column first, the schema's index on it next
    if (upgradeSlots) db.exec(SLOT_UPGRADE.column);
    db.exec(TELEMETRY_SCHEMA);
    // a file from before the minute rows' revisions (series-bytes.ts): the column, NULL in its rows
    if (!db.prepare(`SELECT 1 FROM pragma_table_xinfo('telemetry_rollup_1m') WHERE name = 'rev'`).get())
      db.exec(ROLLUP_REV_UPGRADE);
    if (upgradeSlots) {
      db.exec(SLOT_UPGRADE.fill);
      db.exec(SLOT_UPGRADE.dropOld);
    }
  })();
  if (upgradeSlots)
    options.onUpgrade?.({
      phase: 'done',
      upgrade: 'slot-key',
      frames: upgradeFrames,
      seconds: (performance.now() - upgradeStarted) / 1000,
    });
  // a file from before the minute rollups: forget the marks, so that everything is read from the
  // frames until the writer thread has rolled it up again, both levels (telemetry/rollup.ts)
  if (!hadCoarse) db.exec(`DELETE FROM telemetry_rollup_state`);

  const writer: SqliteWriter =
    options.file !== ':memory:' && (options.writer ?? 'thread') === 'thread'
      ? startSqliteWriterThread({
          file: options.file,
          pragmas,
          checkpointEveryMs: options.checkpointEveryMs ?? CHECKPOINT_EVERY_MS,
        })
      : inlineWriter(db);
  const selectFrames = db.prepare(FRAME_READ_SQL.frames);
  const selectAfter = db.prepare(FRAME_READ_SQL.after);
  const selectLag = db.prepare(FRAME_READ_SQL.lag);
  const selectLatest = db.prepare(FRAME_READ_SQL.latest);
  const selectLatestMany = db.prepare(FRAME_READ_SQL.latestMany).raw(true);
  const countAll = db.prepare(FRAME_READ_SQL.countAll);
  const countVehicle = db.prepare(FRAME_READ_SQL.countVehicle);
  const countRange = db.prepare(FRAME_READ_SQL.countRange);
  const bucketQueries = new Map<string, Database.Statement>();
  const minuteText = createSeriesBytes();
  const selectCoarseRevs = db
    .prepare(
      `SELECT bucket, rev FROM telemetry_rollup_1m WHERE vehicle_id = @vehicleId AND bucket >= @from AND bucket < @to ORDER BY bucket`,
    )
    .raw(true);
  const selectCoarseRun = db
    .prepare(
      `SELECT bucket, agg FROM telemetry_rollup_1m WHERE vehicle_id = @vehicleId AND bucket >= @from AND bucket < @to ORDER BY bucket`,
    )
    .raw(true);
  const selectRolledTo = db.prepare(`SELECT rolled_to FROM telemetry_rollup_state WHERE vehicle_id = ?`).pluck();
  const mergeQueries = new Map<
    string,
    { rollups: Database.Statement; coarse: Database.Statement; frames: Database.Statement }
  >();

  const toStored = (row: Record<string, unknown>): StoredFrame => ({
    vehicleId: String(row.vehicle_id),
    receivedAt: Number(row.received_at),
    frame: unflatten(row),
  });

  function bucketQuery(fields: NumericFieldPath[]): Database.Statement {
    const key = fields.join(',');
    let stmt = bucketQueries.get(key);
    if (!stmt) {
      stmt = db.prepare(bucketSql(fields));
      bucketQueries.set(key, stmt);
    }
    return stmt;
  }

  function mergeQuery(fields: NumericFieldPath[]) {
    const key = fields.join(',');
    let q = mergeQueries.get(key);
    if (!q) {
      const sql = rollupQueries(fields);
      q = {
        rollups: db.prepare(sql.rollups).raw(true),
        coarse: db.prepare(sql.coarse).raw(true),
        frames: db.prepare(sql.frames).raw(true),
      };
      mergeQueries.set(key, q);
    }
    return q;
  }

  /**
   * Buckets of whole intervals: rollups where the vehicle's mark allows, frames elsewhere, merged
   * per bucket. One read transaction, so the mark, the rollups and the frames are one snapshot.
   */
  const readAligned = db.transaction(
    (out: Series, q: SeriesQuery, fields: NumericFieldPath[], g: Bucketing, middle?: Middle): number => {
      const mark = (selectRolledTo.get(q.vehicleId) as number | undefined) ?? -Infinity;
      const stmt = mergeQuery(fields);
      const acc = new BucketAccumulator(fields, g);
      const end = q.to + 1;
      // minute buckets: the whole minutes below the mark's minute from the minute rollups, the rest as below
      let ranges: [number, number][] = [[q.from, end]];
      let split = q.from;
      if (g.level === ROLLUP_COARSE_MS) {
        const a = Math.ceil(q.from / ROLLUP_COARSE_MS) * ROLLUP_COARSE_MS;
        const z = Math.min(coarseInterval(end), coarseInterval(mark));
        if (z > a) {
          const range = { vehicleId: q.vehicleId, from: a, to: z };
          // the caller writes the minutes itself (series-bytes.ts): one bucket per row, in minute order
          if (middle) readMiddle(middle, range);
          else acc.addRollups(stmt.coarse.all(range) as [number, Buffer][]);
          split = a;
          ranges = (
            [
              [q.from, a],
              [z, end],
            ] as [number, number][]
          ).filter(([x, y]) => y > x);
        }
      }
      for (const [x, y] of ranges) {
        const parts = splitRange(x, y - 1, mark);
        if (parts.rollups)
          acc.addRollups(
            stmt.rollups.all({ vehicleId: q.vehicleId, from: parts.rollups[0], to: parts.rollups[1] }) as [
              number,
              Buffer,
            ][],
          );
        for (const [from, to] of parts.frames)
          acc.addFrames(
            stmt.frames.all({
              vehicleId: q.vehicleId,
              start: g.start,
              width: g.width,
              from,
              to,
              fromSlot: slotOf(from),
              toSlot: slotOf(to),
            }) as (number | null)[][],
          );
      }
      acc.emit(out);
      return split;
    },
  );

  /**
   * The minute rows of `range` for series-bytes.ts: every row's minute and revision, and the
   * aggregates of those whose text it does not keep, read in runs of neighbouring rows.
   */
  function readMiddle(middle: Middle, range: { vehicleId: string; from: number; to: number }): void {
    const { rows } = middle;
    for (const [minute, rev] of selectCoarseRevs.all(range) as [number, number | null][]) {
      rows.minutes.push(minute);
      rows.revs.push(rev ?? NaN);
      rows.blobs.push(undefined);
    }
    const want = middle.missing(rows.minutes, rows.revs);
    for (let i = 0; i < want.length;) {
      let z = i + 1;
      while (z < want.length && want[z] === want[z - 1]! + 1) z++;
      const first = want[i]!;
      const blobs = selectCoarseRun.all({
        vehicleId: range.vehicleId,
        from: rows.minutes[first]!,
        to: rows.minutes[want[z - 1]!]! + 1,
      }) as [number, Buffer][];
      // the same snapshot: the run's rows, in the same order
      for (let k = first, b = 0; b < blobs.length; b++) {
        const [minute, blob] = blobs[b]!;
        while (rows.minutes[k]! < minute) k++;
        if (rows.minutes[k] === minute) rows.blobs[k] = blob;
      }
      i = z;
    }
  }

  /**
   * A series as `series` answers it; for one point per whole minute, with `middle`, the minute
   * rollups of the whole minutes below the mark are left to the caller (pushed to `middle`, in
   * order) and the points before `split` come before them.
   */
  function readSeries(q: SeriesQuery, middle?: Middle): { out: Series; split: number; minutes: boolean } {
    const fields = q.fields?.length ? q.fields : NUMERIC_FIELD_PATHS;
    const slots = [slotOf(q.from), slotOf(q.to)] as const;
    const n = (countRange.get(q.vehicleId, ...slots, q.from, q.to, q.maxPoints + 1) as { n: number }).n;
    const out = emptySeries(q, fields);
    if (n <= q.maxPoints) {
      const rows = selectFrames.all(q.vehicleId, ...slots, q.from, q.to, n) as Record<string, unknown>[];
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
      return { out, split: q.from, minutes: false };
    }
    const g = bucketing(q.from, q.to, q.maxPoints);
    out.bucketMs = g.width;
    if (g.aligned) {
      const minutes = middle !== undefined && g.level === ROLLUP_COARSE_MS && g.width === ROLLUP_COARSE_MS;
      return { out, split: readAligned(out, q, fields, g, minutes ? middle : undefined), minutes };
    }
    const bucket = g.width;
    const rows = bucketQuery(fields).all({
      vehicleId: q.vehicleId,
      from: q.from,
      to: q.to,
      fromSlot: slots[0],
      toSlot: slots[1],
      bucket,
    }) as Record<string, number | null>[];
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
    return { out, split: q.from, minutes: false };
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
        throw err instanceof PlatformError
          ? err
          : new PlatformError('STORAGE_FAILED', 'telemetry append failed', { cause: err });
      }
    },
    async framesAfter(position, limit) {
      guard();
      return (selectAfter.all(position, limit) as Record<string, unknown>[]).map((row) => ({
        position: Number(row.position),
        frame: toStored(row),
      }));
    },
    async exportLag(position) {
      guard();
      const row = selectLag.get(position, position) as { frames: number | null; oldest: number | null };
      return {
        frames: Math.max(0, Number(row.frames ?? 0)),
        oldestReceivedAt: row.oldest === null ? null : Number(row.oldest),
      };
    },
    async frames(vehicleId, from, to, limit = 100_000) {
      guard();
      return (selectFrames.all(vehicleId, slotOf(from), slotOf(to), from, to, limit) as Record<string, unknown>[]).map(
        toStored,
      );
    },
    async latest(vehicleId) {
      guard();
      const row = selectLatest.get(vehicleId) as Record<string, unknown> | undefined;
      return row ? toStored(row) : undefined;
    },
    async latestMany(vehicleIds) {
      guard();
      const out = new Map<string, StoredFrame>();
      for (let start = 0; start < vehicleIds.length; start += LATEST_CHUNK) {
        if (start > 0) {
          await new Promise((r) => setImmediate(r));
          guard();
        }
        const rows = selectLatestMany.all(JSON.stringify(vehicleIds.slice(start, start + LATEST_CHUNK))) as unknown[][];
        for (const row of rows) {
          const f = storedFromValues(row);
          out.set(f.vehicleId, f);
        }
      }
      return out;
    },
    async series(q): Promise<Series> {
      guard();
      return readSeries(q).out;
    },
    async seriesBytes(q): Promise<Buffer | undefined> {
      guard();
      const fields = q.fields?.length ? q.fields : NUMERIC_FIELD_PATHS;
      // one point per minute only (the series' other shapes go the Series way); the same field twice neither
      const g = bucketing(q.from, q.to, q.maxPoints);
      if (g.level !== ROLLUP_COARSE_MS || g.width !== ROLLUP_COARSE_MS || new Set(fields).size !== fields.length)
        return undefined;
      const middle: Middle = {
        rows: { minutes: [], revs: [], blobs: [] },
        missing: (minutes, revs) => minuteText.missing(q.vehicleId, fields, minutes, revs),
      };
      const { out, split, minutes } = readSeries(q, middle);
      if (!minutes) return Buffer.from(seriesJson(out));
      return minuteText.write(out, middle.rows, split) ?? Buffer.from(seriesJson(readSeries(q).out));
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
      while ((await writer.trimRollups(ts, DELETE_CHUNK)) >= DELETE_CHUNK) await new Promise((r) => setImmediate(r));
      return total;
    },
    async compactRollups() {
      guard();
      await writer.compactRollups();
    },
    async writerStats() {
      guard();
      return writer.stats();
    },
    seriesBytesStats: () => minuteText.stats(),
    confirmations: {
      async load() {
        guard();
        return readMarks(db);
      },
      async save(rows, at) {
        guard();
        if (rows.length) await writer.saveMarks(marksJson(rows), at);
      },
      async remove(vehicleId) {
        guard();
        await writer.removeMark(vehicleId);
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      minuteText.clear();
      // the writer first: its last connection to close checkpoints and removes the WAL
      await writer.close().catch(() => undefined);
      db.close();
    },
  };
}

/**
 * Writes on the caller's thread, through the caller's connection. It keeps no rollups of its own,
 * but keeps those of a file it shares with the writer thread valid: a frame stored before a
 * vehicle's mark moves the mark back, and retention trims them.
 */
function inlineWriter(db: Database.Database): SqliteWriter {
  const writes = prepareFrameWrites(db);
  const marks = prepareMarkWrites(db);
  return {
    saveMarks: async (json, at) => marks.save(json, at),
    removeMark: async (vehicleId) => marks.remove(vehicleId),
    insert: async (rows) => Array.from(writes.insert(rows).inserted, (flag) => flag === 1),
    deleteChunk: async (ts, limit) => writes.deleteChunk(ts, limit),
    trimRollups: async (ts, limit) => writes.trimRollups(ts, limit),
    compactRollups: async () => undefined,
    stats: async () => undefined,
    close: async () => undefined,
  };
}
