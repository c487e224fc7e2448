import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  between,
  bySecondText,
  maxOver,
  syscallsPer,
  threadMark,
  watchThreads,
  worstSecondsLines,
  type Mark,
  type ThreadSecond,
} from '../../bench/shared/thread-time.ts';

const MS = 1e6; // ns

function markOf(
  t: number,
  threads: Record<string, [number, number, number][]>,
  busy: number,
  steal: number,
  total: number,
): Mark {
  return {
    t,
    threads: Object.fromEntries(
      Object.entries(threads).map(([k, ts]) => [k, new Map(ts.map(([tid, run, wait]) => [tid, { run, wait }]))]),
    ),
    io: Object.fromEntries(Object.keys(threads).map((k, i) => [k, { r: t * (i + 1), w: t * 2 * (i + 1) }])),
    machine: { busy, steal, total },
  };
}

describe("bench CPU by second (the kernel's schedstat)", () => {
  it('splits a process into its main thread and the rest, counts a new thread from zero, and gives the cores in % of one', () => {
    const pids = { platform: 100, load: 200 };
    const a = markOf(
      0,
      {
        platform: [
          [100, 10 * MS, 1 * MS],
          [101, 5 * MS, 0],
        ],
        load: [[200, 0, 0]],
      },
      1000,
      10,
      4000,
    );
    const b = markOf(
      1000,
      {
        platform: [
          [100, 610 * MS, 91 * MS],
          [101, 105 * MS, 20 * MS],
          [102, 30 * MS, 4 * MS],
        ],
        load: [[200, 400 * MS, 150 * MS]],
      },
      1150,
      13,
      4200,
    );
    const s = between(a, b, pids, 2);
    expect(s.spanMs).toBe(1000);
    expect(s.byProcess.platform).toEqual({
      main: { runMs: 600, waitMs: 90 },
      others: { runMs: 130, waitMs: 24 },
      readCalls: 1000,
      writeCalls: 2000,
    });
    expect(s.byProcess.load).toEqual({
      main: { runMs: 400, waitMs: 150 },
      others: { runMs: 0, waitMs: 0 },
      readCalls: 2000,
      writeCalls: 4000,
    });
    expect(syscallsPer([s, s], 'platform', 4000)).toEqual({ reads: 0.5, writes: 1 });
    expect(syscallsPer([s], 'nobody', 4000)).toBeNull();
    // 150 of 200 CPU seconds on two cores: 150 % of one core; steal 3 of 200: 3 %
    expect(s.coresBusyPct).toBe(150);
    expect(s.stealPct).toBe(3);
  });

  it("reads this process's threads from /proc: a busy main thread is on a CPU, a busy worker counts among the others", async () => {
    const pids = { self: process.pid };
    // the worker stays alive after its work (`on`, not `once`): a thread that ends takes its figures with it
    const worker = new Worker(
      'const { parentPort } = require("node:worker_threads"); parentPort.on("message", (ms) => { const end = Date.now() + ms; while (Date.now() < end); parentPort.postMessage("done"); });',
      { eval: true },
    );
    await new Promise((r) => worker.once('online', r));
    const a = threadMark(pids);
    const done = new Promise((r) => worker.once('message', r));
    worker.postMessage(80);
    const end = Date.now() + 60;
    while (Date.now() < end); // the main thread busy for 60 ms
    await done;
    const b = threadMark(pids);
    await worker.terminate();
    const s = between(a, b, pids, 2);
    const main = s.byProcess.self!.main;
    const others = s.byProcess.self!.others;
    // on a CPU or waiting for one, the whole time it was busy (a little slack for the clock's grain)
    expect(main.runMs + main.waitMs).toBeGreaterThanOrEqual(55);
    expect(others.runMs + others.waitMs).toBeGreaterThanOrEqual(75);
    expect(s.coresBusyPct).toBeGreaterThan(0);
    expect(s.byProcess.self!.readCalls).toBeGreaterThan(0); // threadMark read /proc files itself
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('samples every interval, and stop() adds the rest of the window so that the samples cover all of it', () => {
    vi.useFakeTimers();
    const w = watchThreads({ self: process.pid }, 2, 100);
    vi.advanceTimersByTime(250);
    const seconds = w.stop();
    expect(seconds.map((s) => s.spanMs)).toEqual([100, 100, 50]);
    expect(seconds.every((s) => s.byProcess.self !== undefined)).toBe(true);
    expect(w.stop()).toBe(seconds); // a second stop adds nothing
    expect(seconds).toHaveLength(3);
  });

  it('names the worst seconds by their p99, with what ran and waited in them', () => {
    const second = (mainWait: number, busy: number): ThreadSecond => ({
      spanMs: 1000,
      byProcess: {
        platform: {
          main: { runMs: 700, waitMs: mainWait },
          others: { runMs: 300, waitMs: 100 },
          readCalls: 0,
          writeCalls: 0,
        },
        load: { main: { runMs: 500, waitMs: 200 }, others: { runMs: 20, waitMs: 5 }, readCalls: 0, writeCalls: 0 },
      },
      coresBusyPct: busy,
      stealPct: 0,
    });
    const seconds = [second(50, 150), second(220, 195), second(90, 170)];
    const lines = worstSecondsLines([30, 160, 70], seconds, { platform: 'platform', load: 'load' }, 2, 2);
    expect(lines).toEqual([
      'second 1 (p99 160 ms): platform main thread on a CPU 700 ms, waiting for one 220 ms; its other threads on 300, waiting 100; load generator on 520, waiting 205; cores busy 195% of 200% (steal 0%)',
      'second 2 (p99 70 ms): platform main thread on a CPU 700 ms, waiting for one 90 ms; its other threads on 300, waiting 100; load generator on 520, waiting 205; cores busy 170% of 200% (steal 0%)',
    ]);
    expect(bySecondText(seconds, (s) => s.byProcess.platform?.main)).toBe('700/50 700/220 700/90');
    expect(maxOver(seconds, (s) => s.byProcess.platform?.main.waitMs)).toBe(220);
  });
});
