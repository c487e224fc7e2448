import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextRound, watchFrom } from '../../ingest/backfill-rounds.ts';
import {
  commitFrames,
  confirmable,
  gapsOf,
  missingCount,
  restoredMark,
  settleMissing,
  settleRefused,
  unseenMark,
  type SeqMark,
  type SeqNote,
  type SeqStep,
} from '../../ingest/seq-marks.ts';

const T0 = 1_795_766_400_000;
const MAX = 1000;
const tsOf = (seq: number, base = T0) => base + seq * 1000;
const frames = (seqs: readonly number[], base = T0) => seqs.map((seq) => ({ seq, ts: tsOf(seq, base) }));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Commits message after message, collecting the notes. */
function commitAll(mark: SeqMark, batches: readonly { seq: number; ts: number }[][], maxRanges = MAX) {
  const notes: SeqNote[] = [];
  for (const b of batches) {
    const step = commitFrames(mark, b, maxRanges);
    notes.push(...step.notes);
    mark = step.mark;
  }
  return { mark, notes };
}

const lost = (notes: readonly SeqNote[]) =>
  notes.reduce((n, x) => n + (x.kind === 'lost' ? x.frames : x.kind === 'restart' ? x.lostInGaps : 0), 0);

/** The largest k ≥ from - 1 such that from…k all arrived. */
function contiguous(arrived: ReadonlySet<number>, from: number) {
  let k = from - 1;
  while (arrived.has(k + 1)) k++;
  return k;
}

/** The runs of seqs in (mark, top] that did not arrive: what the gaps must be. */
function missingRuns(arrived: ReadonlySet<number>, mark: number) {
  const top = Math.max(mark, ...arrived);
  const out: { from: number; to: number }[] = [];
  for (let s = mark + 1; s <= top; s++) {
    if (arrived.has(s)) continue;
    const last = out[out.length - 1];
    if (last && last.to === s - 1) last.to = s;
    else out.push({ from: s, to: s });
  }
  return out;
}

