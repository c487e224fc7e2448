/**
 * The seq marks behind delivery confirmation, as pure functions over plain data (no clock, no I/O;
 * ingest/confirmations.ts is the shell that applies them).
 *
 * Per vehicle a {@link SeqMark}: the **mark**, the highest seq of the gateway's current run such that
 * every seq up to it is stored or settled (refused by validation, reported missing by the gateway,
 * given up), and the runs of seqs known above it; the **gaps** lie between. A seq that falls while
 * ts moves on starts a new run (gateway reboot without a persistent buffer): the mark starts again
 * at -1. Every function returns a new mark and leaves its argument alone; what the shell must count
 * or log comes back as {@link SeqNote}s, in the order it happened.
 */

/** Seqs `from`…`to` known (stored, or settled), with the ts of the lowest and newest stored frame among them. */
export interface SeqRange {
  readonly from: number;
  readonly to: number;
  readonly lowTs: number | null;
  readonly highTs: number | null;
}

export interface SeqMark {
  /** False until the first frame: a vehicle's history before the first frame seen is not asked for. */
  readonly known: boolean;
  /** The mark: every seq of this run up to here is settled. -1 before the first frame of a run. */
  readonly seq: number;
  /** ts of the newest stored frame at or below the mark (null: none yet in this run). */
  readonly ts: number | null;
  /** Newest ts seen in this run (mark and ranges). */
  readonly maxTs: number;
  /** Seqs known above the mark: sorted, disjoint, never adjacent (the gaps lie between). */
  readonly ranges: readonly SeqRange[];
  /** Runs started since the platform began following the vehicle (seq restarts). */
  readonly run: number;
  /** ts of the first frame of the current run, after a seq restart (frames of the earlier run are older). */
  readonly runStartTs: number | null;
}

/** Seqs `from`…`to` missing above the mark, with the ts of the stored frames either side (null: none). */
export interface SeqGap {
  from: number;
  to: number;
  afterTs: number | null;
  beforeTs: number | null;
}

/** What happened on the way, for the shell's counters and log. */
export type SeqNote =
  /** A frame above the top of the known seqs: a new gap (`telemetry.seq_gaps`). */
  | { kind: 'gap' }
  /** Seqs passed without their frames (`telemetry.frames_lost`). */
  | { kind: 'lost'; frames: number }
  /** More ranges than allowed: the lowest gap is given up (a `lost` note follows). */
  | { kind: 'too_many_gaps'; from: number; to: number }
  /** Seq fell while ts moved on: a new run; the open gaps are lost (`telemetry.seq_restarts`). */
  | { kind: 'restart'; previousSeq: number; lostInGaps: number }
  /** A higher seq older than the restart: a late frame of the earlier run, ignored (`telemetry.seq_out_of_run`). */
  | { kind: 'out_of_run' };

export interface SeqStep {
  readonly mark: SeqMark;
  /** The mark moved (for {@link commitFrames}: by a frame that follows it, not by seqs given up). */
  readonly moved: boolean;
  /** There was a moment without gaps (they were all closed, or a new run began): the gap watch starts over. */
  readonly closed: boolean;
  readonly notes: readonly SeqNote[];
}

/** A vehicle not seen yet. */
export const unseenMark: SeqMark = {
  known: false,
  seq: -1,
  ts: null,
  maxTs: -Infinity,
  ranges: [],
  run: 0,
  runStartTs: null,
};

/** A mark persisted before a restart. */
export const restoredMark = (seq: number, ts: number): SeqMark => ({ ...unseenMark, known: true, seq, ts, maxTs: ts });

/** The gaps above the mark, lowest first. */
export function gapsOf(mark: SeqMark): SeqGap[] {
  const out: SeqGap[] = [];
  let prevEnd = mark.seq;
  let prevTs = mark.ts;
  for (const r of mark.ranges) {
    out.push({ from: prevEnd + 1, to: r.from - 1, afterTs: prevTs, beforeTs: r.lowTs });
    prevEnd = r.to;
    prevTs = maxNull(prevTs, r.highTs);
  }
  return out;
}

/** Seqs missing in the gaps. */
export const missingCount = (mark: SeqMark): number => gapsOf(mark).reduce((n, g) => n + g.to - g.from + 1, 0);

/** What a confirmation may say: none before a frame of the run is stored. */
export const confirmable = (mark: SeqMark): { seq: number; ts: number } | null =>
  mark.ts === null || mark.seq < 0 ? null : { seq: mark.seq, ts: mark.ts };

/**
 * Frames of one message are durably stored. A frame at or below the mark is a re-send unless its ts
 * is newer than any of the run (then a seq restart); a frame that follows the mark moves it.
 * @param maxRanges runs of seqs kept above the mark; beyond, the lowest gap is given up.
 */
export function commitFrames(
  mark: SeqMark,
  frames: readonly { seq: number; ts: number }[],
  maxRanges: number,
): SeqStep {
  const d = draft(mark, maxRanges);
  let moved = false;
  for (const { seq, ts } of frames) {
    if (!d.known) {
      // never seen: its history before this frame is not ours to ask for
      d.known = true;
      d.seq = seq - 1;
    }
    if (seq <= d.seq) {
      if (ts <= d.maxTs) continue; // stored before (a re-send)
      newRun(d);
      d.runStartTs = ts;
    } else if (d.runStartTs !== null && ts < d.runStartTs) {
      d.notes.push({ kind: 'out_of_run' });
      continue;
    }
    if (ts > d.maxTs) d.maxTs = ts;
    if (seq === d.seq + 1) {
      d.seq = seq;
      d.ts = maxNull(d.ts, ts);
      if (d.ranges.length) merge(d);
      moved = true;
    } else if (insert(d, seq, seq, ts, ts)) {
      moved = true; // too many gaps: the lowest were given up
    }
  }
  return done(d, moved);
}

