import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic, type ProtocolError } from '../../protocol/index.ts';
import {
  connectService,
  frame,
  inbox,
  startTestPlatform,
  subackCodes,
  type Inbox,
  type TestPlatform,
} from '../helpers/platform.ts';

/** Per-vehicle topic ACL over real TCP: a gateway publishes and subscribes only on its own topics. */
describe('MQTT topic ACL', () => {
  let tp: TestPlatform;
  let gateway: MqttClient;
  let gatewayInbox: Inbox;
  let other: MqttClient;
  let observer: MqttClient;
  let observed: Inbox;

  beforeAll(async () => {
    tp = await startTestPlatform();
    const a = await tp.addVehicle('VA');
    const b = await tp.addVehicle('VB');
    gateway = await tp.connect(a.id, a.secret);
    gatewayInbox = inbox(gateway);
    await gateway.subscribeAsync([vehicleTopic('VA', 'errors'), vehicleTopic('VA', 'commands')], { qos: 1 });
    other = await tp.connect(b.id, b.secret);
    observer = await connectService(tp);
    observed = inbox(observer);
    await observer.subscribeAsync([vehicleTopic('VB', 'telemetry'), vehicleTopic('VA', 'commands'), '$SYS/x'], {
      qos: 1,
    });
  });
  afterAll(async () => {
    await tp?.close();
  });

  const errorsAt = (box: Inbox, vehicleId: string) =>
    box.messages.filter((m) => m.topic === vehicleTopic(vehicleId, 'errors')).map((m) => m.json as ProtocolError);

  /**
   * Publishes `payload` from VA on a topic it does not own, then sends `sentinel()` through an
   * allowed path to the same topic. MQTT keeps order per connection, so once the sentinel reached
   * the observer a wrongly forwarded message would have arrived before it.
   */
  async function expectRefused(
    topic: string,
    payload: string,
    sentinel: () => Promise<unknown>,
    sentinelMatch: (json: unknown) => boolean,
  ) {
    const deniedBefore = tp.platform.counters.get('mqtt.publish_denied', 'VA');
    const rejectedBefore = tp.platform.counters.get('ingest.rejected.topic_not_allowed', 'VA');
    const storedBefore = await tp.platform.telemetry.count();
    const errorsBefore = errorsAt(gatewayInbox, 'VA').length;

    await gateway.publishAsync(topic, payload, { qos: 1 });
    const err = await gatewayInbox.waitFor(
      (m) => m.topic === vehicleTopic('VA', 'errors') && (m.json as ProtocolError).topic === topic,
      5000,
      `topic_not_allowed for ${topic}`,
    );
    expect(err.json).toMatchObject({
      code: 'topic_not_allowed',
      topic,
      message: expect.any(String),
      ts: expect.any(Number),
    });
    expect(errorsAt(gatewayInbox, 'VA').length).toBe(errorsBefore + 1);

    await sentinel();
    await observed.waitFor((m) => m.topic === topic && sentinelMatch(m.json), 5000, `the sentinel on ${topic}`);
    expect(observed.messages.filter((m) => m.topic === topic && m.payload.toString() === payload)).toEqual([]);
    // a vehicle subscribed to its own commands must not get its own forged command either
    expect(gatewayInbox.messages.filter((m) => m.payload.toString() === payload)).toEqual([]);

    expect(await tp.platform.telemetry.count()).toBe(
      storedBefore + (topic === vehicleTopic('VB', 'telemetry') ? 1 : 0),
    ); // only the sentinel frame
    expect(tp.platform.counters.get('mqtt.publish_denied', 'VA')).toBe(deniedBefore + 1);
    expect(tp.platform.counters.get('ingest.rejected.topic_not_allowed', 'VA')).toBe(rejectedBefore + 1);
    const dead = await tp.platform.deadLetters.list({ vehicleId: 'VA', limit: 1 });
    expect(dead[0]).toMatchObject({ code: 'topic_not_allowed', topic });

    // the connection stays up and keeps working
    expect(gateway.connected).toBe(true);
    const seq = 1000 + errorsBefore;
    await gateway.publishAsync(vehicleTopic('VA', 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 });
    expect((await tp.platform.telemetry.frames('VA', 0, Date.now() + 60_000)).map((f) => f.frame.seq)).toContain(seq);
  }

  it("refuses a publish on another vehicle's telemetry", async () => {
    const forged = JSON.stringify(frame(1, Date.now(), { loadKw: 1999 }));
    const stored = await tp.platform.telemetry.count('VB');
    await expectRefused(
      vehicleTopic('VB', 'telemetry'),
      forged,
      () => other.publishAsync(vehicleTopic('VB', 'telemetry'), JSON.stringify(frame(2)), { qos: 1 }),
      (json) => (json as { seq?: number }).seq === 2,
    );
    expect(stored).toBe(0);
    expect((await tp.platform.telemetry.frames('VB', 0, Date.now() + 60_000)).map((f) => f.frame.seq)).toEqual([2]);
  });

  it('refuses a publish under $SYS/', async () => {
    await expectRefused(
      '$SYS/x',
      JSON.stringify({ forged: true }),
      () =>
        new Promise<void>((resolve, reject) =>
          tp.platform.broker.aedes.publish(
            {
              cmd: 'publish',
              topic: '$SYS/x',
              payload: Buffer.from(JSON.stringify({ sentinel: 'sys' })),
              qos: 0,
              retain: false,
              dup: false,
            },
            (err) => (err ? reject(err) : resolve()),
          ),
        ),
      (json) => (json as { sentinel?: string }).sentinel === 'sys',
    );
  });

  it('refuses a publish on its own commands topic (platform → gateway only)', async () => {
    const forged = JSON.stringify({ id: 'forged', ts: Date.now(), name: 'shutdown', args: {} });
    await expectRefused(
      vehicleTopic('VA', 'commands'),
      forged,
      () =>
        tp.platform.broker.publishToVehicle('VA', 'commands', { id: 'real', ts: Date.now(), name: 'ping', args: {} }),
      (json) => (json as { id?: string }).id === 'real',
    );
    // the real command did reach the gateway
    await gatewayInbox.waitFor((m) => (m.json as { id?: string }).id === 'real', 5000, 'the real command');
  });

  it.each([
    vehicleTopic('VB', 'commands'),
    '#',
    'v1/vehicles/+/telemetry',
    '$SYS/#',
    vehicleTopic('VA', 'telemetry'),
    'v1/vehicles/VA/#',
  ])('grants QoS 128 (failure) for a subscription to %s', async (filter) => {
    const before = tp.platform.counters.get('mqtt.subscribe_denied', 'VA');
    expect(await subackCodes(gateway, filter)).toEqual([128]);
    expect(tp.platform.counters.get('mqtt.subscribe_denied', 'VA')).toBe(before + 1);
    expect(gateway.connected).toBe(true);
  });

  it('grants its own commands and errors topics', async () => {
    expect(await subackCodes(other, [vehicleTopic('VB', 'commands'), vehicleTopic('VB', 'errors')])).toEqual([1, 1]);
    // one refused filter in a SUBSCRIBE does not cost the allowed ones
    expect(await subackCodes(other, ['#', vehicleTopic('VB', 'errors')])).toEqual([128, 1]);
  });

  it('delivers nothing from a denied wildcard subscription', async () => {
    // VB tries '#', is refused, then VA's telemetry flows; VB's own command is the sentinel.
    const otherInbox = inbox(other);
    expect(await subackCodes(other, '#')).toEqual([128]);
    expect(await subackCodes(other, vehicleTopic('VB', 'commands'))).toEqual([1]);
    await gateway.publishAsync(vehicleTopic('VA', 'telemetry'), JSON.stringify(frame(5000)), { qos: 1 });
    await tp.platform.broker.publishToVehicle('VB', 'commands', {
      id: 'sentinel',
      ts: Date.now(),
      name: 'ping',
      args: {},
    });
    await otherInbox.waitFor((m) => (m.json as { id?: string }).id === 'sentinel', 5000, 'the sentinel command');
    expect(otherInbox.messages.map((m) => m.topic)).toEqual([vehicleTopic('VB', 'commands')]);
  });
});
