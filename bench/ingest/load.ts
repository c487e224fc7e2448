/**
 * The load generator, run as its own process by bench/ingest/run.ts (never on its own).
 * N MQTT.js connections (client id = username = vehicle id, password = its secret) to 127.0.0.1.
 *
 *   --mode max   closed loop: each connection keeps up to --window QoS 1 publishes in flight and
 *                sends the next one when a PUBACK arrives; counts PUBACKs in the window.
 *   --mode rate  open loop at a fixed aggregate --rate (frames/s, spread round-robin over the
 *                connections); measures publish→PUBACK latency of frames sent in the window.
 *   --mode idle  connects and holds the connections (keepalive pings only) until told to release.
 *
 * --ports=P1,P2,… instead of --port spreads the connections round-robin over several listeners
 * (bench:cluster: one per node; connection i goes to the i-th modulo their count) and counts the
 * window's PUBACKs per listener.
 *
 * --profile-seconds N: after the window, a pause of a second, then N more seconds of the same load
 * between `profile-start` and `profile-end` messages, in which the orchestrator profiles the
 * platform (the profiler would lengthen the tail measured in the window: bench/shared/breakdown.ts).
 * Nothing sent after the window counts in its figures.
 *
 * Every loop is bounded: connecting by --connect-timeout, the run by --warmup + --duration (+ the profile stretch), the
 * drain of in-flight publishes by --drain-timeout, the idle hold by --hold-max.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { MqttClient } from 'mqtt';
import { exitWithParent, numberFlags, sendToParent } from '../shared/child.ts';
import { watchOwnLoop } from '../../simulators/fleet/own-loop.ts';
import { frameTemplate, telemetryTopic } from '../shared/frames.ts';
import { connectVehicles } from '../shared/vehicle-connections.ts';
import type { ChildToParent, Credential, LatencySummary, LoadResult, ParentToChild } from './ipc.ts';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'max' },
    port: { type: 'string' },
    ports: { type: 'string' },
    creds: { type: 'string' },
    count: { type: 'string' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    window: { type: 'string', default: '4' },
    rate: { type: 'string', default: '1000' },
    'seq-base': { type: 'string', default: '0' },
    keepalive: { type: 'string', default: '30' },
    'connect-concurrency': { type: 'string', default: '100' },
    'connect-timeout': { type: 'string', default: '180' },
    'drain-timeout': { type: 'string', default: '30' },
    'hold-max': { type: 'string', default: '600' },
    'profile-seconds': { type: 'string', default: '0' },
  },
});

/** Per-connection cap in rate mode: beyond it a send is skipped (and counted), so memory stays bounded. */
const RATE_MODE_MAX_INFLIGHT = 1000;

const send = (msg: ChildToParent) => sendToParent(msg);
const log = (text: string) => process.stderr.write(`  [load ${args.mode}] ${text}\n`);
const num = numberFlags(args);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

exitWithParent();

const connectAll = (creds: Credential[], port: number | readonly number[]) =>
  connectVehicles(creds, port, {
    concurrency: num('connect-concurrency'),
    timeoutMs: num('connect-timeout') * 1000,
    keepalive: Math.max(1, Math.floor(num('keepalive'))),
    progress: log,
  });

/** p99 of the frames sent in each second of the window: shows whether the tail is steady or comes in bursts. */
function perSecondP99(sentAt: Float64Array, samples: Float64Array, n: number): number[] {
  const buckets: number[][] = [];
  for (let i = 0; i < n; i++) (buckets[Math.floor(sentAt[i]! / 1000)] ??= []).push(samples[i]!);
  return Array.from(buckets, (b) => {
    if (!b?.length) return 0;
    b.sort((x, y) => x - y);
    return Math.round(b[Math.min(b.length - 1, Math.ceil(0.99 * b.length) - 1)]!);
  });
}

function summarise(samples: Float64Array, n: number): LatencySummary {
  const sorted = samples.subarray(0, n).sort();
  const at = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    count: n,
    p50Ms: r(at(0.5)),
    p90Ms: r(at(0.9)),
    p99Ms: r(at(0.99)),
    maxMs: r(n ? sorted[n - 1]! : 0),
    meanMs: r(n ? sum / n : 0),
  };
}

