import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformEvents } from '../../core/events.ts';
import {
  GATEWAY_PUBLISH_KINDS,
  GATEWAY_SUBSCRIBE_KINDS,
  TOPIC_KINDS,
  vehicleTopic,
  type ProtocolError,
  type TopicKind,
} from '../../protocol/index.ts';
import {
  connectService,
  frame,
  inbox,
  refusalCode,
  startTestPlatform,
  subackCodes,
  type Inbox,
  type TestPlatform,
} from '../helpers/platform.ts';
import { MOSQUITTO_PUB, printedMessages, runTool, startMosquittoSub } from './helpers.ts';

/**
 * The broker as an attacker with one vehicle's credentials would try it (ASVS V4 access control):
 * two vehicles, each going for the other's topics — every topic kind, publish (QoS 0, 1, 2,
 * retained) and subscribe, wildcards, `$SYS`, a last will, a retained message — and topics outside
 * the vehicle tree. Default deny: all refused, nothing delivered (a privileged observer subscribed
 * to `#` and `$SYS/#` sees none of it), nothing stored. Also with Debian's mosquitto clients.
 */
const A = 'SEC-VA';
const B = 'SEC-VB';

describe('MQTT: default deny between vehicles', () => {
  let tp: TestPlatform;
  const gw = new Map<string, { client: MqttClient; box: Inbox; secret: string }>();
  let observer: MqttClient;
  let observed: Inbox;
  /** Bus events about a vehicle, to prove a forged message did not reach ingest. */
  const busSeen: { type: string; vehicleId: string; detail: string }[] = [];
  let marker = 0;
  const forgedMarker = () => `FORGED-${++marker}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    tp = await startTestPlatform();
    for (const [id, customer] of [
      [A, 'CA'],
      [B, 'CB'],
    ] as const) {
      const { secret } = await tp.addVehicle(id, customer);
      const client = await tp.connect(id, secret);
      const box = inbox(client);
      expect(
        await subackCodes(
          client,
          GATEWAY_SUBSCRIBE_KINDS.map((k) => vehicleTopic(id, k)),
        ),
      ).toEqual(GATEWAY_SUBSCRIBE_KINDS.map(() => 1));
      gw.set(id, { client, box, secret });
    }
    observer = await connectService(tp, 'svc-sec-observer');
    observed = inbox(observer);
    expect(await subackCodes(observer, ['#', '$SYS/#'])).toEqual([1, 1]);
    for (const type of [
      'telemetry.stored',
      'telemetry.committed',
      'vehicle.status',
      'vehicle.event',
      'command.ack',
      'ingest.rejected',
    ] as const) {
      tp.platform.bus.on(type, (e: PlatformEvents[typeof type]) => {
        busSeen.push({ type, vehicleId: e.vehicleId, detail: JSON.stringify(e) });
      });
    }
  });
  afterAll(async () => {
    await tp?.close();
  });

  const other = (id: string) => (id === A ? B : A);

  /** A payload that would be accepted on that topic kind if the topic were allowed, carrying `m`. */
  function forged(kind: TopicKind, m: string): string {
    const ts = Date.now();
    switch (kind) {
      case 'telemetry':
        return JSON.stringify({ ...frame(900_000 + marker, ts), marker: m });
      case 'status':
        return JSON.stringify({ online: false, ts, marker: m });
      case 'events':
        return JSON.stringify({ ts, code: 'FORGED', severity: 'critical', message: m });
      case 'commands':
        return JSON.stringify({ id: m, ts, name: 'setTelemetryRate', args: { hz: 0 } });
      case 'commands/ack':
        return JSON.stringify({ id: m, ts, ok: true });
      default:
        return JSON.stringify({ ts, marker: m, seq: Number.MAX_SAFE_INTEGER, code: 'forged', message: m });
    }
  }

  /** topic_not_allowed answers on a vehicle's errors topic for `topic`. */
  const refusalsFor = (id: string, topic: string) =>
    gw
      .get(id)!
      .box.messages.filter(
        (m) =>
          m.topic === vehicleTopic(id, 'errors') &&
          (m.json as ProtocolError).code === 'topic_not_allowed' &&
          (m.json as ProtocolError).topic === topic,
      );

  /**
   * Proves nothing carrying `markers` was delivered anywhere: the platform publishes a sentinel on
   * each vehicle's commands after the attack; once the observer and both gateways have it, anything
   * forwarded earlier would have arrived before it.
   */
  async function expectNotDelivered(markers: string[]): Promise<void> {
    const sentinel = `sentinel-${++marker}`;
    for (const id of [A, B])
      await tp.platform.broker.publishToVehicle(id, 'commands', {
        id: sentinel,
        ts: Date.now(),
        name: 'ping',
        args: {},
      });
    for (const id of [A, B]) {
      await observed.waitFor(
        (m) => m.topic === vehicleTopic(id, 'commands') && (m.json as { id?: string }).id === sentinel,
        5000,
        `the sentinel for ${id} at the observer`,
      );
      await gw.get(id)!.box.waitFor((m) => (m.json as { id?: string }).id === sentinel, 5000, `the sentinel at ${id}`);
    }
    const everything = [...observed.messages, ...gw.get(A)!.box.messages, ...gw.get(B)!.box.messages];
    const leaked = everything.filter((m) => markers.some((x) => m.payload.toString('utf8').includes(x)));
    expect(leaked.map((m) => `${m.topic} ${m.payload.toString('utf8').slice(0, 120)}`)).toEqual([]);
    expect(busSeen.filter((e) => markers.some((x) => e.detail.includes(x)))).toEqual([]);
  }

  it.each([A, B])(
    '%s publishing on every topic of the other vehicle (QoS 0/1/2, retained or not): refused, answered, never delivered, never stored',
    async (attacker) => {
      const victim = other(attacker);
      const client = gw.get(attacker)!.client;
      const storedBefore = await tp.platform.telemetry.count(victim);
      const eventsBefore = (await tp.platform.eventLog.list(victim)).length;
      const deniedBefore = tp.platform.counters.get('mqtt.publish_denied', attacker);
      const markers: string[] = [];
      let sent = 0;
      for (const kind of TOPIC_KINDS) {
        const topic = vehicleTopic(victim, kind);
        for (const [qos, retain] of [
          [0, false],
          [1, false],
          [2, false],
          [1, true],
        ] as const) {
          const m = forgedMarker();
          markers.push(m);
          await client.publishAsync(topic, forged(kind, m), { qos, retain });
          sent++;
        }
        // every one of them is answered with topic_not_allowed, QoS 0 included
        await gw
          .get(attacker)!
          .box.waitFor(() => refusalsFor(attacker, topic).length >= 4, 5000, `4 refusals for ${topic}`);
        expect(refusalsFor(attacker, topic)).toHaveLength(4);
      }
      expect(tp.platform.counters.get('mqtt.publish_denied', attacker)).toBe(deniedBefore + sent);
      await expectNotDelivered(markers);
      expect(await tp.platform.telemetry.count(victim)).toBe(storedBefore);
      expect((await tp.platform.eventLog.list(victim)).length).toBe(eventsBefore);
      const dead = await tp.platform.deadLetters.list({ vehicleId: attacker, limit: sent });
      expect(dead.every((d) => d.code === 'topic_not_allowed')).toBe(true);
      expect(client.connected).toBe(true); // refused, not disconnected: the gateway keeps working
    },
  );

  it('a vehicle publishing on its own platform → gateway topics (commands, errors, …) is refused too', async () => {
    const own = TOPIC_KINDS.filter((k) => !GATEWAY_PUBLISH_KINDS.includes(k));
    expect(own).toEqual(expect.arrayContaining(['commands', 'errors']));
    const markers: string[] = [];
    for (const kind of own) {
      const m = forgedMarker();
      markers.push(m);
      const topic = vehicleTopic(A, kind);
      await gw.get(A)!.client.publishAsync(topic, forged(kind, m), { qos: 1, retain: kind === 'telemetry/confirmed' });
      await gw.get(A)!.box.waitFor(() => refusalsFor(A, topic).length >= 1, 5000, `the refusal for ${topic}`);
    }
    await expectNotDelivered(markers);
  });

  it('default deny: topics outside the vehicle tree, look-alikes and reserved ones are refused and never delivered', async () => {
    const topics = [
      'foo',
      'foo/bar',
      '/',
      'v1',
      'v1/vehicles',
      `v1/vehicles/${B}`,
      `v1/vehicles/${B}/`,
      `v1/vehicles/${B}/telemetry/`,
      `v1/vehicles/${B}/telemetry/x`,
      `v1/vehicles/${B}/unknown-kind`,
      `v1//vehicles/${B}/telemetry`,
      `/v1/vehicles/${B}/telemetry`,
      `V1/vehicles/${B}/telemetry`,
      `v1/vehicles/${A}/../${B}/telemetry`,
      `v2/vehicles/${A}/telemetry`,
      `v1/vehicles/${A}/telemetry/x`,
      '$SYS/broker/uptime',
      '$SYS/x',
      '$platform/refused',
      `$share/g/v1/vehicles/${B}/telemetry`,
      'svc-sec-observer/inbox',
    ];
    const markers: string[] = [];
    const client = gw.get(A)!.client;
    for (const topic of topics) {
      const m = forgedMarker();
      markers.push(m);
      await client.publishAsync(topic, JSON.stringify({ ...frame(800_000 + marker), marker: m }), { qos: 1 });
      await gw.get(A)!.box.waitFor(() => refusalsFor(A, topic).length >= 1, 5000, `the refusal for ${topic}`);
    }
    await expectNotDelivered(markers);
    expect(client.connected).toBe(true);
  });

  it.each([A, B])(
    '%s subscribing to the other vehicle’s topics, its own outbound topics and every wildcard gets SUBACK 128, and receives nothing of it',
    async (attacker) => {
      const victim = other(attacker);
      const { client, box } = gw.get(attacker)!;
      const filters = [
        ...TOPIC_KINDS.map((k) => vehicleTopic(victim, k)),
        ...TOPIC_KINDS.filter((k) => !GATEWAY_SUBSCRIBE_KINDS.includes(k)).map((k) => vehicleTopic(attacker, k)),
        '#',
        '+',
        '+/#',
        '+/+',
        '+/+/+/+',
        '+/+/+/+/+',
        '/#',
        'v1/#',
        'v1/+/+/+',
        'v1/vehicles/#',
        'v1/vehicles/+',
        'v1/vehicles/+/telemetry',
        'v1/vehicles/+/commands',
        'v1/vehicles/+/commands/ack',
        `v1/vehicles/${victim}/#`,
        `v1/vehicles/${victim}/+`,
        `v1/vehicles/${attacker}/#`,
        `v1/vehicles/${attacker}/+`,
        `v1/vehicles/${attacker}/commands/#`,
        '$SYS/#',
        '$SYS/+',
        '$SYS',
        '$platform/refused',
        '$platform/#',
        '$share/g/#',
        `$share/g/v1/vehicles/${victim}/telemetry`,
      ];
      const deniedBefore = tp.platform.counters.get('mqtt.subscribe_denied', attacker);
      for (const f of filters) expect(await subackCodes(client, f), f).toEqual([128]);
      // all at once: every one refused, the connection stays
      expect(await subackCodes(client, filters)).toEqual(filters.map(() => 128));
      expect(tp.platform.counters.get('mqtt.subscribe_denied', attacker)).toBe(deniedBefore + 2 * filters.length);
      expect(client.connected).toBe(true);

      // then the victim's traffic of every kind flows, and the platform's own
      const before = box.messages.length;
      const victimGw = gw.get(victim)!.client;
      await victimGw.publishAsync(vehicleTopic(victim, 'telemetry'), JSON.stringify(frame(700_000 + marker)), {
        qos: 1,
      });
      await victimGw.publishAsync(vehicleTopic(victim, 'status'), JSON.stringify({ online: true, ts: Date.now() }), {
        qos: 1,
        retain: true,
      });
      await victimGw.publishAsync(
        vehicleTopic(victim, 'events'),
        JSON.stringify({ ts: Date.now(), code: 'MAINS_LOST', severity: 'major' }),
        { qos: 1 },
      );
      await victimGw.publishAsync(
        vehicleTopic(victim, 'commands/ack'),
        JSON.stringify({ id: 'c-1', ts: Date.now(), ok: true }),
        { qos: 1 },
      );
      await tp.platform.broker.publishToVehicle(victim, 'commands', {
        id: 'for-the-victim',
        ts: Date.now(),
        name: 'ping',
        args: {},
      });
      await tp.platform.broker.publishToVehicle(victim, 'errors', {
        ts: Date.now(),
        code: 'invalid_frame',
        topic: vehicleTopic(victim, 'telemetry'),
        message: 'for the victim',
      });
      await new Promise<void>((resolve, reject) =>
        tp.platform.broker.aedes.publish(
          {
            cmd: 'publish',
            topic: '$SYS/sec/x',
            payload: Buffer.from('{"sys":true}'),
            qos: 0,
            retain: false,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      await observed.waitFor((m) => m.topic === '$SYS/sec/x', 5000, 'the $SYS message at the observer');
      await expectNotDelivered([]);
      const got = box.messages.slice(before).map((m) => m.topic);
      const allowed = new Set(GATEWAY_SUBSCRIBE_KINDS.map((k) => vehicleTopic(attacker, k)));
      expect(got.filter((t) => !allowed.has(t))).toEqual([]);
    },
  );

  it('a last will aimed at any topic but the vehicle’s own status is refused (CONNACK 5) and never published', async () => {
    const targets = [
      ...TOPIC_KINDS.map((k) => vehicleTopic(B, k)),
      ...TOPIC_KINDS.filter((k) => k !== 'status').map((k) => vehicleTopic(A, k)),
      '$SYS/x',
      'foo/bar',
      `v1/vehicles/${B}/status/`,
    ];
    const before = tp.platform.counters.get('mqtt.connect_refused', 'will_not_allowed');
    const markers: string[] = [];
    const statusBefore = busSeen.filter((e) => e.type === 'vehicle.status' && e.vehicleId === B).length;
    for (const topic of targets) {
      const m = forgedMarker();
      markers.push(m);
      const code = await refusalCode(tp, A, gw.get(A)!.secret, {
        clientId: A,
        will: {
          topic,
          payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now(), marker: m })),
          qos: 1,
          retain: true,
        },
      });
      expect(code, topic).toBe(5);
    }
    expect(tp.platform.counters.get('mqtt.connect_refused', 'will_not_allowed')).toBe(before + targets.length);
    // the refused CONNECTs did not disturb the live session of A either
    expect(gw.get(A)!.client.connected).toBe(true);
    await expectNotDelivered(markers);
    expect(busSeen.filter((e) => e.type === 'vehicle.status' && e.vehicleId === B).length).toBe(statusBefore);
  });

  it('a retained message (or an empty one, which would clear it) on another vehicle’s topic changes nothing a later subscriber gets', async () => {
    const victim = gw.get(B)!.client;
    const own = { online: true, ts: Date.now(), note: 'the victim’s own' };
    await victim.publishAsync(vehicleTopic(B, 'status'), JSON.stringify(own), { qos: 1, retain: true });
    const attacker = gw.get(A)!.client;
    const m = forgedMarker();
    for (const kind of TOPIC_KINDS)
      await attacker.publishAsync(vehicleTopic(B, kind), forged(kind, m), { qos: 1, retain: true });
    await attacker.publishAsync(vehicleTopic(B, 'status'), '', { qos: 1, retain: true }); // an empty retained message clears the retained one
    await attacker.publishAsync('sec/retained/x', JSON.stringify({ marker: m }), { qos: 1, retain: true });
    await gw.get(A)!.box.waitFor(() => refusalsFor(A, 'sec/retained/x').length >= 1, 5000, 'the last refusal');

    const late = await connectService(tp, 'svc-sec-late');
    const lateBox = inbox(late);
    // a service account subscribes only to vehicle topics (its scope): `sec/#` is refused, and nobody may publish there
    expect(await subackCodes(late, [`v1/vehicles/${B}/#`, 'sec/#'])).toEqual([1, 128]);
    // aedes streams the retained messages after the SUBACK, concurrently with live traffic: wait for the
    // victim's own retained status first (the sentinel below may overtake the retained stream)
    await lateBox.waitFor(
      (x) => x.retain && x.topic === vehicleTopic(B, 'status'),
      5000,
      'the victim’s retained status at the late subscriber',
    );
    const sentinel = `late-sentinel-${marker}`;
    await tp.platform.broker.publishToVehicle(B, 'commands', { id: sentinel, ts: Date.now(), name: 'ping', args: {} });
    await lateBox.waitFor(
      (x) => (x.json as { id?: string }).id === sentinel,
      5000,
      'the sentinel at the late subscriber',
    );
    const retained = lateBox.messages.filter((x) => x.retain);
    expect(retained.map((x) => x.payload.toString())).not.toContain('');
    expect(lateBox.messages.filter((x) => x.payload.toString().includes(m))).toEqual([]);
    const status = retained.find((x) => x.topic === vehicleTopic(B, 'status'));
    expect(status?.json).toEqual(own);
    await late.endAsync();
  });
});

