import { readdirSync, readFileSync } from 'node:fs';
import { machineSeconds } from './procs.ts';

/**
 * Which threads ran and which waited for a CPU, second by second (docs/benchmarks.md, "CPU by
 * second"). On a machine with few cores the platform's main thread, its writer thread, V8's helpers
 * and the load generator take turns on the cores: a main thread that waits in the kernel's run queue
 * answers late although it has nothing long to do. Read from outside the processes, from
 * `/proc/<pid>/task/<tid>/schedstat` (time on a CPU, time runnable but waiting for one, in ns), so
 * the watching costs the watched nothing. A thread that ends between two samples takes its time with
 * it (the platform's threads live as long as the platform).
 */

/** Time on a CPU and time waiting for one (runnable, in the run queue), ms. */
export interface ThreadTime {
  runMs: number;
  waitMs: number;
}

export interface ProcessSecond {
  /** The main thread (the JavaScript event loop). */
  main: ThreadTime;
  /** Every other thread of the process together (workers, V8's helpers, libuv's pool, the inspector). */
  others: ThreadTime;
  /** Read-family and write-family system calls of the whole process (/proc/<pid>/io syscr, syscw). */
  readCalls: number;
  writeCalls: number;
}

export interface ThreadSecond {
  /** How long this sample covers (≈ 1,000 ms). */
  spanMs: number;
  byProcess: Record<string, ProcessSecond>;
  /** The machine's busy time in this sample, in % of one core (so up to 100 × cores). */
  coresBusyPct: number;
  /**
   * Of the whole machine's time, what the hypervisor gave to others while our virtual CPUs had work
   * (the kernel's steal time), in % of one core: a thread "on a CPU" then did not run.
   */
  stealPct: number;
}

/** All of a process's threads together. */
export const wholeProcess = (p: ProcessSecond): ThreadTime => ({
  runMs: p.main.runMs + p.others.runMs,
  waitMs: p.main.waitMs + p.others.waitMs,
});

type Sched = Map<number, { run: number; wait: number }>;

