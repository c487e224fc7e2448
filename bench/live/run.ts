/**
 * `npm run bench:live`: the web console's live layer under a fleet's load. The real platform runs as
 * its own process; simulated vehicles publish over MQTT (QoS 1) from load processes; console
 * processes log in through POST /api/auth/login and hold real socket.io connections, subscribed so
 * that every vehicle is watched, and receive the `fleet` updates. Measures publish → arrival in a
 * console of each frame, frames delivered against those expected, and, while that runs, a 24-hour
 * history query of one vehicle (86,400 frames at 1 Hz, seeded into telemetry.db before the start)
 * downsampled to 2,000 points, and the fleet list (GET /api/vehicles), each until the answer's last
 * byte has arrived (decoding and parsing it in this process, which shares the machine's cores with
 * the load, is printed beside it, not counted: 5–19 ms for the history on a 2-core machine). See
 * docs/benchmarks.md.
 *
 * Settings (environment):
 *   BENCH_VEHICLES        simulated vehicles (default 2000; quick 200)
 *   BENCH_CONSOLES        console connections, one account each (default 50; quick 10)
 *   BENCH_SECONDS         measured window, seconds (default 60; quick 10)
 *   BENCH_WARMUP          warm-up before the window, seconds (default 10; quick 3)
 *   BENCH_RATE_HZ         frames per second per vehicle (default 1)
 *   BENCH_SUBSCRIPTIONS   vehicles each console subscribes to (default 0: as many as the platform's
 *                         LIVE_MAX_SUBSCRIPTIONS allows; at least vehicles/consoles are needed)
 *   BENCH_HISTORY_FRAMES  frames of history seeded for the queried vehicle (default 86400)
 *   BENCH_HISTORY_RUNS    history (and fleet list) queries spread over the window (default 10; quick 5)
 *   BENCH_WARMUP_QUERIES  rounds of one history and one fleet list query in the warm-up, a second
 *                         apart, not counted (default 3; quick 1)
 *   BENCH_LOAD_PROCS      load processes the vehicles are split over (default 2)
 *   BENCH_CONSOLE_PROCS   processes the consoles are split over (default 2)
 *   BENCH_QUIET_WAIT      before the run, wait up to this many seconds for 3 s in which other
 *                         processes use less than 15 % of a core (default 120; quick 15; 0: don't)
 *   BENCH_QUICK=1         the quick defaults above (a smoke run of about 40 s)
 *   BENCH_KEEP_DATA=1     keep the temp data dir and print its path
 *   BENCH_PROFILE_DIR     write a V8 CPU profile of the platform there (node --cpu-prof)
 * Platform settings (LIVE_*, INGEST_*, …) are passed on to the platform process.
 *
 * Everything runs on 127.0.0.1 with ports picked free; every child process and the temp dir are
 * removed at the end, also on an error or Ctrl-C. The last line is one JSON object.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { provisionVehicles } from '../shared/provision.ts';
import { benchLifecycle } from '../shared/lifecycle.ts';
import {
  CpuWindow,
  type CpuFigures,
  fileLimits,
  mainThreadApart,
  memoryOf,
  nodeCommand,
  sleep,
  waitForQuiet,
} from '../shared/procs.ts';
import { createConsoleAccounts } from './accounts.ts';
import { delivery } from './delivery.ts';
import { historyFrame, seedTelemetry } from './history.ts';
import {
  nextMessage,
  tell,
  type ConsolesResult,
  type ConsolesToParent,
  type FleetResult,
  type FleetToParent,
  type Schedule,
} from './ipc.ts';
import { metricsOf, startPlatform, type PlatformProcess } from './platform.ts';
import {
  beginBreakdown,
  beginProfile,
  breakdownJson,
  breakdownLines,
  withProfile,
  type Breakdown,
  type ProfiledPart,
} from '../shared/breakdown.ts';
import { login } from '../shared/console-client.ts';
import { appTiming, mergeHistograms, pairsToHistogram, summarize, summarizeHistogram, type Summary } from './stats.ts';
import { telemetryFile } from '../../platform/data-files.ts';
import { platformNodeFlags } from '../platform-process.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = dirname(fileURLToPath(import.meta.url));

/**
 * The bounds the figures are held against: issue 17's "Done when" (issue 5, the web console, had set
 * p99 < 250 ms and a worst history query < 100 ms).
 */
