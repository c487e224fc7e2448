/**
 * What the disk adds: a write and an fdatasync, paced like the group commits of the fixed-rate window,
 * timed on the filesystem the store's file is on, with nothing else of the bench running. A PUBACK
 * waits for its commit's sync, so no publish → PUBACK tail can be shorter than the syncs that stall:
 * this separates the disk's stalls from the platform's own (docs/benchmarks.md).
 */
import { closeSync, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';

/** A flush slower than this is counted as a stall (ms). */
export const STALL_MS = 20;

export interface DiskFlushOptions {
  /** How long the probe runs (s). */
  seconds: number;
  /** The pause after each flush before the next write (ms). */
  everyMs: number;
  /** Bytes written before each flush. */
  bytes: number;
}

export interface DiskFlushSample {
  /** When the flush started, ms after the probe started. */
  atMs: number;
  /** How long the fdatasync took (ms). */
  ms: number;
}

export interface DiskFlushFigures {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Flushes slower than STALL_MS. */
  stalls: number;
  /** Seconds of the probe with at least one stall. */
  secondsWithStall: number;
  /** The slowest flush of each second (ms). */
  maxMsBySecond: number[];
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Nearest-rank percentile of sorted values. */
function rank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

export function summariseFlushes(samples: readonly DiskFlushSample[], seconds: number): DiskFlushFigures {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const bySecond = new Array<number>(Math.max(1, Math.ceil(seconds))).fill(0);
  for (const s of samples) {
    const i = Math.min(bySecond.length - 1, Math.floor(s.atMs / 1000));
    if (s.ms > bySecond[i]!) bySecond[i] = s.ms;
  }
  return {
    count: samples.length,
    p50Ms: r2(rank(sorted, 50)),
    p99Ms: r2(rank(sorted, 99)),
    maxMs: r2(sorted.at(-1) ?? 0),
    stalls: sorted.filter((ms) => ms > STALL_MS).length,
    secondsWithStall: bySecond.filter((ms) => ms > STALL_MS).length,
    maxMsBySecond: bySecond.map((ms) => Math.round(ms)),
  };
}

/** Runs the probe in `dir` (a file of its own, removed after); the writes wrap at 32 MiB. */
export async function probeDiskFlush(dir: string, options: DiskFlushOptions): Promise<DiskFlushFigures> {
  const file = join(dir, `disk-flush-probe-${process.pid}.bin`);
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(options.bytes, 0x5a);
  const wrapAt = 32 * 1024 * 1024;
  const samples: DiskFlushSample[] = [];
  const started = performance.now();
  const endAt = started + options.seconds * 1000;
  let position = 0;
  try {
    while (performance.now() < endAt) {
      writeSync(fd, chunk, 0, chunk.length, position);
      position = position + chunk.length >= wrapAt ? 0 : position + chunk.length;
      const t = performance.now();
      fdatasyncSync(fd);
      samples.push({ atMs: t - started, ms: performance.now() - t });
      await wait(options.everyMs);
    }
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
  return summariseFlushes(samples, options.seconds);
}

/** The report's line: "flushes of 128 KiB every 4 ms …". */
export function diskFlushText(f: DiskFlushFigures, options: DiskFlushOptions): string {
  return (
    `${f.count} flushes (a ${Math.round(options.bytes / 1024)} KiB write, then fdatasync; every ${options.everyMs} ms for ${options.seconds} s): ` +
    `p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; ${f.stalls} over ${STALL_MS} ms, in ${f.secondsWithStall} of ${f.maxMsBySecond.length} seconds`
  );
}
