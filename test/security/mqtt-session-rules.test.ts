import type { Client } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_VEHICLE_KEEPALIVE_S, vehicleTopic } from '../../protocol/index.ts';
import {
  connectService,
  frame,
  inbox,
  refusalCode,
  startTestPlatform,
  type TestPlatform,
} from '../helpers/platform.ts';

/**
 * Issue 16, item 10 (MQTT side): a vehicle's last will is checked like a publish (payload and
 * retain, not only the topic); retained telemetry, events and acks are not kept (status is, as the
 * protocol says); a vehicle's keepalive of 0 (or very long) is held to MAX_VEHICLE_KEEPALIVE_S so
 * a half-open connection cannot keep it "online" for ever.
 */
let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp.close();
});

const refused = (reason: string) => tp.platform.counters.get('mqtt.connect_refused', reason);

describe('the last will is validated like a publish', () => {
  it('refuses (CONNACK 5) a will on the own status topic that is not retained or not a valid online:false status', async () => {
    const { id, secret } = await tp.addVehicle('WILL-1');
    const topic = vehicleTopic(id, 'status');
    const before = refused('will_not_allowed');
    const bad = [
      // "online" for ever once the vehicle is gone
      { payload: JSON.stringify({ online: true, ts: Date.now() }), retain: true },
      { payload: 'not json at all', retain: true },
      { payload: JSON.stringify({ online: false, ts: Date.now(), buffered: -1 }), retain: true },
      // the protocol's status is retained: a non-retained will would not replace the retained online:true
      { payload: JSON.stringify({ online: false, ts: Date.now() }), retain: false },
    ];
    for (const w of bad) {
      const code = await refusalCode(tp, id, secret, {
        will: { topic, payload: Buffer.from(w.payload), qos: 1, retain: w.retain },
      });
      expect(code, JSON.stringify(w)).toBe(5);
    }
    expect(refused('will_not_allowed')).toBe(before + bad.length);
    // the will the protocol describes is accepted
    const ok = await tp.connect(id, secret, {
      will: { topic, payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now() })), qos: 1, retain: true },
    });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
  });
});

describe('retained messages from vehicles', () => {
  it('telemetry, events and acks published retained are stored but not kept for later subscribers; status stays retained', async () => {
    const { id, secret } = await tp.addVehicle('RET-1');
    const gw = await tp.connect(id, secret);
    const before = tp.platform.counters.get('mqtt.retain_stripped', id);
    await gw.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(1)), { qos: 1, retain: true });
    await gw.publishAsync(
      vehicleTopic(id, 'events'),
      JSON.stringify({ ts: Date.now(), code: 'PLANTED', severity: 'info', message: 'retained' }),
      { qos: 1, retain: true },
    );
    await gw.publishAsync(vehicleTopic(id, 'commands/ack'), JSON.stringify({ id: 'x', ts: Date.now(), ok: true }), {
      qos: 1,
      retain: true,
    });
    await gw.publishAsync(vehicleTopic(id, 'status'), JSON.stringify({ online: true, ts: Date.now() }), {
      qos: 1,
      retain: true,
    });
    // the frame was stored all the same
    expect(await tp.platform.telemetry.count(id)).toBe(1);

    // a subscriber arriving later gets the retained status only; then the live frame shows it is subscribed
    const watcher = await connectService(tp, 'svc-retain-watch');
    const seen = inbox(watcher);
    await watcher.subscribeAsync(`v1/vehicles/${id}/#`, { qos: 1 });
    await gw.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(2)), { qos: 1 });
    await seen.waitFor((m) => m.topic === vehicleTopic(id, 'telemetry'), 5000, 'the live frame');
    const retained = seen.messages.filter((m) => m.retain).map((m) => m.topic);
    expect(retained).toContain(vehicleTopic(id, 'status'));
    for (const kind of ['telemetry', 'events', 'commands/ack'] as const)
      expect(retained, kind).not.toContain(vehicleTopic(id, kind));
    expect(tp.platform.counters.get('mqtt.retain_stripped', id)).toBe(before + 3);
    await gw.endAsync();
    await watcher.endAsync();
  });
});

describe('keepalive', () => {
  const interval = (id: string) =>
    (tp.platform.broker.aedes as unknown as { clients: Record<string, Client & { _keepaliveInterval: number }> })
      .clients[id]?._keepaliveInterval;

  it.each([
    [0, MAX_VEHICLE_KEEPALIVE_S],
    [3600, MAX_VEHICLE_KEEPALIVE_S],
    [65535, MAX_VEHICLE_KEEPALIVE_S],
    [30, 30],
  ])('a vehicle asking for keepalive %i s is held to %i s', async (asked, held) => {
    const { id, secret } = await tp.addVehicle(`KA-${asked}`);
    const before = tp.platform.counters.get('mqtt.keepalive_bounded', id);
    const c = await tp.connect(id, secret, { keepalive: asked });
    // aedes closes a connection silent for 1.5 × the keepalive (and publishes its will)
    expect(interval(id)).toBe(held * 1500 + 1);
    expect(tp.platform.counters.get('mqtt.keepalive_bounded', id)).toBe(before + (asked === held ? 0 : 1));
    await c.endAsync();
  });

  it('a service account keeps the keepalive it asked for (0: none)', async () => {
    const svc = await connectService(tp, 'svc-keepalive', { keepalive: 0 });
    expect(interval('svc-keepalive')).toBe(-1);
    await svc.endAsync();
  });
});
