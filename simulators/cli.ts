import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteRecords } from '../records/db.ts';
import { createVehicleRegistry } from '../registry/vehicles.ts';
import { createScaledClock } from './clock.ts';
import { readCredentialsFile, writeCredentialsFile, type SimVehicle } from './fleet/credentials-file.ts';
import { ACK_WINDOW_MS, ACK_WINDOWS_KEPT, createFleet, FLEET_DEFAULTS } from './fleet/fleet.ts';
import { watchOwnLoop } from './fleet/own-loop.ts';
import { GATEWAY_DEFAULTS } from './gateway/gateway.ts';
import { provisionFleet } from './fleet/provision.ts';
import { RUN_FAILED_EXIT_CODE, runProblems } from './fleet/run-verdict.ts';
import { formatStatus } from './fleet/status-line.ts';
import { summaryLine } from './fleet/summary-line.ts';
import { loadScenarioFile, parseDuration, ScenarioFileError, type ScenarioEntry } from './scenarios/scenario-file.ts';
import { DEFAULT_DATA_DIR, recordsFile } from '../platform/data-files.ts';
import { beginBreakdown, breakdownJson, breakdownLines, type BreakdownSource } from '../bench/shared/breakdown.ts';
import { DEFAULT_MQTT_PORT, MAX_FUTURE_SKEW_MS, isValidVehicleId } from '../protocol/index.ts';

const USAGE = `Usage: npm run simulate -- [options]

Runs simulated vehicles (power-system model + reference gateway each) against an MQTT broker.

  --vehicles N            how many vehicles (default 50)
  --rate HZ               frames per simulated second per vehicle (default ${GATEWAY_DEFAULTS.rateHz})
  --scenario FILE         fault scenarios, JSON or YAML (see docs/simulators.md)
  --broker URL            default mqtt://127.0.0.1:$MQTT_PORT (${DEFAULT_MQTT_PORT})
  --credentials FILE      {"vehicles":[{"id","secret",...}]} to connect with
  --ca FILE               with an mqtts:// broker: the CA certificate (PEM) to trust
  --client-certs DIR      mutual TLS: each vehicle's certificate and key as DIR/ID.pem, DIR/ID.key
                          (npm run certs -- vehicle ID … --out DIR); such a vehicle sends no secret.
                          Without --credentials/--provision the vehicles are the certificates in DIR
  --provision             create the vehicles in the platform's records store (DATA_DIR) and
                          write their credentials (to --credentials, or DATA_DIR/sim-credentials.json)
  --data-dir DIR          the platform's DATA_DIR for --provision (default $DATA_DIR or ${DEFAULT_DATA_DIR})
  --prefix P              vehicle id prefix for --provision (default SIM → SIM0001…)
  --customers N           customers to spread provisioned vehicles over (default 3)
  --buffer-dir DIR        keep each gateway's store-and-forward buffer on disk here
  --buffer N              buffer capacity in frames per gateway (default ${GATEWAY_DEFAULTS.bufferCapacity})
  --duration S            wall-clock run time: seconds or 90s/5m/1h (default: until Ctrl-C)
  --drain S               at the end, wait up to S seconds for buffered frames to be acknowledged
                          (default 30)
  --speed X               simulated seconds per wall second (default 1); with X > 1 the run is
                          back-dated so that its last frame is stamped about now (the platform
                          refuses frames more than ${MAX_FUTURE_SKEW_MS / 60_000} min ahead of its clock)
  --seed S                PRNG seed (default 42): same seed, same vehicles, same frames
  --mode realistic|load   load: no spontaneous outages or drives, steady traffic (benchmarks)
  --connect-concurrency N CONNECTs in flight at once (default ${FLEET_DEFAULTS.connectConcurrency})
  --quiet                 no live status line
  --metrics-token T       the platform's METRICS_TOKEN (default $METRICS_TOKEN): with it, the
                          summary adds the platform's cause breakdown of the steady part of the
                          run (event-loop delay, GC pauses, writer-thread commits and checkpoints;
                          docs/benchmarks.md), read from its /metrics.json
  --platform URL          the platform's HTTP address for that (default http://127.0.0.1:$HTTP_PORT (8080))
  --inspect WS_URL        the platform's inspector (node --inspect; "Debugger listening on ws://…"):
                          the breakdown then also names the main thread's top self-time functions
Ends with a line "summary {json}" on stdout. Exit code 0: the run worked; 3: frames were sampled
but none was acknowledged, or frames went missing (the reasons on stderr); 2: a bad flag or
scenario file; 1: anything else.`;

