import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import {
  FULL_SERVICE_SCOPE,
  connectService,
  frame,
  inbox,
  startTestPlatform,
  type TestPlatform,
} from '../helpers/platform.ts';

/**
 * Telemetry nobody subscribed to is stored and acknowledged but not forwarded through aedes
 * (broker/telemetry-listeners.ts): counted in `mqtt.telemetry_unheard`. Once a subscription that
 * can match a vehicle's telemetry is granted, that vehicle's telemetry is forwarded again, to live
 * and to offline persistent sessions alike. Real TCP, real MQTT.js clients.
 */
describe('telemetry nobody subscribed to', () => {
  let tp: TestPlatform;
  let va: MqttClient;
  let vb: MqttClient;
  const unheard = () => tp.platform.counters.get('mqtt.telemetry_unheard');
  const stored = async (vehicleId: string) =>
    (await tp.platform.telemetry.frames(vehicleId, 0, Date.now() + 60_000)).map((f) => f.frame.seq);
  const send = (client: MqttClient, vehicleId: string, seq: number, qos: 0 | 1 = 1) =>
    client.publishAsync(vehicleTopic(vehicleId, 'telemetry'), JSON.stringify(frame(seq)), { qos });

  beforeAll(async () => {
    tp = await startTestPlatform();
    const a = await tp.addVehicle('VA');
    const b = await tp.addVehicle('VB');
    va = await tp.connect(a.id, a.secret);
    vb = await tp.connect(b.id, b.secret);
  });
  afterAll(async () => {
    await tp?.close();
  });

  it('is stored and acknowledged (QoS 1 and QoS 0), and counted as not forwarded', async () => {
    const before = unheard();
    await send(va, 'VA', 1);
    await send(vb, 'VB', 1);
    expect(unheard()).toBe(before + 2);
    expect(await stored('VA')).toEqual([1]);
    expect(await stored('VB')).toEqual([1]);

    // QoS 0 has no PUBACK to wait for: the count follows the commit's answer on the main thread
    await send(va, 'VA', 2, 0);
    await expect.poll(() => stored('VA'), { timeout: 5000 }).toEqual([1, 2]);
    await expect.poll(unheard, { timeout: 5000 }).toBe(before + 3);
  });

  it("is forwarded for the one vehicle a subscription names, and not for the others'", async () => {
    const observer = await connectService(tp, 'svc-one-vehicle');
    const box = inbox(observer);
    await observer.subscribeAsync(vehicleTopic('VB', 'telemetry'), { qos: 1 });

    const before = unheard();
    await send(vb, 'VB', 2);
    await box.waitFor((m) => m.topic === vehicleTopic('VB', 'telemetry'), 5000, "VB's frame 2");
    expect(unheard()).toBe(before);

    await send(va, 'VA', 3);
    expect(unheard()).toBe(before + 1);
    expect(await stored('VA')).toEqual([1, 2, 3]);
    expect(box.messages.map((m) => [m.topic, (m.json as { seq: number }).seq])).toEqual([
      [vehicleTopic('VB', 'telemetry'), 2],
    ]);
    await observer.endAsync();
  });

  it('is queued for an offline persistent session subscribed with a wildcard, and delivered at its return', async () => {
    const { secret } = await tp.platform.serviceAccounts.add('svc-fleet-watch', 'fleet watch', FULL_SERVICE_SCOPE);
    const options = { clean: false };
    const watcher = await tp.connect('svc-fleet-watch', secret, options);
    await watcher.subscribeAsync('v1/vehicles/+/telemetry', { qos: 1 });
    await watcher.endAsync();

    // nobody connected hears VA now, but the offline session does: forwarded and queued
    const before = unheard();
    await send(va, 'VA', 4);
    expect(unheard()).toBe(before);

    const back = await tp.connect('svc-fleet-watch', secret, options);
    const box = inbox(back);
    const queued = await box.waitFor((m) => m.topic === vehicleTopic('VA', 'telemetry'), 5000, "VA's queued frame");
    expect((queued.json as { seq: number }).seq).toBe(4);

    // and from now on every vehicle's telemetry goes on, also after the subscription ends
    await back.unsubscribeAsync('v1/vehicles/+/telemetry');
    await send(vb, 'VB', 3);
    expect(unheard()).toBe(before);
    expect(await stored('VB')).toEqual([1, 2, 3]);
    await back.endAsync();
  });
});
