/**
 * bench:cluster's failover gateways, run as its own process by bench/cluster/run.ts (never on its
 * own): --count MQTT.js connections through the TCP balancer (--port), client id = username =
 * vehicle id, each publishing a valid frame at QoS 1 every 1/--rate s and reconnecting 250 ms after
 * a close (through the balancer, so to a live node). It keeps every acknowledged seq per vehicle and
 * the time of every close and CONNACK, and answers:
 *   { type: 'since', at }  → how many gateways closed at or after `at`, and for those connected
 *                            again since, the time from `at` to their first CONNACK after the close;
 *   { type: 'finish' }     → stops publishing, waits (≤ --drain-timeout s) for what is in flight,
 *                            and sends every acknowledged seq per vehicle.
 * Bounded: connecting by --connect-timeout, everything by --max-s.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { exitWithParent, numberFlags, sendToParent } from '../shared/child.ts';
import { frameTemplate, telemetryTopic } from '../shared/frames.ts';
import type { Credential } from '../shared/provision.ts';
import type { GatewaysToParent, ParentToGateways } from './ipc.ts';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    creds: { type: 'string' },
    count: { type: 'string' },
    rate: { type: 'string', default: '1' },
    'seq-base': { type: 'string', default: '0' },
    keepalive: { type: 'string', default: '10' },
    'connect-timeout': { type: 'string', default: '120' },
    'drain-timeout': { type: 'string', default: '30' },
    'max-s': { type: 'string', default: '1800' },
  },
});
const num = numberFlags(args);
const send = (m: GatewaysToParent) => sendToParent(m);
const log = (text: string) => process.stderr.write(`  [gateways] ${text}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

exitWithParent();

interface Gateway {
  id: string;
  client: MqttClient;
  topic: string;
  make: (seq: number, ts: number) => Buffer;
  seq: number;
  acked: number[];
  closes: number[];
  connects: number[];
}

async function main() {
  const port = num('port');
  if (!args.creds) throw new Error('--creds is required');
  const creds = (JSON.parse(readFileSync(args.creds, 'utf8')) as Credential[]).slice(0, num('count'));
  setTimeout(
    () => {
      log(`--max-s ${num('max-s')} reached; exiting`);
      process.exit(2);
    },
    num('max-s') * 1000,
  ).unref();

  let inflight = 0;
  let errors = 0;
  let publishing = true;
  const gateways: Gateway[] = creds.map((c, i) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port,
      protocol: 'mqtt',
      protocolVersion: 4,
      clientId: c.id,
      username: c.id,
      password: c.secret,
      clean: true,
      keepalive: Math.max(1, Math.floor(num('keepalive'))),
      reconnectPeriod: 250,
      connectTimeout: 5000,
      manualConnect: true,
    });
    const g: Gateway = {
      id: c.id,
      client,
      topic: telemetryTopic(c.id),
      make: frameTemplate(i),
      seq: Math.floor(num('seq-base')),
      acked: [],
      closes: [],
      connects: [],
    };
    client.on('connect', () => {
      g.connects.push(Date.now());
      (client.stream as Partial<Socket>).setNoDelay?.(true);
    });
    client.on('close', () => g.closes.push(Date.now()));
    client.on('error', () => undefined);
    return g;
  });
  // connect 100 at a time, then wait for all (bounded)
  for (let i = 0; i < gateways.length; i += 100) {
    for (const g of gateways.slice(i, i + 100)) g.client.connect();
    await sleep(50);
  }
  const started = Date.now();
  const deadline = started + num('connect-timeout') * 1000;
  while (!gateways.every((g) => g.client.connected)) {
    if (Date.now() > deadline) {
      const n = gateways.filter((g) => !g.client.connected).length;
      throw new Error(`${n} of ${gateways.length} gateways not connected within ${num('connect-timeout')} s`);
    }
    await sleep(50);
  }
  void send({ type: 'connected', connected: gateways.length, ms: Date.now() - started });

  const periodMs = 1000 / num('rate');
  const ticker = setInterval(() => {
    if (!publishing) return;
    for (const g of gateways) {
      if (!g.client.connected) continue;
      const seq = ++g.seq;
      inflight++;
      g.client.publish(g.topic, g.make(seq, Date.now()), { qos: 1 }, (err) => {
        inflight--;
        if (err) errors++;
        else g.acked.push(seq);
      });
    }
  }, periodMs);

  process.on('message', (m: ParentToGateways) => {
    if (m.type === 'since') {
      let closed = 0;
      const reconnectMs: number[] = [];
      for (const g of gateways) {
        const close = g.closes.find((t) => t >= m.at);
        if (close === undefined) continue;
        closed++;
        const back = g.connects.find((t) => t >= close);
        if (back !== undefined && g.client.connected) reconnectMs.push(back - m.at);
      }
      void send({
        type: 'since',
        closed,
        reconnectMs,
        connected: gateways.filter((g) => g.client.connected).length,
      });
    } else if (m.type === 'finish') {
      publishing = false;
      clearInterval(ticker);
      void (async () => {
        const drainDeadline = Date.now() + num('drain-timeout') * 1000;
        while (inflight > 0 && Date.now() < drainDeadline) await sleep(20);
        await Promise.all(gateways.map((g) => g.client.endAsync(true).catch(() => undefined)));
        await send({
          type: 'result',
          acked: gateways.map((g) => [g.id, g.acked]),
          inflightLeft: inflight,
          errors,
        });
        process.exit(0);
      })();
    }
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`gateways failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  const exit = setTimeout(() => process.exit(1), 1000);
  void send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) }).then(() => {
    clearTimeout(exit);
    process.exit(1);
  });
});
