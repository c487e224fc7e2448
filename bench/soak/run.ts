/**
 * `npm run bench:soak`: load and soak. N simulated vehicles (default 10,000) stream at 1 Hz through
 * the whole platform — the real platform process (`node dist/platform/main.js`, built first; fresh
 * temp DATA_DIR, SQLite synchronous=FULL), the simulators' power-system model and reference gateway in
 * 1–4 fleet processes, a few live web consoles in another — for D minutes (default 10, hours if
 * wanted), with fault scenarios from the catalogue injected on a share of the vehicles over time.
 * Prints a status line every 30 s (the trend), then each figure with the bound it is held against,
 * and ends with one line holding a JSON object of the figures. Exits 1 if a bound is broken.
 * See docs/benchmarks.md ("Load and soak") for what each figure means.
 *
 * Every flag can also be given in the environment as SOAK_<FLAG> (e.g. SOAK_VEHICLES=500); a flag wins.
 *   --vehicles N            simulated vehicles (default 10000)
 *   --minutes M             length of the soak after the warm-up (default 10; fractions allowed)
 *   --warmup S              seconds between "every vehicle connected" and the start of the soak (default 120:
 *                           the platform's heap settles after the connect storm, so the RSS start figure is fair)
 *   --batch B|auto          each gateway publishes every B s a batch of the B frames it sampled at 1 Hz
 *                           (1: every frame on its own, as it is sampled; auto, the default: 1 when the
 *                           machine has the CPU for it, else 5 — see CPU_PER_FRAME_MS below)
 *   --fleet-procs P         fleet processes (default: one per 2,500 vehicles, 1–4)
 *   --fault-share F         share of the vehicles that get a fault during the soak (default 0.05)
 *   --consoles C            logged-in live web consoles (default 3; 0: none)
 *   --status-every S        seconds between status lines (default 30)
 *   --seed S                seed of the fleet and of the fault plan (default soak)
 *   --max-rss-growth-pct G  bound on the platform's RSS growth, start → end of the soak (default 10)
 *   --max-ticket-p99-ms T   bound on the ticket latency p99 (default 1000)
 *   --max-lag-p99-ms L      bound on the platform's event-loop lag p99 in every 10 s window (default 250)
 *   --keep-data             keep the temp data dir and print its path
 *
 * Everything runs on 127.0.0.1 on free ports; every child process and the temp dir are removed on
 * exit, also on an error or Ctrl-C. Every phase is bounded in time.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { benchLifecycle } from '../shared/lifecycle.ts';
import {
  cpuBetween,
  cpuMark,
  type CpuMark,
  exited,
  fileLimits,
  memoryOf,
  nextOfType,
  nodeCommand,
  sleep,
} from '../shared/procs.ts';
import { storedByVehicle } from '../shared/stored.ts';
import { planFaults } from './faults.ts';
import { count, emptyBuckets, exactPercentile, merge, percentile, type Buckets } from './histogram.ts';
import {
  request,
  requestId,
  type ConsoleFigures,
  type ConsolesToParent,
  type FleetLedger,
  type FleetToParent,
  type FleetTotals,
  type SoakFault,
  type SoakVehicle,
} from './ipc.ts';
import {
  getJson,
  startPlatform,
  type EventLoopWindow,
  type PlatformMetrics,
  type PlatformProcess,
} from './platform.ts';
import { provision } from './provision.ts';
import { recordsFile, telemetryFile } from '../../platform/data-files.ts';

/**
 * CPU per frame (ms, all our processes together: platform with its writer thread, simulators,
 * consoles, kernel loopback TCP), measured with 1,000 and 2,000 vehicles on the 2-vCPU machine of
 * docs/benchmarks.md, one frame per message and in 5-frame batches; it grows linearly with N.
 * `--batch auto` sends single frames when N × that fits in AUTO_BATCH_SHARE of the cores, else
 * 5-frame batches.
 */
const CPU_PER_FRAME_MS = { unbatched: 0.27, batch5: 0.13 };
const AUTO_BATCH_SHARE = 0.6;
/** The platform keeps up: frames acknowledged during the soak, as a share of the frames sampled. */
const KEEP_UP = 0.98;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = dirname(fileURLToPath(import.meta.url));

const DEFAULTS = {
  vehicles: '10000',
  minutes: '10',
  warmup: '120',
  batch: 'auto',
  'fleet-procs': 'auto',
  'fault-share': '0.05',
  consoles: '3',
  'status-every': '30',
  seed: 'soak',
  'max-rss-growth-pct': '10',
  'max-ticket-p99-ms': '1000',
  'max-lag-p99-ms': '250',
  'keep-data': 'false',
};
type Flag = keyof typeof DEFAULTS;

const { values: given } = parseArgs({
  options: {
    ...(Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, { type: 'string' }])) as Record<
      Exclude<Flag, 'keep-data'>,
      { type: 'string' }
    >),
    'keep-data': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

