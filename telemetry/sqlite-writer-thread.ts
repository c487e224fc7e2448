import { Worker } from 'node:worker_threads';
import { PlatformError } from '../core/errors.ts';
import { workerModule } from '../core/worker-module.ts';
import type { EncodedRows } from './columns.ts';
import type {
  WriterStats,
  WriterOp,
  WriterOperations,
  WriterReply,
  WriterRequest,
  WriterThreadData,
} from './sqlite-writer-messages.ts';

/** What the SQLite store's writer does, wherever it runs. */
export interface SqliteWriter {
  /** Inserts rows in one transaction; resolves after COMMIT with a flag per row (false: already stored). */
  insert(rows: EncodedRows): Promise<boolean[]>;
  /** Deletes up to `limit` frames with ts < `ts`; resolves with how many went. */
  deleteChunk(ts: number, limit: number): Promise<number>;
  /** Retention of rollups (telemetry/rollup.ts), after the frames: deletes up to `limit`; the last chunk also redoes the interval `ts` falls into. */
  trimRollups(ts: number, limit: number): Promise<number>;
  /** Rolls up every closed interval now (the writer thread also does so on its own every few seconds). */
  compactRollups(): Promise<void>;
  /** Upserts confirmation marks (confirmation-marks.ts marksJson) in one transaction; resolves after COMMIT. */
  saveMarks(json: string, at: number): Promise<void>;
  removeMark(vehicleId: string): Promise<void>;
  /** The writer thread's timings (undefined for the inline writer, which measures nothing). */
  stats(): Promise<WriterStats | undefined>;
  close(): Promise<void>;
}

/** The worker's code beside this module (core/worker-module.ts). */
const WORKER = workerModule(import.meta.url, 'sqlite-writer-worker');

interface Pending {
  resolve: (r: WriterReply) => void;
  reject: (err: Error) => void;
}

/**
 * Runs the store's writes (INSERT … COMMIT with its fsync, checkpoints, retention deletes) on a
 * worker thread with its own connection, so the ingest thread keeps serving MQTT while SQLite
 * writes and syncs. Callers still learn of a commit only after it happened: `insert` resolves when
 * the worker reports COMMIT done. Reads stay on the caller's connection (WAL: readers never block
 * the writer). If the worker dies, what was pending fails (so nothing unstored is acknowledged)
 * and the next write starts a new worker.
 */
export function startSqliteWriterThread(options: WriterThreadData): SqliteWriter {
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
      // it only ever holds one batch of rows: keep its heap (and the process RSS) small
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 },
    });
    w.on('message', (reply: WriterReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      p.resolve(reply);
    });
    w.on('error', (err) => {
      if (worker === w) worker = undefined;
      failAll(new PlatformError('STORAGE_FAILED', `telemetry writer thread failed: ${err.message}`, { cause: err }));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (pending.size) failAll(new PlatformError('STORAGE_FAILED', `telemetry writer thread exited (${code})`));
    });
    worker = w;
    return w;
  }

  /** Sends one request; the worker is kept referenced only while answers are awaited. */
  function call<K extends WriterOp>(
    op: K,
    args: WriterOperations[K]['request'],
    transfer?: ArrayBuffer[],
  ): Promise<WriterOperations[K]['reply']> {
    const w = ensureWorker();
    const id = nextId++;
    const request = { ...args, id, op } as WriterRequest;
    return new Promise<WriterReply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage(request, transfer);
    }).then((reply) => {
      if (reply.error) {
        const cause = Object.assign(new Error(reply.error.message), { code: reply.error.code });
        throw new PlatformError('STORAGE_FAILED', `telemetry write failed: ${reply.error.message}`, { cause });
      }
      // the worker answers request `id` of operation `op` with that operation's reply
      return reply as WriterOperations[K]['reply'];
    });
  }

  return {
    async insert(rows) {
      const { inserted: flags } = await call('insert', { rows }, [rows.numbers.buffer as ArrayBuffer]);
      const out: boolean[] = new Array(flags.length);
      for (let i = 0; i < flags.length; i++) out[i] = flags[i] === 1;
      return out;
    },
    async deleteChunk(ts, limit) {
      return (await call('delete', { ts, limit })).changes;
    },
    async trimRollups(ts, limit) {
      return (await call('trim', { ts, limit })).changes;
    },
    async compactRollups() {
      await call('compact', {});
    },
    async saveMarks(json, at) {
      await call('saveMarks', { json, at });
    },
    async removeMark(vehicleId) {
      await call('removeMark', { vehicleId });
    },
    async stats() {
      return (await call('stats', {})).stats;
    },
    async close() {
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      await call('close', {}).catch(() => undefined);
      w.ref(); // keep the process alive until the thread is gone, also when nothing else is left
      await exited;
    },
  };
}