/** Ranges sorted, disjoint, never adjacent, all above the mark + 1. */
function expectWellFormed(mark: SeqMark) {
  let prev = mark.seq + 1;
  for (const r of mark.ranges) {
    expect(r.from).toBeGreaterThan(prev);
    expect(r.to).toBeGreaterThanOrEqual(r.from);
    prev = r.to + 1;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Arrivals of a run of seqs 1…n: some withheld, the rest in any order, some re-sent (duplicates),
 * cut into messages of random sizes.
 */
const arrivals = (maxN = 60) =>
  fc
    .integer({ min: 1, max: maxN })
    .chain((n) =>
      fc.record({
        n: fc.constant(n),
        order: fc.shuffledSubarray(range(1, n)),
        dupes: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
        cuts: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
      }),
    )
    .map(({ n, order, dupes, cuts }) => {
      const seqs = [...order];
      if (order.length) for (const [w, at] of dupes) seqs.splice(at % (seqs.length + 1), 0, order[w % order.length]!);
      const batches: number[][] = [];
      for (let i = 0, c = 0; i < seqs.length; c++) {
        const size = cuts[c % cuts.length]!;
        batches.push(seqs.slice(i, i + size));
        i += size;
      }
      return { n, arrived: new Set(order), batches };
    });

describe('seq marks (ingest/seq-marks.ts)', () => {
  describe('properties over random arrival orders', () => {
    it('the mark is the largest k such that 1…k all arrived; the gaps are exactly the seqs missing below the top', () => {
      fc.assert(
        fc.property(arrivals(), ({ arrived, batches }) => {
          const { mark, notes } = commitAll(
            deepFreeze(restoredMark(0, T0)),
            batches.map((b) => frames(b)),
          );
          const k = contiguous(arrived, 1);
          expect(mark.seq).toBe(k);
          expect(mark.ts).toBe(tsOf(k));
          expect(mark.run).toBe(0);
          expectWellFormed(mark);
          const expected = missingRuns(arrived, k);
          expect(gapsOf(mark).map(({ from, to }) => ({ from, to }))).toEqual(expected);
          expect(missingCount(mark)).toBe(expected.reduce((n, g) => n + g.to - g.from + 1, 0));
          expect(notes.filter((x) => x.kind !== 'gap')).toEqual([]); // nothing lost, no restart
          expect(confirmable(mark)).toEqual({ seq: k, ts: tsOf(k) });
        }),
      );
    });

    it('duplicates and the cut into messages change nothing: the result is that of the sorted seqs in one message', () => {
      fc.assert(
        fc.property(arrivals(), ({ arrived, batches }) => {
          const once = commitFrames(restoredMark(0, T0), frames([...arrived].sort((a, b) => a - b)), MAX).mark;
          const { mark } = commitAll(
            restoredMark(0, T0),
            batches.map((b) => frames(b)),
          );
          expect(mark).toEqual(once);
          // committing everything again: nothing moves
          const again = commitFrames(mark, frames([...arrived]), MAX);
          expect(again).toMatchObject({ moved: false, notes: [] });
          expect(again.mark).toEqual(mark);
        }),
      );
    });

    it('a vehicle not seen before: its history before the first frame is not asked for', () => {
      fc.assert(
        fc.property(arrivals(), fc.integer({ min: 0, max: 1_000_000 }), ({ batches }, offset) => {
          const shifted = batches.map((b) => b.map((s) => s + offset));
          const all = shifted.flat();
          if (all.length === 0) return;
          const { mark } = commitAll(
            unseenMark,
            shifted.map((b) => frames(b)),
          );
          const seen = new Set(all);
          const k = contiguous(seen, all[0]!);
          expect(mark.seq).toBe(k);
          expect(gapsOf(mark).map(({ from, to }) => ({ from, to }))).toEqual(missingRuns(seen, k));
        }),
      );
    });

    it('backfill requests name exactly the missing ranges, with the ts of the stored frames either side; filled, the mark reaches the top', () => {
      fc.assert(
        fc.property(arrivals(), fc.boolean(), ({ arrived, batches }, answerMissing) => {
          const { mark } = commitAll(
            restoredMark(0, T0),
            batches.map((b) => frames(b)),
          );
          const policy = { gapGraceMs: 2000, retryMs: 10_000, maxAttempts: 3, maxGapsPerRound: 1000 };
          const round = nextRound(watchFrom(0), mark, 2000, policy);
          const expected = missingRuns(arrived, mark.seq);
          if (expected.length === 0) return;
          expect(round).toMatchObject({ kind: 'ask' });
          if (round.kind !== 'ask') return;
          expect(round.gaps).toEqual(
            expected.map((g) => ({ ...g, afterTs: tsOf(g.from - 1), beforeTs: tsOf(g.to + 1) })),
          );
          const top = Math.max(...arrived);
          if (answerMissing) {
            // the gateway no longer has them: counted lost, passed
            const step = settleMissing(mark, round.gaps, MAX);
            expect(step.mark.seq).toBe(top);
            expect(step.mark.ts).toBe(tsOf(top));
            expect(lost(step.notes)).toBe(missingCount(mark));
            expect(step.closed).toBe(true);
          } else {
            // the gateway re-sends them
            const resent = round.gaps.flatMap((g) => range(g.from, g.to)).reverse();
            const step = commitFrames(mark, frames(resent), MAX);
            expect(step.mark).toMatchObject({ seq: top, ts: tsOf(top), ranges: [] });
            expect(step).toMatchObject({ moved: true, closed: true, notes: [] });
          }
        }),
      );
    });

    it('a seq restart (seq falls while ts moves on) starts a new run; late frames of the old run do not count in it', () => {
      fc.assert(
        fc.property(arrivals(30), arrivals(30), fc.array(fc.integer({ min: 1, max: 40 })), (old, next, late) => {
          const before = commitAll(
            restoredMark(0, T0),
            old.batches.map((b) => frames(b)),
          );
          const T1 = T0 + 10_000_000; // after every ts of the old run
          // the gateway rebooted without its buffer: seq 0 again, then the new run's frames in any order,
          // with late frames of the old run (older ts) among them
          const mixed = [[{ seq: 0, ts: T1 }], ...next.batches.map((b) => frames(b, T1))];
          mixed.splice(1, 0, frames(late));
          const after = commitAll(before.mark, mixed);
          const restarts = after.notes.filter((x) => x.kind === 'restart');
          expect(restarts).toEqual([
            { kind: 'restart', previousSeq: before.mark.seq, lostInGaps: missingCount(before.mark) },
          ]);
          const arrived = new Set([0, ...next.arrived]);
          const k = contiguous(arrived, 0);
          expect(after.mark).toMatchObject({ run: 1, seq: k, ts: tsOf(k, T1), runStartTs: T1 });
          expect(gapsOf(after.mark).map(({ from, to }) => ({ from, to }))).toEqual(missingRuns(arrived, k));
        }),
      );
    });

    it('refused seqs are passed like stored ones', () => {
      fc.assert(
        fc.property(arrivals(), fc.array(fc.nat()), ({ arrived, batches }, picks) => {
          let { mark } = commitAll(
            restoredMark(0, T0),
            batches.map((b) => frames(b)),
          );
          const refused = new Set<number>();
          for (const p of picks) {
            const gaps = gapsOf(mark);
            if (gaps.length === 0) break;
            const g = gaps[p % gaps.length]!;
            const seq = g.from + (p % (g.to - g.from + 1));
            mark = settleRefused(mark, seq, MAX)!.mark;
            refused.add(seq);
          }
          const settled = new Set([...arrived, ...refused]);
          const k = contiguous(settled, 1);
          expect(mark.seq).toBe(k);
          expect(gapsOf(mark).map(({ from, to }) => ({ from, to }))).toEqual(missingRuns(settled, k));
        }),
      );
    });

    it('never more than maxRanges runs above the mark: the lowest gaps are given up, counted lost', () => {
      fc.assert(
        fc.property(arrivals(), fc.integer({ min: 1, max: 4 }), ({ arrived, batches }, maxRanges) => {
          let mark = restoredMark(0, T0);
          const notes: SeqNote[] = [];
          for (const b of batches) {
            const step = commitFrames(mark, frames(b), maxRanges);
            mark = step.mark;
            notes.push(...step.notes);
            expect(mark.ranges.length).toBeLessThanOrEqual(maxRanges);
            expectWellFormed(mark);
          }
          const k = contiguous(arrived, 1);
          expect(mark.seq).toBeGreaterThanOrEqual(k);
          // every seq the mark passed arrived or was counted lost (some given up may have come later)
          const neverArrived = range(1, mark.seq).filter((s) => !arrived.has(s)).length;
          expect(lost(notes)).toBeGreaterThanOrEqual(neverArrived);
          expect(lost(notes)).toBeLessThanOrEqual(mark.seq); // each seq at most once
          // what is left open is exactly what did not arrive above the mark
          expect(gapsOf(mark).map(({ from, to }) => ({ from, to }))).toEqual(missingRuns(arrived, mark.seq));
        }),
      );
    });
  });

  describe('examples', () => {
    const commit = (mark: SeqMark, seqs: number[]): SeqStep => commitFrames(mark, frames(seqs), MAX);

    it('a frame above the top opens a gap (noted), filling it closes it', () => {
      const a = commit(restoredMark(0, T0), [1, 2, 5, 6]);
      expect(a).toMatchObject({ moved: true, closed: false, notes: [{ kind: 'gap' }] });
      expect(gapsOf(a.mark)).toEqual([{ from: 3, to: 4, afterTs: tsOf(2), beforeTs: tsOf(5) }]);
      const b = commit(a.mark, [4]);
      expect(b).toMatchObject({ moved: false, closed: false, notes: [] }); // inside the gap: touches 5
      expect(gapsOf(b.mark)).toEqual([{ from: 3, to: 3, afterTs: tsOf(2), beforeTs: tsOf(4) }]);
      const c = commit(b.mark, [3]);
      expect(c).toMatchObject({ moved: true, closed: true, notes: [] });
      expect(c.mark).toMatchObject({ seq: 6, ts: tsOf(6), ranges: [] });
    });

    it('leaves its argument alone', () => {
      const a = deepFreeze(commit(restoredMark(0, T0), [2, 4, 6]).mark);
      expect(() => commit(a, [1, 3, 5])).not.toThrow();
      expect(() => settleMissing(a, gapsOf(a), MAX)).not.toThrow();
      expect(() => settleRefused(a, 5, MAX)).not.toThrow();
      expect(() => commitFrames(a, [{ seq: 0, ts: T0 + 1e9 }], MAX)).not.toThrow();
      expect(a.seq).toBe(0);
    });

    it('a gateway clock stepping back within a run (seq still rising) does not stall the mark', () => {
      const a = commit(restoredMark(0, T0), [1, 2, 3]);
      const b = commitFrames(a.mark, [{ seq: 4, ts: T0 - 60_000 }], MAX);
      expect(b.mark).toMatchObject({ seq: 4, ts: tsOf(3), run: 0 });
      // afterTs is the newest ts stored below the gap, wherever it lies
      const c = commitFrames(
        restoredMark(0, T0),
        [1, 2, 4, 6].map((seq) => ({ seq, ts: seq === 4 ? T0 - 60_000 : tsOf(seq) })),
        MAX,
      );
      expect(gapsOf(c.mark).map((g) => [g.from, g.afterTs, g.beforeTs])).toEqual([
        [3, tsOf(2), T0 - 60_000],
        [5, tsOf(2), tsOf(6)],
      ]);
    });

    it('a refused seq says nothing when the vehicle is unseen, at or below the mark, or above the top + 1', () => {
      const a = commit(restoredMark(0, T0), [1, 2, 5]);
      expect(settleRefused(unseenMark, 3, MAX)).toBeNull();
      expect(settleRefused(a.mark, 2, MAX)).toBeNull();
      expect(settleRefused(a.mark, 7, MAX)).toBeNull();
      expect(settleRefused(a.mark, 6, MAX)?.mark.ranges).toEqual([{ from: 5, to: 6, lowTs: tsOf(5), highTs: tsOf(5) }]);
      expect(settleRefused(a.mark, 3, MAX)).toMatchObject({ moved: true, mark: { seq: 3 } });
    });

    it('missing seqs the mark already passed are not counted again', () => {
      const a = commit(restoredMark(0, T0), [1, 2, 5]);
      const b = settleMissing(a.mark, [{ from: 1, to: 4 }], MAX);
      expect(b.notes).toEqual([{ kind: 'lost', frames: 2 }]);
      expect(b.mark).toMatchObject({ seq: 5, ranges: [] });
    });

    it('too many gaps: the lowest is given up and the mark passes it', () => {
      const a = commit(restoredMark(0, T0), [2, 4]);
      const b = commit(a.mark, [6]);
      expect(commitFrames(a.mark, frames([6]), 2)).toMatchObject({
        moved: true,
        notes: [{ kind: 'gap' }, { kind: 'too_many_gaps', from: 1, to: 1 }, { kind: 'lost', frames: 1 }],
        mark: { seq: 2 },
      });
      expect(b.mark.ranges).toHaveLength(3);
    });

    it('confirms nothing before a frame of the run is stored', () => {
      expect(confirmable(unseenMark)).toBeNull();
      expect(confirmable(commitFrames(restoredMark(9, T0), [{ seq: 0, ts: T0 + 1e6 }], MAX).mark)).toEqual({
        seq: 0,
        ts: T0 + 1e6,
      });
      expect(confirmable(commitFrames(restoredMark(9, T0), [{ seq: 2, ts: T0 + 1e6 }], MAX).mark)).toBeNull();
    });
  });
});