class UsageError extends Error {}

/** The vehicle ids of the certificates in a directory of `npm run certs -- vehicle` output (ID.pem beside ID.key). */
function vehiclesWithCertificates(dir: string): string[] {
  if (!existsSync(dir)) throw new UsageError(`--client-certs ${dir}: no such directory`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pem') && existsSync(join(dir, f.replace(/\.pem$/, '.key'))))
    .map((f) => f.replace(/\.pem$/, ''))
    .filter((id) => id !== 'server' && isValidVehicleId(id))
    .sort();
}

/** The CA to trust and each vehicle's client certificate, read once (a vehicle without one uses its secret). */
function tlsOptions(caFile: string | undefined, certDir: string | undefined, vehicles: readonly SimVehicle[]) {
  const read = (f: string, flag: string) => {
    if (!existsSync(f)) throw new UsageError(`${flag}: ${f}: no such file`);
    return readFileSync(f);
  };
  const certs = new Map<string, { cert: Buffer; key: Buffer }>();
  if (certDir)
    for (const v of vehicles) {
      const cert = join(certDir, `${v.id}.pem`);
      if (!existsSync(cert)) continue;
      certs.set(v.id, {
        cert: read(cert, '--client-certs'),
        key: read(join(certDir, `${v.id}.key`), '--client-certs'),
      });
    }
  if (certDir && !certs.size) throw new UsageError(`--client-certs ${certDir}: no certificate for any of the vehicles`);
  return { ...(caFile ? { ca: read(caFile, '--ca') } : {}), clientCert: (id: string) => certs.get(id) };
}

function num(v: string | undefined, flag: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${flag} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
}

async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      vehicles: { type: 'string' },
      rate: { type: 'string' },
      scenario: { type: 'string' },
      broker: { type: 'string' },
      credentials: { type: 'string' },
      ca: { type: 'string' },
      'client-certs': { type: 'string' },
      provision: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      prefix: { type: 'string', default: 'SIM' },
      customers: { type: 'string' },
      'buffer-dir': { type: 'string' },
      buffer: { type: 'string' },
      duration: { type: 'string' },
      drain: { type: 'string' },
      speed: { type: 'string' },
      seed: { type: 'string', default: '42' },
      mode: { type: 'string', default: 'realistic' },
      'connect-concurrency': { type: 'string' },
      'tick-ms': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'metrics-token': { type: 'string' },
      platform: { type: 'string' },
      inspect: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const count = num(values.vehicles, '--vehicles', 50, 1, 100_000);
  const rateHz = num(values.rate, '--rate', GATEWAY_DEFAULTS.rateHz, 0.001, 10);
  const speed = num(values.speed, '--speed', 1, 0.01, 100_000);
  const customers = num(values.customers, '--customers', 3, 1, 10_000);
  const bufferCapacity = num(values.buffer, '--buffer', GATEWAY_DEFAULTS.bufferCapacity, 10, 10_000_000);
  const connectConcurrency = num(
    values['connect-concurrency'],
    '--connect-concurrency',
    FLEET_DEFAULTS.connectConcurrency,
    1,
    10_000,
  );
  const tickMs = num(values['tick-ms'], '--tick-ms', FLEET_DEFAULTS.tickMs, 5, 5000);
  const drainS = num(values.drain, '--drain', 30, 0, 3600);
  if (values.mode !== 'realistic' && values.mode !== 'load') throw new UsageError('--mode must be realistic or load');
  let durationS: number | null = null;
  if (values.duration !== undefined) {
    durationS = parseDuration(values.duration);
    if (durationS === null || durationS <= 0)
      throw new UsageError(`--duration must be seconds or like 90s, 5m, 1h; got "${values.duration}"`);
  }
  if (speed > 1 && durationS === null)
    throw new UsageError('--speed above 1 needs --duration (the run is back-dated so that it ends now)');
  const broker = values.broker ?? `mqtt://127.0.0.1:${env.MQTT_PORT || DEFAULT_MQTT_PORT}`;
  const dataDir = resolve(values['data-dir'] ?? env.DATA_DIR ?? DEFAULT_DATA_DIR);

  let scenarios: ScenarioEntry[] = [];
  if (values.scenario) scenarios = loadScenarioFile(values.scenario);

  let vehicles: SimVehicle[];
  if (values.provision) {
    const credsFile = values.credentials ?? join(dataDir, 'sim-credentials.json');
    const known = existsSync(credsFile) ? readCredentialsFile(credsFile) : [];
    const db = await openSqliteRecords({ file: recordsFile(dataDir) });
    try {
      const t0 = Date.now();
      const r = await provisionFleet(createVehicleRegistry({ db }), {
        count,
        prefix: values.prefix,
        customers,
        seed: values.seed,
        known,
      });
      const merged = new Map(known.map((v) => [v.id, v]));
      for (const v of r.vehicles) merged.set(v.id, v);
      writeCredentialsFile(credsFile, [...merged.values()]);
      console.error(
        `provisioned ${count} vehicles in ${dataDir} (${r.added} added, ${r.rotated} re-keyed, ${r.reused} reused) in ${((Date.now() - t0) / 1000).toFixed(1)} s; credentials in ${credsFile}`,
      );
      vehicles = r.vehicles;
    } finally {
      await db.destroy();
    }
  } else if (!values.credentials && values['client-certs']) {
    const all = vehiclesWithCertificates(values['client-certs']);
    if (all.length < count)
      throw new UsageError(
        `${values['client-certs']} holds certificates of ${all.length} vehicles; --vehicles asks for ${count}`,
      );
    vehicles = all.slice(0, count).map((id) => ({ id, secret: '' }));
  } else {
    if (!values.credentials)
      throw new UsageError(
        'give --credentials FILE, --client-certs DIR (mutual TLS), or --provision to create vehicles in DATA_DIR',
      );
    const all = readCredentialsFile(values.credentials);
    if (all.length < count)
      throw new UsageError(`${values.credentials} holds ${all.length} vehicles; --vehicles asks for ${count}`);
    vehicles = all.slice(0, count);
  }

  const realStart = Date.now();
  const startTs = speed > 1 ? Math.round(realStart - durationS! * 1000 * (speed - 1)) : realStart;
  const clock = createScaledClock({ startTs, speed });
  let warnings = 0;
  const log = {
    info: (m: string) => void m,
    warn: (m: string) => {
      if (values.quiet || ++warnings > 20) return;
      process.stderr.write(`\n${m}${warnings === 20 ? ' (further gateway messages suppressed)' : ''}\n`);
    },
  };
  const fleet = createFleet(
    { clock, log },
    {
      vehicles,
      brokerUrl: broker,
      rateHz,
      seed: values.seed,
      startTs,
      scenarios,
      tickMs,
      connectConcurrency,
      bufferCapacity,
      ...(values['buffer-dir'] ? { dataDir: resolve(values['buffer-dir']) } : {}),
      model: values.mode === 'load' ? { mainsOutagesPerDay: 0, drivesPerDay: 0 } : {},
      ...(values.ca || values['client-certs'] ? { tls: tlsOptions(values.ca, values['client-certs'], vehicles) } : {}),
    },
  );
  console.error(
    `simulating ${count} vehicles at ${rateHz} Hz (speed ×${speed}, seed ${values.seed}) against ${broker}${durationS ? ` for ${durationS} s` : ' until Ctrl-C'}`,
  );
  fleet.start();
  // the runner's own event loop, per 10 s as the PUBACK p99: a tail the runner made itself shows here
  const ownLoop = watchOwnLoop({ windowMs: ACK_WINDOW_MS, keep: ACK_WINDOWS_KEPT });

  const tty = process.stderr.isTTY;
  let last = { t: Date.now(), acked: 0 };
  let lastPrinted = 0;
  let firstAllConnectedAt: number | null = null;
  let ackedAtAllConnected = 0;
  // the platform's cause breakdown of the steady part (all connected → end of production)
  const metricsToken = values['metrics-token'] ?? env.METRICS_TOKEN;
  const source: BreakdownSource | undefined = metricsToken
    ? {
        baseUrl: values.platform ?? `http://127.0.0.1:${env.HTTP_PORT || 8080}`,
        metricsToken,
        ...(values.inspect ? { inspectorUrl: values.inspect } : {}),
      }
    : undefined;
  let probe: ReturnType<typeof beginBreakdown> | undefined;
  // every second the two figures the run follows; the whole stats only for a line that is printed
  const status = setInterval(() => {
    const p = fleet.progress();
    const now = Date.now();
    const fps = ((p.framesAcked - last.acked) * 1000) / Math.max(1, now - last.t);
    last = { t: now, acked: p.framesAcked };
    if (firstAllConnectedAt === null && p.connected === p.vehicles) {
      firstAllConnectedAt = now;
      ackedAtAllConnected = p.framesAcked;
      fleet.markSteady();
      if (source) probe = beginBreakdown(source);
    }
    if (values.quiet || (!tty && now - lastPrinted < 10_000)) return;
    lastPrinted = now;
    const line = formatStatus(fleet.stats(), fps, clock.now());
    process.stderr.write(tty ? `\r\x1b[2K${line}` : line + '\n');
  }, 1000);

  const finished = new Promise<string>((resolveDone) => {
    if (durationS !== null) setTimeout(() => resolveDone('duration reached'), durationS * 1000);
    process.once('SIGINT', () => resolveDone('interrupted'));
    process.once('SIGTERM', () => resolveDone('terminated'));
  });
  const reason = await finished;
  const productionEnd = Date.now();
  const atEnd = fleet.stats();
  const causes = probe ? await (await probe).end() : undefined;
  if (tty && !values.quiet) process.stderr.write('\n');
  console.error(`${reason}; draining buffers (up to ${drainS} s) and disconnecting…`);
  const { drained } = await fleet.stop(drainS * 1000);
  clearInterval(status);
  // the last, shorter window (and the drain) counts too
  const ownLoopMaxMsBy10s = ownLoop.stop();
  const s = fleet.stats();
  const wallS = (productionEnd - realStart) / 1000;
  const steadyS = firstAllConnectedAt ? (productionEnd - firstAllConnectedAt) / 1000 : 0;
  const summary = {
    vehicles: s.vehicles,
    rateHz,
    speed,
    seed: values.seed,
    wallS: round(wallS, 1),
    framesSampled: s.framesSampled,
    framesAcked: s.framesAcked,
    framesPerS: round(atEnd.framesAcked / wallS, 1),
    steadyFramesPerS: steadyS > 0 ? round((atEnd.framesAcked - ackedAtAllConnected) / steadyS, 1) : null,
    offeredPerS: round(s.vehicles * rateHz * speed, 1),
    lost: s.framesSampled - s.framesAcked - s.buffered - s.dropped - s.lostOnReboot,
    unacked: s.buffered,
    dropped: s.dropped,
    lostOnReboot: s.lostOnReboot,
    skippedSamples: s.skippedSamples,
    drained,
    connectFailures: s.connectFailures,
    errorsReceived: s.errorsReceived,
    errorsByCode: s.errorsByCode,
    p50AckMs: s.p50AckMs === null ? null : round(s.p50AckMs, 1),
    p99AckMs: s.p99AckMs === null ? null : round(s.p99AckMs, 1),
    // from every vehicle connected to the end of production (what the breakdown covers)
    steadyP50AckMs: atEnd.steadyP50AckMs === null ? null : round(atEnd.steadyP50AckMs, 1),
    steadyP99AckMs: atEnd.steadyP99AckMs === null ? null : round(atEnd.steadyP99AckMs, 1),
    p99AckMsBy10s: s.p99AckMsBy10s.map((v) => (v === null ? null : round(v, 1))),
    // the runner's own event-loop delay, the largest in each 10 s (what its own measuring can add)
    ownLoopMaxMsBy10s,
    loopBusyPct: round((fleet.loop().busyMs / (wallS * 1000)) * 100, 1),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
    breakdown: causes ? breakdownJson(causes) : null,
  };
  console.error(
    `p99 publish→PUBACK by 10 s of the run (ms): ${summary.p99AckMsBy10s.map((v) => (v === null ? '-' : Math.round(v))).join(' ')}`,
  );
  console.error(`the runner's own event-loop delay, max by 10 s (ms): ${ownLoopMaxMsBy10s.map(Math.round).join(' ')}`);
  if (causes) for (const line of breakdownLines(causes, '')) console.error(line);
  else if (!source) console.error('(no cause breakdown: give --metrics-token or METRICS_TOKEN, see --help)');
  console.log(summaryLine(summary));
  const problems = runProblems(s, broker);
  for (const problem of problems) console.error(`run failed: ${problem}`);
  return problems.length > 0 ? RUN_FAILED_EXIT_CODE : 0;
}

function round(v: number, d: number) {
  const m = 10 ** d;
  return Math.round(v * m) / m;
}

const env = process.env;
main(process.argv.slice(2), env)
  .then((code) => process.exit(code))
  .catch((err: unknown) => {
    if (err instanceof UsageError || err instanceof ScenarioFileError) {
      console.error(err.message);
      if (err instanceof UsageError) console.error('\n' + USAGE);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
