import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemoryFigures } from '../../core/runtime-stats.ts';
import type { WriterStats } from '../../telemetry/sqlite-writer-messages.ts';
import { openSqliteRecords } from '../../records/db.ts';
import { createServiceAccounts } from '../../registry/service-accounts.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { RecordsDb } from '../../records/db.ts';
import { recordsFile } from '../../platform/data-files.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The console account the reliability tests read per-key counters with (`/metrics` shows them to staff only). */
export const OBSERVER = { username: 'reliability-observer', password: 'a quiet lookout on the load 1' };

/** An engineer account for OBSERVER in a records store (cheap scrypt: tests only). */
export async function addObserver(db: RecordsDb): Promise<void> {
  await createAccounts({ db }, { passwordCost: { log2N: 4, r: 8, p: 1 } }).add({
    id: OBSERVER.username,
    name: 'reliability tests',
    role: 'engineer',
    password: OBSERVER.password,
  });
}

/** Provisions vehicles, service accounts and the OBSERVER account into a data dir before the platform process starts. */
export async function provision(
  dataDir: string,
  vehicleIds: string[],
  serviceIds: string[] = [],
): Promise<Map<string, string>> {
  const db = await openSqliteRecords({ file: recordsFile(dataDir) });
  const secrets = new Map<string, string>();
  try {
    await addObserver(db);
    const vehicles = createVehicleRegistry({ db });
    const services = createServiceAccounts({ db });
    for (let i = 0; i < vehicleIds.length; i += 64) {
      const chunk = vehicleIds.slice(i, i + 64);
      const added = await Promise.all(chunk.map((id) => vehicles.add({ id, customerId: 'C1' })));
      added.forEach((a, k) => secrets.set(chunk[k]!, a.secret));
    }
    for (const id of serviceIds) secrets.set(id, (await services.add(id, 'reliability test')).secret);
  } finally {
    await db.destroy();
  }
  return secrets;
}

