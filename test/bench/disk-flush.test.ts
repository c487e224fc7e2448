import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  diskFlushText,
  probeDiskFlush,
  slowestSyncBySecond,
  STALL_MS,
  summariseFlushes,
  watchDiskSyncs,
} from '../../bench/shared/disk-flush.ts';

describe("the disk's flushes (bench:ingest)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('summarises the syncs: percentiles, the stalls and the slowest of each second', () => {
    const start = 5_000_000;
    const syncs = [
      { at: start + 10, ms: 0.3 },
      { at: start + 400, ms: 0.5 },
      { at: start + 1200, ms: 45 },
      { at: start + 1500, ms: 21 },
      { at: start + 1900, ms: 0.4 },
      { at: start + 2100, ms: STALL_MS },
      { at: start + 3999, ms: 0.2 },
    ];
    const f = summariseFlushes(syncs, start, 4);
    expect(f).toEqual({
      count: 7,
      p50Ms: 0.5, // the 4th of 7 by nearest rank
      p99Ms: 45,
      maxMs: 45,
      stalls: 2, // 45 and 21; a sync of exactly STALL_MS is not one
      secondsWithStall: 1,
      maxMsBySecond: [1, 45, 20, 0],
    });
    expect(diskFlushText(f, { seconds: 4, everyMs: 4, bytes: 131072 })).toBe(
      `7 syncs (a 128 KiB write, then fdatasync; every 4 ms for 4 s): p50 0.5 ms, p99 45 ms, max 45 ms; 2 over ${STALL_MS} ms, in 1 of 4 seconds`,
    );
  });

  it('a sync that began after the last second counts in the percentiles only; no syncs give zeros', () => {
    const f = summariseFlushes([{ at: 2500, ms: 30 }], 0, 2);
    expect(f.maxMsBySecond).toEqual([0, 0]);
    expect(f.stalls).toBe(1);
    expect(f.secondsWithStall).toBe(0);
    expect(summariseFlushes([], 0, 1)).toEqual({
      count: 0,
      p50Ms: 0,
      p99Ms: 0,
      maxMs: 0,
      stalls: 0,
      secondsWithStall: 0,
      maxMsBySecond: [0],
    });
  });

  it('times real syncs in the directory for the time asked and removes its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'disk-flush-'));
    dirs.push(dir);
    const f = await probeDiskFlush(dir, { seconds: 0.3, everyMs: 4, bytes: 8192 });
    expect(f.count).toBeGreaterThanOrEqual(1); // a sync that stalls may take the whole 0.3 s
    expect(f.maxMs).toBeGreaterThanOrEqual(f.p99Ms);
    expect(f.p99Ms).toBeGreaterThanOrEqual(f.p50Ms);
    expect(f.p50Ms).toBeGreaterThan(0);
    expect(f.maxMsBySecond).toHaveLength(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the disk watched beside a load window (bench:ingest)', () => {
  it('takes the slowest sync of each second of the window, leaving out what fell outside it', () => {
    const start = 1_000_000;
    const syncs = [
      { at: start - 50, ms: 90 }, // before the window
      { at: start + 10, ms: 0.4 },
      { at: start + 900, ms: 2.6 },
      { at: start + 1500, ms: 64.4 },
      { at: start + 1600, ms: 12 },
      { at: start + 3000, ms: 80 }, // after a 3 s window
    ];
    expect(slowestSyncBySecond(syncs, start, 3)).toEqual([3, 64, 0]);
    expect(slowestSyncBySecond(syncs, start, 0)).toEqual([]);
  });

  it('times syncs on a worker thread until stopped, then removes its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'disk-watch-'));
    try {
      const before = Date.now();
      // the worker's script times its first sync before it reads any message, so a stop at once
      // still answers one
      const syncs = await watchDiskSyncs(dir, { everyMs: 5, bytes: 4096 }).stop();
      expect(syncs.length).toBeGreaterThanOrEqual(1);
      for (const s of syncs) {
        expect(s.at).toBeGreaterThanOrEqual(before);
        expect(s.ms).toBeGreaterThan(0);
      }
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
