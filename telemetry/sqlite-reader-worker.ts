/**
 * The telemetry store's reader thread (started by sqlite-reader-thread.ts): its own read-only
 * connection to the database, on which it reads a downsampled series (series-reads.ts) and writes
 * it as the JSON the API answers (series-json.ts), so the platform's main thread only sends bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { PlatformError } from '../core/errors.ts';
import { seriesJson } from './series-json.ts';
import { prepareSeriesReads } from './series-reads.ts';
import type { ReaderFailure, ReaderReply, ReaderRequest, ReaderThreadData } from './sqlite-reader-messages.ts';

if (!parentPort) throw new Error('sqlite-reader-worker.ts runs as a worker thread (see sqlite-reader-thread.ts)');
const port = parentPort;
const data = workerData as ReaderThreadData;

// the store's connection made the file and its schema; this one only reads (WAL: it never blocks the writer)
const db = new Database(data.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('query_only = 1');
const reads = prepareSeriesReads(db);
const encoder = new TextEncoder();

const failure = (err: unknown): ReaderFailure => {
  if (err instanceof PlatformError)
    return { message: err.message, code: err.code, platform: true, details: err.details };
  const e = err as { message?: unknown; code?: unknown } | null | undefined;
  return { message: String(e?.message || err), code: typeof e?.code === 'string' ? e.code : undefined };
};
const reply = (message: ReaderReply, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

port.on('message', (m: ReaderRequest) => {
  if (m.op === 'close') {
    db.close();
    reply({ id: m.id });
    port.close();
    return;
  }
  try {
    // TextEncoder's bytes own their buffer (Buffer.from may share a pool), so it can be handed over
    const json = encoder.encode(seriesJson(reads.series(m.query)));
    reply({ id: m.id, json }, [json.buffer as ArrayBuffer]);
  } catch (err) {
    reply({ id: m.id, error: failure(err) });
  }
});
