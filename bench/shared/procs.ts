import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

/** Every child process the bench started, so that each one is stopped on any exit path. */
export class Children {
  private readonly procs = new Set<ChildProcess>();

  spawn(label: string, command: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = spawn(command, args, options);
    this.procs.add(child);
    child.once('exit', () => this.procs.delete(child));
    child.once('error', (err) => process.stderr.write(`  [${label}] could not start: ${err.message}\n`));
    return child;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  async stop(child: ChildProcess, graceMs = 10_000): Promise<number | null> {
    if (exited(child)) return child.exitCode;
    const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    if (child.pid !== undefined) signal(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.pid !== undefined && signal(child.pid, 'SIGKILL'), graceMs);
    const code = await done;
    clearTimeout(timer);
    return code;
  }

  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all([...this.procs].map((c) => this.stop(c, graceMs)));
  }

  /** Last resort, from a synchronous 'exit' handler. */
  killAllNow(): void {
    for (const c of this.procs) if (c.pid !== undefined && !exited(c)) signal(c.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until something accepts TCP connections on 127.0.0.1:port, or the child exits, or the timeout. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(child))
      throw new Error(`${what} exited (code ${child.exitCode ?? child.signalCode}) before it listened on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${what} did not listen on ${port} within ${timeoutMs / 1000} s`);
}

/** An IPC message between a bench and its children: every one has a type; `fatal` carries a message. */
export type Message = { type: string };

/**
 * The next IPC message from `child` that satisfies `accept`; rejects on a `fatal` message, on exit,
 * or on timeout (`expecting` names what did not come, e.g. `'ready'`).
 */
export function nextMessage<M extends Message, T extends M>(
  child: ChildProcess,
  accept: (m: M) => m is T,
  timeoutMs: number,
  what: string,
  expecting = 'answer',
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${what}: no ${expecting} within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    const onMessage = (m: M) => {
      if (m.type === 'fatal') finish(new Error(`${what}: ${(m as { message?: string }).message}`));
      else if (accept(m)) finish(undefined, m);
    };
    const onExit = (code: number | null, sig: string | null) =>
      finish(new Error(`${what}: process exited (${code ?? sig}) early`));
    function finish(err?: Error, m?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (exited(child)) onExit(child.exitCode, child.signalCode);
  });
}

/** The next IPC message of `type` from `child` (see nextMessage). */
export function nextOfType<M extends Message, K extends M['type']>(
  child: ChildProcess,
  type: K,
  timeoutMs: number,
  what: string,
): Promise<Extract<M, { type: K }>> {
  return nextMessage(child, (m: M): m is Extract<M, { type: K }> => m.type === type, timeoutMs, what, `'${type}'`);
}

/** Sends to a child if it is still connected. */
export function tell<M extends Message>(child: ChildProcess, m: M): void {
  if (child.connected) child.send(m);
}

/** RSS now and its peak (VmHWM), in MB, of a live process; undefined once it is gone. */
export function memoryOf(pid: number): { rssMB: number; hwmMB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;
/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSecondsOf(pid: number, thread?: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return NaN;
  }
}

/** The soft and hard open-file limits a child started from a shell gets. */
export function fileLimits(): { soft: number; hard: number } {
  const out = execFileSync('/bin/sh', ['-c', 'ulimit -S -n; ulimit -H -n'], { encoding: 'utf8' }).trim().split('\n');
  const parse = (s: string | undefined) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: parse(out[0]), hard: parse(out[1]) };
}

/**
 * Runs `node <script>` (with `--import tsx` for a .ts script) through `/bin/sh -c 'ulimit -S -n N;
 * exec …'`: `exec` keeps the pid, so the pid we hold is the real node process (for
 * /proc/PID/status), and the child gets enough file descriptors for thousands of sockets.
 */
export function nodeCommand(
  script: string,
  args: string[],
  fdLimit: number,
  nodeArgs: string[] = [],
): { command: string; args: string[] } {
  return {
    command: '/bin/sh',
    args: [
      '-c',
      `ulimit -S -n ${fdLimit} 2>/dev/null; exec "$0" "$@"`,
      process.execPath,
      ...nodeArgs,
      ...(script.endsWith('.ts') ? ['--import', 'tsx'] : []),
      script,
      ...args,
    ],
  };
}

