/**
 * `npm run bench:sessions`: remote sessions at 10 Hz on top of a fleet at 1 Hz (issue 11). The
 * built platform runs as its own process (bench/platform-process.ts, as bench:live). The fleet's
 * vehicles publish at 1 Hz from bench:live's load processes (bench/live/fleet.ts: raw MQTT.js
 * clients); the first `--sessions` vehicles are real reference gateways (simulators/gateway, in
 * bench/sessions/gateways.ts) so that they answer commands. For each of them a crew account asks
 * for support over HTTP and an engineer answers: the platform raises the vehicle to 10 Hz itself
 * (setTelemetryRate through the command service). Each engineer's console joins its session over
 * the live socket. Measured in the window:
 *   - publish → session view: a frame's ts (its sampling on the gateway) → its arrival in `remote.frames`;
 *   - nothing lost: frames the gateways sampled in the window against those the views received;
 *   - command → ack: `snapshot` sent from each session every --command-every seconds through
 *     POST /api/vehicles/:id/commands (which answers once the gateway's ack settled it).
 *
 *   npm run bench:sessions -- [--vehicles 2000] [--sessions 50] [--seconds 60] [--warmup 10]
 *                             [--command-every 2] [--load-procs 2] [--quiet-wait 120]
 *
 * Everything runs on 127.0.0.1 with ports picked free; every child process and the temp dir are
 * removed at the end, also on an error or Ctrl-C. The last line is one JSON object.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPlatform } from '../platform-process.ts';
import { nextMessage as nextFleetMessage, tell as tellFleet, type FleetToParent, type Schedule } from '../live/ipc.ts';
import { mergeHistograms, summarizeHistogram } from '../live/stats.ts';
import { metricsOf } from '../live/platform.ts';
import { benchLifecycle } from '../shared/lifecycle.ts';
import { CpuWindow, type CpuFigures, fileLimits, memoryOf, nodeCommand, sleep, waitForQuiet } from '../shared/procs.ts';
import { provisionVehicles } from '../shared/provision.ts';
import { createSessionAccounts } from './accounts.ts';
import { nextMessage, tell, type GatewaysToParent } from './ipc.ts';
import { api, measureFrames, openSession, sendCommands, type SessionView } from './sessions.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HERE = dirname(fileURLToPath(import.meta.url));

/** The issue's targets (issue 11). */
const TARGET = { frameP99Ms: 100, commandP99Ms: 500, lost: 0 };
/** Publishing goes on this long after the window, so the last measured frames travel under the same load. */
const TAIL_MS = 2000;
/** After the window: time for the last frames to reach the views before they are counted. */
const SETTLE_MS = 2000;
const DISTURBED_PCT = 15;

const say = (text = '') => process.stdout.write(text + '\n');
const lifecycle = benchLifecycle({ name: 'bench', tempPrefix: 'powerwatch-bench-sessions-', keepData: false });
const children = lifecycle.children;

