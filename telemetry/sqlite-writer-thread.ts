import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PlatformError } from '../core/errors.ts';
import type { EncodedRows } from './columns.ts';
import type { RollupSql } from './rollup.ts';

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
  close(): Promise<void>;
}

/** How rollups are maintained (telemetry/rollup.ts). */
export interface RollupOptions {
  sql: RollupSql;
  /** rollup.ts packAggregate as source (the worker runs plain JavaScript). */
  packSource: string;
  intervalMs: number;
  graceMs: number;
  everyMs: number;
  stepMs: number;
  turnMs: number;
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
  rollup: RollupOptions;
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

// -- rollups (telemetry/rollup.ts): rolledTo mirrors telemetry_rollup_state; pending holds the
// vehicles with frames that may not be rolled up yet, with the newest ts stored for each
const R = workerData.rollup.intervalMs;
const rs = {};
for (const k of Object.keys(workerData.rollup.sql)) rs[k] = db.prepare(workerData.rollup.sql[k]);
rs.aggregate.raw(true);
rs.aggregateAll.raw(true);
const packAggregate = new Function('return ' + workerData.rollup.packSource)();
const rolledTo = new Map();
for (const r of rs.states.all()) rolledTo.set(r.vehicle_id, r.rolled_to);
const pending = new Map();
for (let last = ''; ; ) {
  const r = rs.nextVehicle.get(last);
  if (!r) break;
  last = r.vehicle_id;
  const newest = rs.lastTs.get(last);
  if (newest && newest.ts !== null && !(rolledTo.get(last) > newest.ts)) pending.set(last, newest.ts);
}
const interval = (ts) => Math.floor(ts / R) * R;

// the decoding of columns.ts decodeRows: text columns from texts, the others from numbers (NaN = null)
const insertMany = db.transaction((rows, late) => {
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
    if (insert.run(values).changes !== 1) continue;
    inserted[r] = 1;
    const vehicle = values[0];
    const ts = values[2];
    const newest = pending.get(vehicle);
    if (newest === undefined || ts > newest) pending.set(vehicle, ts);
    // stored late, into an interval already rolled up: read it from the frames until it is again
    if (rolledTo.get(vehicle) > ts) {
      const to = interval(ts);
      if (!(late.get(vehicle) <= to)) late.set(vehicle, to);
    }
  }
  for (const [vehicle, to] of late) rs.lower.run(to, vehicle, to);
  return inserted;
});

/** Rolls up one vehicle's closed intervals, a step at a time, until closeUpTo or the deadline; returns its new mark. */
function compactVehicle(vehicle, closeUpTo, deadline, marks) {
  const start = marks.has(vehicle) ? marks.get(vehicle) : rolledTo.get(vehicle);
  let mark = start === undefined ? -Number.MAX_SAFE_INTEGER : start;
  // at least one step, however late: every turn makes progress
  for (let steps = 0; mark < closeUpTo && (steps === 0 || performance.now() < deadline); steps++) {
    const first = rs.firstTs.get(vehicle, mark).ts;
    if (first === null || first >= closeUpTo) {
      mark = closeUpTo;
      break;
    }
    const from = interval(first);
    const to = Math.min(closeUpTo, from + workerData.rollup.stepMs);
    for (const row of rs.aggregate.all(vehicle, from, to)) rs.put.run(vehicle, row[0], packAggregate(row, 1));
    mark = to;
  }
  if (mark !== start && mark > -Number.MAX_SAFE_INTEGER) {
    rs.setState.run(vehicle, mark);
    marks.set(vehicle, mark);
  }
  return mark;
}

let passing = false;
let closed = false;
let waiting = [];
/** One pass over the pending vehicles, in turns of at most turnMs, each its own transaction; queued writes go in between. */
function pass(done) {
  if (done) waiting.push(done);
  if (passing || closed) return;
  passing = true;
  const callbacks = waiting;
  waiting = [];
  const closeUpTo = interval(Date.now() - workerData.rollup.graceMs);
  // vehicles already rolled up to closeUpTo with nothing newer leave without a statement
  for (const [vehicle, newest] of pending) if (rolledTo.get(vehicle) >= closeUpTo && newest < closeUpTo) pending.delete(vehicle);
  const queue = [...pending.keys()].filter((vehicle) => !(rolledTo.get(vehicle) >= closeUpTo));
  let i = 0;
  const finish = (err) => {
    passing = false;
    for (const cb of callbacks) cb(err);
    if (waiting.length) pass();
  };
  const turn = () => {
    if (closed) return finish(new Error('closed'));
    const deadline = performance.now() + workerData.rollup.turnMs;
    const marks = new Map();
    try {
      db.transaction(() => {
        do {
          if (compactVehicle(queue[i], closeUpTo, deadline, marks) < closeUpTo) break;
          i++;
        } while (i < queue.length && performance.now() < deadline);
      })();
    } catch (err) {
      return finish(err);
    }
    for (const [vehicle, mark] of marks) rolledTo.set(vehicle, mark);
    for (const [vehicle, mark] of marks) if (mark >= closeUpTo && pending.get(vehicle) < closeUpTo) pending.delete(vehicle);
    if (i < queue.length) setImmediate(turn);
    else finish();
  };
  if (queue.length === 0) return finish();
  turn();
}
const timer = setInterval(() => pass(), workerData.rollup.everyMs);
setImmediate(() => pass());

/** Retention: rollups of intervals before the cut-off go; the interval it falls into is rolled up again from what is left. */
const trimRollups = (ts, limit) => {
  const edge = interval(ts);
  const changes = rs.trimChunk.run(edge, limit).changes;
  if (changes < limit && ts > edge) {
    db.transaction(() => {
      rs.edgeDelete.run(edge);
      for (const row of rs.aggregateAll.all(ts, edge + R)) rs.put.run(row[0], edge, packAggregate(row, 1));
    })();
  }
  return changes;
};

parentPort.on('message', (m) => {
  try {
    if (m.op === 'insert') {
      const late = new Map();
      const inserted = insertMany(m.rows, late);
      for (const [vehicle, to] of late) rolledTo.set(vehicle, Math.min(rolledTo.get(vehicle), to));
      parentPort.postMessage({ id: m.id, inserted }, [inserted.buffer]);
    } else if (m.op === 'delete') {
      parentPort.postMessage({ id: m.id, changes: del.run(m.ts, m.limit).changes });
    } else if (m.op === 'trim') {
      parentPort.postMessage({ id: m.id, changes: trimRollups(m.ts, m.limit) });
    } else if (m.op === 'compact') {
      pass((err) => {
        if (!closed) parentPort.postMessage(err ? { id: m.id, error: { message: String(err.message || err), code: err.code } } : { id: m.id });
      });
    } else if (m.op === 'close') {
      closed = true;
      clearInterval(timer);
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
    async trimRollups(ts, limit) {
      return (await call({ op: 'trim', ts, limit })).changes ?? 0;
    },
    async compactRollups() {
      await call({ op: 'compact' });
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
