import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_FUTURE_SKEW_MS,
  vehicleTopic,
  type ProtocolError,
  type RejectionCode,
  type TelemetryFrame,
} from '../../protocol/index.ts';
import type { PlatformEvents } from '../../core/events.ts';
import {
  closed,
  frame,
  inbox,
  startTestPlatform,
  withTimeout,
  type Inbox,
  type TestPlatform,
} from '../helpers/platform.ts';

const MAX_PAYLOAD = 8192;

/** Telemetry and the other gateway messages through a real broker connection into the store. */
describe('ingest over MQTT', () => {
  let tp: TestPlatform;
  const stored: PlatformEvents['telemetry.stored'][] = [];
  let vehicleNo = 0;

  beforeAll(async () => {
    tp = await startTestPlatform({ MQTT_MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD) });
    tp.platform.bus.on('telemetry.stored', (e) => void stored.push(e));
  });
  afterAll(async () => {
    await tp?.close();
  });

  /** A fresh vehicle per test, connected and subscribed to its errors. */
  async function gateway(): Promise<{
    id: string;
    client: MqttClient;
    errors: Inbox;
    publish: (kind: 'telemetry' | 'status' | 'events' | 'commands/ack', payload: string | Buffer) => Promise<unknown>;
  }> {
    const { id, secret } = await tp.addVehicle(`ING${++vehicleNo}`);
    const client = await tp.connect(id, secret);
    const errors = inbox(client);
    await client.subscribeAsync(vehicleTopic(id, 'errors'), { qos: 1 });
    return {
      id,
      client,
      errors,
      publish: (kind, payload) => client.publishAsync(vehicleTopic(id, kind), payload, { qos: 1 }),
    };
  }

  const errorWith = (box: Inbox, code: RejectionCode, extra: (e: ProtocolError) => boolean = () => true) =>
    box
      .waitFor(
        (m) => (m.json as ProtocolError).code === code && extra(m.json as ProtocolError),
        5000,
        `an error ${code}`,
      )
      .then((m) => m.json as ProtocolError);

  const all = (id: string) => tp.platform.telemetry.frames(id, 0, Date.now() + 10 * 60_000);

  it('stores a single valid frame, acknowledges it only after, and emits telemetry.stored', async () => {
    const g = await gateway();
    const f = frame(1);
    const stored$ = withTimeout(
      new Promise<PlatformEvents['telemetry.stored']>((resolve) => {
        const off = tp.platform.bus.on('telemetry.stored', (e) => {
          if (e.vehicleId === g.id) {
            off();
            resolve(e);
          }
        });
      }),
      5000,
      'telemetry.stored',
    );
    await g.publish('telemetry', JSON.stringify(f));
    // PUBACK arrived: the frame is already in the store
    const frames = await all(g.id);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.frame).toMatchObject({ seq: 1, ts: f.ts, source: 'mains', battery: { socPct: 95 }, loadKw: 2.7 });
    expect((await stored$).frames.map((x) => x.seq)).toEqual([1]);
    expect(tp.platform.counters.get('ingest.frames_stored', g.id)).toBe(1);
    expect(g.errors.messages).toEqual([]);
  });

  it('stores a {"frames":[...]} batch, oldest first, and ignores unknown keys', async () => {
    const g = await gateway();
    const t0 = Date.now() - 60_000;
    const batch = {
      frames: [
        frame(1, t0),
        frame(2, t0 + 1000, { extraKey: 'ignored' }),
        frame(3, t0 + 2000, { generator: undefined }),
      ],
    };
    await g.publish('telemetry', JSON.stringify(batch));
    expect((await all(g.id)).map((x) => x.frame.seq)).toEqual([1, 2, 3]);
    expect(await tp.platform.telemetry.count(g.id)).toBe(3);
    expect(stored.filter((e) => e.vehicleId === g.id).flatMap((e) => e.frames.map((x) => x.seq))).toEqual([1, 2, 3]);
  });

  type Case = {
    name: string;
    kind?: 'telemetry' | 'status' | 'events' | 'commands/ack';
    payload: () => string | Buffer;
    code: RejectionCode;
    check?: (e: ProtocolError) => void;
  };
  const cases: Case[] = [
    {
      name: 'malformed JSON',
      payload: () => '{"v":1,"seq":',
      code: 'malformed_json',
      check: (e) => expect(e.message).toMatch(/not valid JSON/),
    },
    {
      name: 'invalid UTF-8',
      payload: () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      code: 'malformed_json',
      check: (e) => expect(e.message).toMatch(/UTF-8/),
    },
    {
      name: 'a payload over MQTT_MAX_PAYLOAD_BYTES',
      payload: () => JSON.stringify({ ...frame(1), pad: 'x'.repeat(MAX_PAYLOAD) }),
      code: 'payload_too_large',
      check: (e) => expect(e.message).toContain(String(MAX_PAYLOAD)),
    },
    {
      name: 'a field of the wrong type',
      payload: () => JSON.stringify(frame(7, Date.now(), { loadKw: 'lots' })),
      code: 'invalid_frame',
      check: (e) => {
        expect(e.issues).toEqual([expect.objectContaining({ path: 'loadKw' })]);
        expect(e.seq).toBe(7);
      },
    },
    {
      name: 'a value out of range',
      payload: () =>
        JSON.stringify(frame(8, Date.now(), { battery: { voltageV: 26, currentA: 1, socPct: 150, tempC: 20 } })),
      code: 'invalid_frame',
      check: (e) =>
        expect(e.issues).toEqual([
          expect.objectContaining({ path: 'battery.socPct', message: expect.stringContaining('100') }),
        ]),
    },
    {
      name: 'a bad seq',
      payload: () => JSON.stringify(frame(-1)),
      code: 'invalid_frame',
      check: (e) => expect(e.issues?.map((i) => i.path)).toEqual(['seq']),
    },
    {
      name: 'an unsupported protocol version',
      payload: () => JSON.stringify(frame(1, Date.now(), { v: 2 })),
      code: 'invalid_frame',
      check: (e) =>
        expect(e.issues).toEqual([expect.objectContaining({ path: 'v', message: expect.stringMatching(/version/) })]),
    },
    { name: 'a JSON value that is not a frame', payload: () => '[1,2,3]', code: 'invalid_frame' },
    {
      name: 'a batch of 501 frames',
      payload: () => JSON.stringify({ frames: new Array(501).fill(0) }),
      code: 'invalid_batch',
      check: (e) => expect(e.message).toMatch(/500/),
    },
    {
      name: 'an empty batch',
      payload: () => JSON.stringify({ frames: [] }),
      code: 'invalid_batch',
      check: (e) => expect(e.issues?.[0]?.path).toBe('frames'),
    },
    { name: 'a batch that is not an array', payload: () => JSON.stringify({ frames: 'none' }), code: 'invalid_batch' },
    {
      name: 'a ts far in the future',
      payload: () => JSON.stringify(frame(9, Date.now() + MAX_FUTURE_SKEW_MS + 3_600_000)),
      code: 'ts_out_of_range',
      check: (e) => expect(e.seq).toBe(9),
    },
    {
      name: 'an invalid status',
      kind: 'status',
      payload: () => JSON.stringify({ online: 'yes', ts: Date.now() }),
      code: 'invalid_status',
      check: (e) => expect(e.issues?.[0]?.path).toBe('online'),
    },
    {
      name: 'an invalid event',
      kind: 'events',
      payload: () => JSON.stringify({ ts: Date.now(), code: 'E 1!', severity: 'apocalyptic' }),
      code: 'invalid_event',
      check: (e) => expect(e.issues?.map((i) => i.path).sort()).toEqual(['code', 'severity']),
    },
    {
      name: 'an invalid command ack',
      kind: 'commands/ack',
      payload: () => JSON.stringify({ id: 'c1', ts: Date.now(), ok: 'sure' }),
      code: 'invalid_ack',
      check: (e) => expect(e.issues?.[0]?.path).toBe('ok'),
    },
  ];

  it.each(cases)(
    'answers $name with $code on errors, stores nothing, counts it and keeps a dead letter',
    async ({ kind = 'telemetry', payload, code, check }) => {
      const g = await gateway();
      await g.publish(kind, payload());
      const error = await errorWith(g.errors, code);
      expect(error).toMatchObject({
        code,
        topic: vehicleTopic(g.id, kind),
        message: expect.any(String),
        ts: expect.any(Number),
      });
      check?.(error);
      expect(g.errors.messages).toHaveLength(1);
      expect(await tp.platform.telemetry.count(g.id)).toBe(0);
      expect(tp.platform.counters.get('ingest.rejected', g.id)).toBe(1);
      expect(tp.platform.counters.get(`ingest.rejected.${code}`, g.id)).toBe(1);
      const dead = await tp.platform.deadLetters.list({ vehicleId: g.id });
      expect(dead).toEqual([expect.objectContaining({ vehicleId: g.id, code, topic: vehicleTopic(g.id, kind) })]);
      expect(dead[0]!.excerpt.length).toBeLessThanOrEqual(200);
      // the connection stays up
      expect(g.client.connected).toBe(true);
      await g.publish('telemetry', JSON.stringify(frame(100)));
      expect(await tp.platform.telemetry.count(g.id)).toBe(1);
    },
  );

  it('stores the good frames of a batch and reports each bad one with its index', async () => {
    const g = await gateway();
    const t0 = Date.now() - 10_000;
    const batch = {
      frames: [
        frame(1, t0),
        frame(2, t0 + 1, { mains: { present: 'yes' } }),
        frame(3, t0 + 2),
        { v: 2, seq: 4, ts: t0 + 3, source: 'mains' },
        frame(5, Date.now() + MAX_FUTURE_SKEW_MS + 60_000),
        frame(6, t0 + 5),
      ],
    };
    await g.publish('telemetry', JSON.stringify(batch));
    expect((await all(g.id)).map((x) => x.frame.seq)).toEqual([1, 3, 6]);
    const e1 = await errorWith(g.errors, 'invalid_frame', (e) => e.index === 1);
    expect(e1).toMatchObject({ seq: 2, issues: [expect.objectContaining({ path: 'mains.present' })] });
    const e3 = await errorWith(g.errors, 'invalid_frame', (e) => e.index === 3);
    expect(e3).toMatchObject({ seq: 4, issues: [expect.objectContaining({ path: 'v' })] });
    await errorWith(g.errors, 'ts_out_of_range', (e) => e.index === 4 && e.seq === 5);
    expect(tp.platform.counters.get('ingest.rejected', g.id)).toBe(3);
    expect((await tp.platform.deadLetters.list({ vehicleId: g.id })).map((d) => d.code).sort()).toEqual([
      'invalid_frame',
      'invalid_frame',
      'ts_out_of_range',
    ]);
  });

  it('stores valid status, event and ack messages without an error', async () => {
    const g = await gateway();
    const seen: string[] = [];
    const offs = [
      tp.platform.bus.on('vehicle.status', (e) => void (e.vehicleId === g.id && seen.push('status'))),
      tp.platform.bus.on('vehicle.event', (e) => void (e.vehicleId === g.id && seen.push(`event:${e.event.code}`))),
      tp.platform.bus.on('command.ack', (e) => void (e.vehicleId === g.id && seen.push(`ack:${e.ack.id}`))),
    ];
    await g.publish('status', JSON.stringify({ online: true, ts: Date.now() }));
    await g.publish(
      'events',
      JSON.stringify({ ts: Date.now(), code: 'GEN_LOW_FUEL', severity: 'major', message: 'fuel below 10 %' }),
    );
    await g.publish('commands/ack', JSON.stringify({ id: 'c1', ts: Date.now(), ok: true, result: { pong: true } }));
    offs.forEach((off) => off());
    // each message was handled before its PUBACK
    expect(seen).toEqual(['status', 'event:GEN_LOW_FUEL', 'ack:c1']);
    expect(tp.platform.counters.get('ingest.rejected', g.id)).toBe(0);
  });

  it('closes a connection whose packet exceeds the transport hard cap and keeps serving the others', async () => {
    const bystander = await gateway();
    const big = await gateway();
    const before = tp.platform.counters.get('mqtt.packet_too_large');
    const reason = withTimeout(
      new Promise<string>((resolve) => {
        const off = tp.platform.bus.on('vehicle.disconnected', (e) => {
          if (e.vehicleId === big.id) {
            off();
            resolve(e.reason);
          }
        });
      }),
      5000,
      'vehicle.disconnected',
    );
    const gone = closed(big.client);
    // 4 × 8 KiB is below the 1 MiB floor, so the cap is 1 MiB
    big.client
      .publishAsync(vehicleTopic(big.id, 'telemetry'), Buffer.alloc(1024 * 1024 + 1024, 0x20), { qos: 1 })
      .catch(() => undefined);
    await gone;
    expect(await reason).toBe('packet too large');
    expect(tp.platform.counters.get('mqtt.packet_too_large')).toBe(before + 1);
    expect(await tp.platform.telemetry.count(big.id)).toBe(0);

    // the process still serves the connection that was up and new ones
    await bystander.publish('telemetry', JSON.stringify(frame(1)));
    expect(await tp.platform.telemetry.count(bystander.id)).toBe(1);
    const again = await gateway();
    await again.publish('telemetry', JSON.stringify(frame(1)));
    expect(await tp.platform.telemetry.count(again.id)).toBe(1);
  });
});

