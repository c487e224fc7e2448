import { Worker } from 'node:worker_threads';
import { PlatformError, type ErrorCode } from '../core/errors.ts';
import { workerModule } from '../core/worker-module.ts';
import type { ReaderReply, ReaderRequest, ReaderThreadData } from './sqlite-reader-messages.ts';
import type { SeriesQuery } from './store.ts';

/** The worker's code beside this module (core/worker-module.ts). */
const WORKER = workerModule(import.meta.url, 'sqlite-reader-worker');

/** What the SQLite store reads on its reader thread. */
export interface SqliteReader {
  /** A downsampled series as the JSON the API answers (telemetry/series-json.ts), as bytes. */
  seriesJson(query: SeriesQuery): Promise<Buffer>;
  close(): Promise<void>;
}

interface Pending {
  resolve: (r: ReaderReply) => void;
  reject: (err: Error) => void;
}

/**
 * Reads telemetry series on a worker thread with its own read-only connection, and writes their
 * JSON there too: a day of one vehicle at 2,000 points is ~110,000 numbers, about 10 ms of reads and
 * JSON that would otherwise hold the MQTT and HTTP thread (and ~3× that on a busy platform). The main
 * thread gets the bytes, handed over without a copy. Started at the first read and kept, unreferenced
 * while idle so it never holds the process open; requests queue in the worker, one at a time. A
 * worker that dies fails what it held, and the next read starts a new one.
 */
export function startSqliteReaderThread(options: ReaderThreadData): SqliteReader {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  function failAll(err: Error) {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function ensureWorker(): Worker {
    if (worker) return worker;
    const w = new Worker(WORKER.url, {
      workerData: options,
      execArgv: WORKER.execArgv,
      stdout: false,
      stderr: false,
      // a series' arrays and its JSON (a few MB at most): keep its heap (and the process RSS) small
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
    });
    w.on('message', (reply: ReaderReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      p.resolve(reply);
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(new PlatformError('STORAGE_FAILED', `telemetry reader thread failed: ${err.message}`, { cause: err }));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (pending.size) failAll(new PlatformError('STORAGE_FAILED', `telemetry reader thread exited (${code})`));
    });
    worker = w;
    return w;
  }

  function call(request: ReaderRequest, w = ensureWorker()): Promise<ReaderReply> {
    return new Promise<ReaderReply>((resolve, reject) => {
      pending.set(request.id, { resolve, reject });
      w.ref();
      w.postMessage(request);
    });
  }

  return {
    async seriesJson(query) {
      const reply = await call({ id: nextId++, op: 'seriesJson', query });
      if (reply.error) {
        const e = reply.error;
        if (e.platform) throw new PlatformError(e.code as ErrorCode, e.message, { details: e.details });
        const cause = Object.assign(new Error(e.message), { code: e.code });
        throw new PlatformError('STORAGE_FAILED', `telemetry read failed: ${e.message}`, { cause });
      }
      const json = reply.json!;
      return Buffer.from(json.buffer, json.byteOffset, json.byteLength);
    },
    async close() {
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      await call({ id: nextId++, op: 'close' }, w).catch(() => undefined);
      w.ref(); // keep the process alive until the thread is gone, also when nothing else is left
      await exited;
    },
  };
}