/**
 * A frame refused by validation: its seq can never be stored, so the mark may pass it. Null when it
 * says nothing about this run (vehicle not seen yet, seq at or below the mark, or above the top + 1).
 */
export function settleRefused(mark: SeqMark, seq: number, maxRanges: number): SeqStep | null {
  if (!mark.known) return null;
  const top = mark.ranges.length ? mark.ranges[mark.ranges.length - 1]!.to : mark.seq;
  if (seq <= mark.seq || seq > top + 1) return null;
  const d = draft(mark, maxRanges);
  const trimmed = insert(d, seq, seq, null, null);
  return done(d, merge(d) || trimmed);
}

/** Seqs the gateway no longer has, or that are given up: counted lost, and the mark may pass them. */
export function settleMissing(
  mark: SeqMark,
  spans: readonly { from: number; to: number }[],
  maxRanges: number,
): SeqStep {
  const d = draft(mark, maxRanges);
  let moved = false;
  for (const s of spans) moved = settleLost(d, s.from, s.to) || moved;
  return done(d, moved);
}

// The working copy the steps above change (the argument's ranges array is copied once; ranges are never changed in place).

type Draft = { -readonly [K in keyof SeqMark]: SeqMark[K] } & {
  ranges: SeqRange[];
  maxRanges: number;
  closed: boolean;
  notes: SeqNote[];
};

// Fields are listed, not spread: this runs for every vehicle in every committed batch, and V8 builds
// object literals of a fixed shape many times faster than spreads and rest patterns.
const draft = (mark: SeqMark, maxRanges: number): Draft => ({
  known: mark.known,
  seq: mark.seq,
  ts: mark.ts,
  maxTs: mark.maxTs,
  ranges: mark.ranges.length ? mark.ranges.slice() : [],
  run: mark.run,
  runStartTs: mark.runStartTs,
  maxRanges,
  closed: false,
  notes: [],
});

function done(d: Draft, moved: boolean): SeqStep {
  const mark: SeqMark = {
    known: d.known,
    seq: d.seq,
    ts: d.ts,
    maxTs: d.maxTs,
    ranges: d.ranges,
    run: d.run,
    runStartTs: d.runStartTs,
  };
  return { mark, moved, closed: d.closed, notes: d.notes };
}

/** Moves the mark over the ranges that now touch it. */
function merge(d: Draft): boolean {
  let moved = false;
  while (d.ranges.length && d.ranges[0]!.from <= d.seq + 1) {
    const r = d.ranges.shift()!;
    if (r.to > d.seq) {
      d.seq = r.to;
      moved = true;
    }
    d.ts = maxNull(d.ts, r.highTs);
  }
  if (d.ranges.length === 0) d.closed = true;
  return moved;
}

/**
 * Adds seqs from…to above the mark to the ranges; beyond `maxRanges` runs the lowest gaps are given up
 * (settled as lost), which may move the mark: returns whether it did.
 */
function insert(d: Draft, from: number, to: number, lowTs: number | null, highTs: number | null): boolean {
  place(d, from, to, lowTs, highTs);
  let moved = false;
  while (d.ranges.length > d.maxRanges) {
    const g = gapsOf(d)[0]!;
    d.notes.push({ kind: 'too_many_gaps', from: g.from, to: g.to }, { kind: 'lost', frames: g.to - g.from + 1 });
    place(d, g.from, g.to, null, null);
    moved = merge(d) || moved;
  }
  return moved;
}

/** Adds seqs from…to above the mark to the ranges, as they are. */
function place(d: Draft, from: number, to: number, lowTs: number | null, highTs: number | null) {
  if (to <= d.seq) return;
  if (from <= d.seq) {
    from = d.seq + 1;
    lowTs = null;
  }
  const rs = d.ranges;
  const last = rs[rs.length - 1];
  if (!last || from > last.to + 1) {
    // the usual case above a gap: a new run of seqs on top
    rs.push({ from, to, lowTs, highTs });
    if (from > (last ? last.to : d.seq) + 1) d.notes.push({ kind: 'gap' });
  } else {
    // first range that reaches `from - 1`, last range that starts by `to + 1`
    let i = 0;
    while (rs[i]!.to < from - 1) i++;
    let j = i;
    while (j + 1 < rs.length && rs[j + 1]!.from <= to + 1) j++;
    if (rs[i]!.from > to + 1) {
      rs.splice(i, 0, { from, to, lowTs, highTs }); // inside a gap, touching nothing: splits it
    } else {
      let low = lowTs;
      let high = highTs;
      for (let k = i; k <= j; k++) {
        low = minNull(low, rs[k]!.lowTs);
        high = maxNull(high, rs[k]!.highTs);
      }
      rs.splice(i, j - i + 1, {
        from: Math.min(from, rs[i]!.from),
        to: Math.max(to, rs[j]!.to),
        lowTs: low,
        highTs: high,
      });
    }
  }
}

function settleLost(d: Draft, from: number, to: number): boolean {
  if (to <= d.seq) return false;
  d.notes.push({ kind: 'lost', frames: to - Math.max(from, d.seq + 1) + 1 });
  const trimmed = insert(d, from, to, null, null);
  return merge(d) || trimmed;
}

function newRun(d: Draft) {
  d.notes.push({ kind: 'restart', previousSeq: d.seq, lostInGaps: missingCount(d) });
  d.seq = -1;
  d.ts = null;
  d.maxTs = -Infinity;
  d.ranges = [];
  d.run++;
  d.runStartTs = null;
  d.closed = true;
}

const maxNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const minNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
