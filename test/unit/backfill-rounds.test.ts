import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backfillArgs,
  followGaps,
  missingWithin,
  nextRound,
  watchFrom,
  type BackfillPolicy,
  type GapWatch,
} from '../../ingest/backfill-rounds.ts';
import { commitFrames, restoredMark, type SeqMark } from '../../ingest/seq-marks.ts';

const T0 = 1_795_766_400_000;
const policy: BackfillPolicy = { gapGraceMs: 2000, retryMs: 10_000, maxAttempts: 3, maxGapsPerRound: 2 };
const markWith = (seqs: number[]): SeqMark =>
  commitFrames(
    restoredMark(0, T0),
    seqs.map((seq) => ({ seq, ts: T0 + seq * 1000 })),
    1000,
  ).mark;

describe('backfill rounds (ingest/backfill-rounds.ts)', () => {
  it('waits out the grace period, then asks for the lowest gaps (at most maxGapsPerRound)', () => {
    const mark = markWith([1, 3, 5, 7]); // gaps 2, 4, 6
    const w = watchFrom(0);
    expect(nextRound(w, mark, 1999, policy)).toEqual({ kind: 'wait' });
    const r = nextRound(w, mark, 2000, policy);
    expect(r).toEqual({
      kind: 'ask',
      gaps: [
        { from: 2, to: 2, afterTs: T0 + 1000, beforeTs: T0 + 3000 },
        { from: 4, to: 4, afterTs: T0 + 3000, beforeTs: T0 + 5000 },
      ],
      watch: { since: 0, attempts: 1, lastRequestAt: 2000, missingAtRequest: 3 },
    });
  });

  it('no progress: asked again after retryMs, given up after maxAttempts; progress waits again and forgets the attempts', () => {
    const mark = markWith([1, 3, 5]);
    let w: GapWatch = watchFrom(0);
    const at = (t: number, m = mark) => {
      const r = nextRound(w, m, t, policy);
      if (r.kind === 'ask' || r.kind === 'progress') w = r.watch;
      return r.kind;
    };
    expect(at(2000)).toBe('ask');
    expect(at(11_999)).toBe('wait');
    expect(at(12_000)).toBe('ask');
    expect(at(22_000)).toBe('ask');
    expect(w.attempts).toBe(3);
    const fewer = markWith([1, 2, 3, 5]);
    expect(at(23_000, fewer)).toBe('progress');
    expect(w).toEqual({ since: 0, attempts: 0, lastRequestAt: 23_000, missingAtRequest: 1 });
    expect(at(32_999, fewer)).toBe('wait');
    expect(at(33_000, fewer)).toBe('ask');
    expect(at(43_000, fewer)).toBe('ask');
    expect(at(53_000, fewer)).toBe('ask');
    expect(nextRound(w, fewer, 63_000, policy)).toEqual({ kind: 'give_up', missing: 1, attempts: 3 });
  });

  it('property: without progress, exactly maxAttempts rounds, spaced by retryMs at least, then give up', () => {
    fc.assert(
      fc.property(
        fc.record({
          gapGraceMs: fc.integer({ min: 1, max: 5000 }),
          retryMs: fc.integer({ min: 1, max: 20_000 }),
          maxAttempts: fc.integer({ min: 1, max: 5 }),
        }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 200 }),
        (p, steps) => {
          const mark = markWith([2]);
          let w: GapWatch = watchFrom(0);
          const asks: number[] = [];
          let gaveUpAt: number | null = null;
          let t = 0;
          for (const dt of steps) {
            t += dt;
            const r = nextRound(w, mark, t, { ...p, maxGapsPerRound: 16 });
            expect(r.kind).not.toBe('progress');
            if (r.kind === 'ask') {
              asks.push(t);
              w = r.watch;
            } else if (r.kind === 'give_up') {
              gaveUpAt = t;
              break;
            }
          }
          expect(asks.length).toBeLessThanOrEqual(p.maxAttempts);
          if (asks.length) expect(asks[0]).toBeGreaterThanOrEqual(p.gapGraceMs);
          for (let i = 1; i < asks.length; i++) expect(asks[i]! - asks[i - 1]!).toBeGreaterThanOrEqual(p.retryMs);
          if (gaveUpAt !== null) {
            expect(asks).toHaveLength(p.maxAttempts);
            expect(gaveUpAt - asks.at(-1)!).toBeGreaterThanOrEqual(p.retryMs);
          }
        },
      ),
    );
  });

  it('the watch follows the gaps: none without gaps, kept while they stay open, started over after they all closed', () => {
    const gapped = markWith([2]);
    const asked: GapWatch = { since: 0, attempts: 2, lastRequestAt: 5000, missingAtRequest: 1 };
    expect(followGaps(asked, { mark: markWith([1, 2]), closed: true }, 9000)).toBeNull();
    expect(followGaps(null, { mark: gapped, closed: false }, 9000)).toEqual(watchFrom(9000));
    expect(followGaps(asked, { mark: gapped, closed: false }, 9000)).toBe(asked);
    expect(followGaps(asked, { mark: gapped, closed: true }, 9000)).toEqual(watchFrom(9000));
    expect(nextRound(null, gapped, 1e9, policy)).toEqual({ kind: 'wait' });
  });

  it('backfill args carry the ts either side only where a frame is stored', () => {
    expect(backfillArgs({ from: 5, to: 9, afterTs: 1, beforeTs: 2 })).toEqual({
      fromSeq: 5,
      toSeq: 9,
      afterTs: 1,
      beforeTs: 2,
    });
    expect(backfillArgs({ from: 5, to: 9, afterTs: null, beforeTs: null })).toEqual({ fromSeq: 5, toSeq: 9 });
  });

  it("an answer's missing ranges count only within the request", () => {
    expect(
      missingWithin(
        [
          [1, 6],
          [8, 8],
          [12, 20],
          [30, 40],
        ],
        { fromSeq: 5, toSeq: 15 },
      ),
    ).toEqual({
      spans: [
        { from: 5, to: 6 },
        { from: 8, to: 8 },
        { from: 12, to: 15 },
      ],
      seqs: 7,
    });
  });
});