describe('replays and duplicates over MQTT', () => {
  let tp: TestPlatform;

  beforeAll(async () => {
    tp = await startTestPlatform();
  });
  afterAll(async () => {
    await tp?.close();
  });

  const seqs = async (id: string) =>
    (await tp.platform.telemetry.frames(id, 0, Date.now() + 60_000)).map((f) => `${f.frame.seq}@${f.frame.ts}`);

  it('stores the same (seq, ts) once, whether published twice or twice in one batch', async () => {
    const { id, secret } = await tp.addVehicle('DUP1');
    const client = await tp.connect(id, secret);
    const topic = vehicleTopic(id, 'telemetry');
    const events: TelemetryFrame[][] = [];
    const off = tp.platform.bus.on('telemetry.stored', (e) => void (e.vehicleId === id && events.push(e.frames)));
    const f = frame(1, Date.now() - 5000);

    await client.publishAsync(topic, JSON.stringify(f), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify(f), { qos: 1 });
    expect(await tp.platform.telemetry.count(id)).toBe(1);

    const g = frame(2, f.ts + 1000);
    await client.publishAsync(topic, JSON.stringify({ frames: [g, g, f] }), { qos: 1 });
    expect(await seqs(id)).toEqual([`1@${f.ts}`, `2@${g.ts}`]);

    // the same seq with another ts is another frame (the gateway's counter restarted)
    const restarted = frame(1, f.ts + 2000);
    await client.publishAsync(topic, JSON.stringify(restarted), { qos: 1 });
    expect(await tp.platform.telemetry.count(id)).toBe(3);

    off();
    // duplicates are not announced again
    expect(events.map((fs) => fs.map((x) => x.seq))).toEqual([[1], [2], [1]]);
    expect(tp.platform.counters.get('ingest.frames_duplicate', id)).toBe(3);
    expect(tp.platform.counters.get('ingest.rejected', id)).toBe(0);
  });

  it('stores late frames (older than the latest) and a buffered replay after a reconnect, once each', async () => {
    const { id, secret } = await tp.addVehicle('DUP2');
    const topic = vehicleTopic(id, 'telemetry');
    const now = Date.now();
    const first = await tp.connect(id, secret);
    await first.publishAsync(topic, JSON.stringify(frame(10, now)), { qos: 1 });
    // a late frame: older than the latest one stored
    await first.publishAsync(topic, JSON.stringify(frame(5, now - 50_000)), { qos: 1 });
    expect(await seqs(id)).toEqual([`5@${now - 50_000}`, `10@${now}`]);
    expect((await tp.platform.telemetry.latest(id))?.frame.seq).toBe(10);
    await first.endAsync();

    // reconnects and replays what it buffered, oldest first, overlapping what was already stored
    const second = await tp.connect(id, secret);
    const replay = { frames: [5, 6, 7, 8, 9, 10].map((s) => frame(s, now - (10 - s) * 10_000)) };
    await second.publishAsync(topic, JSON.stringify(replay), { qos: 1 });
    // and replays the same batch again because the PUBACK was lost
    await second.publishAsync(topic, JSON.stringify(replay), { qos: 1 });
    expect(await seqs(id)).toEqual(replay.frames.map((f) => `${f.seq}@${f.ts}`));
    expect(await tp.platform.telemetry.count(id)).toBe(6);
  });

  it('stores a full 500-frame replay batch', async () => {
    const { id, secret } = await tp.addVehicle('DUP3');
    const client = await tp.connect(id, secret);
    const t0 = Date.now() - 600_000;
    const frames = Array.from({ length: 500 }, (_, i) => frame(i, t0 + i * 1000));
    await client.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify({ frames }), { qos: 1 });
    expect(await tp.platform.telemetry.count(id)).toBe(500);
  });
});
