/**
 * The telemetry store's writer thread (started by sqlite-writer-thread.ts): its own connection to
 * the database, the frame writes (frame-writes.ts) and the rollups (rollup-compactor.ts), driven by
 * the messages of sqlite-writer-messages.ts.
 */
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createFineHistogram } from '../core/fine-histogram.ts';
import { prepareMarkWrites } from './confirmation-marks.ts';
import { prepareFrameWrites } from './frame-writes.ts';
import { startRollupCompactor } from './rollup-compactor.ts';
import { ROLLUP_GRACE_MS, ROLLUP_INTERVAL_MS, ROLLUP_STEP_FRAMES, ROLLUP_STEP_MS, ROLLUP_TURN_MS } from './rollup.ts';
import type { WriterFailure, WriterReply, WriterRequest, WriterThreadData } from './sqlite-writer-messages.ts';

if (!parentPort) throw new Error('sqlite-writer-worker.ts runs as a worker thread (see sqlite-writer-thread.ts)');
const port = parentPort;
const data = workerData as WriterThreadData;

const db = new Database(data.file);
for (const p of data.pragmas) db.pragma(p);
if (data.checkpointEveryMs !== undefined) db.pragma('wal_autocheckpoint = 0');
const writes = prepareFrameWrites(db);
const marks = prepareMarkWrites(db);
const timings = {
  commit: createFineHistogram(),
  checkpoint: createFineHistogram(),
  rollupTurn: createFineHistogram(),
  marksSave: createFineHistogram(),
};
let checkpointedPages = 0;
const compactor = startRollupCompactor(db, {
  graceMs: ROLLUP_GRACE_MS,
  everyMs: ROLLUP_INTERVAL_MS,
  stepMs: ROLLUP_STEP_MS,
  stepFrames: ROLLUP_STEP_FRAMES,
  turnMs: ROLLUP_TURN_MS,
  onTurn: (ms) => {
    timings.rollupTurn.record(ms);
    written = true;
    maybeCheckpoint();
  },
});
let closed = false;

// Checkpoints run here, after the insert was answered, in a turn of their own (setImmediate: the
// messages already queued go first), instead of inside the COMMIT whose PUBACKs wait for it.
let lastCheckpoint = performance.now();
let written = false;
let checkpointQueued = false;
function maybeCheckpoint(): void {
  if (data.checkpointEveryMs === undefined || checkpointQueued || !written) return;
  if (performance.now() - lastCheckpoint < data.checkpointEveryMs) return;
  checkpointQueued = true;
  setImmediate(() => {
    checkpointQueued = false;
    if (closed) return;
    const started = performance.now();
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    lastCheckpoint = performance.now();
    timings.checkpoint.record(lastCheckpoint - started);
    checkpointedPages += Math.max(0, r?.checkpointed ?? 0);
    written = false;
  });
}

const failure = (err: unknown): WriterFailure => {
  const e = err as { message?: unknown; code?: unknown } | null | undefined;
  return { message: String(e?.message || err), code: typeof e?.code === 'string' ? e.code : undefined };
};
/** This thread's own V8 heap (a worker has its own; the main thread's figures do not count it), bytes. */
function writerHeap() {
  const h = getHeapStatistics();
  return { used: h.used_heap_size, total: h.total_heap_size, malloced: h.malloced_memory };
}

const reply = (message: WriterReply, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

function handle(m: WriterRequest): void {
  switch (m.op) {
    case 'insert': {
      const started = performance.now();
      const outcome = writes.insert(m.rows, compactor.rolledTo);
      timings.commit.record(performance.now() - started);
      written = true;
      compactor.stored(outcome);
      const { inserted } = outcome;
      reply({ id: m.id, inserted }, [inserted.buffer as ArrayBuffer]);
      return maybeCheckpoint();
    }
    case 'stats':
      return reply({
        id: m.id,
        stats: {
          commit: timings.commit.snapshot(),
          checkpoint: timings.checkpoint.snapshot(),
          checkpointedPages,
          rollupTurn: timings.rollupTurn.snapshot(),
          marksSave: timings.marksSave.snapshot(),
          heap: writerHeap(),
        },
      });
    case 'delete': {
      written = true;
      const changes = writes.deleteChunk(m.ts, m.limit);
      compactor.deleted(m.ts);
      return reply({ id: m.id, changes });
    }
    case 'saveMarks': {
      const started = performance.now();
      marks.save(m.json, m.at);
      timings.marksSave.record(performance.now() - started);
      written = true;
      reply({ id: m.id });
      return maybeCheckpoint();
    }
    case 'removeMark':
      written = true;
      marks.remove(m.vehicleId);
      return reply({ id: m.id });
    case 'trim':
      return reply({ id: m.id, changes: writes.trimRollups(m.ts, m.limit) });
    case 'compact':
      return compactor.pass((err) => {
        if (!closed) reply(err ? { id: m.id, error: failure(err) } : { id: m.id });
      });
    case 'close':
      closed = true;
      compactor.close();
      db.close();
      reply({ id: m.id });
      return port.close();
  }
}

port.on('message', (m: WriterRequest) => {
  try {
    handle(m);
  } catch (err) {
    reply({ id: m.id, error: failure(err) });
  }
});
