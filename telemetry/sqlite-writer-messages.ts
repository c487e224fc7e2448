import type { FineHistogramSnapshot } from '../core/fine-histogram.ts';
import type { EncodedRows } from './columns.ts';

/** What the writer thread is started with (its workerData). */
export interface WriterThreadData {
  file: string;
  /**
   * Run WAL checkpoints itself (PASSIVE, timed, after answering, when no write waits) once this many
   * ms passed since the last one and something was written; the connection's automatic checkpoint
   * is then off. Without it SQLite checkpoints inside the COMMIT that fills the WAL.
   */
  checkpointEveryMs?: number;
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
  /** Upserts confirmation marks (confirmation-marks.ts) in one transaction; answers after COMMIT. */
  saveMarks: { request: { json: string; at: number }; reply: NoFields };
  /** Deletes a vehicle's confirmation mark. */
  removeMark: { request: { vehicleId: string }; reply: NoFields };
  /** What the thread measured since it started (cumulative: read twice, take the difference). */
  stats: { request: NoFields; reply: { stats: WriterStats } };
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

/** The writer thread's own timings (ms), cumulative since it started (core/fine-histogram.ts). */
export interface WriterStats {
  /** One insert transaction: its INSERTs and the COMMIT with its fsync (what a PUBACK waits for). */
  commit: FineHistogramSnapshot;
  /** One WAL checkpoint (write-back to the database file and its fsync). */
  checkpoint: FineHistogramSnapshot;
  /** WAL pages written back by the checkpoints. */
  checkpointedPages: number;
  /** One rolling-up turn (telemetry/rollup-compactor.ts). */
  rollupTurn: FineHistogramSnapshot;
  /** One save of confirmation marks: the upsert and its COMMIT with the fsync (confirmation-marks.ts). */
  marksSave: FineHistogramSnapshot;
  /**
   * The writer thread's own V8 heap now, bytes: `used` and `total` (reserved), and `malloced`, what
   * V8 holds for it outside the heap. Native to the main thread's figures (core/runtime-stats.ts).
   */
  heap: { used: number; total: number; malloced: number };
}