/** A flag, else SOAK_<FLAG> from the environment, else its default. */
function setting(name: Flag): string {
  const flag = given[name];
  if (flag !== undefined) return String(flag);
  const env = process.env[`SOAK_${name.toUpperCase().replace(/-/g, '_')}`];
  if (env !== undefined && env !== '') return env;
  return DEFAULTS[name];
}
function num(name: Flag, min: number, max = Infinity): number {
  const n = Number(setting(name));
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number from ${min} to ${max}, got ${setting(name)}`);
  return n;
}

const say = (text = '') => process.stdout.write(text + '\n');
const note = (text: string) => process.stderr.write(text + '\n');
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
const fmt = (n: number) => n.toLocaleString('en-US');
const median = (xs: number[]) => exactPercentile(xs, 50);
const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

const keepData = setting('keep-data') === 'true';
const lifecycle = benchLifecycle({ name: 'soak', tempPrefix: 'powerwatch-soak-', keepData: keepData });
const children = lifecycle.children;

// ── processes ───────────────────────────────────────────────────────────────────────────────────

interface Fleet {
  child: ChildProcess;
  label: string;
  vehicles: SoakVehicle[];
}

/** CPU seconds used so far by each process of ours and by the machine. */
function cpuNow(platformPid: number, fleets: Fleet[], consoles: ChildProcess | undefined): CpuMark {
  const pids: Record<string, number> = { platform: platformPid, bench: process.pid };
  fleets.forEach((f, i) => (pids[`fleet${i}`] = f.child.pid!));
  if (consoles?.pid) pids.consoles = consoles.pid;
  return cpuMark(pids);
}

interface CpuShare {
  platform: number;
  platformMain: number;
  fleets: number[];
  consoles: number;
  bench: number;
  /** Everything else on the machine, kernel interrupts (mostly our own loopback TCP) excluded. */
  others: number;
  irq: number;
}

function cpuShare(a: CpuMark, b: CpuMark, fleets: number): CpuShare {
  const c = cpuBetween(a, b);
  const pct = (x: number) => round(x, 1);
  return {
    platform: pct(c.pct.platform!),
    platformMain: pct(c.mainThreadPct.platform!),
    fleets: Array.from({ length: fleets }, (_, i) => pct(c.pct[`fleet${i}`]!)),
    consoles: pct(c.pct.consoles ?? 0),
    bench: pct(c.pct.bench!),
    others: Math.max(0, pct(c.othersPct - c.irqPct)),
    irq: pct(c.irqPct),
  };
}

const cpuText = (c: CpuShare, consoles: boolean) =>
  `platform ${c.platform}% (main thread ${c.platformMain}%), fleet ${c.fleets.map((x) => `${x}%`).join(' + ')}${consoles ? `, consoles ${c.consoles}%` : ''}, bench ${c.bench}%, interrupts ${c.irq}%, other processes ${c.others}%`;

function sumTotals(list: FleetTotals[]): FleetTotals {
  const t = { ...list[0]! };
  for (const x of list.slice(1)) for (const k of Object.keys(t) as (keyof FleetTotals)[]) t[k] += x[k];
  return t;
}

// ── tickets ─────────────────────────────────────────────────────────────────────────────────────

interface TicketSeen {
  id: number;
  vehicleId: string;
  code: string;
  /** The platform's time when it wrote the ticket (the same transaction as the alarm). */
  receivedAt: number;
  /** The alarm's time: the `ts` of the frame that completed the rule's condition. */
  raisedAt: number | null;
  /** When the fleet published that frame (null: not found, e.g. no fault of ours on the vehicle). */
  publishedAt: number | null;
  /** When the first live console received the ticket. */
  consoleAt: number | null;
}

function ticketReader(recordsFile: string) {
  let db: Database.Database | undefined;
  let lastId = 0;
  return {
    /** Rule-opened tickets written since the last call, with the raising alarm's time. */
    poll(): Omit<TicketSeen, 'publishedAt' | 'consoleAt'>[] {
      db ??= new Database(recordsFile, { readonly: true, fileMustExist: true });
      const rows = db
        .prepare(
          `SELECT t.id AS id, t.vehicle_id AS vehicleId, t.fault_code AS code, t.received_at AS receivedAt,
             (SELECT max(a.raised_at) FROM alarms a WHERE a.incident_id = t.incident_id AND a.code = t.fault_code AND a.vehicle_id = t.vehicle_id) AS raisedAt
           FROM tickets t WHERE t.id > ? AND t.source = 'rule' ORDER BY t.id`,
        )
        .all(lastId) as { id: number; vehicleId: string; code: string; receivedAt: number; raisedAt: number | null }[];
      if (rows.length) lastId = rows[rows.length - 1]!.id;
      return rows.map((r) => ({
        ...r,
        receivedAt: Number(r.receivedAt),
        raisedAt: r.raisedAt === null ? null : Number(r.raisedAt),
      }));
    },
    close() {
      db?.close();
      db = undefined;
    },
  };
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  const sxx = points.reduce((s, p) => s + (p[0] - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) / sxx;
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

const USAGE = [
  'Usage: npm run bench:soak -- [--vehicles 10000] [--minutes 10] [--warmup 120] [--batch auto] [--fleet-procs auto]',
  '         [--fault-share 0.05] [--consoles 3] [--status-every 30] [--seed soak] [--keep-data]',
  '         [--max-rss-growth-pct 10] [--max-ticket-p99-ms 1000] [--max-lag-p99-ms 250]',
  'Every flag also as SOAK_<FLAG> in the environment (SOAK_VEHICLES=500 SOAK_MINUTES=1). See docs/benchmarks.md.',
].join('\n');

async function main(): Promise<number> {
  if (given.help) {
    say(USAGE);
    return 0;
  }
  const N = Math.floor(num('vehicles', 1, 100_000));
  const soakS = num('minutes', 0.1) * 60;
  const warmupS = num('warmup', 0);
  const cores = availableParallelism();
  const batchSetting = setting('batch');
  const unbatchedCores = (N * CPU_PER_FRAME_MS.unbatched) / 1000;
  const batchS =
    batchSetting === 'auto' ? (unbatchedCores <= AUTO_BATCH_SHARE * cores ? 1 : 5) : Math.floor(num('batch', 1, 60));
  const procsSetting = setting('fleet-procs');
  const P =
    procsSetting === 'auto' ? Math.min(4, Math.max(1, Math.ceil(N / 2500))) : Math.floor(num('fleet-procs', 1, 16));
  const faultShare = num('fault-share', 0, 1);
  const C = Math.floor(num('consoles', 0, 50));
  const statusS = num('status-every', 1);
  const seed = setting('seed');
  const bound = {
    rssGrowthPct: num('max-rss-growth-pct', 0),
    ticketP99Ms: num('max-ticket-p99-ms', 1),
    lagP99Ms: num('max-lag-p99-ms', 1),
  };

  const limits = fileLimits();
  if (N + 1024 > limits.hard)
    throw new Error(
      `the open-file limit (${limits.hard}) is too low for ${N} connections; raise it with \`ulimit -n\``,
    );
  const fdLimit = Math.min(limits.hard, Math.max(limits.soft, N + 1024));

  const tempDir = lifecycle.tempDir();
  const dataDir = join(tempDir, 'data');
  const started = Date.now();
  say(`soak — ${new Date().toISOString()} — ${availableParallelism()} cores, node ${process.version}`);
  say(
    `${fmt(N)} vehicles at 1 Hz${batchS > 1 ? `, published in batches of ${batchS} frames every ${batchS} s` : ''}, ${P} fleet process${P > 1 ? 'es' : ''}, ` +
      `${round(soakS / 60, 2)} min soak after a ${warmupS} s warm-up, faults on ${round(faultShare * 100, 1)} % of the vehicles, ${C} live console${C === 1 ? '' : 's'}`,
  );

  // ── provision ──
  if (batchSetting === 'auto' && batchS > 1) {
    say(
      `batch auto → ${batchS}: one frame per message, ${fmt(N)} vehicles × 1 Hz would need ≈ ${unbatchedCores.toFixed(1)} cores here (platform + simulators + loopback, ≈ ${CPU_PER_FRAME_MS.unbatched} ms CPU per frame, measured with 2,000 vehicles) ` +
        `of the ${cores}; in ${batchS}-frame batches ≈ ${((N * CPU_PER_FRAME_MS.batch5) / 1000).toFixed(1)} cores. Every frame is still sampled at 1 Hz, stored and evaluated; --batch 1 forces single frames.`,
    );
  }
  say(`provisioning ${fmt(N)} vehicles (scrypt-hashed secrets) and ${C} console accounts …`);
  const { vehicles, logins } = await provision(
    dataDir,
    { count: N, customers: Math.max(1, Math.ceil(N / 500)), consoles: C, seed },
    (n) => n % 2048 === 0 && note(`  ${n}/${N}`),
  );
  say(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // ── platform ──
  const platform: PlatformProcess = await startPlatform(children, ROOT, dataDir, fdLimit);
  say(`platform: pid ${platform.pid}, MQTT 127.0.0.1:${platform.mqttPort}, HTTP ${platform.baseUrl}`);
  const metrics = () => getJson<PlatformMetrics>(`${platform.baseUrl}/metrics.json`, 10_000, platform.metricsToken);
  const health = () => getJson<{ connectedClients: number }>(`${platform.baseUrl}/healthz`);

  // ── consoles ──
  let consoles: ChildProcess | undefined;
  const consoleAt = new Map<number, number>();
  if (C > 0) {
    const loginsFile = join(tempDir, 'logins.json');
    writeFileSync(loginsFile, JSON.stringify(logins), { mode: 0o600 });
    const watchFile = join(tempDir, 'watch.json');
    writeFileSync(watchFile, JSON.stringify(vehicles.slice(0, Math.min(N, 5 * C)).map((v) => v.id)));
    const { command, args } = nodeCommand(
      join(HERE, 'consoles.ts'),
      [`--base=${platform.baseUrl}`, `--logins=${loginsFile}`, `--watch=${watchFile}`],
      1024,
    );
    consoles = children.spawn('consoles', command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    consoles.on('message', (m: ConsolesToParent) => {
      if (m.type === 'ticket' && !consoleAt.has(m.ticket.ticketId))
        consoleAt.set(m.ticket.ticketId, m.ticket.arrivedAt);
    });
    const ready = await nextOfType<ConsolesToParent, 'ready'>(consoles, 'ready', 120_000, 'consoles');
    say(`consoles: ${ready.consoles} logged in and connected (socket.io) in ${(ready.ms / 1000).toFixed(1)} s`);
  }

  // ── fleets ──
  const fleets: Fleet[] = [];
  for (let k = 0; k < P; k++) {
    const from = Math.floor((k * N) / P);
    const to = Math.floor(((k + 1) * N) / P);
    const slice = vehicles.slice(from, to);
    const credsFile = join(tempDir, `fleet-${k}.json`);
    writeFileSync(credsFile, JSON.stringify(slice), { mode: 0o600 });
    const { command, args } = nodeCommand(
      join(HERE, 'fleet.ts'),
      [
        `--port=${platform.mqttPort}`,
        `--creds=${credsFile}`,
        `--offset=${from}`,
        `--total=${N}`,
        `--batch=${batchS}`,
        `--seed=${seed}`,
      ],
      slice.length + 1024,
    );
    const child = children.spawn(`fleet ${k}`, command, args, {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    fleets.push({ child, label: `fleet ${k}`, vehicles: slice });
  }
  const owner = new Map<string, Fleet>();
  for (const f of fleets) for (const v of f.vehicles) owner.set(v.id, f);
  await Promise.all(fleets.map((f) => nextOfType<FleetToParent, 'ready'>(f.child, 'ready', 300_000, f.label)));
  let soakStart = 0;
  let soakEnd = Infinity;
  /** publish → PUBACK of every frame acknowledged during the soak (the fleets' histograms, merged). */
  const ackSoak: Buckets = emptyBuckets();
  let keepAck = false;
  /** The fleets' totals, and their ack histograms since the last call (kept for the soak once it runs). */
  const fleetStats = async () => {
    const answers = await Promise.all(
      fleets.map((f) =>
        request<Extract<FleetToParent, { type: 'stats' }>>(
          f.child,
          { type: 'stats', id: requestId() },
          'stats',
          30_000,
          f.label,
        ),
      ),
    );
    const ack = answers.reduce((b, x) => merge(b, x.ackBuckets), emptyBuckets());
    if (keepAck) merge(ackSoak, ack);
    return { totals: sumTotals(answers.map((x) => x.totals)), ack };
  };

  // ── connect ──
  const t0 = Date.now();
  for (const f of fleets) f.child.send({ type: 'start', t0 });
  say(`connecting ${fmt(N)} gateways (${fleets.length} × ≤ 64 CONNECTs in flight) …`);
  const connectDeadline = t0 + Math.max(120_000, N * 30);
  let connected = 0;
  let lastNote = Date.now();
  while (Date.now() < connectDeadline) {
    await sleep(1000);
    connected = (await health())?.connectedClients ?? connected;
    if (connected >= N) break;
    if (Date.now() - lastNote >= 10_000) {
      lastNote = Date.now();
      note(`  ${fmt(connected)}/${fmt(N)} connected`);
    }
  }
  let connectS = (Date.now() - t0) / 1000;
  let allConnected = connected >= N;
  say(
    allConnected
      ? `  all ${fmt(N)} connected in ${connectS.toFixed(1)} s`
      : `  only ${fmt(connected)} of ${fmt(N)} connected after ${connectS.toFixed(0)} s; going on`,
  );
  // The gateways sample from t0 whether connected or not, so the later ones connect with a backlog
  // to replay: a reconnect storm, as after a platform restart. How long it takes is informative; the
  // soak itself needs every vehicle online when it starts.
  const connectWatch = allConnected
    ? undefined
    : setInterval(() => {
        void health().then((h) => {
          if (!allConnected && (h?.connectedClients ?? 0) >= N) {
            allConnected = true;
            connectS = (Date.now() - t0) / 1000;
            note(`  all ${fmt(N)} connected after ${connectS.toFixed(0)} s`);
          }
        });
      }, 2000);

  // ── sampling: RSS every second, the platform's event loop every 10 s, tickets every 2 s ──
  const rss: { t: number; mb: number }[] = [];
  const loopWindows: EventLoopWindow[] = [];
  const tickets = new Map<number, TicketSeen>();
  const reader = ticketReader(recordsFile(dataDir));
  let faults: SoakFault[] = [];
  let lastMetrics: PlatformMetrics | undefined;

  async function pollTickets(): Promise<void> {
    let rows: ReturnType<typeof reader.poll>;
    try {
      rows = reader.poll();
    } catch (err) {
      note(`  reading tickets: ${(err as Error).message}`);
      return;
    }
    if (!rows.length) return;
    const byFleet = new Map<Fleet, TicketSeen[]>();
    for (const r of rows) {
      const t: TicketSeen = { ...r, publishedAt: null, consoleAt: null };
      tickets.set(t.id, t);
      const f = owner.get(t.vehicleId);
      if (f && t.raisedAt !== null) byFleet.set(f, [...(byFleet.get(f) ?? []), t]);
    }
    await Promise.all(
      [...byFleet].map(async ([f, list]) => {
        const m = await request<Extract<FleetToParent, { type: 'publishedAt' }>>(
          f.child,
          {
            type: 'publishedAt',
            id: requestId(),
            queries: list.map((t) => ({ vehicleId: t.vehicleId, ts: t.raisedAt! })),
          },
          'publishedAt',
          30_000,
          f.label,
        ).catch(() => undefined);
        m?.answers.forEach((at, i) => (list[i]!.publishedAt = at));
      }),
    );
  }

  async function pollMetrics(): Promise<void> {
    const m = await metrics();
    if (!m) return;
    lastMetrics = m;
    const w = m.eventLoop?.last;
    if (w && !loopWindows.some((x) => x.at === w.at)) loopWindows.push(w);
  }

  let lastCpu = cpuNow(platform.pid, fleets, consoles);
  let ackedMark = 0;
  let sampledMark = 0;
  let statusAt = Date.now();
  const trend: { atS: number; rssMB: number; lagP99Ms: number | null; framesPerS: number; platformCpu: number }[] = [];

  async function status(now: number): Promise<void> {
    await pollMetrics();
    const { totals, ack } = await fleetStats();
    const c = cpuNow(platform.pid, fleets, consoles);
    const cpu = cpuShare(lastCpu, c, fleets.length);
    const s = (now - statusAt) / 1000;
    const ackedPerS = (totals.framesAcked - ackedMark) / s;
    const sampledPerS = (totals.framesSampled - sampledMark) / s;
    lastCpu = c;
    ackedMark = totals.framesAcked;
    sampledMark = totals.framesSampled;
    statusAt = now;
    const con = consoles
      ? (
          await request<Extract<ConsolesToParent, { type: 'stats' }>>(
            consoles,
            { type: 'stats', id: requestId() },
            'stats',
            10_000,
            'consoles',
          ).catch(() => undefined)
        )?.figures
      : undefined;
    const mb = rss.length ? rss[rss.length - 1]!.mb : NaN;
    const base = soakStart ? baselineRss() : null;
    const lag = loopWindows[loopWindows.length - 1];
    const stored = lastMetrics?.totals?.['ingest.frames_stored'];
    const phase = !soakStart ? 'warm-up' : now <= soakEnd ? `soak ${clock(now - soakStart)}` : 'drain';
    say(
      `[${clock(now - t0)} ${phase}] online ${fmt(totals.online)}/${fmt(N)} · ${fmt(Math.round(ackedPerS))} frames/s acked (${fmt(Math.round(sampledPerS))} sampled/s) · ` +
        `acked ${fmt(totals.framesAcked)}, stored ${stored === undefined ? '?' : fmt(stored)}, unacked ${fmt(totals.buffered)} · ack p99 ${percentile(ack, 99) ?? '–'} ms · ` +
        `faults ${faults.filter((f) => f.startTs <= now).length}, tickets ${tickets.size} · ` +
        `RSS ${round(mb)} MB${base ? ` (${(((mb - base) / base) * 100).toFixed(1)} %)` : ''} · loop lag p99 ${lag ? `${lag.p99Ms} ms` : '–'}, busy ${lag ? `${Math.round(lag.utilization * 100)} %` : '–'}` +
        (con ? ` · consoles ${con.connected}/${con.consoles}` : '') +
        ` · CPU ${cpuText(cpu, !!consoles)}`,
    );
    if (soakStart && now <= soakEnd)
      trend.push({
        atS: Math.round((now - soakStart) / 1000),
        rssMB: round(mb),
        lagP99Ms: lag?.p99Ms ?? null,
        framesPerS: Math.round(ackedPerS),
        platformCpu: cpu.platform,
      });
  }

  /**
   * RSS at the start (end) of the soak: the median of the samples in its first (last) `edgeS`
   * seconds — 10 % of the soak, at least 30 s (a quarter of a soak shorter than 2 min), at most 5 min:
   * the heap breathes by tens of MB between collections, a single sample would be noise.
   */
  const edgeS = () => Math.round(Math.min(300, Math.max(Math.min(30, soakS / 4), soakS * 0.1)));
  const baselineRss = () =>
    median(rss.filter((r) => r.t >= soakStart && r.t <= soakStart + edgeS() * 1000).map((r) => r.mb));

  /** Runs the samplers (RSS each second, metrics, tickets, status lines) until `until`; throws if a process died. */
  async function sampleUntil(until: number): Promise<void> {
    let nextMetrics = 0;
    let nextTickets = 0;
    while (Date.now() < until) {
      const now = Date.now();
      const m = memoryOf(platform.pid);
      if (!m)
        throw new Error(
          `the platform (pid ${platform.pid}) is gone: exit ${platform.child.exitCode ?? platform.child.signalCode}\n${platform.warnings().slice(-10).join('\n')}`,
        );
      rss.push({ t: now, mb: m.rssMB });
      if (now >= nextMetrics) {
        nextMetrics = now + 10_000;
        await pollMetrics();
      }
      if (now >= nextTickets) {
        nextTickets = now + 2000;
        await pollTickets();
      }
      if (now - statusAt >= statusS * 1000) await status(now);
      for (const f of fleets)
        if (exited(f.child)) throw new Error(`${f.label} exited (${f.child.exitCode ?? f.child.signalCode})`);
      await sleep(Math.max(10, 1000 - (Date.now() - now)));
    }
  }

  // ── warm-up ──
  if (warmupS > 0) say(`warm-up: ${warmupS} s at full load, no faults …`);
  await sampleUntil(Date.now() + warmupS * 1000);
  if (!allConnected) {
    say('  not every vehicle is online yet: the warm-up goes on until they are (at most 10 min) …');
    const until = Date.now() + 600_000;
    while (!allConnected && Date.now() < until) await sampleUntil(Date.now() + 10_000);
  }
  if (connectWatch) clearInterval(connectWatch);
  const onlineAtSoakStart = (await health())?.connectedClients ?? 0;

  // ── soak ──
  const soak0 = (await fleetStats()).totals; // also empties the fleets' ack histograms: the soak's own start
  soakStart = Date.now();
  soakEnd = soakStart + soakS * 1000;
  keepAck = true;
  faults = planFaults(vehicles, Math.round(N * faultShare), soakStart + 1000, soakS, seed);
  for (const f of fleets) {
    const ids = new Set(f.vehicles.map((v) => v.id));
    f.child.send({ type: 'faults', faults: faults.filter((x) => ids.has(x.vehicleId)) });
  }
  const kinds = [...new Set(faults.map((f) => f.name))];
  say(
    `soak: ${round(soakS / 60, 2)} min; ${faults.length} faults over its first ${round((soakS * 0.8) / 60, 1)} min (${kinds.map((k) => `${k} ×${faults.filter((f) => f.name === k).length}`).join(', ')})`,
  );
  const cpuSoak0 = cpuNow(platform.pid, fleets, consoles);
  await sampleUntil(soakEnd);
  await pollMetrics();
  const cpuSoak1 = cpuNow(platform.pid, fleets, consoles);
  const soak1 = (await fleetStats()).totals;
  keepAck = false;
  const fleetRssAtEnd = fleets.map((f) => memoryOf(f.child.pid!)?.rssMB ?? NaN);
  const consolesRssAtEnd = consoles?.pid ? memoryOf(consoles.pid)?.rssMB : undefined;

  // ── stop: drain the gateways, close the consoles, stop the platform gracefully ──
  say(`stopping: gateways drain (≤ 60 s) and disconnect …`);
  const stopped = await Promise.all(
    fleets.map((f) =>
      request<Extract<FleetToParent, { type: 'stopped' }>>(
        f.child,
        { type: 'stop', id: requestId(), drainMs: 60_000 },
        'stopped',
        180_000,
        f.label,
      ),
    ),
  );
  // tickets opened by the last frames: give diagnostics a moment, then look them up while the fleets still answer
  await sleep(2000);
  await pollTickets();
  for (const f of fleets) f.child.send({ type: 'exit' });
  await Promise.all(fleets.map((f) => children.stop(f.child, 10_000)));
  const consoleFigures: ConsoleFigures | undefined = consoles
    ? (
        await request<Extract<ConsolesToParent, { type: 'stopped' }>>(
          consoles,
          { type: 'stop', id: requestId() },
          'stopped',
          30_000,
          'consoles',
        ).catch(() => undefined)
      )?.figures
    : undefined;
  const finalMetrics = (await metrics()) ?? lastMetrics;
  const warnings = platform.warningCount();
  const firstWarnings = platform.warnings().slice(0, 3);
  const hwmMB = memoryOf(platform.pid)?.hwmMB ?? NaN;
  const stopT0 = Date.now();
  const exitCode = await children.stop(platform.child, 60_000);
  const stopS = (Date.now() - stopT0) / 1000;
  await pollTickets().catch(() => undefined);
  reader.close();
  for (const t of tickets.values()) t.consoleAt = consoleAt.get(t.id) ?? null;

  // ── zero loss: every PUBACKed frame is in telemetry.db ──
  const stored = storedByVehicle(telemetryFile(dataDir));
  const ledger: FleetLedger = { ids: [], sampled: [], acked: [], buffered: [], dropped: [], lostOnReboot: [] };
  for (const s of stopped)
    for (const k of Object.keys(ledger) as (keyof FleetLedger)[])
      (ledger[k] as (string | number)[]).push(...(s.ledger[k] as (string | number)[]));
  let lost = 0;
  let lostVehicles = 0;
  let storedTotal = 0;
  let storedUnacked = 0;
  ledger.ids.forEach((id, i) => {
    const n = stored.get(id) ?? 0;
    const acked = ledger.acked[i]!;
    storedTotal += n;
    if (acked > n) {
      lost += acked - n;
      lostVehicles++;
    } else storedUnacked += n - acked;
  });
  const end = sumTotals(stopped.map((s) => s.totals));
  const unaccounted = end.framesSampled - end.framesAcked - end.buffered - end.dropped - end.lostOnReboot;
  const drained = stopped.every((s) => s.drained);

  // ── figures ──
  const rssSoak = rss.filter((r) => r.t >= soakStart && r.t <= soakEnd);
  const rssStart = baselineRss() ?? NaN;
  const rssEnd = median(rssSoak.filter((r) => r.t >= soakEnd - edgeS() * 1000).map((r) => r.mb)) ?? NaN;
  const rssMax = Math.max(...rssSoak.map((r) => r.mb));
  const rssGrowthPct = ((rssEnd - rssStart) / rssStart) * 100;
  const rssSlopeMBPerH = slope(rssSoak.map((r) => [(r.t - soakStart) / 3_600_000, r.mb]));
  const processRss = {
    fleets: fleetRssAtEnd.map((x) => round(x)),
    consoles: consolesRssAtEnd === undefined ? null : round(consolesRssAtEnd),
  };

  const windows = loopWindows.filter((w) => w.at - w.spanMs >= soakStart - 1000 && w.at <= soakEnd + 10_000);
  const lagWorstP99 = windows.length ? Math.max(...windows.map((w) => w.p99Ms)) : NaN;
  const lagMedianP99 = median(windows.map((w) => w.p99Ms)) ?? NaN;
  const lagMax = windows.length ? Math.max(...windows.map((w) => w.maxMs)) : NaN;
  const loopBusy = windows.length ? windows.reduce((x, w) => x + w.utilization, 0) / windows.length : NaN;

  const faultOf = new Map(faults.map((f) => [f.vehicleId, f]));
  const all = [...tickets.values()];
  const ours = all.filter((t) => faultOf.get(t.vehicleId)?.ticketCode === t.code);
  const others = all.filter((t) => faultOf.get(t.vehicleId)?.ticketCode !== t.code);
  const useConsole = C > 0;
  const latencies: number[] = [];
  const timed: { t: TicketSeen; ms: number }[] = [];
  let fromTs = 0;
  const fallbacks: string[] = [];
  let fromStamp = 0;
  for (const t of ours) {
    const shown = useConsole && t.consoleAt !== null ? t.consoleAt : t.receivedAt;
    if (useConsole && t.consoleAt === null) fromStamp++;
    if (t.publishedAt === null) {
      // its frame's publish is unknown (e.g. the fleet had gone): timed from the frame's ts — an
      // upper bound (with batches up to B s too much), so reported apart, not in the percentiles
      fromTs++;
      if (fallbacks.length < 3 && t.raisedAt !== null)
        fallbacks.push(`${t.vehicleId} ${t.code} ${shown - t.raisedAt} ms`);
      continue;
    }
    latencies.push(shown - t.publishedAt);
    timed.push({ t, ms: shown - t.publishedAt });
  }
  const slowest = timed
    .sort((x, y) => y.ms - x.ms)
    .slice(0, 3)
    .map(
      ({ t, ms }) =>
        `${t.vehicleId} ${t.code} ${ms} ms (written ${t.receivedAt - t.publishedAt!} ms after the publish)`,
    );
  const stampLatencies = ours.filter((t) => t.publishedAt !== null).map((t) => t.receivedAt - t.publishedAt!);
  const ticketP50 = exactPercentile(latencies, 50);
  const ticketP99 = exactPercentile(latencies, 99);
  const ticketMax = latencies.length ? Math.max(...latencies) : null;
  const expected = faults.filter((f) => f.ticketCode !== null && f.startTs + f.ticketWithinS * 1000 <= soakEnd);
  const missing = expected.filter((f) => !ours.some((t) => t.vehicleId === f.vehicleId));
  const byKind = new Map<string, { injected: number; expected: number; tickets: number; startToTicket: number[] }>();
  for (const f of faults) {
    const k = byKind.get(f.name) ?? { injected: 0, expected: 0, tickets: 0, startToTicket: [] };
    k.injected++;
    if (expected.includes(f)) k.expected++;
    const t = ours.find((x) => x.vehicleId === f.vehicleId);
    if (t) {
      k.tickets++;
      k.startToTicket.push(round((t.receivedAt - f.startTs) / 1000, 1));
    }
    byKind.set(f.name, k);
  }

  const soakWallS = (soakEnd - soakStart) / 1000;
  const soakAckedPerS = (soak1.framesAcked - soak0.framesAcked) / soakWallS;
  const soakSampledPerS = (soak1.framesSampled - soak0.framesSampled) / soakWallS;
  const cpu = cpuShare(cpuSoak0, cpuSoak1, fleets.length);
  const totals = finalMetrics?.totals ?? {};

  // ── report ──
  const verdicts: boolean[] = [];
  const check = (ok: boolean) => {
    verdicts.push(ok);
    return ok ? 'PASS' : 'FAIL';
  };
  const pad = (s: string) => s.padEnd(30);
  say('');
  say('results');
  say(
    `  ${pad('vehicles')}${fmt(N)} provisioned; ${fmt(onlineAtSoakStart)} online when the soak started   bound: all   ${check(onlineAtSoakStart >= N)}`,
  );
  say(
    `  ${pad('connect storm')}${allConnected ? `all connected ${connectS.toFixed(1)} s after the start` : `not all connected after ${connectS.toFixed(0)} s`} (gateways sampling from the start replay their backlog as they connect; informative)`,
  );
  const keptUp = soakAckedPerS >= KEEP_UP * soakSampledPerS;
  say(
    `  ${pad('load during the soak')}${fmt(Math.round(soakAckedPerS))} frames/s acknowledged of ${fmt(Math.round(soakSampledPerS))} sampled/s (${fmt(N)} vehicles × 1 Hz${batchS > 1 ? `, in ${batchS}-frame batches` : ''})   bound: ≥ ${KEEP_UP * 100} % of the sampled rate   ${check(keptUp)}`,
  );
  say(
    `  ${pad('frames')}sampled ${fmt(end.framesSampled)}, sent in ${fmt(end.messagesSent)} messages, acknowledged ${fmt(end.framesAcked)}, stored ${fmt(storedTotal)} (telemetry.db after the graceful stop)`,
  );
  say(
    `  ${pad('zero loss')}lost ${fmt(lost)} (acknowledged but not stored${lostVehicles ? `, on ${lostVehicles} vehicles` : ''}); stored without a PUBACK ${fmt(storedUnacked)}   bound: 0 lost   ${check(lost === 0)}`,
  );
  say(
    `  ${pad('backlog at the end')}${fmt(end.buffered)} frames not acknowledged after the drain${drained ? '' : ' (drain timed out)'}; dropped by full buffers ${fmt(end.dropped)}; lost on reboot (RAM buffer, by design) ${fmt(end.lostOnReboot)}; unaccounted ${fmt(unaccounted)}   bound: 0 / 0 / – / 0   ${check(end.buffered === 0 && end.dropped === 0 && unaccounted === 0)}`,
  );
  say(
    `  ${pad('publish → PUBACK (= stored)')}p50 ${percentile(ackSoak, 50) ?? '–'} ms, p99 ${percentile(ackSoak, 99) ?? '–'} ms over ${fmt(count(ackSoak))} frames of the soak (informative)`,
  );
  say(`  ${pad('faults')}${faults.length} injected (${[...byKind].map(([k, v]) => `${k} ${v.injected}`).join(', ')})`);
  say(
    `  ${pad('tickets')}${ours.length} opened by our faults, ${expected.length - missing.length} of the ${expected.length} expected${
      missing.length
        ? `; missing: ${missing
            .slice(0, 5)
            .map((f) => `${f.vehicleId} ${f.ticketCode} (${f.name})`)
            .join(', ')}${missing.length > 5 ? ' …' : ''}`
        : ''
    }; other tickets ${others.length}${others.length ? ` (${[...new Set(others.map((t) => t.code))].join(', ')})` : ''}   bound: every expected ticket   ${check(missing.length === 0)}`,
  );
  say(
    `  ${pad('ticket latency')}p50 ${ticketP50 ?? '–'} ms, p99 ${ticketP99 ?? '–'} ms, max ${ticketMax ?? '–'} ms over ${latencies.length} tickets: publish of the frame that completed the fault's condition → ticket ${useConsole ? 'on a live console' : 'written (received_at)'}   bound: p99 < ${bound.ticketP99Ms} ms   ${check(ticketP99 === null || ticketP99 < bound.ticketP99Ms)}`,
  );
  if (slowest.length) say(`  ${pad('')}slowest: ${slowest.join(', ')}`);
  if (useConsole && stampLatencies.length)
    say(
      `  ${pad('')}to the ticket's received_at stamp: p50 ${exactPercentile(stampLatencies, 50)} ms, p99 ${exactPercentile(stampLatencies, 99)} ms`,
    );
  if (fromTs)
    say(
      `  ${pad('')}${fromTs} more whose frame's publish was not found, timed from the frame's ts (upper bound, not in the figures above)${fallbacks.length ? `: ${fallbacks.join(', ')}` : ''}`,
    );
  if (fromStamp) say(`  ${pad('')}${fromStamp} timed to the ticket's received_at: no console saw them`);
  for (const [k, v] of byKind) {
    if (!v.startToTicket.length && !v.expected) continue;
    say(
      `  ${pad(`  ${k}`)}fault start → ticket: median ${median(v.startToTicket) ?? '–'} s, max ${v.startToTicket.length ? Math.max(...v.startToTicket) : '–'} s (${v.tickets} tickets, ${v.expected} expected; includes the rule's hold and the time the fault takes to show)`,
    );
  }
  say(
    `  ${pad('platform RSS')}start ${round(rssStart)} MB (median of the soak's first ${edgeS()} s), end ${round(rssEnd)} MB (its last ${edgeS()} s), max ${round(rssMax)} MB; growth ${rssGrowthPct.toFixed(1)} % (least-squares trend ${rssSlopeMBPerH >= 0 ? '+' : ''}${round(rssSlopeMBPerH)} MB/h)   bound: < ${bound.rssGrowthPct} %   ${check(rssGrowthPct < bound.rssGrowthPct)}`,
  );
  say(`  ${pad('')}peak of the whole run (VmHWM, connect storm included) ${round(hwmMB)} MB`);
  say(
    `  ${pad('platform event-loop lag')}p99 per 10 s window: median ${lagMedianP99} ms, worst ${lagWorstP99} ms; max ${lagMax} ms; loop busy ${Math.round(loopBusy * 100)} % (${windows.length} windows)   bound: every window p99 < ${bound.lagP99Ms} ms   ${check(windows.length > 0 && lagWorstP99 < bound.lagP99Ms)}`,
  );
  say(`  ${pad('CPU over the soak')}${cpuText(cpu, !!consoles)} (% of one core; informative)`);
  say(
    `  ${pad('RSS of the other processes')}fleet ${processRss.fleets.map((x) => `${x} MB`).join(' + ')}${processRss.consoles === null ? '' : `, consoles ${processRss.consoles} MB`} (at the end of the soak; informative)`,
  );
  if (consoleFigures) {
    say(
      `  ${pad('live consoles')}${consoleFigures.connected}/${consoleFigures.consoles} connected at the end; received ${fmt(consoleFigures.fleetMessages)} fleet updates (${fmt(consoleFigures.fleetEntries)} vehicle entries), ${fmt(consoleFigures.frames)} frames, ${fmt(consoleFigures.alarms)} alarms, ${fmt(consoleFigures.tickets)} tickets; ${consoleFigures.disconnects} disconnects${consoleFigures.firstError ? ` (first: ${consoleFigures.firstError})` : ''}`,
    );
  }
  const counter = (k: string) => totals[k] ?? 0;
  say(
    `  ${pad('platform counters')}frames stored ${fmt(counter('ingest.frames_stored'))}, duplicates ${fmt(counter('ingest.frames_duplicate'))}, rejected ${fmt(counter('ingest.rejected'))}, seq gaps ${fmt(counter('telemetry.seq_gaps'))}, backfill requests ${fmt(counter('telemetry.backfill_requests'))}, frames given up ${fmt(counter('telemetry.frames_lost'))}, seq restarts ${fmt(counter('telemetry.seq_restarts'))}, refused connects ${fmt(counter('mqtt.connect_refused'))}`,
  );
  say(
    `  ${pad('graceful stop')}SIGTERM → exit ${exitCode} in ${stopS.toFixed(1)} s   bound: exit 0   ${check(exitCode === 0)}`,
  );
  if (warnings)
    say(
      `  ${pad('platform warnings')}${warnings} lines at warn level or above; first: ${firstWarnings.map((w) => w.slice(0, 200)).join(' | ')}`,
    );
  if (cpu.others > 15)
    say(`  WARNING: other processes used ${cpu.others} % of a core during the soak; the figures are disturbed`);
  say(`  total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const pass = verdicts.every(Boolean);
  say(pass ? 'PASS' : 'FAIL');

  const step = Math.max(1, Math.ceil(trend.length / 24));
  const figures = {
    vehicles: N,
    minutes: round(soakS / 60, 2),
    batch: batchS,
    fleetProcs: P,
    consoles: C,
    connectS: round(connectS, 1),
    onlineAtSoakStart,
    framesPerS: Math.round(soakAckedPerS),
    sampledPerS: Math.round(soakSampledPerS),
    sampled: end.framesSampled,
    acked: end.framesAcked,
    stored: storedTotal,
    lost,
    unackedAtEnd: end.buffered,
    dropped: end.dropped,
    lostOnReboot: end.lostOnReboot,
    ackP50Ms: percentile(ackSoak, 50),
    ackP99Ms: percentile(ackSoak, 99),
    faults: faults.length,
    ticketsExpected: expected.length,
    ticketsOpened: ours.length,
    ticketsMissing: missing.length,
    otherTickets: others.length,
    ticketP50Ms: ticketP50,
    ticketP99Ms: ticketP99,
    ticketMaxMs: ticketMax,
    ticketBasis: useConsole ? 'console' : 'received_at',
    ticketsUntimed: fromTs,
    rssStartMB: round(rssStart),
    rssEndMB: round(rssEnd),
    rssMaxMB: round(rssMax),
    rssGrowthPct: round(rssGrowthPct, 1),
    rssSlopeMBPerH: round(rssSlopeMBPerH),
    fleetRssMB: processRss.fleets,
    lagP99MedianMs: lagMedianP99,
    lagP99WorstMs: lagWorstP99,
    lagMaxMs: lagMax,
    loopBusyPct: Math.round(loopBusy * 100),
    cpuPct: {
      platform: cpu.platform,
      platformMain: cpu.platformMain,
      fleets: cpu.fleets,
      consoles: cpu.consoles,
      bench: cpu.bench,
      interrupts: cpu.irq,
      others: cpu.others,
    },
    exitCode,
    trend: trend.filter((_, i) => i % step === 0 || i === trend.length - 1),
    bounds: bound,
    pass,
    cores,
  };
  say(JSON.stringify(figures));
  return pass ? 0 : 1;
}

lifecycle.run(main);
