import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type * as InfluxClient from '@influxdata/influxdb-client';
import { lazyModule } from '../core/lazy-module.ts';
import type { Counters } from '../core/counters.ts';
import type { Logger } from '../core/logger.ts';
import { NUMERIC_FIELDS, readField } from '../protocol/index.ts';
import type { StoredFrame } from './store.ts';

/** The InfluxDB client, loaded when an export writes (INFLUX_URL; core/lazy-module.ts). */
const influxClient = lazyModule<typeof InfluxClient>('@influxdata/influxdb-client');

/** The one wide measurement every frame becomes: one series per vehicle, all its values as fields. */
export const INFLUX_MEASUREMENT = 'power';
/** Field keys: the contract's field paths with `_` for `.` (`mains.voltageV` → `mains_voltageV`). */
export const INFLUX_FIELDS = NUMERIC_FIELDS.map((f) => f.path.replace('.', '_'));
/** Tags: few values each (vehicles, their units and models), nothing per frame. */
export const INFLUX_TAGS = ['vehicle', 'unit', 'model'] as const;

/**
 * Where the export reads frames: in an order the store guarantees no frame is ever stored behind a
 * position already passed. `P` is the store's position (SQLite: a rowid; PostgreSQL: a
 * writing transaction and key, telemetry/postgres-export.ts) — the exporter only hands it back.
 */
export interface ExportSource<P> {
  framesAfter(position: P, limit: number): Promise<{ position: P; frame: StoredFrame }[]>;
  exportLag(position: P): Promise<{ frames: number; oldestReceivedAt: number | null }>;
}

/** The durable cursor: the position of the last frame the server accepted. */
export interface ExportCursor<P> {
  /** The saved position (the metrics' lag is measured from it). */
  load(): Promise<P>;
  /**
   * One batch with the export held for this exporter: `step` gets the saved position and returns
   * the position to save once the server accepted the batch (undefined: nothing to save). Resolves
   * false, without calling `step`, while another exporter holds it.
   */
  turn(step: (position: P) => Promise<P | undefined>): Promise<boolean>;
}

export interface InfluxExportDeps<P> {
  source: ExportSource<P>;
  /** A vehicle's unit and model for the tags (registry); unknown: empty tags are left out. */
  tagsOf: (vehicleId: string) => Promise<{ unit?: string; model?: string }>;
  /** Sends line protocol; resolves once the server answered 2xx (204), rejects otherwise. */
  write: (body: string) => Promise<void>;
  cursor: ExportCursor<P>;
  /**
   * Whether this node exports now (cluster mode: the one holding the leader lease); checked before
   * each batch. Default: always. The cursor's turn also keeps two exporters from interleaving.
   */
  gate?: () => boolean;
  counters: Counters;
  log: Logger;
  now?: () => number;
}

export interface ExportStats<P> {
  /** The cursor's position as last seen (undefined before the first batch). */
  position: P | undefined;
  lagFrames: number;
  lagSeconds: number;
  exportedFrames: number;
  failures: number;
  up: boolean;
}

