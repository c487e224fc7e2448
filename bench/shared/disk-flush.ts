/**
 * What the disk adds. A PUBACK waits for its group commit's sync, so no publish → PUBACK tail can be
 * shorter than the syncs that stall. bench:ingest times a write and an fdatasync on the filesystem the
 * store's file is on: alone before its load phases (`probeDiskFlush`, paced like the fixed-rate
 * window's group commits), and beside the fixed-rate window (`watchDiskSyncs`, light), so that the
 * disk's stalls are told apart from the platform's own (docs/benchmarks.md).
 */
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { percentile } from '../live/stats.ts';

/** A sync slower than this is counted as a stall (ms). */
export const STALL_MS = 20;

/** A sync: when it started (epoch ms) and how long the fdatasync took (ms). */
export interface DiskSync {
  at: number;
  ms: number;
}

export interface DiskSyncPace {
  /** The pause after each sync before the next write (ms). */
  everyMs: number;
  /** Bytes written before each sync. */
  bytes: number;
}

export interface DiskFlushOptions extends DiskSyncPace {
  /** How long the probe runs (s). */
  seconds: number;
}

export interface DiskFlushFigures {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Syncs slower than STALL_MS. */
  stalls: number;
  /** Seconds of the probe with at least one stall. */
  secondsWithStall: number;
  /** The slowest sync of each second (ms). */
  maxMsBySecond: number[];
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** The slowest sync of each second of a window (ms, rounded; 0 where none was timed). */
export function slowestSyncBySecond(syncs: readonly DiskSync[], windowStart: number, seconds: number): number[] {
  const out = new Array<number>(Math.max(0, seconds)).fill(0);
  for (const s of syncs) {
    const i = Math.floor((s.at - windowStart) / 1000);
    if (i >= 0 && i < out.length && s.ms > out[i]!) out[i] = s.ms;
  }
  return out.map((ms) => Math.round(ms));
}

/** The probe's figures: every sync in the percentiles, the seconds from `start` for `seconds`. */
export function summariseFlushes(syncs: readonly DiskSync[], start: number, seconds: number): DiskFlushFigures {
  const sorted = syncs.map((s) => s.ms).sort((a, b) => a - b);
  const bySecond = slowestSyncBySecond(syncs, start, Math.ceil(seconds));
  return {
    count: sorted.length,
    p50Ms: sorted.length ? r2(percentile(sorted, 50)) : 0,
    p99Ms: sorted.length ? r2(percentile(sorted, 99)) : 0,
    maxMs: r2(sorted.at(-1) ?? 0),
    stalls: sorted.filter((ms) => ms > STALL_MS).length,
    secondsWithStall: bySecond.filter((ms) => ms > STALL_MS).length,
    maxMsBySecond: bySecond,
  };
}

/** The disk alone for `seconds`, at the given pace, in `dir` (a file of its own, removed after). */
export async function probeDiskFlush(dir: string, options: DiskFlushOptions): Promise<DiskFlushFigures> {
  const start = Date.now();
  const watch = watchDiskSyncs(dir, options);
  await wait(options.seconds * 1000);
  return summariseFlushes(await watch.stop(), start, options.seconds);
}

/** The report's line: "4320 syncs (a 128 KiB write, then fdatasync; every 4 ms for 20 s): …". */
export function diskFlushText(f: DiskFlushFigures, options: DiskFlushOptions): string {
  return (
    `${f.count} syncs (a ${Math.round(options.bytes / 1024)} KiB write, then fdatasync; every ${options.everyMs} ms for ${options.seconds} s): ` +
    `p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; ${f.stalls} over ${STALL_MS} ms, in ${f.secondsWithStall} of ${f.maxMsBySecond.length} seconds`
  );
}

/**
 * Times the disk until stopped: a write and an fdatasync every `everyMs` on a worker thread (a sync
 * that stalls blocks that thread, not the bench's event loop), in a file of its own in `dir` whose
 * writes wrap at 1 MiB, removed at `stop`. The default pace is light on purpose (4 KiB ten times a
 * second, against the platform's hundreds of commits), for watching beside a load window: it tells
 * when the disk stalled without adding to it.
 */
export function watchDiskSyncs(dir: string, pace: DiskSyncPace = { everyMs: 100, bytes: 4096 }) {
  const file = join(dir, `disk-sync-watch-${process.pid}-${Date.now()}.bin`);
  const worker = new Worker(WATCH_SOURCE, {
    eval: true,
    workerData: { file, everyMs: pace.everyMs, bytes: pace.bytes },
  });
  const done = new Promise<DiskSync[]>((resolve, reject) => {
    worker.once('message', (m: { at: number[]; ms: number[] }) => resolve(m.at.map((at, i) => ({ at, ms: m.ms[i]! }))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the disk watch ended (exit code ${code}) before it was stopped`)));
  });
  done.catch(() => undefined); // told at stop()
  return {
    /** Stops the watch and answers its syncs (at least one: the first is timed before any message is read). */
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