const TARGET = { p99Ms: 50, historyMs: 50, fleetListMs: 30 };
const HISTORY_SPAN_MS = 86_400_000;
const HISTORY_POINTS = 2000;
/** Publishing goes on this long after the window, so the last measured frames travel under the same load. */
const TAIL_MS = 2000;
/**
 * The CPU profile: a stretch of the same load starting a second after the window, not the window
 * itself (the profiler would lengthen the tail measured in it: bench/shared/breakdown.ts).
 */
const PROFILE_GAP_MS = 1000;
const PROFILE_MS = 5000;
/** After the fleet stops: time for the last frames to reach the consoles before they report. */
const SETTLE_MS = 2000;
/** Other processes using more than this (% of one core) during the window disturb it. */
const DISTURBED_PCT = 15;

const quick = process.env.BENCH_QUICK === '1';
function setting(name: string, normal: number, quickValue = normal, min = 0): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? (quick ? quickValue : normal) : Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got ${raw}`);
  return n;
}

const say = (text = '') => process.stdout.write(text + '\n');
const note = (text: string) => process.stderr.write(text + '\n');
const keepData = process.env.BENCH_KEEP_DATA === '1';
const lifecycle = benchLifecycle({ name: 'bench', tempPrefix: 'powerwatch-bench-live-', keepData: keepData });
const children = lifecycle.children;

interface Settings {
  vehicles: number;
  consoles: number;
  seconds: number;
  warmup: number;
  rateHz: number;
  subscriptions: number;
  historyFrames: number;
  historyRuns: number;
  warmupQueries: number;
  quietWait: number;
  loadProcs: number;
  consoleProcs: number;
  fdLimit: number;
}

function spawnChild(label: string, script: string, args: string[], fdLimit: number): ChildProcess {
  const { command, args: argv } = nodeCommand(join(HERE, script), args, fdLimit);
  return children.spawn(label, command, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Splits 0…n into k nearly equal [from, to) slices. */
const slices = (n: number, k: number) =>
  Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)] as const).filter(
    ([a, b]) => b > a,
  );

/** A query's parts, in ms: until its headers came, then its body; then decoding and parsing it in the bench (not counted). */
interface Parts {
  headers: number;
  body: number;
  decode: number;
  parse: number;
  /** The platform's own time over the request, its `Server-Timing: app;dur=` (undefined without one). */
  app: number | undefined;
}

interface Probe {
  /** GET /healthz just before each history query: how long any request waits for the platform's event loop. */
  healthMs: number[];
  historyMs: number[];
  /** Each history query's parts: until the answer's headers came, then its body (historyMs is their sum), then decoding and JSON.parse in this process (not counted). */
  historyParts: Parts[];
  historyPoints: number;
  historyFrames: number;
  listMs: number[];
  /** The same parts of each fleet list query (the text decoded and parsed here, not counted). */
  listParts: Parts[];
  listBytes: number;
  listVehicles: number;
  /** Each warm-up round (not counted): the history's time and its Server-Timing, then the fleet list's. */
  warmups: [number, number, number, number][];
  errors: string[];
}

/** The history and fleet list queries, spread over the window, one after the other (as one operator would). */
async function probes(
  s: Settings,
  platform: PlatformProcess,
  cookie: string,
  vehicleId: string,
  schedule: Schedule,
): Promise<Probe> {
  const p: Probe = {
    healthMs: [],
    historyMs: [],
    historyParts: [],
    historyPoints: 0,
    historyFrames: 0,
    listMs: [],
    listParts: [],
    listBytes: 0,
    listVehicles: 0,
    warmups: [],
    errors: [],
  };
  const every = (schedule.windowEnd - schedule.windowStart) / s.historyRuns;
  /** The console's 24-hour chart of the seeded vehicle, up to `to`. */
  const historyPath = (to: number) =>
    `/api/vehicles/${encodeURIComponent(vehicleId)}/telemetry?from=${to - HISTORY_SPAN_MS}&to=${to}&maxPoints=${HISTORY_POINTS}`;
  // during the warm-up, not counted: the platform's first such queries prepare statements and
  // compile code paths (the first queries after a start cost more: that is not the steady state);
  // `warmupQueries` rounds, a second apart, ending 2 s (at most half the warm-up) before the window
  if (s.warmup > 0)
    for (let r = 0; r < s.warmupQueries; r++) {
      const lead = Math.min(2000, (s.warmup * 1000) / 2) + (s.warmupQueries - 1 - r) * 1000;
      await sleep(Math.max(0, schedule.windowStart - lead - Date.now()));
      const to = Date.now();
      const times: number[] = [];
      for (const url of [historyPath(to), '/api/vehicles']) {
        const t0 = performance.now();
        await fetch(`${platform.baseUrl}${url}`, { headers: { cookie }, signal: AbortSignal.timeout(30_000) })
          .then(async (res) => {
            await res.arrayBuffer();
            times.push(performance.now() - t0, appTiming(res.headers.get('server-timing')) ?? NaN);
          })
          .catch((err: unknown) => p.errors.push(`warm-up ${url}: ${(err as Error).message}`));
      }
      if (times.length === 4) p.warmups.push(times as [number, number, number, number]);
    }
  for (let k = 0; k < s.historyRuns; k++) {
    await sleep(Math.max(0, schedule.windowStart + (k + 0.3) * every - Date.now()));
    try {
      const t0 = performance.now();
      const res = await fetch(`${platform.baseUrl}/healthz`, { signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      p.healthMs.push(performance.now() - t0);
    } catch (err) {
      p.errors.push(`healthz: ${(err as Error).message}`);
    }
    const to = Date.now();
    const url = `${platform.baseUrl}${historyPath(to)}`;
    try {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { cookie }, signal: AbortSignal.timeout(30_000) });
      const t1 = performance.now();
      const bytes = await res.arrayBuffer();
      const t2 = performance.now();
      const text = new TextDecoder().decode(bytes);
      const t3 = performance.now();
      const body = JSON.parse(text) as { ts?: number[]; count?: number[]; error?: { code: string; message: string } };
      // the answer's time is until its last byte, as the fleet list's; the parse here is this process's
      const ms = t2 - t0;
      p.historyParts.push(partsOf(res, t0, t1, t2, t3));
      if (res.status !== 200 || !body.ts || !body.count)
        throw new Error(`history: ${res.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`);
      p.historyMs.push(ms);
      p.historyPoints = body.ts.length;
      p.historyFrames = body.count.reduce((a, b) => a + b, 0);
      if (body.ts.length > HISTORY_POINTS)
        p.errors.push(`history answered ${body.ts.length} points, more than ${HISTORY_POINTS}`);
    } catch (err) {
      p.errors.push((err as Error).message);
    }
    await sleep(Math.max(0, schedule.windowStart + (k + 0.7) * every - Date.now()));
    try {
      const t0 = performance.now();
      const res = await fetch(`${platform.baseUrl}/api/vehicles`, {
        headers: { cookie },
        signal: AbortSignal.timeout(30_000),
      });
      const t1 = performance.now();
      const bytes = await res.arrayBuffer();
      const t2 = performance.now();
      const text = new TextDecoder().decode(bytes);
      const t3 = performance.now();
      if (res.status !== 200) throw new Error(`fleet list: ${res.status} ${text.slice(0, 200)}`);
      p.listVehicles = (JSON.parse(text) as { vehicles: unknown[] }).vehicles.length;
      // until the last byte, as the history's; decoding and parsing the text here is this process's work
      p.listMs.push(t2 - t0);
      p.listParts.push(partsOf(res, t0, t1, t2, t3));
      p.listBytes = bytes.byteLength;
    } catch (err) {
      p.errors.push((err as Error).message);
    }
  }
  return p;
}

/**
 * A query's parts from its timestamps: sent (t0), headers (t1), body (t2), decoded (t3), parsed (now);
 * and the platform's own time, its Server-Timing.
 */
function partsOf(res: Response, t0: number, t1: number, t2: number, t3: number): Parts {
  const app = appTiming(res.headers.get('server-timing'));
  return { headers: t1 - t0, body: t2 - t1, decode: t3 - t2, parse: performance.now() - t3, app };
}

/** A time in whole ms for the report, `—` where there is none (an answer without Server-Timing). */
const round = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '—' : String(Math.round(ms)));

/**
 * Of the wait until the headers, the platform's own time over each query (its Server-Timing) and
 * the rest: the request waiting for the platform's event loop (and the bench's own turn to read the
 * answer's headers).
 */
function appText(parts: Parts[]): string {
  const own = parts.map((x) => round(x.app));
  const wait = parts.map((x) => round(x.app === undefined ? undefined : Math.max(0, x.headers - x.app)));
  return `of which in the platform (its Server-Timing): ${own.join(' ')}; waiting before it: ${wait.join(' ')}`;
}

function cpuText(c: CpuFigures): string {
  const ours = Object.entries(c.pct)
    .filter(([k]) => k !== 'bench')
    .map(([k, v]) => (mainThreadApart(c, k) ? `${k} ${v}% (main thread ${c.mainThreadPct[k]}%)` : `${k} ${v}%`));
  const others = Math.max(0, c.othersPct - c.irqPct);
  return [
    ...ours,
    `kernel interrupts ${c.irqPct}%`,
    `other processes ${others}%${others >= 5 && c.topOthers.length ? ` (${c.topOthers.join(', ')})` : ''}`,
  ].join(', ');
}

const ms = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<number> {
  const s0 = {
    vehicles: Math.floor(setting('BENCH_VEHICLES', 2000, 200, 1)),
    consoles: Math.floor(setting('BENCH_CONSOLES', 50, 10, 1)),
    seconds: setting('BENCH_SECONDS', 60, 10, 1),
    warmup: setting('BENCH_WARMUP', 10, 3),
    rateHz: setting('BENCH_RATE_HZ', 1, 1, 0.01),
    subscriptions: Math.floor(setting('BENCH_SUBSCRIPTIONS', 0)),
    historyFrames: Math.floor(setting('BENCH_HISTORY_FRAMES', 86_400, 86_400, 1)),
    historyRuns: Math.floor(setting('BENCH_HISTORY_RUNS', 10, 5, 1)),
    warmupQueries: Math.floor(setting('BENCH_WARMUP_QUERIES', 3, 1, 1)),
    quietWait: setting('BENCH_QUIET_WAIT', 120, 15),
    loadProcs: Math.floor(setting('BENCH_LOAD_PROCS', 2, 2, 1)),
    consoleProcs: Math.floor(setting('BENCH_CONSOLE_PROCS', 2, 2, 1)),
  };
  const limits = fileLimits();
  if (s0.vehicles + 1024 > limits.hard)
    throw new Error(
      `the open-file limit (${limits.hard}) is too low for ${s0.vehicles} connections; raise it with \`ulimit -n\``,
    );
  const s: Settings = { ...s0, fdLimit: Math.min(limits.hard, Math.max(limits.soft, s0.vehicles + 1024)) };
  const started = Date.now();

  say(
    `live bench — ${new Date().toISOString()} — ${availableParallelism()} cores, node ${process.version}${quick ? ' — quick mode' : ''}`,
  );
  say(
    `  ${s.vehicles} vehicles at ${s.rateHz} Hz (QoS 1, ${s.loadProcs} load processes), ${s.consoles} consoles (${s.consoleProcs} processes), ` +
      `${s.warmup} s warm-up + ${s.seconds} s window; history: ${s.historyFrames} frames, ${s.historyRuns} queries`,
  );

  const tempDir = lifecycle.tempDir();
  const dataDir = join(tempDir, 'data');
  say(`provisioning ${s.vehicles} vehicles and ${s.consoles + 1} console accounts (scrypt-hashed) …`);
  const creds = await provisionVehicles(ROOT, dataDir, s.vehicles);
  const credsFile = join(tempDir, 'credentials.json');
  const idsFile = join(tempDir, 'vehicles.json');
  writeFileSync(credsFile, JSON.stringify(creds), { mode: 0o600 });
  writeFileSync(idsFile, JSON.stringify(creds.map((c) => c.id)));
  const logins = await createConsoleAccounts(dataDir, s.consoles + 1);
  const prober = logins.pop()!;
  const loginsFile = join(tempDir, 'logins.json');
  writeFileSync(loginsFile, JSON.stringify(logins), { mode: 0o600 });

  const historyVehicle = creds[0]!.id;
  const seedEnd = Date.now() - 1000;
  const t0 = performance.now();
  await seedTelemetry(telemetryFile(dataDir), s.historyFrames, (i) => {
    const ts = seedEnd - (s.historyFrames - 1 - i) * 1000;
    return { vehicleId: historyVehicle, receivedAt: ts + 40, frame: historyFrame(i, ts) };
  });
  say(
    `  seeded ${s.historyFrames} frames of ${historyVehicle} (1 Hz up to now) into telemetry.db in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const profileDir = process.env.BENCH_PROFILE_DIR;
  const platform = await startPlatform(
    children,
    ROOT,
    dataDir,
    s.fdLimit,
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [],
    { inspect: true },
  );
  say(
    `platform (node ${[...platformNodeFlags(ROOT), 'dist/platform/main.js'].join(' ')}, SQLite synchronous=FULL) on MQTT ${platform.mqttPort}, HTTP ${platform.httpPort}`,
  );

  // the fleet: connect every vehicle
  const fleets = slices(s.vehicles, s.loadProcs).map(([from, to]) =>
    spawnChild(
      `fleet ${from}-${to}`,
      'fleet.ts',
      [
        `--port=${platform.mqttPort}`,
        `--creds=${credsFile}`,
        `--from=${from}`,
        `--to=${to}`,
        `--total=${s.vehicles}`,
        `--rate=${s.rateHz}`,
        `--max-rate-hz=${process.env.LIVE_MAX_RATE_HZ || 4}`,
      ],
      s.fdLimit,
    ),
  );
  const connected = await Promise.all(
    fleets.map((f) => nextMessage<FleetToParent, 'connected'>(f, 'connected', 300_000, 'fleet')),
  );
  say(
    `  fleet: ${connected.reduce((n, c) => n + c.connected, 0)} vehicles connected in ${(Math.max(...connected.map((c) => c.ms)) / 1000).toFixed(1)} s`,
  );

  // the consoles: log in, connect, subscribe
  const consoles = slices(s.consoles, s.consoleProcs).map(([from, to]) =>
    spawnChild(
      `consoles ${from}-${to}`,
      'consoles.ts',
      [
        `--base=${platform.baseUrl}`,
        `--logins=${loginsFile}`,
        `--ids=${idsFile}`,
        `--from=${from}`,
        `--to=${to}`,
        `--consoles=${s.consoles}`,
        `--subscriptions=${s.subscriptions}`,
      ],
      s.fdLimit,
    ),
  );
  const ready = await Promise.all(
    consoles.map((c) => nextMessage<ConsolesToParent, 'ready'>(c, 'ready', 300_000, 'consoles')),
  );
  const subs = new Array<number>(s.vehicles).fill(0);
  for (const r of ready) r.subscriptions.forEach((n, i) => (subs[i]! += n));
  const maxRateHz = ready[0]!.maxRateHz;
  const watched = subs.filter((n) => n > 0).length;
  const totalSubs = subs.reduce((a, b) => a + b, 0);
  const refused = ready.reduce((n, r) => n + r.refused, 0);
  say(
    `  consoles: ${ready.reduce((n, r) => n + r.consoles, 0)} logged in and connected in ${(Math.max(...ready.map((r) => r.ms)) / 1000).toFixed(1)} s; ` +
      `${totalSubs} subscriptions (server max ${ready[0]!.maxSubscriptions} per connection), ${watched} of ${s.vehicles} vehicles watched ` +
      `(by ${Math.min(...subs)}–${Math.max(...subs)} consoles each)${refused ? `, ${refused} refused (${ready.find((r) => r.firstError)?.firstError})` : ''}`,
  );
  if (watched < s.vehicles)
    note(
      `  WARNING: ${s.vehicles - watched} vehicles are not watched by any console (raise BENCH_CONSOLES, BENCH_SUBSCRIPTIONS or LIVE_MAX_SUBSCRIPTIONS)`,
    );

  const proberCookie = await login(platform.baseUrl, prober);

  if (s.quietWait > 0)
    await waitForQuiet(s.quietWait * 1000, DISTURBED_PCT, (pct) =>
      say(
        `  the machine is busy (${pct}% of a core in use while the bench idles); waiting up to ${Math.round(s.quietWait)} s for it to calm down …`,
      ),
    );

  // the run: everyone works to the same clock
  const startAt = Date.now() + 1000;
  const schedule: Schedule = {
    startAt,
    windowStart: startAt + s.warmup * 1000,
    windowEnd: startAt + (s.warmup + s.seconds) * 1000,
    stopAt:
      startAt +
      (s.warmup + s.seconds) * 1000 +
      Math.max(TAIL_MS, platform.source.inspectorUrl ? PROFILE_GAP_MS + PROFILE_MS + 500 : 0),
  };
  for (const c of [...fleets, ...consoles]) tell(c, { type: 'go', schedule });
  say(`running: ${s.warmup} s warm-up, then the ${s.seconds} s window …`);

  const pids: Record<string, number> = { platform: platform.pid, bench: process.pid };
  fleets.forEach((f, i) => (pids[`fleet${fleets.length > 1 ? i + 1 : ''}`] = f.pid!));
  consoles.forEach((c, i) => (pids[`consoles${consoles.length > 1 ? i + 1 : ''}`] = c.pid!));
  const cpu = new CpuWindow(pids);
  let cpuFigures: CpuFigures | undefined;
  let probeStarted: ReturnType<typeof beginBreakdown> | undefined;
  let breakdown: Promise<Breakdown> | undefined;
  let profileStarted: ReturnType<typeof beginProfile> | undefined;
  let profiled: Promise<ProfiledPart> | undefined;
  const cpuStart = setTimeout(() => {
    cpu.begin();
    probeStarted = beginBreakdown(platform.source, { profile: false });
  }, schedule.windowStart - Date.now());
  const cpuEnd = setTimeout(() => {
    cpuFigures = cpu.end();
    breakdown = probeStarted?.then((p) => p.end());
  }, schedule.windowEnd - Date.now());
  const profileStart = setTimeout(
    () => {
      if (platform.source.inspectorUrl)
        profileStarted = beginProfile(
          platform.source,
          `profiled in the ${PROFILE_MS / 1000} s after the window (same load)`,
        );
    },
    schedule.windowEnd + PROFILE_GAP_MS - Date.now(),
  );
  const profileEnd = setTimeout(
    () => {
      profiled = profileStarted?.then((p) => p.end());
    },
    schedule.windowEnd + PROFILE_GAP_MS + PROFILE_MS - Date.now(),
  );
  let rssPeak = 0;
  const sampler = setInterval(() => {
    const m = memoryOf(platform.pid);
    if (m && Date.now() >= schedule.startAt) rssPeak = Math.max(rssPeak, m.rssMB);
  }, 500);

  let fleetResults: FleetResult[];
  let consoleResults: ConsolesResult[];
  let probe: Probe;
  let metrics: Record<string, unknown> | undefined;
  let causes: Breakdown | undefined;
  try {
    const fleetDone = Promise.all(
      fleets.map((f) => nextMessage<FleetToParent, 'done'>(f, 'done', schedule.stopAt - Date.now() + 120_000, 'fleet')),
    );
    probe = await probes(s, platform, proberCookie, historyVehicle, schedule);
    fleetResults = (await fleetDone).map((d) => d.result);
    await sleep(SETTLE_MS);
    const consolesDone = Promise.all(
      consoles.map((c) => nextMessage<ConsolesToParent, 'done'>(c, 'done', 60_000, 'consoles')),
    );
    for (const c of consoles) tell(c, { type: 'report' });
    consoleResults = (await consolesDone).map((d) => d.result);
    metrics = await metricsOf(platform);
    causes = await breakdown;
    const part = await profiled;
    if (causes && part) causes = withProfile(causes, part);
  } finally {
    clearTimeout(cpuStart);
    clearTimeout(cpuEnd);
    clearTimeout(profileStart);
    clearTimeout(profileEnd);
    clearInterval(sampler);
  }
  for (const c of [...fleets, ...consoles]) tell(c, { type: 'release' });
  const warnings = platform.warnings();

  // ── figures ──
  const windowS = s.seconds;
  const publishedByVehicle = fleetResults.flatMap((f) => f.publishedInWindow);
  const deliveredByVehicle = new Array<number>(s.vehicles).fill(0);
  for (const r of consoleResults) r.framesByVehicle.forEach((n, i) => (deliveredByVehicle[i]! += n));
  const { expected, delivered, missing, extra } = delivery(
    subs,
    publishedByVehicle,
    deliveredByVehicle,
    windowS,
    maxRateHz,
  );
  const frameLat: Summary = summarizeHistogram(
    mergeHistograms(consoleResults.map((r) => pairsToHistogram(r.frameLatency))),
  );
  const fleetAge: Summary = summarizeHistogram(
    mergeHistograms(consoleResults.map((r) => pairsToHistogram(r.fleetAge))),
  );
  const ackLat: Summary = summarizeHistogram(mergeHistograms(fleetResults.map((r) => pairsToHistogram(r.ackLatency))));
  const fleetBytes = consoleResults.reduce((n, r) => n + r.fleetBytes, 0);
  const fleetKiBps = Math.round(fleetBytes / 1024 / s.seconds);
  const published = publishedByVehicle.reduce((a, b) => a + b, 0);
  const bunched = fleetResults.reduce((n, f) => n + f.bunched, 0);
  const hist = summarize(probe.historyMs);
  const list = summarize(probe.listMs);
  const fleetErrors = fleetResults.reduce((n, f) => n + f.errors + f.disconnects, 0);
  const consoleDisconnects = consoleResults.reduce((n, r) => n + r.disconnects + r.sessionsEnded, 0);
  const totals = ((metrics?.totals ?? {}) as Record<string, number>) ?? {};
  const disturbed = cpuFigures ? Math.max(0, cpuFigures.othersPct - cpuFigures.irqPct) : 0;
  const fleetIntervalMs = Number(process.env.LIVE_FLEET_INTERVAL_MS || 1000);

  say('');
  say('results');
  say(
    `  publish → console          p50 ${frameLat.p50} ms, p95 ${frameLat.p95} ms, p99 ${frameLat.p99} ms, max ${frameLat.max} ms over ${frameLat.count} frames` +
      `   target p99 < ${TARGET.p99Ms} ms   ${verdict(frameLat.p99 < TARGET.p99Ms)}`,
  );
  say(
    `  frames delivered           ${delivered} of ${expected} expected (${expected ? ((delivered / expected) * 100).toFixed(2) : '—'} %), missing ${missing}, unexpected ${extra}` +
      `   [${published} frames published in the window × the consoles watching each vehicle; at ${s.rateHz} Hz ≤ ${maxRateHz} Hz (LIVE_MAX_RATE_HZ) every frame is expected]`,
  );
  if (bunched)
    say(
      `                             note: ${bunched} frames were published less than 1/${maxRateHz} s after the vehicle's previous one (load process lag); the throttle may merge those`,
    );
  say(
    `  fleet updates              ${consoleResults.reduce((n, r) => n + r.fleetMessages, 0)} messages; age of a vehicle's newest values at arrival p50 ${fleetAge.p50} ms, p99 ${fleetAge.p99} ms (batched every ${fleetIntervalMs} ms) over ${fleetAge.count} entries`,
  );
  say(
    `                             volume ${fleetKiBps} KiB/s to all consoles in the window, ${fleetAge.count ? (fleetBytes / fleetAge.count).toFixed(1) : '—'} characters per vehicle entry (a summary's values only when they changed; the rest as [id, receivedAt, ts] offsets)`,
  );
  say(`  publish → PUBACK (stored)  p50 ${ackLat.p50} ms, p99 ${ackLat.p99} ms, max ${ackLat.max} ms`);
  say(
    `  history, 24 h → ${HISTORY_POINTS} points  median ${hist.p50} ms, max ${hist.max} ms over ${hist.count} queries, to the last byte (${probe.historyPoints} points from ${probe.historyFrames} frames)` +
      `   target < ${TARGET.historyMs} ms (the worst query)   ${verdict(hist.count > 0 && hist.max < TARGET.historyMs)}`,
  );
  say(
    `                             each query in order (ms): ${probe.historyMs.map((x) => Math.round(x)).join(' ')}; GET /healthz just before each: ${probe.healthMs.map((x) => Math.round(x)).join(' ')}`,
  );
  say(
    `                             until the headers: ${probe.historyParts.map((x) => Math.round(x.headers)).join(' ')}; then the body: ${probe.historyParts.map((x) => Math.round(x.body)).join(' ')}; in the bench, not counted: decoding ${probe.historyParts.map((x) => Math.round(x.decode)).join(' ')}, JSON.parse ${probe.historyParts.map((x) => Math.round(x.parse)).join(' ')}`,
  );
  say(`                             ${appText(probe.historyParts)}`);
  say(
    `  fleet list                 GET /api/vehicles (${probe.listVehicles} vehicles, ${Math.round(probe.listBytes / 1024)} KiB): median ${list.p50} ms, max ${list.max} ms over ${list.count} queries (in order: ${probe.listMs.map((x) => Math.round(x)).join(' ')})` +
      `   target median < ${TARGET.fleetListMs} ms   ${verdict(list.count > 0 && list.p50 < TARGET.fleetListMs)}`,
  );
  say(
    `                             until the headers: ${probe.listParts.map((x) => Math.round(x.headers)).join(' ')}; then the body: ${probe.listParts.map((x) => Math.round(x.body)).join(' ')}; in the bench, not counted: decoding ${probe.listParts.map((x) => Math.round(x.decode)).join(' ')}, JSON.parse ${probe.listParts.map((x) => Math.round(x.parse)).join(' ')}`,
  );
  say(`                             ${appText(probe.listParts)}`);
  if (probe.warmups.length)
    say(
      `  warm-up queries (not counted) history / fleet list, ms (in the platform): ${probe.warmups.map(([h, ha, l, la]) => `${Math.round(h)} (${round(ha)}) / ${Math.round(l)} (${round(la)})`).join(', ')}`,
    );
  if (cpuFigures) say(`  CPU in the window          (% of one core) ${cpuText(cpuFigures)}`);
  if (causes) for (const line of breakdownLines(causes, '  ')) say(line);
  say(`  platform RSS               peak ${Math.round(rssPeak)} MB`);
  say(
    `  live layer counters        frames_sent ${totals['live.frames_sent'] ?? 0}, frames_dropped ${totals['live.frames_dropped'] ?? 0}, fleet_sent ${totals['live.fleet_sent'] ?? 0}, ` +
      `fleet_deferred ${totals['live.fleet_deferred'] ?? 0}, slow_disconnected ${totals['live.slow_disconnected'] ?? 0}`,
  );
  if (fleetErrors)
    say(
      `  load errors                ${fleetErrors} failed publishes or disconnects (first: ${fleetResults.find((f) => f.firstError)?.firstError})`,
    );
  if (consoleDisconnects)
    say(
      `  console disconnects        ${consoleDisconnects} (first: ${consoleResults.find((r) => r.firstError)?.firstError})`,
    );
  if (probe.errors.length) say(`  query errors               ${probe.errors.length} (first: ${probe.errors[0]})`);
  if (warnings.length) say(`  platform warnings          ${warnings.length}, first: ${warnings[0]!.slice(0, 300)}`);
  say(`  load processes' worst schedule lag ${Math.max(...fleetResults.map((f) => f.maxLagMs))} ms`);
  if (disturbed > DISTURBED_PCT)
    say(`  WARNING: other processes used ${disturbed}% of a core during the window; the figures are disturbed`);
  say(`  total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const figures = {
    vehicles: s.vehicles,
    consoles: s.consoles,
    seconds: s.seconds,
    rateHz: s.rateHz,
    subscriptions: totalSubs,
    p50Ms: ms(frameLat.p50),
    p95Ms: ms(frameLat.p95),
    p99Ms: ms(frameLat.p99),
    maxMs: ms(frameLat.max),
    framesExpected: expected,
    framesDelivered: delivered,
    framesMissing: missing,
    historyMs: ms(hist.max),
    historyMedianMs: ms(hist.p50),
    historyDecodeParseMaxMs: ms(Math.max(0, ...probe.historyParts.map((x) => x.decode + x.parse))),
    // as the list was timed before 2026-12-06 05:30: until its text was decoded
    fleetListWithDecodeMedianMs: ms(summarize(probe.listParts.map((x) => x.headers + x.body + x.decode)).p50),
    historyRuns: hist.count,
    historyPoints: probe.historyPoints,
    historyFrames: probe.historyFrames,
    fleetListMedianMs: ms(list.p50),
    fleetListAppMedianMs: ms(summarize(probe.listParts.flatMap((x) => (x.app === undefined ? [] : [x.app]))).p50),
    warmupHistoryMs: probe.warmups.map(([h]) => ms(h)),
    warmupFleetListMs: probe.warmups.map(([, , l]) => ms(l)),
    historyAppMaxMs: ms(summarize(probe.historyParts.flatMap((x) => (x.app === undefined ? [] : [x.app]))).max),
    fleetListMaxMs: ms(list.max),
    fleetAgeP99Ms: ms(fleetAge.p99),
    fleetKiBps,
    ackP99Ms: ms(ackLat.p99),
    rssMB: Math.round(rssPeak),
    platformCpuPct: cpuFigures?.pct.platform ?? null,
    otherCpuPct: disturbed,
    cores: availableParallelism(),
    breakdown: causes ? breakdownJson(causes) : null,
  };
  say(JSON.stringify(figures));
  return 0;
}

lifecycle.run(main);
