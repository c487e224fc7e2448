import type { NumericFieldPath } from '../protocol/index.ts';
import { FIELD_COLUMNS } from './columns.ts';
import { aggregateOf } from './rollup.ts';
import type { Series } from './store.ts';

/**
 * The JSON bytes of a day's chart in minute buckets (GET /api/vehicles/:id/telemetry at one point
 * per minute, the console's day view), written without building the Series' arrays, and keeping
 * the text of the closed minutes between queries.
 *
 * Such a series is: at most one point before the first whole minute (frames), one point per minute
 * rollup row of the whole minutes below the vehicle's mark (the middle), and the points of the
 * minutes from the mark on (10 s rollups and frames). The store reads the edges through the same
 * accumulator as `series` and gives the middle as its rollup rows; this writes them in the layout
 * of series-json.ts — the same bytes as `Buffer.from(seriesJson(series(q)))`.
 *
 * What is kept: per vehicle and set of fields, the last answer's bytes, and per middle row its
 * minute, its revision (`rev`: a random number the writer gives a minute row each time it writes
 * it, telemetry/rollup.ts) and where each value sits in those bytes. The store reads every middle
 * row's minute and revision, asks `missing` which rows' text is not kept, and reads only their
 * aggregates (a day's 1,440 BLOBs took 2–5 ms to read); a row with the same minute and revision as
 * a kept one is copied from the kept bytes (runs of them at once) instead of written as text again.
 * A row written again (a late frame merged into its minute, retention's edge) has a new revision,
 * and a row without one (from before revisions) is never taken from kept text. So every write of a
 * minute row must give it a new revision (`ROLLUP_SQL.coarsePut` does, for the compactor and the
 * retention edge alike); a row changed with its old revision would be answered from stale text.
 *
 * A value that JSON cannot hold (not finite where a number is due) makes `write` answer
 * `undefined`: the caller then goes the Series way, whose check refuses it with its own error.
 */

/**
 * The middle as the store read it, in minute order: each minute rollup row's minute, revision (NaN
 * where it has none) and — for the rows `missing` named — its aggregate BLOB (telemetry/rollup.ts).
 */
export interface MinuteRows {
  minutes: number[];
  revs: number[];
  blobs: (Buffer | undefined)[];
}

export interface SeriesBytesOptions {
  /** The most bytes kept for all vehicles together (the least recently asked are forgotten first). */
  budgetBytes?: number;
}

export interface SeriesBytesStats {
  /** Middle rows copied from kept text / written as text, since the start (a row of no frames is neither). */
  copied: number;
  written: number;
  /** Kept answers and the bytes they hold now. */
  kept: number;
  keptBytes: number;
}

interface Kept {
  n: number;
  minutes: Float64Array;
  revs: Float64Array;
  bytes: Buffer;
  /** Per column c, at c * (n + 1) + j: where middle row j's value starts in `bytes`; [n]: one past the last value's end. */
  starts: Int32Array;
  size: number;
}

const COMMA = 0x2c;
const DEFAULT_BUDGET = 32 * 1024 * 1024;
const FIELD_INDEX = new Map(FIELD_COLUMNS.map((f, i) => [f.path, i]));
/** The longest text of a finite double (`-1.2345678901234567e-308`) and its comma. */
const MAX_VALUE_BYTES = 25;

/** A value's JSON text: null for null and for NaN (how the middle's values hold null). */
const text = (v: number | null): string => (v === null || v !== v ? 'null' : String(v));

