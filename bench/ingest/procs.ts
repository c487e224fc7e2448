import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { ChildToParent, ParentToChild } from './ipc.ts';

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

/** The next IPC message from `child` that satisfies `accept`; rejects on a `fatal` message, on exit, or on timeout. */
export function nextMessage<T extends ChildToParent>(
  child: ChildProcess,
  accept: (m: ChildToParent) => m is T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    const onMessage = (m: ChildToParent) => {
      if (m.type === 'fatal') finish(new Error(`${what}: ${m.message}`));
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

export function tell(child: ChildProcess, m: ParentToChild): void {
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

/** CPU time the whole machine has spent so far (all cores), in seconds: busy in total, and in interrupts (softirq: loopback TCP). */
export function machineSeconds(): { busy: number; irq: number } {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
  return {
    busy: (user! + nice! + system! + irq! + softirq! + steal!) / clockTicks,
    irq: (irq! + softirq!) / clockTicks,
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

/**
 * CPU use of the bench's own processes and of everything else on the machine over a window,
 * in % of one core. Other processes' use above a few % means the figures were disturbed.
 */
export class CpuWindow {
  private start = new Map<string, number>();
  private startMain = new Map<string, number>();
  private machine0 = { busy: 0, irq: 0 };
  private procs0 = new Map<number, { name: string; cpu: number }>();
  private t0 = 0;
  constructor(private readonly pids: Record<string, number>) {}
  begin(): void {
    this.t0 = Date.now();
    this.machine0 = machineSeconds();
    this.procs0 = allProcesses();
    for (const [k, pid] of Object.entries(this.pids)) {
      this.start.set(k, cpuSecondsOf(pid));
      this.startMain.set(k, cpuSecondsOf(pid, pid));
    }
  }
  end(): CpuFigures {
    const seconds = (Date.now() - this.t0) / 1000;
    const pct: Record<string, number> = {};
    const mainThreadPct: Record<string, number> = {};
    let ours = 0;
    for (const [k, pid] of Object.entries(this.pids)) {
      const used = cpuSecondsOf(pid) - (this.start.get(k) ?? NaN);
      ours += used;
      pct[k] = Math.round((used / seconds) * 100);
      mainThreadPct[k] = Math.round(((cpuSecondsOf(pid, pid) - (this.startMain.get(k) ?? NaN)) / seconds) * 100);
    }
    const m = machineSeconds();
    const ourPids = new Set(Object.values(this.pids));
    const others = [...allProcesses()]
      .filter(([pid]) => !ourPids.has(pid))
      .map(([pid, p]) => ({ name: p.name, pid, used: p.cpu - (this.procs0.get(pid)?.cpu ?? 0) }))
      .sort((a, b) => b.used - a.used)
      .slice(0, 3)
      .filter((p) => p.used / seconds >= 0.05)
      .map((p) => `${p.name}[${p.pid}] ${Math.round((p.used / seconds) * 100)}%`);
    return {
      pct,
      mainThreadPct,
      othersPct: Math.max(0, Math.round(((m.busy - this.machine0.busy - ours) / seconds) * 100)),
      irqPct: Math.round(((m.irq - this.machine0.irq) / seconds) * 100),
      topOthers: others,
    };
  }
}