/**
 * CPU time the whole machine has spent so far (all cores), in seconds: busy in total, in interrupts
 * (softirq: loopback TCP), stolen by the hypervisor while our CPUs had work (counted in busy), and
 * all of it (idle and I/O wait included).
 */
export function machineSeconds(): { busy: number; irq: number; steal: number; total: number } {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return {
    busy: busy / clockTicks,
    irq: (irq! + softirq!) / clockTicks,
    steal: steal! / clockTicks,
    total: (busy + idle! + iowait!) / clockTicks,
  };
}

/** CPU seconds used so far by every process on the machine, by pid, with its name. */
function allProcesses(): Map<number, { name: string; cpu: number }> {
  const out = new Map<number, { name: string; cpu: number }>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { name, cpu: (Number(fields[11]) + Number(fields[12])) / clockTicks! });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface CpuFigures {
  /** % of one core per process of ours during the window. */
  pct: Record<string, number>;
  /** % of one core of each process's main thread (the JavaScript event loop). */
  mainThreadPct: Record<string, number>;
  /** % of one core that everything else on the machine used during the window (interrupts included). */
  othersPct: number;
  /** Of that: interrupt handling (mostly loopback TCP for our own traffic). */
  irqPct: number;
  /** The busiest other processes, e.g. "node 80%". */
  topOthers: string[];
}

/** CPU seconds used so far by named processes of ours (all threads, and the main thread alone) and by the machine. */
export interface CpuMark {
  t: number;
  all: Record<string, number>;
  main: Record<string, number>;
  machine: { busy: number; irq: number };
}

export function cpuMark(pids: Record<string, number | readonly number[]>): CpuMark {
  const all: Record<string, number> = {};
  const main: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) {
    if (typeof pid === 'number') {
      all[k] = cpuSecondsOf(pid);
      main[k] = cpuSecondsOf(pid, pid);
      continue;
    }
    // a group of processes (e.g. the PostgreSQL backends serving the bench): their sum, one gone counts 0
    const sum = (thread: boolean) => pid.reduce((n, p) => n + (cpuSecondsOf(p, thread ? p : undefined) || 0), 0);
    all[k] = sum(false);
    main[k] = sum(true);
  }
  return { t: Date.now(), all, main, machine: machineSeconds() };
}

/**
 * CPU use between two marks, in % of one core, unrounded: each process of ours, its main thread
 * (the JavaScript event loop), everything else on the machine (interrupts included) and, of that,
 * interrupt handling (mostly loopback TCP for our own traffic).
 */
export function cpuBetween(
  a: CpuMark,
  b: CpuMark,
): { pct: Record<string, number>; mainThreadPct: Record<string, number>; othersPct: number; irqPct: number } {
  const seconds = (b.t - a.t) / 1000;
  const pct: Record<string, number> = {};
  const mainThreadPct: Record<string, number> = {};
  let ours = 0;
  for (const k of Object.keys(b.all)) {
    const used = b.all[k]! - (a.all[k] ?? NaN);
    ours += used;
    pct[k] = (used / seconds) * 100;
    mainThreadPct[k] = ((b.main[k]! - (a.main[k] ?? NaN)) / seconds) * 100;
  }
  return {
    pct,
    mainThreadPct,
    othersPct: ((b.machine.busy - a.machine.busy - ours) / seconds) * 100,
    irqPct: ((b.machine.irq - a.machine.irq) / seconds) * 100,
  };
}

/**
 * CPU use of the bench's own processes and of everything else on the machine over a window,
 * in % of one core. Other processes' use above a few % means the figures were disturbed.
 */