export interface PlatformProcess {
  child: ChildProcess;
  pid: number;
  ports: { mqtt: number; http: number };
  /** Resolves with the exit code / signal once the process has gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isAlive(): boolean;
  /** The last lines it wrote (stdout and stderr), for a failure message. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `platform/main.ts` (what `npm start` runs) in a child process on ephemeral ports; resolves
 * once it has logged 'platform started' (so LOG_LEVEL must be info or lower).
 */
export async function startPlatformProcess(
  dataDir: string,
  env: Record<string, string> = {},
  startMs = 30_000,
): Promise<PlatformProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'platform/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      REGISTRY_POLL_MS: '200',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n'))
      if (line) out.push(line.length > 2000 ? line.slice(0, 2000) + '…' : line);
    if (out.length > 400) out.splice(0, out.length - 200);
  };
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      resolve({ code, signal });
    }),
  );
  const tail = (n = 40) => out.slice(-n).join('\n');

  // keep every line from the start, so that a failed start shows why
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const ports = await new Promise<{ mqtt: number; http: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`platform did not start within ${startMs} ms:\n${tail()}`));
    }, startMs);
    let partial = '';
    const onData = (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('platform started')) continue;
        try {
          const entry = JSON.parse(line) as { ports?: { mqtt: number; http: number } };
          if (entry.ports) {
            clearTimeout(timer);
            child.stdout!.off('data', onData);
            resolve(entry.ports);
          }
        } catch {
          // not a log line
        }
      }
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`platform exited (${code ?? signal}) before it started:\n${tail()}`));
    });
  });

  return {
    child,
    pid: child.pid!,
    ports,
    exited,
    isAlive: () => alive,
    tail,
    async stop(graceMs = 15_000) {
      if (!alive) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive && child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Resident set size of a live process in MiB (undefined once it is gone). */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface Metrics {
  totals: Record<string, number>;
  byKey: Record<string, Record<string, number>>;
  /** The platform's memory when it answered (core/runtime-stats.ts). */
  memory?: MemoryFigures;
  /** The telemetry writer thread's own heap then (telemetry/sqlite-writer-messages.ts `WriterStats`). */
  runtime?: { telemetryWriter?: Pick<WriterStats, 'heap'> };
}

/** Peak resident memory of a platform process, sampled every `everyMs`, and what held it. */
export interface RssSampler {
  /** The highest RSS seen so far (MiB), the baseline at least. */
  peak(): number;
  /**
   * In words: when the peak came, the RSS's highest by second since sampling began, and at the
   * highest RSS the platform was asked about, what held it (the platform's own memory figures, and
   * the kernel's split of the resident memory and the thread count then), or why there are none.
   */
  heldBy(): string;
  stop(): void;
}

/** The kernel's view of a live process's memory and threads (`/proc/<pid>/status`), in KiB and a count. */
function procStatus(pid: number): { anonKiB: number; fileKiB: number; threads: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { anonKiB: field('RssAnon'), fileKiB: field('RssFile'), threads: field('Threads') };
  } catch {
    return undefined;
  }
}

/**
 * Samples a platform's RSS from /proc. Each time it makes a new high at least `askAboveMiB` over the
 * baseline (and 25 MiB over the last one asked about), it asks the platform's `/metrics.json` what
 * of it is the main thread's heap and Buffers, so that a peak can be told apart: garbage not yet
 * collected, Buffers held, or native memory (threads, SQLite, the allocator). The highest RSS of
 * each second is kept too (bounded: `keepSeconds`), so that a failure says in which phase it grew.
 */
export function sampleRss(
  p: Pick<PlatformProcess, 'pid' | 'ports'>,
  baseline: number,
  options: { everyMs?: number; askAboveMiB?: number; keepSeconds?: number } = {},
): RssSampler {
  const started = Date.now();
  const keepSeconds = options.keepSeconds ?? 600;
  const bySecond: number[] = [];
  let peak = baseline;
  let peakAtMs = 0;
  /** The next high to ask about. */
  let askFrom = baseline + (options.askAboveMiB ?? 100);
  let asking = false;
  let held:
    | { memory: MemoryFigures; writer?: WriterStats['heap']; proc: ReturnType<typeof procStatus>; atMs: number }
    | undefined;
  const timer = setInterval(() => {
    const rss = rssMiB(p.pid);
    if (rss === undefined) return;
    const second = Math.floor((Date.now() - started) / 1000);
    if (second < keepSeconds) bySecond[second] = Math.max(bySecond[second] ?? 0, rss);
    if (rss <= peak) return;
    peak = rss;
    peakAtMs = Date.now() - started;
    if (asking || rss < askFrom) return;
    asking = true;
    askFrom = rss + 25;
    void metrics(p.ports.http)
      .then((m) => {
        if (m.memory && (!held || m.memory.rss > held.memory.rss))
          held = {
            memory: m.memory,
            writer: m.runtime?.telemetryWriter?.heap,
            proc: procStatus(p.pid),
            atMs: Date.now() - started,
          };
      })
      .catch(() => undefined) // a busy platform may not answer in time: the RSS is still sampled
      .finally(() => (asking = false));
  }, options.everyMs ?? 100);
  const mib = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MiB`;
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const heldText = () => {
    if (!held) return 'the platform was not asked (no high above the threshold) or did not answer';
    const { memory: m, writer, proc, atMs } = held;
    const kernel = proc
      ? ` (the kernel: anonymous ${(proc.anonKiB / 1024).toFixed(0)} MiB, file-backed ${(proc.fileKiB / 1024).toFixed(0)} MiB; ${proc.threads} threads)`
      : '';
    const writerText = writer
      ? `, the writer thread's heap ${mib(writer.used)} used of ${mib(writer.total)} (V8 outside it ${mib(writer.malloced)})`
      : '';
    const rest = m.rss - m.heapTotal - m.external - m.v8Malloced - (writer ? writer.total + writer.malloced : 0);
    return `at RSS ${mib(m.rss)}, ${s(atMs)} in${kernel}, the platform reported: main thread's V8 heap ${mib(m.heapUsed)} used of ${mib(m.heapTotal)}, V8 outside it ${mib(m.v8Malloced)}, outside it ${mib(m.external)} (Buffers ${mib(m.arrayBuffers)})${writerText}, the rest native ${mib(rest)}`;
  };
  return {
    peak: () => peak,
    heldBy: () =>
      `peak ${peak.toFixed(0)} MiB ${s(peakAtMs)} after sampling began; highest RSS by second (MiB): ${Array.from(
        bySecond,
        (v) => (v === undefined ? '-' : v.toFixed(0)),
      ).join(' ')}; ${heldText()}`,
    stop: () => clearInterval(timer),
  };
}

const sessions = new Map<number, string>();

/** GET /metrics as the OBSERVER (logged in once per HTTP port), with the counts per key. */
export async function metrics(httpPort: number): Promise<Metrics> {
  const base = `http://127.0.0.1:${httpPort}`;
  let cookie = sessions.get(httpPort);
  if (!cookie) {
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(OBSERVER),
    });
    if (login.status !== 200) throw new Error(`login as ${OBSERVER.username}: ${login.status} ${await login.text()}`);
    cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    sessions.set(httpPort, cookie);
  }
  const res = await fetch(`${base}/metrics.json`, { headers: { cookie } });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const body = (await res.json()) as Partial<Metrics>;
  if (!body.byKey) throw new Error('/metrics did not show the counts per key to a staff session');
  return body as Metrics;
}
