import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeCommand } from '../../simulators/gateway/commands.ts';
import { createDiskJournal } from '../../simulators/gateway/disk-journal.ts';
import { createFrameBuffer } from '../../simulators/gateway/frame-buffer.ts';
import type { VehicleModel } from '../../simulators/model/vehicle.ts';

const T0 = 1_700_000_000_000;
const frame = (seq: number, ts = T0 + seq * 1000) => ({ v: 1 as const, seq, ts, source: 'mains' as const, loadKw: 1 });
const seqs = (list: readonly { seq: number }[]) => list.map((f) => f.seq);

describe('store-and-forward buffer: kept until the platform confirms', () => {
  it('acknowledged frames stay until confirmed; a confirmation deletes only frames with seq and ts both covered', () => {
    const b = createFrameBuffer({ capacity: 100 });
    for (let i = 0; i < 10; i++) b.push(frame(i));
    const m = b.take(6)!;
    expect(b.ack(m.id)).toBe(6);
    expect(b.unacked()).toBe(4);
    expect(b.unconfirmed()).toBe(6);
    expect(b.size()).toBe(10);
    expect(b.take(10)!.frames.map((f) => f.seq)).toEqual([6, 7, 8, 9]); // acknowledged frames are not sent again
    expect(b.confirm(3, T0 + 3000)).toBe(4);
    expect(seqs(b.snapshot())).toEqual([4, 5, 6, 7, 8, 9]);
    // a confirmation from before a seq restart (higher seq, older ts) deletes nothing
    expect(b.confirm(50_000, T0 - 1)).toBe(0);
    expect(b.confirm(9, T0 + 9000)).toBe(2); // 6–9 are in flight: they leave when acknowledged
    b.ack(2);
    expect(b.size()).toBe(0);
    expect(b.confirmed()).toEqual({ seq: 9, ts: T0 + 9000 });
  });

  it('backfill: acknowledged frames in range are queued first, in seq order; the rest is reported missing', () => {
    const b = createFrameBuffer({ capacity: 100 });
    for (let i = 0; i < 20; i++) if (i !== 7 && i !== 8) b.push(frame(i));
    b.ack(b.take(10)!.id); // 0–6, 9–11 acknowledged
    const r = b.backfill({ fromSeq: 5, toSeq: 13 });
    expect(r).toEqual({ fromSeq: 5, toSeq: 13, resent: 7, missing: [[7, 8]] });
    expect(b.resendQueued()).toBe(5); // 5, 6, 9, 10, 11; 12 and 13 are pending anyway
    const again = b.take(500)!;
    expect(again).toMatchObject({ resend: true });
    expect(seqs(again.frames)).toEqual([5, 6, 9, 10, 11]);
    expect(seqs(b.take(500)!.frames)).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    // asked again while in flight: not queued twice; after a link loss the resend is queued again
    expect(b.backfill({ fromSeq: 5, toSeq: 6 }).resent).toBe(2);
    expect(b.resendQueued()).toBe(0);
    b.resetInflight();
    expect(b.resendQueued()).toBe(5);
    // the ts bounds pin a request to one run of seqs
    expect(b.backfill({ fromSeq: 0, toSeq: 3, afterTs: T0 + 1000, beforeTs: T0 + 3000 })).toMatchObject({
      resent: 1,
      missing: [
        [0, 1],
        [3, 3],
      ],
    });
    // beyond what was ever sampled
    expect(b.backfill({ fromSeq: 18, toSeq: 25 }).missing).toEqual([[20, 25]]);
  });

  it('full: lets go of acknowledged frames first (stored, not lost), then drops the oldest pending and counts it', () => {
    const b = createFrameBuffer({ capacity: 10 });
    for (let i = 0; i < 10; i++) b.push(frame(i));
    b.ack(b.take(4)!.id); // 0–3 acknowledged, unconfirmed
    for (let i = 10; i < 14; i++) b.push(frame(i));
    expect(b.released()).toBe(4);
    expect(b.dropped()).toBe(0);
    expect(seqs(b.snapshot())).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    b.take(2); // 4, 5 in flight
    for (let i = 14; i < 17; i++) b.push(frame(i));
    expect(b.dropped()).toBe(3);
    expect(seqs(b.snapshot())).toEqual([4, 5, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(b.backfill({ fromSeq: 0, toSeq: 9 }).missing).toEqual([
      [0, 3],
      [6, 8],
    ]);
  });

  it('on disk: acknowledged-but-unconfirmed frames and the confirmation survive a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-journal-'));
    try {
      const b1 = createFrameBuffer({ capacity: 100, journal: createDiskJournal(dir) });
      for (let i = 0; i < 10; i++) b1.push(frame(i));
      b1.ack(b1.take(6)!.id);
      b1.confirm(2, T0 + 2000);
      b1.take(2); // in flight when the gateway dies
      b1.flush(10);
      const loaded = createDiskJournal(dir).load();
      expect(seqs(loaded.acked)).toEqual([3, 4, 5]);
      expect(seqs(loaded.frames)).toEqual([6, 7, 8, 9]);
      expect(loaded.nextSeq).toBe(10);
      const b2 = createFrameBuffer({ capacity: 100, initial: loaded.frames, initialAcked: loaded.acked });
      expect(b2.unconfirmed()).toBe(3);
      expect(seqs(b2.take(500)!.frames)).toEqual([6, 7, 8, 9]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the backfill command validates its args and answers with the buffer’s result', () => {
    const b = createFrameBuffer({ capacity: 100 });
    for (let i = 0; i < 5; i++) b.push(frame(i));
    b.ack(b.take(5)!.id);
    const ctx = {
      model: { state: () => ({}) } as unknown as VehicleModel,
      rateHz: () => 1,
      setRate: () => undefined,
      snapshot: () => frame(99),
      backfill: (args: Parameters<typeof b.backfill>[0]) => b.backfill(args),
    };
    expect(executeCommand({ id: 'c1', ts: T0, name: 'backfill', args: { fromSeq: 3, toSeq: 6 } }, ctx)).toEqual({
      ok: true,
      result: { fromSeq: 3, toSeq: 6, resent: 2, missing: [[5, 6]] },
    });
    expect(executeCommand({ id: 'c2', ts: T0, name: 'backfill', args: { fromSeq: 6, toSeq: 3 } }, ctx)).toMatchObject({
      ok: false,
      error: expect.stringContaining('toSeq'),
    });
    expect(executeCommand({ id: 'c3', ts: T0, name: 'backfill', args: {} }, ctx)).toMatchObject({
      ok: false,
      error: expect.stringContaining('fromSeq'),
    });
  });
});