interface Conn {
  client: MqttClient;
  topic: string;
  make: (seq: number, ts: number) => Buffer;
  seq: number;
  inflight: number;
}

async function runLoad(mode: 'max' | 'rate', creds: Credential[], ports: readonly number[]): Promise<LoadResult> {
  const { clients, failed, firstError: connectError, ms } = await connectAll(creds, ports);
  void send({
    type: 'connected',
    connected: creds.length - failed,
    failed,
    ms,
    ...(connectError ? { firstError: connectError } : {}),
  });
  if (failed > 0) throw new Error(`${failed} of ${creds.length} connections failed (first: ${connectError})`);
  log(`${creds.length} connected in ${(ms / 1000).toFixed(1)} s`);

  const windowSlots = Math.max(1, Math.floor(num('window')));
  const targetRate = num('rate');
  const seqBase = Math.floor(num('seq-base'));
  const conns: Conn[] = clients.map((client, i) => ({
    client: client!,
    topic: telemetryTopic(creds[i]!.id),
    make: frameTemplate(i),
    seq: seqBase,
    inflight: 0,
  }));
  const ackedByVehicle = new Array<number>(conns.length).fill(0);
  const ackedInWindowByPort = new Array<number>(ports.length).fill(0);
  let published = 0;
  let acked = 0;
  let errors = 0;
  let disconnects = 0;
  let inflight = 0;
  let firstError: string | undefined;
  let running = true;
  let measuring = false;
  let windowStartPerf = Infinity;
  let windowEndPerf = Infinity;
  let ackedInWindow = 0;
  let publishedInWindow = 0;
  let skippedBusy = 0;
  // latency samples (rate mode): bounded by the window's expected count, with headroom
  const maxSamples = mode === 'rate' ? Math.ceil(targetRate * (num('duration') + 5) * 1.2) + 1000 : 0;
  const samples = new Float64Array(maxSamples);
  const sentAt = new Float64Array(maxSamples); // when each sampled frame was sent, for the per-second view
  let nSamples = 0;

  for (const c of conns) {
    c.client.on('close', () => {
      if (running) disconnects++;
    });
    c.client.on('error', (err) => {
      firstError ??= err.message;
    });
  }

  function publish(i: number) {
    const c = conns[i]!;
    c.inflight++;
    inflight++;
    published++;
    if (measuring) publishedInWindow++;
    const t0 = performance.now();
    c.client.publish(c.topic, c.make(c.seq++, Date.now()), { qos: 1 }, (err) => {
      c.inflight--;
      inflight--;
      if (err) {
        errors++;
        firstError ??= err.message;
        return;
      }
      acked++;
      ackedByVehicle[i]!++;
      if (measuring) {
        ackedInWindow++;
        ackedInWindowByPort[i % ports.length]!++;
      }
      if (mode === 'rate') {
        if (t0 >= windowStartPerf && t0 < windowEndPerf && nSamples < maxSamples) {
          sentAt[nSamples] = t0 - windowStartPerf;
          samples[nSamples++] = performance.now() - t0;
        }
      } else pump(i);
    });
  }

  function pump(i: number) {
    const c = conns[i]!;
    while (running && c.inflight < windowSlots && c.client.connected) publish(i);
  }

  let ticker: NodeJS.Timeout | undefined;
  if (mode === 'max') {
    for (let i = 0; i < conns.length; i++) pump(i);
  } else {
    // open loop: every 2 ms send what is due by now, round-robin over the connections
    const started = performance.now();
    let issued = 0;
    let rr = 0;
    const maxBurst = Math.max(1, Math.ceil(targetRate / 10));
    ticker = setInterval(() => {
      if (!running) return;
      const due = Math.floor((targetRate * (performance.now() - started)) / 1000) - issued;
      const burst = Math.min(due, maxBurst);
      for (let k = 0; k < burst; k++) {
        const i = rr;
        rr = (rr + 1) % conns.length;
        const c = conns[i]!;
        if (c.inflight >= RATE_MODE_MAX_INFLIGHT || !c.client.connected) skippedBusy++;
        else publish(i);
      }
      issued += due; // what could not be sent in a burst is dropped from the schedule, not piled up
    }, 2);
  }

  await sleep(num('warmup') * 1000);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  windowStartPerf = performance.now();
  measuring = true;
  const ownLoop = watchOwnLoop({ windowMs: 1000, keep: Math.ceil(num('duration')) + 1 });
  void send({ type: 'window', phase: 'start', at: t0 });
  await sleep(num('duration') * 1000);
  measuring = false;
  windowEndPerf = performance.now();
  const ownLoopMaxMsBySecond = ownLoop.stop();
  const t1 = Date.now();
  const cpu = process.cpuUsage(cpu0);
  void send({ type: 'window', phase: 'end', at: t1 });
  if (num('profile-seconds') > 0) {
    // the window's last frames are answered before the profiler starts
    await sleep(1000);
    void send({ type: 'window', phase: 'profile-start', at: Date.now() });
    await sleep(num('profile-seconds') * 1000);
    void send({ type: 'window', phase: 'profile-end', at: Date.now() });
  }
  running = false;
  if (ticker) clearInterval(ticker);

  // drain: wait (bounded) until every publish in flight is acknowledged or failed
  const drainDeadline = Date.now() + num('drain-timeout') * 1000;
  while (inflight > 0 && Date.now() < drainDeadline) await sleep(20);
  const drained = inflight === 0;
  if (!drained) log(`${inflight} publishes still unanswered after the drain timeout`);

  await Promise.all(conns.map((c) => new Promise<void>((r) => c.client.end(false, {}, () => r()))));

  const result: LoadResult = {
    mode,
    connections: conns.length,
    published,
    acked,
    errors,
    disconnects,
    ackedInWindow,
    ...(ports.length > 1 ? { ackedInWindowByPort } : {}),
    publishedInWindow,
    windowStart: t0,
    windowEnd: t1,
    drained,
    inflightLeft: inflight,
    ackedByVehicle,
    loadCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (t1 - t0)) * 100),
    ownLoopMaxMsBySecond,
    ...(firstError ? { firstError } : {}),
  };
  if (mode === 'rate') {
    result.latencyBySecond = perSecondP99(sentAt, samples, nSamples);
    result.latency = summarise(samples, nSamples);
    result.targetRate = targetRate;
    result.skippedBusy = skippedBusy;
  }
  return result;
}