describe('MQTT: Debian mosquitto_pub / mosquitto_sub as third-party clients', () => {
  let tp: TestPlatform;
  let port: string;
  let a: { id: string; secret: string };
  let b: { id: string; secret: string };

  beforeAll(async () => {
    tp = await startTestPlatform();
    port = String(tp.platform.ports.mqtt);
    a = await tp.addVehicle('MQ-A', 'CA');
    b = await tp.addVehicle('MQ-B', 'CB');
  });
  afterAll(async () => {
    await tp?.close();
  });

  const as = (v: { id: string; secret: string }) => [
    '-h',
    '127.0.0.1',
    '-p',
    port,
    '-i',
    v.id,
    '-u',
    v.id,
    '-P',
    v.secret,
  ];

  it('mosquitto_sub with A’s credentials: every subscription to B, to wildcards and to $SYS is refused (128); its own is granted; it receives only its own', async () => {
    const denied = [vehicleTopic(b.id, 'telemetry'), vehicleTopic(b.id, 'commands'), '#', '+/+/+/+', '$SYS/#'];
    const sub = await startMosquittoSub([
      ...as(a),
      '-v',
      '-C',
      '1',
      ...denied.flatMap((t) => ['-t', t]),
      '-t',
      vehicleTopic(a.id, 'commands'),
    ]);
    expect(sub.granted).toEqual([...denied.map(() => 128), 0]);
    // B streams, the platform talks to B, then to A: the first (and only) message mosquitto_sub prints must be A's own
    const gwB = await tp.connect(b.id, b.secret);
    await gwB.publishAsync(vehicleTopic(b.id, 'telemetry'), JSON.stringify(frame(1)), { qos: 1 });
    await tp.platform.broker.publishToVehicle(b.id, 'commands', {
      id: 'for-b',
      ts: Date.now(),
      name: 'ping',
      args: {},
    });
    await tp.platform.broker.publishToVehicle(a.id, 'commands', {
      id: 'for-a',
      ts: Date.now(),
      name: 'ping',
      args: {},
    });
    const result = await sub.done;
    expect(result.code, result.stderr).toBe(0);
    expect(printedMessages(result.stdout)).toEqual([
      { topic: vehicleTopic(a.id, 'commands'), payload: expect.stringContaining('"for-a"') },
    ]);
  });

  it('mosquitto_sub: a subscription list made only of refused filters is reported as denied', async () => {
    const r = await runTool('/usr/bin/mosquitto_sub', [...as(a), '-t', '#', '-t', vehicleTopic(b.id, 'errors'), '-E']);
    expect(r.stderr).toMatch(/All subscription requests were denied/);
  });

  it('mosquitto_pub with A’s credentials on B’s commands (QoS 1 and 2) and a retained empty message on B’s status: acknowledged, refused, never delivered', async () => {
    const gwB = await tp.connect(b.id, b.secret);
    const boxB = inbox(gwB);
    await gwB.subscribeAsync(vehicleTopic(b.id, 'commands'), { qos: 1 });
    await gwB.publishAsync(vehicleTopic(b.id, 'status'), JSON.stringify({ online: true, ts: 1 }), {
      qos: 1,
      retain: true,
    });
    const denied = tp.platform.counters.get('mqtt.publish_denied', a.id);
    for (const qos of ['1', '2']) {
      const r = await runTool(MOSQUITTO_PUB, [
        ...as(a),
        '-q',
        qos,
        '-t',
        vehicleTopic(b.id, 'commands'),
        '-m',
        JSON.stringify({ id: `forged-q${qos}`, ts: Date.now(), name: 'shutdown', args: {} }),
      ]);
      expect(r, r.stderr).toMatchObject({ code: 0 }); // MQTT 3.1.1 has no negative PUBACK
    }
    const cleared = await runTool(MOSQUITTO_PUB, [...as(a), '-q', '1', '-r', '-n', '-t', vehicleTopic(b.id, 'status')]);
    expect(cleared.code).toBe(0);
    expect(tp.platform.counters.get('mqtt.publish_denied', a.id)).toBe(denied + 3);

    await tp.platform.broker.publishToVehicle(b.id, 'commands', { id: 'real', ts: Date.now(), name: 'ping', args: {} });
    await boxB.waitFor((m) => (m.json as { id?: string }).id === 'real', 5000, 'the real command at B');
    expect(boxB.messages.map((m) => (m.json as { id?: string }).id)).toEqual(['real']);
    // B's retained status is still there for a late subscriber
    const late = await connectService(tp, 'svc-mosq-late');
    const lateBox = inbox(late);
    await late.subscribeAsync(vehicleTopic(b.id, 'status'), { qos: 1 });
    const retained = await lateBox.waitFor(
      (m) => m.topic === vehicleTopic(b.id, 'status'),
      5000,
      'the retained status',
    );
    expect(retained.json).toEqual({ online: true, ts: 1 });
    await late.endAsync();
    await gwB.endAsync();
  });

  it('mosquitto_pub with a last will on B’s status is refused: "not authorised"', async () => {
    const r = await runTool(MOSQUITTO_PUB, [
      ...as(a),
      '-q',
      '1',
      '-t',
      vehicleTopic(a.id, 'telemetry'),
      '-m',
      JSON.stringify(frame(5)),
      '--will-topic',
      vehicleTopic(b.id, 'status'),
      '--will-payload',
      '{"online":false,"ts":1}',
      '--will-retain',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not authori[sz]ed/i);
    expect(await tp.platform.telemetry.count(a.id)).toBe(0);
  });

  it('mosquitto_pub refuses to send a wildcard topic at all', async () => {
    const r = await runTool(MOSQUITTO_PUB, [...as(a), '-q', '1', '-t', 'v1/vehicles/+/commands', '-m', '{}']);
    expect(r.code).not.toBe(0);
  });
});