export class CpuWindow {
  private mark0: CpuMark | undefined;
  private procs0 = new Map<number, { name: string; cpu: number }>();
  constructor(private readonly pids: Record<string, number | readonly number[]>) {}
  begin(): void {
    this.mark0 = cpuMark(this.pids);
    this.procs0 = allProcesses();
  }
  end(): CpuFigures {
    const mark = cpuMark(this.pids);
    const c = cpuBetween(this.mark0 ?? mark, mark);
    const seconds = (mark.t - (this.mark0 ?? mark).t) / 1000;
    const round = (r: Record<string, number>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]));
    const ourPids = new Set(Object.values(this.pids).flat());
    const others = [...allProcesses()]
      .filter(([pid]) => !ourPids.has(pid))
      .map(([pid, p]) => ({ name: p.name, pid, used: p.cpu - (this.procs0.get(pid)?.cpu ?? 0) }))
      .sort((a, b) => b.used - a.used)
      .slice(0, 3)
      .filter((p) => p.used / seconds >= 0.05)
      .map((p) => `${p.name}[${p.pid}] ${Math.round((p.used / seconds) * 100)}%`);
    return {
      pct: round(c.pct),
      mainThreadPct: round(c.mainThreadPct),
      othersPct: Math.max(0, Math.round(c.othersPct)),
      irqPct: Math.round(c.irqPct),
      topOthers: others,
    };
  }
}

/** Other processes' use (% of one core, interrupts apart) in `seconds` of the bench doing nothing. */
export async function othersBusyPct(seconds: number): Promise<number> {
  const a = machineSeconds();
  await sleep(seconds * 1000);
  const b = machineSeconds();
  return ((b.busy - a.busy - (b.irq - a.irq)) / seconds) * 100;
}

/**
 * Waits (bounded by `maxMs`) for 3 s in which processes other than ours use less than `belowPct` of
 * a core; `onBusy` hears the first busy reading. Returns the last reading (% of one core, rounded).
 */
export async function waitForQuiet(maxMs: number, belowPct: number, onBusy?: (pct: number) => void): Promise<number> {
  const deadline = Date.now() + maxMs;
  let pct = NaN;
  let told = false;
  while (Date.now() < deadline) {
    pct = await othersBusyPct(3);
    if (pct < belowPct) break;
    if (!told) onBusy?.(Math.round(pct));
    told = true;
  }
  return Math.round(pct);
}

/**
 * Whether a process's CPU is shown with its main thread apart: where its other threads (a writer
 * thread, GC helpers, the libuv pool) add 5 % of a core or more.
 */
export function mainThreadApart(c: CpuFigures, name: string): boolean {
  const main = c.mainThreadPct[name];
  return main !== undefined && (c.pct[name] ?? 0) - main >= 5;
}

/**
 * CPU time per message, in µs on a CPU per message at `perS` messages a second (to 0.1 µs): each
 * process of ours (all its threads; `bench` left out), its main thread where `mainThreadApart`
 * (`<name>Main`), and the machine's interrupt handling (`irq`, mostly the loopback TCP the messages
 * travel). From figures in whole % of one core, so good to about 1e4 / perS µs.
 */
export function cpuPerMessage(c: CpuFigures, perS: number): Record<string, number> {
  const us = (pct: number) => (perS > 0 ? Math.round((pct * 1e5) / perS) / 10 : 0);
  const out: Record<string, number> = {};
  for (const [k, pct] of Object.entries(c.pct)) {
    if (k === 'bench') continue;
    out[k] = us(pct);
    if (mainThreadApart(c, k)) out[`${k}Main`] = us(c.mainThreadPct[k]!);
  }
  out.irq = us(c.irqPct);
  return out;
}

/** `cpuPerMessage` as text: "platform 41.7 (main thread 26.8), load 30.3, kernel interrupts 4". */
export function cpuPerMessageText(perMessage: Record<string, number>): string {
  return Object.entries(perMessage)
    .filter(([k]) => k !== 'irq' && !k.endsWith('Main'))
    .map(([k, v]) =>
      perMessage[`${k}Main`] === undefined ? `${k} ${v}` : `${k} ${v} (main thread ${perMessage[`${k}Main`]})`,
    )
    .concat(`kernel interrupts ${perMessage.irq ?? 0}`)
    .join(', ');
}
