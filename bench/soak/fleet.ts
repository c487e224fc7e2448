/**
 * One slice of the soak's fleet, run as its own process by bench/soak/run.ts (never on its own):
 * for each vehicle of its slice the simulators' power-system model and the reference gateway
 * (simulators/gateway: MQTT.js, QoS 1, store-and-forward buffer, confirmations, backfill), all
 * driven by one timer loop, first samples spread over the second across the whole fleet.
 *
 * Each gateway is driven (its `tick`: sample what is due, connect, send) once every --batch B
 * seconds at its own slot, not on every tick of the loop. With B = 1 (the default) that is just
 * after each sample is due, so every frame leaves on its own within a tick of its `ts`. With B > 1
 * it still samples at --rate (1 Hz), so each drive finds B frames waiting and the reference gateway
 * sends them as one `{"frames":[…]}` message (docs/protocol.md, batches): the same frames, B times
 * fewer MQTT messages. Drives are spread over the B seconds across the fleet.
 *
 * Faults (from the orchestrator, absolute times) go into the model (vehicle faults) or the gateway
 * (link loss, reboot). For vehicles with a vehicle fault the publish time of every frame is kept
 * (the last 600 per vehicle: a ticket's trigger is among the newest when it is looked up), so that
 * a ticket can be timed from the publish of the frame that completed its condition.
 *
 *   --port P --creds FILE --offset I --total N [--batch 1] [--rate 1] [--tick-ms 100]
 *   [--connect-concurrency 64] [--seed S] [--buffer 10000]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { exitWithParent } from '../shared/child.ts';
import { createGateway, type Gateway } from '../../simulators/gateway/gateway.ts';
import { createConnectLimiter } from '../../simulators/fleet/connect-limiter.ts';
import { createRandom } from '../../simulators/model/random.ts';
import { createVehicleModel, type VehicleModel } from '../../simulators/model/vehicle.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/index.ts';
import { emptyBuckets, record, type Buckets } from './histogram.ts';
import {
  sendToParent,
  type FleetLedger,
  type FleetTotals,
  type ParentToFleet,
  type SoakFault,
  type SoakVehicle,
} from './ipc.ts';

const { values: a } = parseArgs({
  options: {
    port: { type: 'string' },
    creds: { type: 'string' },
    offset: { type: 'string', default: '0' },
    total: { type: 'string' },
    batch: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1' },
    'tick-ms': { type: 'string', default: '100' },
    'connect-concurrency': { type: 'string', default: '64' },
    seed: { type: 'string', default: 'soak' },
    buffer: { type: 'string', default: '10000' },
  },
});
exitWithParent();

const vehicles = JSON.parse(readFileSync(a.creds!, 'utf8')) as SoakVehicle[];
const port = Number(a.port);
const offset = Number(a.offset);
const total = Number(a.total ?? vehicles.length);
const batchS = Math.max(1, Math.round(Number(a.batch)));
const rateHz = Number(a.rate);
const tickMs = Number(a['tick-ms']);
const brokerUrl = `mqtt://127.0.0.1:${port}`;
const clock = { now: () => Date.now() };

/** Publish times of the frames of watched vehicles: ts → wall time of the first publish. */
const RING = 600;
const published = new Map<string, Map<number, number>>();
const TS = /"ts":(\d+)/g;

/** MQTT.js connect, with each client's telemetry publishes noted for the watched vehicles. */
function connect(url: string, options: IClientOptions): MqttClient {
  const c = mqtt.connect(url, options);
  const id = options.clientId ?? '';
  const telemetry = `v1/vehicles/${id}/telemetry`;
  const publish = c.publish.bind(c) as (...args: unknown[]) => MqttClient;
  c.publish = ((topic: string, message: string | Buffer, ...rest: unknown[]) => {
    const ring = published.get(id);
    if (ring && topic === telemetry) {
      const at = Date.now();
      const text = typeof message === 'string' ? message : message.toString('utf8');
      for (const m of text.matchAll(TS)) {
        const ts = Number(m[1]);
        if (!ring.has(ts)) ring.set(ts, at);
      }
      while (ring.size > RING) ring.delete(ring.keys().next().value!);
    }
    return publish(topic, message, ...rest);
  }) as MqttClient['publish'];
  return c;
}

const limiter = createConnectLimiter(Number(a['connect-concurrency']));
const jitter = createRandom(`${a.seed}:jitter:${offset}`);
let ack: Buckets = emptyBuckets();
let warnings = 0;
const log = {
  info: (m: string) => void m,
  warn: (m: string) => {
    // a link cut or a reboot is what the injected faults do: not worth a line; anything else is (the first 5)
    if (/: (link lost|gateway reboot); buffering$/.test(m)) return;
    if (++warnings <= 5)
      process.stderr.write(
        `  [fleet ${offset}] ${m}${warnings === 5 ? ' (further gateway messages suppressed)' : ''}\n`,
      );
  },
};

interface Sim {
  gateway: Gateway;
  model: VehicleModel;
  /** Global index in the fleet: spreads first samples and batch drives. */
  slot: number;
  nextDriveAt: number;
}

