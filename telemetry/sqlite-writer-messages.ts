import type { EncodedRows } from './columns.ts';

/** What the writer thread is started with (its workerData). */
export interface WriterThreadData {
  file: string;
  /** Connection pragmas, applied in order (journal mode, synchronous, checkpointing …). */
  pragmas: string[];
}

type NoFields = Record<never, never>;

/** Per operation: what the request carries besides `id` and `op`, and what the answer carries besides `id`. */
export interface WriterOperations {
  /** Inserts rows in one transaction; answers after COMMIT with a flag per row (1 stored, 0 already stored). */
  insert: { request: { rows: EncodedRows }; reply: { inserted: Uint8Array } };
  /** Deletes up to `limit` frames with ts < `ts`. */
  delete: { request: { ts: number; limit: number }; reply: { changes: number } };
  /** Retention of rollups (frame-writes.ts trimRollups). */
  trim: { request: { ts: number; limit: number }; reply: { changes: number } };
  /** Rolls up every closed interval now. */
  compact: { request: NoFields; reply: NoFields };
  /** Closes the connection; the thread ends after answering. */
  close: { request: NoFields; reply: NoFields };
}

export type WriterOp = keyof WriterOperations;

/** Main thread → writer thread. */
export type WriterRequest = { [K in WriterOp]: { id: number; op: K } & WriterOperations[K]['request'] }[WriterOp];

/** Why a request failed (the SQLite error's message and code: errors do not cross threads as such). */
export interface WriterFailure {
  message: string;
  code?: string;
}

/** Writer thread → main thread: the answer to request `id`. */
export type WriterReply =
  ({ id: number; error?: undefined } & WriterOperations[WriterOp]['reply']) | { id: number; error: WriterFailure };
