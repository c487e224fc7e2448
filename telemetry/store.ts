import type { NumericFieldPath, TelemetryFrame } from '../protocol/index.ts';

/** A validated frame as the platform keeps it. */
export interface StoredFrame {
  vehicleId: string;
  /** When the platform received it (epoch ms). */
  receivedAt: number;
  frame: TelemetryFrame;
}

export interface AppendResult {
  /** Per input frame, in order: true if stored now, false if it was already stored (same vehicle, seq, ts). */
  inserted: boolean[];
}

export interface SeriesQuery {
  vehicleId: string;
  /** Inclusive range, epoch ms. */
  from: number;
  to: number;
  /** At most this many points come back; above it, frames are grouped into equal time buckets. */
  maxPoints: number;
  /** Which measurements; all when omitted. */
  fields?: NumericFieldPath[];
}

export interface FieldSeries {
  min: (number | null)[];
  max: (number | null)[];
  avg: (number | null)[];
}

/** Column-oriented, ready for a chart: `ts[i]` with `fields[f].avg[i]` etc. */
export interface Series {
  vehicleId: string;
  from: number;
  to: number;
  /** 0 when every frame is returned as is; otherwise the bucket width in ms (ts is the bucket start). */
  bucketMs: number;
  ts: number[];
  /** Frames behind each point. */
  count: number[];
  fields: Partial<Record<NumericFieldPath, FieldSeries>>;
}

/**
 * Where telemetry lives. The embedded default is SQLite; an in-memory one serves tests; a
 * time-series engine (InfluxDB, TimescaleDB) implements the same interface and must pass the same
 * conformance suite (test/telemetry/conformance.ts).
 */
export interface TelemetryStore {
  /** Stores frames durably; when the promise resolves they survive a crash of the process. Duplicates are ignored. */
  append(frames: readonly StoredFrame[]): Promise<AppendResult>;
  /** Raw frames of one vehicle in [from, to], ordered by ts then seq. */
  frames(vehicleId: string, from: number, to: number, limit?: number): Promise<StoredFrame[]>;
  latest(vehicleId: string): Promise<StoredFrame | undefined>;
  /**
   * The latest frame (as `latest` picks it) of each of many vehicles at once, for fleet views.
   * Vehicles without frames are absent from the map; duplicate ids are answered once.
   */
  latestMany(vehicleIds: readonly string[]): Promise<Map<string, StoredFrame>>;
  series(query: SeriesQuery): Promise<Series>;
  /**
   * Optional: the JSON bytes of `series(query)` as telemetry/series-json.ts writes them, where the
   * store has a faster way for the query's shape (the SQLite store: one point per minute,
   * telemetry/series-bytes.ts); undefined where it has none (ask `series`).
   */
  seriesBytes?(query: SeriesQuery): Promise<Buffer | undefined>;
  count(vehicleId?: string): Promise<number>;
  /** Retention: deletes frames with ts before `ts`; returns how many went. */
  deleteOlderThan(ts: number): Promise<number>;
  close(): Promise<void>;
}

/** Bucket width that fits [from, to] into at most maxPoints buckets. */
export function bucketWidth(from: number, to: number, maxPoints: number): number {
  return Math.max(1, Math.ceil((to - from + 1) / Math.max(1, maxPoints)));
}

/**
 * The resolution of pre-aggregated telemetry (telemetry/rollup.ts): a downsampled series whose
 * buckets are at least this wide is built from whole ROLLUP_MS intervals.
 */
export const ROLLUP_MS = 10_000;
/**
 * The coarser rollup level: buckets wider than COARSE_FROM_MS are whole minutes on the clock's
 * minute grid, read from the minute rollups, so a day's chart reads at most 1,440 rows per series.
 */
export const ROLLUP_COARSE_MS = 60_000;
export const COARSE_FROM_MS = 30_000;

/** Where the buckets of a downsampled series start and how wide they are. */
export interface Bucketing {
  /** Start of bucket 0 (epoch ms); bucket i is [start + i·width, start + (i+1)·width). */
  start: number;
  width: number;
  /** Whether the buckets are whole ROLLUP_MS intervals of the clock (width a multiple, start on the grid). */
  aligned: boolean;
  /** The rollup interval the buckets are made of: ROLLUP_COARSE_MS (whole minutes), ROLLUP_MS, or 0 (not aligned). */
  level: number;
}

/**
 * How [from, to] is cut into at most maxPoints buckets. Narrow buckets (under ROLLUP_MS) start at
 * `from` and are exactly as wide as needed. Wider ones are whole multiples of ROLLUP_MS on the
 * clock's ROLLUP_MS grid, so that every store gives the same answer and the SQLite store can
 * answer them from its rollups: the first bucket may start before `from` (it holds only frames in
 * [from, to] all the same), and a range may come back with fewer points than maxPoints. Buckets
 * wider than COARSE_FROM_MS are whole minutes on the minute grid (the coarse rollups): a day at
 * 2,000 points comes back in 1-minute buckets, 1,440 or 1,441 points.
 */
export function bucketing(from: number, to: number, maxPoints: number): Bucketing {
  const width = bucketWidth(from, to, maxPoints);
  if (width < ROLLUP_MS) return { start: from, width, aligned: false, level: 0 };
  const level = width > COARSE_FROM_MS ? ROLLUP_COARSE_MS : ROLLUP_MS;
  const start = Math.floor(from / level) * level;
  return { start, width: Math.ceil(bucketWidth(start, to, maxPoints) / level) * level, aligned: true, level };
}

/** A series with no points yet for `fields`: the start both stores fill. */
export function emptySeries(q: SeriesQuery, fields: readonly NumericFieldPath[]): Series {
  const out: Series = { vehicleId: q.vehicleId, from: q.from, to: q.to, bucketMs: 0, ts: [], count: [], fields: {} };
  for (const f of fields) out.fields[f] = { min: [], max: [], avg: [] };
  return out;
}
