/**
 * The fleet for bench:faults, run as a child process by bench/faults/run.ts: N gateways (MQTT.js,
 * QoS 1) each publishing one frame a second, phases spread over the second. On a schedule, one
 * vehicle after another develops a charging over-voltage (critical, 10 s hold). A frame's `ts` is the
 * wall clock at publish, so the platform's alarm time is the publish time of the frame that
 * completed the condition. Bounded by --duration.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';

const { values: a } = parseArgs({
  options: {
    port: { type: 'string' },
    creds: { type: 'string' },
    duration: { type: 'string', default: '60' },
    'fault-every': { type: 'string', default: '500' },
    'fault-start': { type: 'string', default: '10' },
  },
});
process.on('disconnect', () => process.exit(3));

const creds = JSON.parse(readFileSync(a.creds!, 'utf8')) as { id: string; secret: string }[];
const port = Number(a.port);
const durationMs = Number(a.duration) * 1000;
const faultEveryMs = Number(a['fault-every']);
const faultStartMs = Number(a['fault-start']) * 1000;

function connect(c: { id: string; secret: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({
      host: '127.0.0.1',
      port,
      clientId: c.id,
      username: c.id,
      password: c.secret,
      reconnectPeriod: 1000,
      keepalive: 60,
      connectTimeout: 30_000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

function frame(seq: number, ts: number, fault: boolean) {
  const w = (seq % 7) / 100;
  return {
    v: 1,
    seq,
    ts,
    source: 'mains',
    mains: { present: true, voltageV: 220 + w, frequencyHz: 50, currentA: 10 + w },
    generator: {
      running: false,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm: 0,
      fuelPct: 80,
      coolantC: 25 + w,
      oilKpa: 0,
    },
    battery: { voltageV: (fault ? 30.8 : 27.1) + w / 10, currentA: 2 + w, socPct: 92, tempC: 25 + w },
    charging: { engineRunning: fault, alternatorV: fault ? 31 : 0, currentA: fault ? 20 : 0 },
    loadKw: 2 + w,
  };
}

async function main() {
  const clients: MqttClient[] = [];
  for (let i = 0; i < creds.length; i += 200)
    clients.push(...(await Promise.all(creds.slice(i, i + 200).map(connect))));
  process.send?.({ type: 'connected', count: clients.length });
  const start = Date.now();
  const faultAt = new Map<number, number>(); // vehicle index → fault start
  let published = 0;
  let acked = 0;
  let nextFault = start + faultStartMs;
  let faultIndex = 0;
  const seq = new Array<number>(clients.length).fill(0);
  const tickMs = 20;
  const perTick = clients.length * (tickMs / 1000);
  let cursor = 0;
  let carry = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - start >= durationMs) {
        clearInterval(timer);
        resolve();
        return;
      }
      // no new faults in the last 15 s: every fault's 10 s hold completes within the run
      while (now >= nextFault && faultIndex < clients.length && nextFault <= start + durationMs - 15_000) {
        faultAt.set(faultIndex++, nextFault);
        nextFault += faultEveryMs;
      }
      carry += perTick;
      for (; carry >= 1; carry--) {
        const i = cursor;
        cursor = (cursor + 1) % clients.length;
        const f = faultAt.get(i);
        const payload = JSON.stringify(frame(seq[i]!++, Date.now(), f !== undefined && Date.now() >= f));
        published++;
        clients[i]!.publish(`v1/vehicles/${creds[i]!.id}/telemetry`, payload, { qos: 1 }, (err) => {
          if (!err) acked++;
        });
      }
    }, tickMs);
  });
  process.send?.({ type: 'done', published, acked, faults: faultIndex, seconds: (Date.now() - start) / 1000 });
  await Promise.all(clients.map((c) => c.endAsync()));
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`fleet failed: ${String(err)}\n`);
  process.exit(1);
});