const { values: flags } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '10' },
    'command-every': { type: 'string', default: '2' },
    'load-procs': { type: 'string', default: '2' },
    'quiet-wait': { type: 'string', default: '120' },
  },
});
function flag(name: keyof typeof flags, min: number, max: number): number {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

function spawnChild(label: string, script: string, args: string[], fdLimit: number): ChildProcess {
  const { command, args: argv } = nodeCommand(join(HERE, script), args, fdLimit);
  return children.spawn(label, command, argv, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

const slices = (from: number, to: number, k: number) =>
  Array.from(
    { length: k },
    (_, i) => [from + Math.floor((i * (to - from)) / k), from + Math.floor(((i + 1) * (to - from)) / k)] as const,
  ).filter(([a, b]) => b > a);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const ms = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

async function main(): Promise<number> {
  const vehicles = Math.floor(flag('vehicles', 1, 20_000));
  const sessions = Math.floor(flag('sessions', 1, Math.min(500, vehicles)));
  const seconds = flag('seconds', 1, 600);
  const warmup = flag('warmup', 3, 120);
  const commandEveryS = flag('command-every', 0.1, 600);
  const loadProcs = Math.floor(flag('load-procs', 1, 16));
  const quietWait = flag('quiet-wait', 0, 600);
  const limits = fileLimits();
  if (vehicles + 1024 > limits.hard)
    throw new Error(`the open-file limit (${limits.hard}) is too low for ${vehicles} connections; raise \`ulimit -n\``);
  const fdLimit = Math.min(limits.hard, Math.max(limits.soft, vehicles + 1024));
  const started = Date.now();

  say(`sessions bench — ${new Date().toISOString()} — ${availableParallelism()} cores, node ${process.version}`);
  say(
    `  ${vehicles} vehicles: ${vehicles - sessions} at 1 Hz (raw MQTT, ${loadProcs} load processes) + ${sessions} reference gateways in remote sessions (10 Hz while live); ` +
      `${warmup} s warm-up + ${seconds} s window; a snapshot command from each session every ${commandEveryS} s`,
  );
  const tempDir = lifecycle.tempDir();
  const dataDir = join(tempDir, 'data');
  say(`provisioning ${vehicles} vehicles and ${2 * sessions} accounts (scrypt-hashed) …`);
  const creds = await provisionVehicles(ROOT, dataDir, vehicles);
  const credsFile = join(tempDir, 'credentials.json');
  writeFileSync(credsFile, JSON.stringify(creds), { mode: 0o600 });
  const { crews, engineers } = await createSessionAccounts(dataDir, sessions);

  // 50 crews of one bench unit ask within seconds: in the field they are 50 units (the per-unit
  // session limit, RATE_SESSIONS_UNIT_PER_MIN, would refuse the 31st)
  process.env.RATE_SESSIONS_UNIT_PER_MIN ??= '100000';
  const platform = await startPlatform(children, ROOT, dataDir, fdLimit);
  say(`platform (node dist/platform/main.js) on MQTT ${platform.mqttPort}, HTTP ${platform.httpPort}`);

  const gateways = spawnChild(
    'gateways',
    'gateways.ts',
    [`--port=${platform.mqttPort}`, `--creds=${credsFile}`, '--from=0', `--to=${sessions}`],
    fdLimit,
  );
  const fleets = slices(sessions, vehicles, loadProcs).map(([from, to]) =>
    spawnChild(
      `fleet ${from}-${to}`,
      '../live/fleet.ts',
      [
        `--port=${platform.mqttPort}`,
        `--creds=${credsFile}`,
        `--from=${from}`,
        `--to=${to}`,
        `--total=${vehicles}`,
        '--rate=1',
      ],
      fdLimit,
    ),
  );
  const gwConnected = await nextMessage<GatewaysToParent, 'connected'>(gateways, 'connected', 300_000, 'gateways');
  const fleetConnected = await Promise.all(
    fleets.map((f) => nextFleetMessage<FleetToParent, 'connected'>(f, 'connected', 300_000, 'fleet')),
  );
  say(
    `  connected: ${gwConnected.connected} gateways in ${(gwConnected.ms / 1000).toFixed(1)} s, ` +
      `${fleetConnected.reduce((n, c) => n + c.connected, 0)} fleet vehicles in ${(Math.max(0, ...fleetConnected.map((c) => c.ms)) / 1000).toFixed(1)} s`,
  );

  // the sessions: crew request, engineer answer, the engineer's view joins (a few at a time)
  const t0 = Date.now();
  const views: SessionView[] = [];
  for (let i = 0; i < sessions; i += 5) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(5, sessions - i) }, (_, k) =>
        openSession(platform.baseUrl, crews[i + k]!, engineers[i + k]!, creds[i + k]!.id),
      ),
    );
    views.push(...batch);
  }
  say(`  ${views.length} sessions requested, answered and joined in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  if (quietWait > 0)
    await waitForQuiet(quietWait * 1000, DISTURBED_PCT, (pct) =>
      say(`  the machine is busy (${pct}% of a core in use); waiting up to ${quietWait} s for it to calm down …`),
    );

  const startAt = Date.now() + 1000;
  const schedule: Schedule = {
    startAt,
    windowStart: startAt + warmup * 1000,
    windowEnd: startAt + (warmup + seconds) * 1000,
    stopAt: startAt + (warmup + seconds) * 1000 + TAIL_MS,
  };
  const frameLatency = measureFrames(views, { start: schedule.windowStart, end: schedule.windowEnd });
  tell(gateways, { type: 'go', schedule });
  for (const f of fleets) tellFleet(f, { type: 'go', schedule });
  say(`running: ${warmup} s warm-up, then the ${seconds} s window …`);

  const pids: Record<string, number> = { platform: platform.pid, bench: process.pid, gateways: gateways.pid! };
  fleets.forEach((f, i) => (pids[`fleet${i + 1}`] = f.pid!));
  const cpu = new CpuWindow(pids);
  let cpuFigures: CpuFigures | undefined;
  const cpuStart = setTimeout(() => cpu.begin(), schedule.windowStart - Date.now());
  const cpuEnd = setTimeout(() => (cpuFigures = cpu.end()), schedule.windowEnd - Date.now());
  let rssPeak = 0;
  const sampler = setInterval(() => {
    const m = memoryOf(platform.pid);
    if (m) rssPeak = Math.max(rssPeak, m.rssMB);
  }, 500);

  let commands;
  let gwResult;
  let metrics: Record<string, unknown> | undefined;
  try {
    const fleetDone = Promise.all(
      fleets.map((f) =>
        nextFleetMessage<FleetToParent, 'done'>(f, 'done', schedule.stopAt - Date.now() + 120_000, 'fleet'),
      ),
    );
    commands = await sendCommands(
      platform.baseUrl,
      views,
      schedule.windowStart,
      schedule.windowEnd,
      commandEveryS * 1000,
    );
    await fleetDone;
    await sleep(Math.max(0, schedule.stopAt + SETTLE_MS - Date.now()));
    const gwDone = nextMessage<GatewaysToParent, 'done'>(gateways, 'done', 60_000, 'gateways');
    tell(gateways, { type: 'report' });
    gwResult = (await gwDone).result;
    metrics = await metricsOf(platform);
  } finally {
    clearTimeout(cpuStart);
    clearTimeout(cpuEnd);
    clearInterval(sampler);
  }

  // end the sessions (the platform lowers the rate again), then let everyone go
  await Promise.all(
    views.map((v) =>
      api(platform.baseUrl, v.engineer, 'POST', `/api/sessions/${v.sessionId}/end`, {
        outcome: 'resolved_remotely',
      }).catch(() => undefined),
    ),
  );
  for (const v of views) v.socket.disconnect();
  tell(gateways, { type: 'release' });
  for (const f of fleets) tellFleet(f, { type: 'release' });

  // ── figures ──
  const published = gwResult.sampledInWindow.reduce((a, b) => a + b, 0);
  let received = 0;
  let lost = 0;
  views.forEach((v, i) => {
    received += v.seqsInWindow.size;
    lost += Math.max(0, gwResult.sampledInWindow[i]! - v.seqsInWindow.size);
  });
  const duplicates = views.reduce((n, v) => n + v.duplicates, 0);
  const rateHz = published / sessions / seconds;
  const frame = summarizeHistogram(frameLatency);
  const cmd = summarizeHistogram(mergeHistograms([commands.latency]));
  const totals = (metrics?.totals ?? {}) as Record<string, number>;
  const disturbed = cpuFigures ? Math.max(0, cpuFigures.othersPct - cpuFigures.irqPct) : 0;
  const warnings = platform.warnings();

  say('');
  say('results');
  say(
    `  publish → session view     p50 ${frame.p50} ms, p95 ${frame.p95} ms, p99 ${frame.p99} ms, max ${frame.max} ms over ${frame.count} frames` +
      `   target p99 < ${TARGET.frameP99Ms} ms   ${verdict(frame.count > 0 && frame.p99 < TARGET.frameP99Ms)}`,
  );
  say(
    `  frames to the views        ${received} received of ${published} the ${sessions} gateways published in the window (${rateHz.toFixed(2)} Hz each), lost ${lost}, duplicates ${duplicates}` +
      `   target lost = ${TARGET.lost}   ${verdict(published > 0 && lost === TARGET.lost)}`,
  );
  say(
    `  command → ack (snapshot)   p50 ${cmd.p50} ms, p95 ${cmd.p95} ms, p99 ${cmd.p99} ms, max ${cmd.max} ms over ${commands.done} done of ${commands.sent} sent` +
      `${commands.failed ? ` (${commands.failed} not done, first: ${commands.firstError})` : ''}` +
      `   target p99 < ${TARGET.commandP99Ms} ms   ${verdict(commands.done > 0 && commands.failed === 0 && cmd.p99 < TARGET.commandP99Ms)}`,
  );
  if (rateHz < 9.5)
    say(`  WARNING: the session vehicles sent ${rateHz.toFixed(2)} Hz, not 10 Hz: the rate was not raised for all`);
  say(
    `  gateways                   ${gwResult.commands} commands answered (${gwResult.commandsRefused} refused), ${gwResult.dropped} frames dropped, ${gwResult.disconnects} disconnects, worst tick lag ${gwResult.maxLagMs} ms`,
  );
  if (cpuFigures)
    say(
      `  CPU in the window          (% of one core) ${Object.entries(cpuFigures.pct)
        .map(([k, v]) => `${k} ${v}%`)
        .join(', ')}, other processes ${disturbed}%`,
    );
  say(`  platform RSS               peak ${Math.round(rssPeak)} MB`);
  say(
    `  live counters              session_frames_dropped ${totals['live.session_frames_dropped'] ?? 0}, slow_disconnected ${totals['live.slow_disconnected'] ?? 0}`,
  );
  if (warnings.length) say(`  platform warnings          ${warnings.length}, first: ${warnings[0]!.slice(0, 300)}`);
  if (disturbed > DISTURBED_PCT)
    say(`  WARNING: other processes used ${disturbed}% of a core during the window; the figures are disturbed`);
  say(`  total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);

  say(
    JSON.stringify({
      vehicles,
      sessions,
      seconds,
      sessionRateHz: Math.round(rateHz * 100) / 100,
      frameP50Ms: ms(frame.p50),
      frameP99Ms: ms(frame.p99),
      frameMaxMs: ms(frame.max),
      framesPublished: published,
      framesReceived: received,
      framesLost: lost,
      commandsSent: commands.sent,
      commandsDone: commands.done,
      commandP50Ms: ms(cmd.p50),
      commandP99Ms: ms(cmd.p99),
      commandMaxMs: ms(cmd.max),
      pass:
        frame.p99 < TARGET.frameP99Ms &&
        lost === 0 &&
        published > 0 &&
        commands.failed === 0 &&
        cmd.p99 < TARGET.commandP99Ms,
      rssMB: Math.round(rssPeak),
      platformCpuPct: cpuFigures?.pct.platform ?? null,
      otherCpuPct: disturbed,
      cores: availableParallelism(),
    }),
  );
  return 0;
}

lifecycle.run(main);
