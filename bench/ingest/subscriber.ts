/**
 * The bare counting subscriber for the Mosquitto comparison, run as its own process by run.ts.
 * One MQTT.js connection subscribed to `v1/vehicles/+/telemetry` at QoS 1; it only counts.
 * Every 50 ms it notes (time, count), so the orchestrator can ask how many messages had arrived
 * at the load generator's window start and end without IPC delays skewing the figure.
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { exitWithParent, sendToParent } from '../shared/child.ts';
import type { ChildToParent, ParentToChild } from './ipc.ts';

const { values: args } = parseArgs({
  options: { port: { type: 'string' }, topic: { type: 'string', default: 'v1/vehicles/+/telemetry' } },
});

const send = (msg: ChildToParent) => sendToParent(msg);
exitWithParent();

/** About 14 h of samples at 20/s; beyond that the oldest are overwritten (never reached by a bench). */
const MAX_SAMPLES = 1_000_000;
const times = new Float64Array(MAX_SAMPLES);
const counts = new Float64Array(MAX_SAMPLES);
let nSamples = 0;
let count = 0;

function note() {
  const i = nSamples % MAX_SAMPLES;
  times[i] = Date.now();
  counts[i] = count;
  nSamples++;
}

/** The count at wall-clock time `at`, interpolated between the two samples around it. */
function countAt(at: number): number {
  const n = Math.min(nSamples, MAX_SAMPLES);
  const start = nSamples - n;
  let prev = -1;
  for (let k = start; k < nSamples; k++) {
    const i = k % MAX_SAMPLES;
    if (times[i]! >= at) {
      if (prev < 0) return counts[i]!;
      const t0 = times[prev]!;
      const t1 = times[i]!;
      const f = t1 === t0 ? 1 : (at - t0) / (t1 - t0);
      return Math.round(counts[prev]! + f * (counts[i]! - counts[prev]!));
    }
    prev = i;
  }
  return count;
}

const port = Number(args.port);
if (!Number.isInteger(port) || port <= 0) throw new Error('--port is required');
const client = mqtt.connect({
  host: '127.0.0.1',
  port,
  protocolVersion: 4,
  clientId: `bench-sub-${process.pid}`,
  clean: true,
  reconnectPeriod: 0,
  keepalive: 60,
});
client.on('message', () => {
  count++;
});
client.on('error', (err) => {
  void send({ type: 'fatal', message: `subscriber: ${err.message}` });
});
client.on('close', () => process.stderr.write('  [subscriber] connection closed\n'));
client.on('connect', () => {
  client.subscribe(args.topic, { qos: 1 }, (err, granted) => {
    if (err || !granted || granted[0]?.qos !== 1) {
      void send({ type: 'fatal', message: `subscribe failed: ${err?.message ?? JSON.stringify(granted)}` });
      return;
    }
    note();
    setInterval(note, 50);
    void send({ type: 'subscribed' });
  });
});
process.on('message', (m: ParentToChild) => {
  if (m.type === 'countAt') {
    note();
    void send({ type: 'countAt', at: m.at, count: countAt(m.at), total: count });
  }
});
