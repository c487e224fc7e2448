import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { Counters } from '../core/counters.ts';
import type { Logger } from '../core/logger.ts';
import { NUMERIC_FIELDS, readField } from '../protocol/index.ts';
import type { StoredFrame } from './store.ts';

/** The one wide measurement every frame becomes: one series per vehicle, all its values as fields. */
export const INFLUX_MEASUREMENT = 'power';
/** Field keys: the contract's field paths with `_` for `.` (`mains.voltageV` → `mains_voltageV`). */
export const INFLUX_FIELDS = NUMERIC_FIELDS.map((f) => f.path.replace('.', '_'));
/** Tags: few values each (vehicles, their units and models), nothing per frame. */
export const INFLUX_TAGS = ['vehicle', 'unit', 'model'] as const;

export interface ExportSource {
  framesAfter(position: number, limit: number): Promise<{ position: number; frame: StoredFrame }[]>;
  exportLag(position: number): Promise<{ frames: number; oldestReceivedAt: number | null }>;
}

export interface InfluxExportDeps {
  source: ExportSource;
  /** A vehicle's unit and model for the tags (registry); unknown: empty tags are left out. */
  tagsOf: (vehicleId: string) => Promise<{ unit?: string; model?: string }>;
  /** Sends line protocol; resolves once the server answered 2xx (204), rejects otherwise. */
  write: (body: string) => Promise<void>;
  /** The durable cursor: the position of the last frame the server accepted. */
  cursor: { load(): number; save(position: number): void };
  counters: Counters;
  log: Logger;
  now?: () => number;
}

export interface ExportStats {
  position: number;
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
 * the server answered 2xx move the cursor past it (saved to disk). While the server is down, the
 * batch is retried with exponential backoff and nothing moves; after an outage the backlog is sent
 * batch by batch from where it stopped. A batch sent again after a crash between the answer and
 * the cursor's save overwrites the same points (same series and timestamp): idempotent in InfluxDB.
 * Ingest never waits for it: it only reads the store.
 */
export function createInfluxExport(deps: InfluxExportDeps, options: InfluxExportOptions) {
  const { source, log, counters } = deps;
  const now = deps.now ?? Date.now;
  let position = deps.cursor.load();
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

  const stats = (): ExportStats => ({
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

  async function loop(): Promise<void> {
    let backoff = options.backoffMinMs;
    while (!stopped) {
      const rows = await source.framesAfter(position, options.batchFrames);
      if (rows.length === 0) {
        await pause(options.idleMs);
        continue;
      }
      const tags = new Map<string, { unit?: string; model?: string }>();
      for (const r of rows)
        if (!tags.has(r.frame.vehicleId))
          tags.set(r.frame.vehicleId, await deps.tagsOf(r.frame.vehicleId).catch(() => ({})));
      const body = rows.map((r) => toLine(r.frame, tags.get(r.frame.vehicleId)!)).join('\n');
      try {
        await deps.write(body);
      } catch (err) {
        failures++;
        counters.inc('influx.export_failed');
        if (up || failures === 1)
          log.warn({ err, retryInMs: backoff }, 'InfluxDB write failed: retrying from the cursor');
        up = false;
        settle();
        await pause(backoff);
        backoff = Math.min(backoff * 2, options.backoffMaxMs);
        continue;
      }
      if (!up) log.info({ position }, 'InfluxDB write succeeded');
      up = true;
      backoff = options.backoffMinMs;
      position = rows[rows.length - 1]!.position;
      deps.cursor.save(position);
      exported += rows.length;
      counters.inc('influx.exported_frames', undefined, rows.length);
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
    until(predicate: (s: ExportStats) => boolean): Promise<void> {
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
    /** Lag and counts for the metrics; the lag is measured from the store (cheap). */
    async refreshLag() {
      const lag = await source.exportLag(position);
      lastLag = {
        frames: lag.frames,
        seconds: lag.oldestReceivedAt === null ? 0 : Math.max(0, (now() - lag.oldestReceivedAt) / 1000),
      };
    },
    stats,
  };
}

/** The cursor in a small file (DATA_DIR/influx-export.cursor), replaced atomically (write, fsync, rename). */
export function fileCursor(file: string) {
  return {
    load(): number {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { position?: unknown };
        return typeof parsed.position === 'number' ? parsed.position : 0;
      } catch {
        return 0;
      }
    },
    save(position: number): void {
      const tmp = `${file}.tmp`;
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, JSON.stringify({ position, at: new Date().toISOString() }));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, file);
    },
  };
}

/** Writes through `@influxdata/influxdb-client`'s transport: one POST per batch, no client-side buffer or retry (the cursor is the buffer). */
export function influxWriter(options: { url: string; token: string; org: string; bucket: string; timeoutMs: number }) {
  const influx = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs });
  const path = `/api/v2/write?org=${encodeURIComponent(options.org)}&bucket=${encodeURIComponent(options.bucket)}&precision=ms`;
  return async (body: string): Promise<void> => {
    await influx.transport.request(path, body, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  };
}
