import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { vehicleTopic, type ProtocolError, type RejectionCode, type TopicKind } from '../../protocol/index.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import {
  generator,
  int,
  pick,
  prng,
  signature,
  validFrame,
  type FuzzMessage,
  type GeneratorContext,
} from './fuzz-inputs.ts';
import { openSocket, publishPacket, rawConnect, type RawClient } from './fuzz-raw-mqtt.ts';
import { addObserver, metrics as readMetrics } from './overload-child.ts';

/**
 * Issue 6, bad input: at least 100,000 generated bad messages (several times as many bad frames,
 * counting those in batches) from several vehicles over real MQTT
 * connections, mixed with valid traffic from other vehicles. Every refusal must carry its own code
 * (checked on the `errors` topic for a sample vehicle, and counted per vehicle and code), every
 * valid frame must be stored exactly once, and the platform must keep serving.
 *
 * Reproduce a failure with the seed it prints: FUZZ_SEED=<seed> npm run test:slow -- fuzz-ingest
 */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Bad messages to send (each refused as a whole or frame by frame): every one is a bad frame or more. */
const TARGET_BAD_MESSAGES = Number(process.env.FUZZ_BAD_MESSAGES ?? 100_000);
const MAX_PAYLOAD = 128 * 1024;
const MAX_ERRORS_PER_MESSAGE = 10; // docs/protocol.md: "at most 10 answers for one message"
const QOS2_WINDOW = 100; // docs/protocol.md: QoS 2 messages awaiting PUBREL per connection
const BAD_VEHICLES = 6;
const GOOD_VEHICLES = 4;
const GOOD_FRAMES = 2_000;
const PIPELINE = 50; // QoS 1 publishes in flight per bad vehicle
const DEADLINE_MS = 200_000;

const bad = (i: number) => `FZB${i}`;
const good = (i: number) => `FZG${i}`;

class Tally<K> {
  readonly map = new Map<K, number>();
  add(key: K, by = 1) {
    this.map.set(key, (this.map.get(key) ?? 0) + by);
  }
  get(key: K) {
    return this.map.get(key) ?? 0;
  }
}

