import type { BackfillArgs } from '../protocol/index.ts';
import { gapsOf, missingCount, type SeqGap, type SeqMark } from './seq-marks.ts';

/**
 * When a vehicle's seq gaps are asked for, as pure functions over plain data (the clock is an
 * argument; ingest/confirmations.ts sends the commands). A gap still open after the grace period
 * gets a round of `backfill` requests; a round that brought no progress within the retry time is
 * asked again; after the last attempt the gaps are given up (settled as lost, see seq-marks.ts).
 */

/** The timing of one vehicle's open gaps (none: no gaps). */
export interface GapWatch {
  /** Start of the grace period: when the gaps opened (again), or the vehicle's last connect. */
  readonly since: number;
  /** Rounds asked without progress. */
  readonly attempts: number;
  /** When the last round was asked, or progress last seen since (null: no round yet). */
  readonly lastRequestAt: number | null;
  /** Seqs missing at that moment. */
  readonly missingAtRequest: number;
}

export interface BackfillPolicy {
  /** A gap still open after this long gets a backfill request. */
  gapGraceMs: number;
  /** A round that brought no progress for this long is asked again. */
  retryMs: number;
  /** Rounds without progress before the gaps are given up as lost. */
  maxAttempts: number;
  /** Separate gaps asked for per round. */
  maxGapsPerRound: number;
}

export type BackfillRound =
  /** Nothing to do yet. */
  | { kind: 'wait' }
  /** Fewer seqs missing than at the last round: frames are coming in, the retry waits again. */
  | { kind: 'progress'; watch: GapWatch }
  /** The last attempt brought nothing: settle every gap as lost. */
  | { kind: 'give_up'; missing: number; attempts: number }
  /** Ask for these gaps now. */
  | { kind: 'ask'; gaps: SeqGap[]; watch: GapWatch };

/** The one reset: a fresh grace period and a fresh round of requests, from `at`. */
export const watchFrom = (at: number): GapWatch => ({
  since: at,
  attempts: 0,
  lastRequestAt: null,
  missingAtRequest: 0,
});

/** The watch after a step of the seq marks: none without gaps, started over when the gaps had all closed meanwhile. */
export function followGaps(
  watch: GapWatch | null,
  step: { mark: SeqMark; closed: boolean },
  at: number,
): GapWatch | null {
  if (step.mark.ranges.length === 0) return null;
  return watch && !step.closed ? watch : watchFrom(at);
}

const WAIT: BackfillRound = { kind: 'wait' };

/** What to do about a vehicle's gaps at `at` (the vehicle is online). */
export function nextRound(watch: GapWatch | null, mark: SeqMark, at: number, policy: BackfillPolicy): BackfillRound {
  if (watch === null || at - watch.since < policy.gapGraceMs) return WAIT;
  const missing = missingCount(mark);
  if (watch.lastRequestAt !== null) {
    if (missing < watch.missingAtRequest) return { kind: 'progress', watch: roundAt(watch, at, missing, 0) };
    if (at - watch.lastRequestAt < policy.retryMs) return WAIT;
    if (watch.attempts >= policy.maxAttempts) return { kind: 'give_up', missing, attempts: watch.attempts };
  }
  const gaps = gapsOf(mark).slice(0, policy.maxGapsPerRound);
  return { kind: 'ask', gaps, watch: roundAt(watch, at, missing, watch.attempts + 1) };
}

const roundAt = (watch: GapWatch, at: number, missing: number, attempts: number): GapWatch => ({
  ...watch,
  attempts,
  lastRequestAt: at,
  missingAtRequest: missing,
});

/** The `backfill` command's args for a gap (the ts either side only where a frame is stored). */
export function backfillArgs(gap: SeqGap): BackfillArgs {
  const args: BackfillArgs = { fromSeq: gap.from, toSeq: gap.to };
  if (gap.afterTs !== null) args.afterTs = gap.afterTs;
  if (gap.beforeTs !== null) args.beforeTs = gap.beforeTs;
  return args;
}

/** The parts of a backfill answer's `missing` ranges that lie within the request, and how many seqs they hold. */
export function missingWithin(
  missing: readonly (readonly [number, number])[],
  request: { fromSeq: number; toSeq: number },
): { spans: { from: number; to: number }[]; seqs: number } {
  const spans = [];
  let seqs = 0;
  for (const [a, b] of missing) {
    const from = Math.max(a, request.fromSeq);
    const to = Math.min(b, request.toSeq);
    if (from > to) continue;
    seqs += to - from + 1;
    spans.push({ from, to });
  }
  return { spans, seqs };
}