async function runIdle(creds: Credential[], port: readonly number[]): Promise<void> {
  const { clients, failed, firstError, ms } = await connectAll(creds, port);
  let closed = 0;
  for (const c of clients) c?.on('close', () => closed++);
  log(`${creds.length - failed} of ${creds.length} connected in ${(ms / 1000).toFixed(1)} s; holding them idle`);
  void send({ type: 'connected', connected: creds.length - failed, failed, ms, ...(firstError ? { firstError } : {}) });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, num('hold-max') * 1000);
    process.on('message', (m: ParentToChild) => {
      if (m.type === 'release') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  if (closed > 0) log(`${closed} idle connections were closed while held`);
  for (const c of clients) c?.end(true);
}

async function main() {
  const ports = (args.ports ?? args.port ?? '').split(',').filter(Boolean).map(Number);
  if (!ports.length || !ports.every((p) => Number.isInteger(p) && p > 0))
    throw new Error('--port or --ports is required');
  if (!args.creds) throw new Error('--creds is required');
  const all = JSON.parse(readFileSync(args.creds, 'utf8')) as Credential[];
  const count = args.count === undefined ? all.length : Math.floor(num('count'));
  if (count > all.length) throw new Error(`--count ${count} but only ${all.length} credentials`);
  const creds = all.slice(0, count);
  if (args.mode === 'idle') return runIdle(creds, ports);
  if (args.mode !== 'max' && args.mode !== 'rate') throw new Error(`unknown --mode ${args.mode}`);
  const result = await runLoad(args.mode, creds, ports);
  if (process.send) await send({ type: 'result', result });
  else console.log(JSON.stringify({ ...result, ackedByVehicle: undefined })); // run by hand, for debugging
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`load generator failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    const exit = setTimeout(() => process.exit(1), 1000);
    void send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) }).then(() => {
      clearTimeout(exit);
      process.exit(1);
    });
  },
);