describe('fuzz: bad input over MQTT', () => {
  let tp: TestPlatform;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (reproduce with FUZZ_SEED=${SEED})`);
    tp = await startTestPlatform({ MQTT_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD) });
    const ids = [
      ...Array.from({ length: BAD_VEHICLES }, (_, i) => bad(i)),
      ...Array.from({ length: GOOD_VEHICLES }, (_, i) => good(i)),
      'FZQ0',
      'FZQ1',
      'FZP0',
      'FZOK',
    ];
    for (const id of ids) secrets.set(id, (await tp.addVehicle(id)).secret);
    await addObserver(tp.platform.records);
  });
  afterAll(async () => {
    await tp?.close();
  });

  const connectRaw = (id: string) =>
    rawConnect({ port: tp.platform.ports.mqtt, clientId: id, username: id, password: secrets.get(id)! });

  it('refuses every bad frame with its own error and counter, stores every valid frame once, and keeps serving', async () => {
    const started = Date.now();
    const deadline = started + DEADLINE_MS;
    const now = Date.now();

    // what the platform must end up with
    const rejected = new Map<string, Tally<RejectionCode>>(); // vehicle → code → refusals
    const denied = new Tally<string>(); // vehicle → publishes on a topic it may not use
    const expectedStored = new Map<string, string[]>(); // vehicle → "seq@ts"
    const messagesByKind = new Tally<TopicKind>();
    const byLabel = new Tally<string>();
    const sampleExpected: string[] = [];
    let badMessages = 0;
    let badFrames = 0;
    const refuse = (vehicle: string, code: RejectionCode, by = 1) => {
      if (!rejected.has(vehicle)) rejected.set(vehicle, new Tally());
      rejected.get(vehicle)!.add(code, by);
    };
    const store = (vehicle: string, seq: number, ts: number) => {
      if (!expectedStored.has(vehicle)) expectedStored.set(vehicle, []);
      expectedStored.get(vehicle)!.push(`${seq}@${ts}`);
    };

    // the sample vehicle listens to its errors topic
    const sample = await connectRaw(bad(0));
    expect(await sample.subscribe(vehicleTopic(bad(0), 'errors'), 1)).toEqual([1]);

    // ── bad traffic: several vehicles, raw MQTT, QoS 1 pipelined ────────────────────────────────
    const perVehicle = Math.ceil(TARGET_BAD_MESSAGES / BAD_VEHICLES);
    async function badVehicle(i: number, client: RawClient) {
      const id = bad(i);
      const rng = prng(SEED + i * 7919);
      let nextValid = 0;
      const t0 = now - 2 * 86_400_000;
      const ctx: GeneratorContext = {
        rng,
        vehicleId: id,
        others: Array.from({ length: BAD_VEHICLES }, (_, k) => bad(k)).filter((x) => x !== id),
        maxPayload: MAX_PAYLOAD,
        now,
        nextSeq: () => {
          const seq = nextValid++;
          return { seq, ts: t0 + seq * 1000 };
        },
      };
      let messages = 0;
      while (messages < perVehicle) {
        if (Date.now() > deadline) throw new Error(`${id}: fuzz traffic did not finish within ${DEADLINE_MS} ms`);
        const batch: FuzzMessage[] = [];
        for (let k = 0; k < PIPELINE && messages < perVehicle; k++, messages++) {
          const m = generator(rng)(ctx);
          if (m.label !== 'oversize' && m.payload.length > MAX_PAYLOAD)
            throw new Error(`generator bug: ${m.label} made ${m.payload.length} bytes`);
          batch.push(m);
          badMessages++;
          badFrames += m.errors.length;
          byLabel.add(m.label);
          for (const e of m.errors) refuse(id, e.code);
          if (m.kind === null) denied.add(id);
          else messagesByKind.add(m.kind);
          for (const s of m.stored) store(id, s.seq, s.ts);
          if (i === 0) sampleExpected.push(...m.errors.slice(0, MAX_ERRORS_PER_MESSAGE).map(signature));
        }
        await client.write(Buffer.concat(batch.map((m, k) => publishPacket(m.topic, m.payload, 1, k + 1))));
        await Promise.all(batch.map((_, k) => client.ack(k + 1)));
      }
    }

    // ── valid traffic from other vehicles at the same time (MQTT.js, QoS 1, single frames and batches) ──
    async function goodVehicle(i: number) {
      const id = good(i);
      const client = await tp.connect(id, secrets.get(id)!);
      const rng = prng(SEED + 1_000_003 * (i + 1));
      const t0 = now - 86_400_000;
      let seq = 0;
      while (seq < GOOD_FRAMES) {
        if (Date.now() > deadline) throw new Error(`${id}: valid traffic did not finish in time`);
        const n = Math.min(GOOD_FRAMES - seq, int(rng, 1, 20));
        const frames = Array.from({ length: n }, (_, k) => validFrame(rng, seq + k, t0 + (seq + k) * 1000));
        for (let k = 0; k < n; k++) store(id, seq + k, t0 + (seq + k) * 1000);
        messagesByKind.add('telemetry');
        await client.publishAsync(
          vehicleTopic(id, 'telemetry'),
          JSON.stringify(n === 1 && rng() < 0.5 ? frames[0] : { frames }),
          { qos: 1 },
        );
        seq += n;
      }
      await client.endAsync();
    }

    // ── connection-level abuse, alongside ───────────────────────────────────────────────────────
    const before = tp.platform.counters.snapshot().totals;
    async function qos2Unreleased(id: string) {
      // 2,000 QoS 2 publishes, never released: the platform takes the first QOS2_WINDOW, then closes the connection
      const client = await connectRaw(id);
      const packets = Array.from({ length: 2_000 }, (_, k) =>
        publishPacket(vehicleTopic(id, 'telemetry'), '{}', 2, k + 1),
      );
      await client.write(Buffer.concat(packets)).catch(() => undefined);
      await withTimeout(client.closed, 10_000, `${id} to be disconnected for unreleased QoS 2`);
      refuse(id, 'invalid_frame', QOS2_WINDOW);
      messagesByKind.add('telemetry', QOS2_WINDOW);
      badFrames += QOS2_WINDOW;
      byLabel.add('qos2_unreleased', 2_000);
      // it may come back, with a fresh window
      const again = await connectRaw(id);
      const f = frame(1, now - 1000);
      await again.write(publishPacket(vehicleTopic(id, 'telemetry'), JSON.stringify(f), 1, 1));
      await again.ack(1);
      store(id, 1, f.ts);
      messagesByKind.add('telemetry');
      again.end();
    }
    async function oversizePackets() {
      // over the transport cap (4 × MQTT_MAX_PAYLOAD_BYTES, at least 1 MiB): closed before the body is read
      for (let k = 0; k < 5; k++) {
        const client = await connectRaw('FZP0');
        await client
          .write(
            publishPacket(
              vehicleTopic('FZP0', 'telemetry'),
              Buffer.alloc(1024 * 1024 + int(prng(SEED + k), 1, 100_000), 0x20),
              1,
              1,
            ),
          )
          .catch(() => undefined);
        await withTimeout(client.closed, 10_000, 'FZP0 to be disconnected for an oversize packet');
        byLabel.add('oversize_packet');
      }
    }
    async function garbageBeforeConnect() {
      // not MQTT at all: a first byte with invalid header flags, then noise
      const rng = prng(SEED ^ 0x5eed);
      for (let k = 0; k < 20; k++) {
        const socket = await openSocket(tp.platform.ports.mqtt);
        const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.on('error', () => undefined);
        const bytes = Buffer.alloc(int(rng, 2, 200));
        for (let b = 0; b < bytes.length; b++) bytes[b] = int(rng, 0, 255);
        bytes[0] = (pick(rng, [1, 2, 4, 5, 7, 9, 11, 12, 13, 14]) << 4) | int(rng, 1, 15);
        socket.write(bytes);
        await withTimeout(gone, 10_000, 'a garbage connection to be closed');
        byLabel.add('garbage_before_connect');
      }
    }

    const clients = [
      sample,
      ...(await Promise.all(Array.from({ length: BAD_VEHICLES - 1 }, (_, i) => connectRaw(bad(i + 1))))),
    ];
    await Promise.all([
      ...clients.map((c, i) => badVehicle(i, c)),
      ...Array.from({ length: GOOD_VEHICLES }, (_, i) => goodVehicle(i)),
      qos2Unreleased('FZQ0'),
      qos2Unreleased('FZQ1'),
      oversizePackets(),
      garbageBeforeConnect(),
    ]);
    const trafficMs = Date.now() - started;
    console.log(
      `fuzz seed ${SEED}: ${badMessages} bad messages, ${badFrames} bad frames in ${(trafficMs / 1000).toFixed(1)} s; by kind: ${JSON.stringify(Object.fromEntries(byLabel.map))}`,
    );
    expect(badMessages).toBeGreaterThanOrEqual(TARGET_BAD_MESSAGES);
    expect(badFrames).toBeGreaterThanOrEqual(TARGET_BAD_MESSAGES);

    // ── the sample vehicle got exactly the answers the protocol promises ────────────────────────
    const answers = () => sample.received.filter((p) => p.topic === vehicleTopic(bad(0), 'errors'));
    const sampleDeadline = Date.now() + 20_000;
    while (answers().length < sampleExpected.length && Date.now() < sampleDeadline)
      await new Promise<void>((r) => setImmediate(r));
    const got = answers().map((p) => signature(JSON.parse(p.payload.toString('utf8')) as ProtocolError));
    expect(got.length, 'error answers received by the sample vehicle').toBe(sampleExpected.length);
    expect([...got].sort()).toEqual([...sampleExpected].sort());
    sample.end();
    for (const c of clients) c.end();

    // ── counters, as /metrics shows them ────────────────────────────────────────────────────────
    const metrics = await readMetrics(tp.platform.ports.http);
    const byKey = (name: string, key: string) => metrics.byKey[name]?.[key] ?? 0;
    const vehicles = [...secrets.keys()];
    const codes = Object.keys(metrics.byKey)
      .filter((k) => k.startsWith('ingest.rejected.'))
      .map((k) => k.slice('ingest.rejected.'.length) as RejectionCode);
    for (const v of vehicles) {
      const want = rejected.get(v) ?? new Tally<RejectionCode>();
      const seen = Object.fromEntries(
        codes.map((c) => [c, byKey(`ingest.rejected.${c}`, v)]).filter(([, n]) => n !== 0),
      );
      expect(seen, `refusals of ${v} per code`).toEqual(Object.fromEntries(want.map));
      expect(byKey('ingest.rejected', v), `refusals of ${v}`).toBe([...want.map.values()].reduce((a, b) => a + b, 0));
      expect(byKey('mqtt.publish_denied', v), `publishes of ${v} on topics it may not use`).toBe(denied.get(v));
      expect(byKey('ingest.frames_stored', v), `frames stored for ${v}`).toBe(expectedStored.get(v)?.length ?? 0);
    }
    for (const kind of ['telemetry', 'status', 'events', 'commands/ack'] as const) {
      expect(byKey('ingest.messages', kind), `ingest.messages ${kind}`).toBe(messagesByKind.get(kind));
    }
    const delta = (name: string) => (metrics.totals[name] ?? 0) - (before[name] ?? 0);
    expect(delta('mqtt.packet_too_large')).toBe(5);
    expect(delta('mqtt.connection_error')).toBe(20);
    expect(byKey('mqtt.protocol_error', 'qos2_window_exceeded')).toBe(2);
    expect(metrics.totals['ingest.store_failed'] ?? 0).toBe(0);
    expect(metrics.totals['mqtt.error_answers_dropped'] ?? 0).toBe(0);

    // ── every valid frame stored exactly once, nothing else ─────────────────────────────────────
    for (const v of vehicles) {
      const rows = await tp.platform.telemetry.frames(v, 0, Date.now() + 3_600_000);
      const seen = rows.map((r) => `${r.frame.seq}@${r.frame.ts}`).sort();
      expect(seen, `stored frames of ${v}`).toEqual([...(expectedStored.get(v) ?? [])].sort());
    }

    // the dead-letter log stayed bounded
    const dead = await sql<{ n: number }>`select count(*) as n from dead_letters`.execute(tp.platform.records);
    expect(Number(dead.rows[0]!.n)).toBeLessThanOrEqual(tp.platform.config.DEAD_LETTER_MAX);

    // ── still alive and responsive ──────────────────────────────────────────────────────────────
    const health = await fetch(`http://127.0.0.1:${tp.platform.ports.http}/healthz`);
    expect(health.status).toBe(200);
    const ok = await tp.connect('FZOK', secrets.get('FZOK')!);
    const t = Date.now();
    await withTimeout(
      ok.publishAsync(vehicleTopic('FZOK', 'telemetry'), JSON.stringify(frame(7)), { qos: 1 }),
      5_000,
      'a PUBACK after the fuzz',
    );
    expect(Date.now() - t).toBeLessThan(5_000);
    expect(await tp.platform.telemetry.count('FZOK')).toBe(1);
  }, 260_000);
});