/** schedstat of each thread of `pid` (ns); a thread gone meanwhile is left out. */
function threadsOf(pid: number): Sched {
  const out: Sched = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // the process is gone
  }
  for (const t of tids) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ');
      out.set(Number(t), { run: Number(run), wait: Number(wait) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Read-family and write-family system calls of `pid` so far (0 if it is gone). */
function syscallsOf(pid: number): { r: number; w: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { r: Number(/^syscr: (\d+)/m.exec(io)?.[1] ?? 0), w: Number(/^syscw: (\d+)/m.exec(io)?.[1] ?? 0) };
  } catch {
    return { r: 0, w: 0 };
  }
}

export interface Mark {
  t: number;
  threads: Record<string, Sched>;
  io: Record<string, { r: number; w: number }>;
  /** The machine's CPU seconds so far (procs.ts machineSeconds). */
  machine: { busy: number; steal: number; total: number };
}

export function threadMark(pids: Record<string, number>): Mark {
  const threads: Record<string, Sched> = {};
  const io: Record<string, { r: number; w: number }> = {};
  for (const [k, pid] of Object.entries(pids)) {
    threads[k] = threadsOf(pid);
    io[k] = syscallsOf(pid);
  }
  return { t: performance.now(), threads, io, machine: machineSeconds() };
}

const ms = (ns: number) => Math.round(ns / 1e5) / 10;

/** What happened between two marks; a thread that started in between counts from zero. */
export function between(a: Mark, b: Mark, pids: Record<string, number>, cores: number): ThreadSecond {
  const byProcess: Record<string, ProcessSecond> = {};
  for (const [k, pid] of Object.entries(pids)) {
    const before = a.threads[k] ?? new Map();
    const main = { run: 0, wait: 0 };
    const others = { run: 0, wait: 0 };
    for (const [tid, now] of b.threads[k] ?? new Map()) {
      const was = before.get(tid) ?? { run: 0, wait: 0 };
      const into = tid === pid ? main : others;
      into.run += now.run - was.run;
      into.wait += now.wait - was.wait;
    }
    const io0 = a.io[k] ?? { r: 0, w: 0 };
    const io1 = b.io[k] ?? io0;
    byProcess[k] = {
      main: { runMs: ms(main.run), waitMs: ms(main.wait) },
      others: { runMs: ms(others.run), waitMs: ms(others.wait) },
      readCalls: Math.max(0, io1.r - io0.r),
      writeCalls: Math.max(0, io1.w - io0.w),
    };
  }
  const total = b.machine.total - a.machine.total;
  const share = (d: number) => (total > 0 ? Math.round((d / total) * 100 * cores) : 0);
  return {
    spanMs: Math.round(b.t - a.t),
    byProcess,
    coresBusyPct: share(b.machine.busy - a.machine.busy),
    stealPct: share(b.machine.steal - a.machine.steal),
  };
}

/**
 * Samples the threads of `pids` every `everyMs` from now until `stop()`, which returns one entry per
 * sample (the first covers the first `everyMs` after the call; the last, taken by `stop()`, the rest
 * of the window, shorter: see its `spanMs`), so that the samples cover the whole window.
 */
export function watchThreads(
  pids: Record<string, number>,
  cores: number,
  everyMs = 1000,
): { stop: () => ThreadSecond[] } {
  const seconds: ThreadSecond[] = [];
  let last = threadMark(pids);
  const timer = setInterval(() => {
    const now = threadMark(pids);
    seconds.push(between(last, now, pids, cores));
    last = now;
  }, everyMs);
  let stopped = false;
  return {
    stop() {
      if (stopped) return seconds;
      stopped = true;
      clearInterval(timer);
      const now = threadMark(pids);
      if (now.t - last.t >= 50) seconds.push(between(last, now, pids, cores));
      return seconds;
    },
  };
}

/** The largest of a figure over the seconds. */
export const maxOver = (seconds: readonly ThreadSecond[], pick: (s: ThreadSecond) => number | undefined): number =>
  Math.round(seconds.reduce((m, s) => Math.max(m, pick(s) ?? 0), 0) * 10) / 10;

/**
 * One line per second among the `n` with the highest latency (`latencyBySecond`): what ran and what
 * waited for a CPU in it. A second whose main thread waited long in the run queue was late for want of
 * a core, not for work of its own.
 */
export function worstSecondsLines(
  latencyBySecond: readonly number[],
  seconds: readonly ThreadSecond[],
  names: { platform: string; load: string },
  cores: number,
  n = 3,
): string[] {
  const order = latencyBySecond
    .map((p99, i) => ({ p99, i }))
    .filter(({ i }) => seconds[i] !== undefined)
    .sort((x, y) => y.p99 - x.p99)
    .slice(0, n);
  return order.map(({ p99, i }) => {
    const s = seconds[i]!;
    const p = s.byProcess[names.platform];
    const l = s.byProcess[names.load];
    const parts = [
      p
        ? `platform main thread on a CPU ${Math.round(p.main.runMs)} ms, waiting for one ${Math.round(p.main.waitMs)} ms; its other threads on ${Math.round(p.others.runMs)}, waiting ${Math.round(p.others.waitMs)}`
        : 'platform: no figures',
      l
        ? `load generator on ${Math.round(wholeProcess(l).runMs)}, waiting ${Math.round(wholeProcess(l).waitMs)}`
        : 'load generator: no figures',
      `cores busy ${s.coresBusyPct}% of ${cores * 100}% (steal ${s.stealPct}%)`,
    ];
    return `second ${i} (p99 ${p99} ms): ${parts.join('; ')}`;
  });
}

/** A by-second row of one figure, e.g. "610/12 640/20 …" (on a CPU / waiting for one, ms). */
export function bySecondText(
  seconds: readonly ThreadSecond[],
  pick: (s: ThreadSecond) => ThreadTime | undefined,
): string {
  return seconds
    .map((s) => {
      const t = pick(s);
      return t ? `${Math.round(t.runMs)}/${Math.round(t.waitMs)}` : '-';
    })
    .join(' ');
}

/** A process's read and write system calls per unit of work over the seconds (e.g. per stored frame). */
export function syscallsPer(
  seconds: readonly ThreadSecond[],
  name: string,
  units: number,
): { reads: number; writes: number } | null {
  if (!seconds.length || units <= 0 || !seconds.some((s) => s.byProcess[name])) return null;
  const sum = (pick: (p: ProcessSecond) => number) =>
    seconds.reduce((n, s) => n + (s.byProcess[name] ? pick(s.byProcess[name]) : 0), 0);
  const round = (x: number) => Math.round((x / units) * 100) / 100;
  return { reads: round(sum((p) => p.readCalls)), writes: round(sum((p) => p.writeCalls)) };
}
