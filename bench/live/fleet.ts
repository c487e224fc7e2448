/**
 * A slice of the simulated fleet for bench:live, run as its own process by bench/live/run.ts (never
 * on its own): one MQTT.js connection per vehicle (client id = username = vehicle id), each
 * publishing a valid protocol v1 frame at --rate Hz, QoS 1, phases spread evenly over the period
 * across the whole fleet. A frame's `ts` is the wall clock at the moment it is handed to MQTT.js:
 * the consoles measure publish→arrival from it.
 *
 *   --port P --creds FILE --from I --to J --total N [--rate 1]
 *
 * Bounded: connecting by --connect-timeout, publishing by the schedule's stopAt (and a count cap),
 * waiting for the last PUBACKs by --drain-timeout, the whole life by the schedule + 10 minutes.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exitWithParent, numberFlags } from '../shared/child.ts';
import { frameTemplate, telemetryTopic } from '../shared/frames.ts';
import type { Credential } from '../shared/provision.ts';
import { connectVehicles } from '../shared/vehicle-connections.ts';
import { fromParent, sendToParent, type FleetResult } from './ipc.ts';
import { histogramToPairs, newHistogram, record } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    creds: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    total: { type: 'string' },
    rate: { type: 'string', default: '1' },
    'max-rate-hz': { type: 'string', default: '4' },
    'connect-timeout': { type: 'string', default: '180' },
    'drain-timeout': { type: 'string', default: '20' },
  },
});

const log = (text: string) => process.stderr.write(`  [fleet ${args.from}-${args.to}] ${text}\n`);
const num = numberFlags(args);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

exitWithParent();

async function main() {
  const all = JSON.parse(readFileSync(args.creds!, 'utf8')) as Credential[];
  const from = num('from');
  const total = num('total');
  const creds = all.slice(from, num('to'));
  const periodMs = 1000 / num('rate');
  const minGapMs = 1000 / num('max-rate-hz');

  const go = fromParent('go', 30 * 60_000);
  const connected = await connectVehicles(creds, num('port'), {
    concurrency: 100,
    timeoutMs: num('connect-timeout') * 1000,
    keepalive: 60,
  });
  const { failed, firstError: connectError, ms } = connected;
  const clients = connected.clients.filter((c) => c !== undefined);
  await sendToParent({
    type: 'connected',
    connected: clients.length,
    failed,
    ms,
    ...(connectError ? { firstError: connectError } : {}),
  });
  if (failed > 0) throw new Error(`${failed} of ${creds.length} connections failed (first: ${connectError})`);
  const { schedule } = await go;
  const hardStop = setTimeout(
    () => {
      log('still running 10 minutes after the schedule ended: exiting');
      process.exit(4);
    },
    schedule.stopAt - Date.now() + 10 * 60_000,
  );
  hardStop.unref();

  const n = clients.length;
  const topics = creds.map((c) => telemetryTopic(c.id));
  const makers = creds.map((_, i) => frameTemplate(from + i));
  // vehicle i of the whole fleet publishes at startAt + phase(i) + k·period: phases spread evenly
  const phase = creds.map((_, i) => ((from + i) / total) * periodMs);
  const seq = new Array<number>(n).fill(0);
  const lastAt = new Array<number>(n).fill(-Infinity);
  const publishedInWindow = new Array<number>(n).fill(0);
  const ackLatency = newHistogram();
  const r: Omit<FleetResult, 'publishedInWindow' | 'ackLatency'> = {
    vehicles: n,
    published: 0,
    acked: 0,
    errors: 0,
    disconnects: 0,
    bunched: 0,
    maxLagMs: 0,
  };
  let running = true;
  let inflight = 0;
  for (const c of clients) {
    c.on('close', () => {
      if (running) r.disconnects++;
    });
    c.on('error', (err) => {
      r.firstError ??= err.message;
    });
  }

  function publish(i: number) {
    const ts = Date.now();
    const inWindow = ts >= schedule.windowStart && ts < schedule.windowEnd;
    if (ts - lastAt[i]! < minGapMs) r.bunched++;
    lastAt[i] = ts;
    if (inWindow) publishedInWindow[i]!++;
    r.published++;
    inflight++;
    clients[i]!.publish(topics[i]!, makers[i]!(seq[i]!++, ts), { qos: 1 }, (err) => {
      inflight--;
      if (err) {
        r.errors++;
        r.firstError ??= err.message;
        return;
      }
      r.acked++;
      if (inWindow) record(ackLatency, Date.now() - ts);
    });
  }

  // the j-th publish overall is vehicle j mod n at startAt + phase + floor(j / n)·period: in time order
  const maxPublishes = n * (Math.ceil((schedule.stopAt - schedule.startAt) / periodMs) + 1);
  let j = 0;
  const due = (k: number) => schedule.startAt + phase[k % n]! + Math.floor(k / n) * periodMs;
  await sleep(Math.max(0, schedule.startAt - Date.now()));
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = Date.now();
      while (j < maxPublishes && due(j) <= now && due(j) < schedule.stopAt) {
        r.maxLagMs = Math.max(r.maxLagMs, now - due(j));
        publish(j % n);
        j++;
      }
      if (now >= schedule.stopAt || j >= maxPublishes) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });

  const drainUntil = Date.now() + num('drain-timeout') * 1000;
  while (inflight > 0 && Date.now() < drainUntil) await sleep(50);
  if (inflight > 0) log(`${inflight} publishes still unanswered after the drain`);
  const report = fromParent('release', 10 * 60_000);
  await sendToParent({
    type: 'done',
    result: { ...r, maxLagMs: Math.round(r.maxLagMs), publishedInWindow, ackLatency: histogramToPairs(ackLatency) },
  });
  await report.catch(() => undefined);
  running = false;
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  process.exit(0);
}

main().catch(async (err: unknown) => {
  await sendToParent({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
