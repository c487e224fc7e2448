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
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { frameTemplate, telemetryTopic } from '../ingest/frames.ts';
import type { Credential } from '../ingest/ipc.ts';
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
const num = (name: keyof typeof args): number => {
  const n = Number(args[name]);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a non-negative number, got ${String(args[name])}`);
  return n;
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// a bench child never outlives the bench
process.on('disconnect', () => process.exit(3));

function connectOne(cred: Credential, port: number, timeoutMs: number): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port,
      protocolVersion: 4,
      clientId: cred.id,
      username: cred.id,
      password: cred.secret,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
    });
    (client.stream as Partial<Socket>).setNoDelay?.(true);
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs + 1000);
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error('closed before CONNACK'));
    function fail(err: Error) {
      clearTimeout(timer);
      client.removeListener('connect', onConnect);
      client.end(true);
      reject(err);
    }
    function onConnect() {
      clearTimeout(timer);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      resolve(client);
    }
    client.once('connect', onConnect);
    client.once('error', onError);
    client.once('close', onClose);
  });
}

async function connectAll(creds: Credential[], port: number) {
  const deadline = Date.now() + num('connect-timeout') * 1000;
  const clients: MqttClient[] = [];
  let firstError: string | undefined;
  const started = Date.now();
  // 100 at a time; whatever is not attempted before the deadline counts as failed
  for (let i = 0; i < creds.length && Date.now() < deadline; i += 100) {
    const settled = await Promise.allSettled(
      creds.slice(i, i + 100).map((c) => connectOne(c, port, Math.max(1000, Math.min(30_000, deadline - Date.now())))),
    );
    for (const s of settled) {
      if (s.status === 'fulfilled') clients.push(s.value);
      else firstError ??= (s.reason as Error).message;
    }
  }
  return { clients, failed: creds.length - clients.length, firstError, ms: Date.now() - started };
}

async function main() {
  const all = JSON.parse(readFileSync(args.creds!, 'utf8')) as Credential[];
  const from = num('from');
  const total = num('total');
  const creds = all.slice(from, num('to'));
  const periodMs = 1000 / num('rate');
  const minGapMs = 1000 / num('max-rate-hz');

  const go = fromParent('go', 30 * 60_000);
  const { clients, failed, firstError: connectError, ms } = await connectAll(creds, num('port'));
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