function build(t0: number): Sim[] {
  return vehicles.map((v, i) => {
    const g = offset + i;
    const model = createVehicleModel({
      vehicleId: v.id,
      seed: a.seed!,
      startTs: t0,
      profile: v.profile,
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    const gateway = createGateway(
      {
        clock,
        model,
        limiter,
        log,
        connect,
        realNow: Date.now,
        random: () => jitter.next(),
        onAck: (ms, frames) => record(ack, ms, frames),
      },
      {
        vehicleId: v.id,
        secret: v.secret,
        brokerUrl,
        rateHz,
        bufferCapacity: Number(a.buffer),
        phaseMs: Math.floor((g / total) * (1000 / rateHz)),
      },
    );
    return { gateway, model, slot: g, nextDriveAt: 0 };
  });
}

const built = Date.now();
const sims = build(built);

let timer: NodeJS.Timeout | undefined;
/**
 * Each gateway is driven (sample what is due, connect, send) once every `batchS` seconds, at its own
 * slot: with batchS 1 just after each of its samples is due, so a frame leaves within a tick of
 * its `ts`; with batchS B the B frames sampled since the last drive leave as one batch.
 */
function drive(): void {
  const now = Date.now();
  for (const s of sims) {
    if (s.nextDriveAt > now) continue;
    s.gateway.tick(now);
    // the next slot on the grid (a loop that fell behind skips slots: this drive sampled all that was due)
    while (s.nextDriveAt <= now) s.nextDriveAt += batchS * 1000;
  }
}

function addFaults(faults: SoakFault[]): void {
  const byId = new Map(sims.map((s) => [s.gateway.vehicleId, s]));
  for (const f of faults) {
    const s = byId.get(f.vehicleId);
    if (!s) continue;
    const p = plannedFault(f.name, f.startTs, f.durationS, f.params, f.index);
    if (p.target === 'gateway') s.gateway.addFault(p);
    else {
      s.model.addFault(toModelFault(p, s.model.profile));
      published.set(f.vehicleId, new Map());
    }
  }
}

function totals(): FleetTotals {
  const t: FleetTotals = {
    vehicles: sims.length,
    online: 0,
    framesSampled: 0,
    framesAcked: 0,
    messagesSent: 0,
    batchesSent: 0,
    buffered: 0,
    dropped: 0,
    lostOnReboot: 0,
    connects: 0,
    connectFailures: 0,
    errorsReceived: 0,
    backfillRequests: 0,
    confirmations: 0,
    activeFaults: 0,
  };
  for (const s of sims) {
    const x = s.gateway.stats();
    if (x.state === 'online') t.online++;
    t.framesSampled += x.framesSampled;
    t.framesAcked += x.framesAcked;
    t.messagesSent += x.messagesSent;
    t.batchesSent += x.batchesSent;
    t.buffered += x.buffered;
    t.dropped += x.dropped;
    t.lostOnReboot += x.lostOnReboot;
    t.connects += x.connects;
    t.connectFailures += x.connectFailures;
    t.errorsReceived += x.errorsReceived;
    t.backfillRequests += x.backfillRequests;
    t.confirmations += x.confirmations;
    if (x.activeFaults.length) t.activeFaults++;
  }
  return t;
}

function takeAck(): number[] {
  const b = ack;
  ack = emptyBuckets();
  return b;
}

async function stop(drainMs: number): Promise<{ drained: boolean; ledger: FleetLedger }> {
  if (timer) clearInterval(timer);
  timer = undefined;
  // no new samples from here; the frames sampled so far are sent (gateways that are not online
  // would need a drive to reconnect: the plan ends every gateway fault well before the stop)
  const results = await Promise.all(sims.map((s) => s.gateway.drain(drainMs)));
  const ledger: FleetLedger = { ids: [], sampled: [], acked: [], buffered: [], dropped: [], lostOnReboot: [] };
  for (const s of sims) {
    const x = s.gateway.stats();
    ledger.ids.push(s.gateway.vehicleId);
    ledger.sampled.push(x.framesSampled);
    ledger.acked.push(x.framesAcked);
    ledger.buffered.push(x.buffered);
    ledger.dropped.push(x.dropped);
    ledger.lostOnReboot.push(x.lostOnReboot);
  }
  for (let i = 0; i < sims.length; i += 200) await Promise.all(sims.slice(i, i + 200).map((s) => s.gateway.stop()));
  return { drained: results.every(Boolean), ledger };
}

process.on('message', (m: ParentToFleet) => {
  void (async () => {
    switch (m.type) {
      case 'start': {
        // first samples are due at start + phase (spread over 1 s across the fleet); drives are
        // spread over B s the same way, half a tick after the sample they are for
        const at = Math.max(m.t0, Date.now());
        while (Date.now() < at) await new Promise((r) => setTimeout(r, at - Date.now()));
        for (const s of sims) {
          s.nextDriveAt = at + Math.floor((s.slot / total) * batchS * 1000) + Math.floor(tickMs / 2);
          s.gateway.start();
        }
        drive();
        timer = setInterval(drive, tickMs);
        return;
      }
      case 'faults':
        addFaults(m.faults);
        return;
      case 'stats':
        return sendToParent({ type: 'stats', id: m.id, totals: totals(), ackBuckets: takeAck() });
      case 'publishedAt':
        return sendToParent({
          type: 'publishedAt',
          id: m.id,
          answers: m.queries.map((q) => published.get(q.vehicleId)?.get(q.ts) ?? null),
        });
      case 'stop': {
        // stays until 'exit': tickets opened by the last frames are still looked up (publishedAt)
        const { drained, ledger } = await stop(m.drainMs);
        return sendToParent({ type: 'stopped', id: m.id, drained, totals: totals(), ledger, ackBuckets: takeAck() });
      }
      case 'exit':
        process.exit(0);
    }
  })().catch(async (err: unknown) => {
    await sendToParent({ type: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  });
});

void sendToParent({ type: 'ready', vehicles: vehicles.length, ms: Date.now() - built });