export function createSeriesBytes(options: SeriesBytesOptions = {}) {
  const budget = options.budgetBytes ?? DEFAULT_BUDGET;
  const kept = new Map<string, Kept>();
  let keptBytes = 0;
  const stats = { copied: 0, written: 0 };

  function keep(key: string, entry: Kept): void {
    const old = kept.get(key);
    if (old) {
      kept.delete(key);
      keptBytes -= old.size;
    }
    if (entry.size > budget) return;
    for (const [k, e] of kept) {
      if (keptBytes + entry.size <= budget) break;
      kept.delete(k);
      keptBytes -= e.size;
    }
    kept.set(key, entry);
    keptBytes += entry.size;
  }

  const keyOf = (vehicleId: string, fields: readonly string[]) => `${vehicleId}\u0000${fields.join(',')}`;

  /** Where row k's text is kept: its index among the kept rows of `old`, or -1. */
  function match(old: Kept | undefined, minutes: readonly number[], revs: readonly number[]): Int32Array {
    const at = new Int32Array(minutes.length).fill(-1);
    if (!old) return at;
    for (let k = 0, j = 0; k < minutes.length; k++) {
      while (j < old.n && old.minutes[j]! < minutes[k]!) j++;
      if (j >= old.n) break;
      if (old.minutes[j] === minutes[k] && old.revs[j] === revs[k]) at[k] = j;
    }
    return at;
  }

  /** The middle rows (by index, in order) whose aggregate the store must read: their text is not kept. */
  function missing(
    vehicleId: string,
    fields: readonly string[],
    minutes: readonly number[],
    revs: readonly number[],
  ): number[] {
    const at = match(kept.get(keyOf(vehicleId, fields)), minutes, revs);
    const out: number[] = [];
    for (let k = 0; k < at.length; k++) if (at[k]! < 0) out.push(k);
    return out;
  }

  /**
   * `edges`: the series of the points outside the middle (vehicleId, from, to, bucketMs and the
   * fields as the answer has them; points before `split` come before the middle, the others after).
   * `middle`: the middle's rows, each in [split, first edge point after), with the BLOBs `missing` named.
   */
  function write(edges: Series, middle: MinuteRows, split: number): Buffer | undefined {
    if (typeof edges.vehicleId !== 'string') return undefined;
    if (![edges.from, edges.to, edges.bucketMs].every(Number.isFinite)) return undefined;
    const fields = Object.keys(edges.fields) as NumericFieldPath[];
    if (fields.some((f) => !FIELD_INDEX.has(f))) return undefined;
    const F = fields.length;
    const width = 2 + 3 * F;
    const offsets = fields.map((f) => 1 + 4 * FIELD_INDEX.get(f)!);
    const key = keyOf(edges.vehicleId, fields);
    const old = kept.get(key);
    const at = match(old, middle.minutes, middle.revs);

    // the middle's rows that are answered: kept ones, and read ones of at least one frame, whose
    // output values are written as the accumulator would emit them (a bucket of one row)
    const rows = middle.minutes.length;
    const minutes = new Float64Array(rows);
    const revs = new Float64Array(rows);
    const from = new Int32Array(rows);
    const values = new Float64Array(rows * width);
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const minute = middle.minutes[r]!;
      if (!Number.isFinite(minute)) return undefined;
      if (at[r]! < 0) {
        const blob = middle.blobs[r];
        if (!blob) return undefined;
        const v = aggregateOf(blob);
        if (!v[0]) continue;
        if (!Number.isFinite(v[0])) return undefined;
        const o = n * width;
        values[o] = minute;
        values[o + 1] = v[0]!;
        for (let k = 0; k < F; k++) {
          const p = offsets[k]!;
          const count = v[p + 3]!;
          const i = o + 2 + 3 * k;
          if (!count) {
            values[i] = values[i + 1] = values[i + 2] = NaN;
            continue;
          }
          const min = v[p]!;
          const max = v[p + 1]!;
          const avg = (0 + v[p + 2]!) / count;
          if (!Number.isFinite(min) || !Number.isFinite(max) || !Number.isFinite(avg)) return undefined;
          values[i] = min;
          values[i + 1] = max;
          values[i + 2] = avg;
        }
      }
      from[n] = at[r]!;
      minutes[n] = minute;
      revs[n++] = middle.revs[r]!;
    }
    let copied = 0;
    for (let k = 0; k < n; k++) if (from[k]! >= 0) copied++;

    // the edges' points, split around the middle
    const m = edges.ts.length;
    const columns: (number | null)[][] = [edges.ts, edges.count];
    for (const f of fields) {
      const s = edges.fields[f]!;
      columns.push(s.min, s.max, s.avg);
    }
    for (const c of columns) {
      if (c.length !== m) return undefined;
      for (const v of c) if (v !== null && !Number.isFinite(v)) return undefined;
    }
    if (columns[0]!.includes(null) || columns[1]!.includes(null)) return undefined;
    let before = 0;
    while (before < m && edges.ts[before]! < split) before++;
    stats.copied += copied;
    stats.written += n - copied;

    // the bytes: an upper bound first, then the text; the kept runs copied
    const prefixes = columnPrefixes(edges, fields);
    let bound = prefixes.reduce((a, p) => a + p.length, 0) + 8;
    bound += (m + n - copied) * width * MAX_VALUE_BYTES;
    if (old && copied) bound += old.bytes.length;
    const out = Buffer.allocUnsafe(bound);
    const starts = new Int32Array(width * (n + 1));
    let pos = 0;
    for (let c = 0; c < width; c++) {
      pos += out.write(prefixes[c]!, pos, 'latin1');
      const open = pos;
      const edge = columns[c]!;
      let piece: string[] = [];
      for (let i = 0; i < before; i++) piece.push(text(edge[i]!));
      if (piece.length) pos += out.write(piece.join(',') + ',', pos, 'latin1');
      const base = c * (n + 1);
      for (let k = 0; k < n;) {
        const j = from[k]!;
        if (j >= 0) {
          // a run of kept rows in a row: one copy
          let z = k + 1;
          while (z < n && from[z] === from[z - 1]! + 1) z++;
          const s0 = old!.starts[c * (old!.n + 1) + j]!;
          const end = old!.starts[c * (old!.n + 1) + j + (z - k)]!;
          for (let q = k; q < z; q++) starts[base + q] = pos + (old!.starts[c * (old!.n + 1) + j + (q - k)]! - s0);
          // without the byte after the run's last value: a comma, or the bracket that closed the array
          pos += old!.bytes.copy(out, pos, s0, end - 1);
          out[pos++] = COMMA;
          k = z;
        } else {
          piece = [];
          let z = k;
          for (; z < n && from[z]! < 0; z++) {
            starts[base + z] = pos;
            const t = text(values[z * width + c]!);
            piece.push(t);
            pos += t.length + 1;
          }
          out.write(piece.join(',') + ',', starts[base + k]!, 'latin1');
          k = z;
        }
      }
      starts[base + n] = pos;
      piece = [];
      for (let i = before; i < m; i++) piece.push(text(edge[i]!));
      if (piece.length) pos += out.write(piece.join(',') + ',', pos, 'latin1');
      // the last value's comma closes the array; an empty array has none
      if (pos > open) pos--;
    }
    pos += out.write(F ? ']}}}' : '],"fields":{}}', pos, 'latin1');
    const bytes = Buffer.from(out.subarray(0, pos));
    const entry: Kept = {
      n,
      minutes: minutes.slice(0, n),
      revs: revs.slice(0, n),
      bytes,
      starts,
      size: bytes.length + 16 * n + starts.byteLength,
    };
    keep(key, entry);
    return bytes;
  }

  return {
    missing,
    write,
    /** Forgets what is kept (tests; a store that closes). */
    clear(): void {
      kept.clear();
      keptBytes = 0;
    },
    stats(): SeriesBytesStats {
      return { ...stats, kept: kept.size, keptBytes };
    },
  };
}

export type SeriesBytes = ReturnType<typeof createSeriesBytes>;

/** What comes before each column's values: the keys and brackets of series-json.ts's layout. */
function columnPrefixes(s: Series, fields: readonly NumericFieldPath[]): string[] {
  const out = [
    `{"vehicleId":${JSON.stringify(s.vehicleId)},"from":${s.from},"to":${s.to},"bucketMs":${s.bucketMs},"ts":[`,
    '],"count":[',
  ];
  fields.forEach((f, k) =>
    out.push(`${k ? ']},' : '],"fields":{'}${JSON.stringify(f)}:{"min":[`, '],"max":[', '],"avg":['),
  );
  return out;
}
