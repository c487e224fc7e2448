/**
 * The telemetry store's writer thread (started by sqlite-writer-thread.ts): its own connection to
 * the database, the frame writes (frame-writes.ts) and the rollups (rollup-compactor.ts), driven by
 * the messages of sqlite-writer-messages.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { prepareFrameWrites } from './frame-writes.ts';
import { startRollupCompactor } from './rollup-compactor.ts';
import { ROLLUP_GRACE_MS, ROLLUP_INTERVAL_MS, ROLLUP_STEP_MS, ROLLUP_TURN_MS } from './rollup.ts';
import type { WriterFailure, WriterReply, WriterRequest, WriterThreadData } from './sqlite-writer-messages.ts';

if (!parentPort) throw new Error('sqlite-writer-worker.ts runs as a worker thread (see sqlite-writer-thread.ts)');
const port = parentPort;
const data = workerData as WriterThreadData;

const db = new Database(data.file);
for (const p of data.pragmas) db.pragma(p);
const writes = prepareFrameWrites(db);
const compactor = startRollupCompactor(db, {
  graceMs: ROLLUP_GRACE_MS,
  everyMs: ROLLUP_INTERVAL_MS,
  stepMs: ROLLUP_STEP_MS,
  turnMs: ROLLUP_TURN_MS,
});
let closed = false;

const failure = (err: unknown): WriterFailure => {
  const e = err as { message?: unknown; code?: unknown } | null | undefined;
  return { message: String(e?.message || err), code: typeof e?.code === 'string' ? e.code : undefined };
};
const reply = (message: WriterReply, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

function handle(m: WriterRequest): void {
  switch (m.op) {
    case 'insert': {
      const outcome = writes.insert(m.rows, compactor.rolledTo);
      compactor.stored(outcome);
      const { inserted } = outcome;
      return reply({ id: m.id, inserted }, [inserted.buffer as ArrayBuffer]);
    }
    case 'delete':
      return reply({ id: m.id, changes: writes.deleteChunk(m.ts, m.limit) });
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