export interface InfluxExportOptions {
  batchFrames: number;
  /** How often to look for new frames when idle (a stored frame also wakes it). */
  idleMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

const escapeTag = (s: string) => s.replace(/[\\,= ]/g, (c) => `\\${c}`);

/** One frame as a line of InfluxDB's line protocol, time in ms. */
export function toLine(f: StoredFrame, tags: { unit?: string; model?: string }): string {
  let line = `${INFLUX_MEASUREMENT},vehicle=${escapeTag(f.vehicleId)}`;
  if (tags.model) line += `,model=${escapeTag(tags.model)}`;
  if (tags.unit) line += `,unit=${escapeTag(tags.unit)}`;
  const fields: string[] = [`seq=${f.frame.seq}i`];
  NUMERIC_FIELDS.forEach((field, i) => {
    const v = readField(f.frame, field.path);
    if (v !== null && Number.isFinite(v)) fields.push(`${INFLUX_FIELDS[i]}=${v}`);
  });
  return `${line} ${fields.join(',')} ${f.frame.ts}`;
}

/**
 * Exports every stored frame to InfluxDB 2 (or anything speaking its `/api/v2/write`) from a
 * durable cursor over the telemetry store: read a batch after the cursor, write it, and only once
 * the server answered 2xx move the cursor past it (saved durably). While the server is down, the
 * batch is retried with exponential backoff and nothing moves; after an outage the backlog is sent
 * batch by batch from where it stopped. A batch sent again after a crash between the answer and
 * the cursor's save overwrites the same points (same series and timestamp): idempotent in InfluxDB.
 * Ingest never waits for it: it only reads the store. Each batch is one turn of the cursor, which
 * on PostgreSQL is a lock held in the database: two nodes never send interleaved batches.
 */
export function createInfluxExport<P>(deps: InfluxExportDeps<P>, options: InfluxExportOptions) {
  const { source, cursor, log, counters } = deps;
  const now = deps.now ?? Date.now;
  const gate = deps.gate ?? (() => true);
  let position: P | undefined;
  let stopped = true;
  let running: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let exported = 0;
  let failures = 0;
  let up = false;
  let lastLag = { frames: 0, seconds: 0 };
  const waiters = new Set<{ done: () => boolean }>();
  const settle = () => {
    for (const w of waiters) if (w.done()) waiters.delete(w);
  };

  const stats = (): ExportStats<P> => ({
    position,
    lagFrames: lastLag.frames,
    lagSeconds: lastLag.seconds,
    exportedFrames: exported,
    failures,
    up,
  });
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    }).finally(() => {
      clearTimeout(timer);
      wakeUp = undefined;
    });

  /** One batch in the cursor's turn: 'idle' (nothing new, or not ours now), 'sent', or the write's error. */
  async function batch(): Promise<{ sent: number } | { idle: true } | { err: unknown }> {
    let outcome: { sent: number } | { idle: true } | { err: unknown } = { idle: true };
    let next: P | undefined;
    const mine = await cursor.turn(async (from) => {
      position = from;
      const rows = await source.framesAfter(from, options.batchFrames);
      if (rows.length === 0) return undefined;
      const tags = new Map<string, { unit?: string; model?: string }>();
      for (const r of rows)
        if (!tags.has(r.frame.vehicleId))
          tags.set(r.frame.vehicleId, await deps.tagsOf(r.frame.vehicleId).catch(() => ({})));
      const body = rows.map((r) => toLine(r.frame, tags.get(r.frame.vehicleId)!)).join('\n');
      try {
        await deps.write(body);
      } catch (err) {
        outcome = { err };
        return undefined;
      }
      outcome = { sent: rows.length };
      return (next = rows[rows.length - 1]!.position);
    });
    // the turn resolved: the cursor is saved
    if (next !== undefined) position = next;
    return mine ? outcome : { idle: true };
  }

  async function loop(): Promise<void> {
    let backoff = options.backoffMinMs;
    while (!stopped) {
      if (!gate()) {
        await pause(options.idleMs);
        continue;
      }
      const before = position;
      // a failing store (a database away) is retried like a failing server
      const outcome = await batch().catch((err: unknown) => ({ err, store: true }));
      if ('idle' in outcome) {
        await pause(options.idleMs);
        continue;
      }
      if ('err' in outcome) {
        failures++;
        counters.inc('influx.export_failed');
        if (up || failures === 1)
          log.warn(
            { err: outcome.err, retryInMs: backoff },
            'store' in outcome
              ? 'InfluxDB export: the telemetry store failed: retrying from the cursor'
              : 'InfluxDB write failed: retrying from the cursor',
          );
        up = false;
        settle();
        await pause(backoff);
        backoff = Math.min(backoff * 2, options.backoffMaxMs);
        continue;
      }
      if (!up) log.info({ position: before }, 'InfluxDB write succeeded');
      up = true;
      backoff = options.backoffMinMs;
      exported += outcome.sent;
      counters.inc('influx.exported_frames', undefined, outcome.sent);
      settle();
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = loop().catch((err: unknown) => log.error({ err }, 'InfluxDB export stopped by an error'));
    },
    /** A frame was stored: look now rather than at the next idle check. */
    wake() {
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await running;
    },
    /** Resolves once `predicate` holds for the stats after a write attempt (tests, tools). */
    until(predicate: (s: ExportStats<P>) => boolean): Promise<void> {
      if (predicate(stats())) return Promise.resolve();
      return new Promise((resolve) =>
        waiters.add({
          done: () => {
            if (!predicate(stats())) return false;
            resolve();
            return true;
          },
        }),
      );
    },
    /** Lag and counts for the metrics, measured from the saved cursor (another node's too, in a cluster). */
    async refreshLag() {
      const lag = await source.exportLag(await cursor.load());
      lastLag = {
        frames: lag.frames,
        seconds: lag.oldestReceivedAt === null ? 0 : Math.max(0, (now() - lag.oldestReceivedAt) / 1000),
      };
    },
    stats,
  };
}

/**
 * The SQLite store's cursor in a small file (DATA_DIR/influx-export.cursor), replaced atomically
 * (write, fsync, rename). One exporter per data directory (the embedded store has one process).
 */
export function fileCursor(file: string): ExportCursor<number> {
  let position: number | undefined;
  const read = (): number => {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { position?: unknown };
      return typeof parsed.position === 'number' ? parsed.position : 0;
    } catch {
      return 0;
    }
  };
  const save = (next: number): void => {
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ position: next, at: new Date().toISOString() }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  };
  return {
    async load() {
      return (position ??= read());
    },
    async turn(step) {
      const next = await step((position ??= read()));
      if (next !== undefined) {
        save(next);
        position = next;
      }
      return true;
    },
  };
}

/** Writes through `@influxdata/influxdb-client`'s transport: one POST per batch, no client-side buffer or retry (the cursor is the buffer). */
export function influxWriter(options: { url: string; token: string; org: string; bucket: string; timeoutMs: number }) {
  const influx = new (influxClient().InfluxDB)({ url: options.url, token: options.token, timeout: options.timeoutMs });
  const path = `/api/v2/write?org=${encodeURIComponent(options.org)}&bucket=${encodeURIComponent(options.bucket)}&precision=ms`;
  return async (body: string): Promise<void> => {
    await influx.transport.request(path, body, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  };
}
