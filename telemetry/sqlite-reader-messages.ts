import type { SeriesQuery } from './store.ts';

/** What the reader thread is started with (its workerData). */
export interface ReaderThreadData {
  file: string;
}

/** Main thread → reader thread: a series as its JSON bytes, or the end of the thread. */
export type ReaderRequest = { id: number; op: 'seriesJson'; query: SeriesQuery } | { id: number; op: 'close' };

/**
 * Why a read failed. A PlatformError keeps its code (`platform`: e.g. a series that does not match
 * its schema); anything else (SQLite's errors) carries the error's own message and code.
 */
export interface ReaderFailure {
  message: string;
  code?: string;
  platform?: boolean;
  details?: unknown;
}

/** Reader thread → main thread: the answer to request `id` (`json`: the bytes, transferred). */
export type ReaderReply = { id: number; json?: Uint8Array; error?: undefined } | { id: number; error: ReaderFailure };
