/**
 * What the disk adds: a write and an fdatasync, paced like the group commits of the fixed-rate window,
 * timed on the filesystem the store's file is on, with nothing else of the bench running. A PUBACK
 * waits for its commit's sync, so no publish → PUBACK tail can be shorter than the syncs that stall:
 * this separates the disk's stalls from the platform's own (docs/benchmarks.md).
 */
import { closeSync, fdatasyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

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

/** A sync timed beside the load: when it started (epoch ms) and how long it took (ms). */
export interface DiskSync {
  at: number;
  ms: number;
}

/**
 * Watches the disk beside a load window: a small write and an fdatasync every `everyMs` on a worker
 * thread (a sync that stalls blocks that thread, not the bench's event loop), in a file of its own in
 * `dir`, removed at `stop`. Light on purpose (4 KiB ten times a second against the platform's hundreds
 * of commits), so that it tells when the disk stalled without adding to it.
 */
export function watchDiskSyncs(
  dir: string,
  options: { everyMs: number; bytes: number } = { everyMs: 100, bytes: 4096 },
) {
  const file = join(dir, `disk-sync-watch-${process.pid}.bin`);
  const worker = new Worker(WATCH_SOURCE, { eval: true, workerData: { file, ...options } });
  const done = new Promise<DiskSync[]>((resolve, reject) => {
    worker.once('message', (m: { at: number[]; ms: number[] }) => resolve(m.at.map((at, i) => ({ at, ms: m.ms[i]! }))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the disk watch ended (exit code ${code}) before it was stopped`)));
  });
  done.catch(() => undefined); // told at stop()
  return {
    /** Stops the watch and answers its syncs. */
    async stop(): Promise<DiskSync[]> {
      worker.postMessage('stop');
      return await done;
    },
  };
}

const WATCH_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const fd = fs.openSync(workerData.file, 'w');
const chunk = Buffer.alloc(workerData.bytes, 0x5a);
const at = [], ms = [];
let position = 0, timer;
const tick = () => {
  fs.writeSync(fd, chunk, 0, chunk.length, position);
  position = position >= 1048576 ? 0 : position + chunk.length;
  const started = performance.now(), wall = Date.now();
  fs.fdatasyncSync(fd);
  at.push(wall); ms.push(performance.now() - started);
  timer = setTimeout(tick, workerData.everyMs);
};
parentPort.on('message', () => {
  clearTimeout(timer);
  fs.closeSync(fd);
  fs.unlinkSync(workerData.file);
  parentPort.postMessage({ at, ms });
  parentPort.close();
});
tick();
`;

/** The slowest sync of each second of a window (ms, rounded; 0 where none was timed). */
export function slowestSyncBySecond(syncs: readonly DiskSync[], windowStart: number, seconds: number): number[] {
  const out = new Array<number>(Math.max(0, seconds)).fill(0);
  for (const s of syncs) {
    const i = Math.floor((s.at - windowStart) / 1000);
    if (i >= 0 && i < out.length && s.ms > out[i]!) out[i] = s.ms;
  }
  return out.map((ms) => Math.round(ms));
}
