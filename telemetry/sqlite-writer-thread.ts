import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PlatformError } from '../core/errors.ts';
import type { EncodedRows } from './columns.ts';

/** What the SQLite store's writer does, wherever it runs. */
export interface SqliteWriter {
  /** Inserts rows in one transaction; resolves after COMMIT with a flag per row (false: already stored). */
  insert(rows: EncodedRows): Promise<boolean[]>;
  /** Deletes up to `limit` frames with ts < `ts`; resolves with how many went. */
  deleteChunk(ts: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

export interface WriterThreadOptions {
  file: string;
  /** Connection pragmas, applied in order (journal mode, synchronous, checkpointing …). */
  pragmas: string[];
  insertSql: string;
  deleteSql: string;
  /** How EncodedRows map to the insert's parameters (see columns.ts). */
  columnCount: number;
  textColumns: readonly number[];
}

/**
 * The worker's code. Plain JavaScript run with `eval`, so that it loads the same way under tsx,
 * vitest or a build, and needs nothing but better-sqlite3 (whose resolved path it is given).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
for (const p of workerData.pragmas) db.pragma(p);
const insert = db.prepare(workerData.insertSql);
const del = db.prepare(workerData.deleteSql);
const isText = Array.from({ length: workerData.columnCount }, (_, i) => workerData.textColumns.includes(i));
const values = new Array(workerData.columnCount);
// the decoding of columns.ts decodeRows: text columns from texts, the others from numbers (NaN = null)
const insertMany = db.transaction((rows) => {
  const inserted = new Uint8Array(rows.count);
  let n = 0;
  let t = 0;
  for (let r = 0; r < rows.count; r++) {
    for (let col = 0; col < values.length; col++) {
      if (isText[col]) values[col] = rows.texts[t++];
      else {
        const v = rows.numbers[n++];
        values[col] = v !== v ? null : v;
      }
    }
    inserted[r] = insert.run(values).changes === 1 ? 1 : 0;
  }
  return inserted;
});
parentPort.on('message', (m) => {
  try {
    if (m.op === 'insert') {
      const inserted = insertMany(m.rows);
      parentPort.postMessage({ id: m.id, inserted }, [inserted.buffer]);
    } else if (m.op === 'delete') {
      parentPort.postMessage({ id: m.id, changes: del.run(m.ts, m.limit).changes });
    } else if (m.op === 'close') {
      db.close();
      parentPort.postMessage({ id: m.id });
      parentPort.close();
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: String((err && err.message) || err), code: err && err.code } });
  }
});
`;

type Reply = { id: number; inserted?: Uint8Array; changes?: number; error?: { message: string; code?: string } };
interface Pending {
  resolve: (r: Reply) => void;
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
export function startSqliteWriterThread(options: WriterThreadOptions): SqliteWriter {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  function failAll(err: Error) {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function ensureWorker(): Worker {
    if (worker) return worker;
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, ...options },
      stdout: false,
      stderr: false,
      // it only ever holds one batch of rows: keep its heap (and the process RSS) small
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 },
    });
    w.on('message', (reply: Reply) => {
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
  function call(message: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<Reply> {
    const w = ensureWorker();
    const id = nextId++;
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ ...message, id }, transfer);
    }).then((reply) => {
      if (reply.error) {
        const cause = Object.assign(new Error(reply.error.message), { code: reply.error.code });
        throw new PlatformError('STORAGE_FAILED', `telemetry write failed: ${reply.error.message}`, { cause });
      }
      return reply;
    });
  }

  return {
    async insert(rows) {
      const reply = await call({ op: 'insert', rows }, [rows.numbers.buffer as ArrayBuffer]);
      const flags = reply.inserted!;
      const out: boolean[] = new Array(flags.length);
      for (let i = 0; i < flags.length; i++) out[i] = flags[i] === 1;
      return out;
    },
    async deleteChunk(ts, limit) {
      return (await call({ op: 'delete', ts, limit })).changes ?? 0;
    },
    async close() {
      const w = worker;
      if (!w) return;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      await call({ op: 'close' }).catch(() => undefined);
      w.ref(); // keep the process alive until the thread is gone, also when nothing else is left
      await exited;
    },
  };
}
