import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import {
  closed,
  connectService,
  inbox,
  refusalCode,
  startTestPlatform,
  type TestPlatform,
} from '../helpers/platform.ts';

/** Connecting over real TCP with MQTT.js: credentials, client ids, status and last will, presence. */
describe('MQTT authentication and presence', () => {
  let tp: TestPlatform;
  let v1: { id: string; secret: string };
  let v2: { id: string; secret: string };

  beforeAll(async () => {
    tp = await startTestPlatform();
    v1 = await tp.addVehicle('V1');
    v2 = await tp.addVehicle('V2');
  });
  afterAll(async () => {
    await tp?.close();
  });

  const refused = (reason: string) => tp.platform.counters.get('mqtt.connect_refused', reason);

  it('accepts good credentials, forwards the retained status, publishes the last will and records presence', async () => {
    const statusTopic = vehicleTopic(v1.id, 'status');
    const watcher = await connectService(tp, 'svc-status-watch');
    const seen = inbox(watcher);
    await watcher.subscribeAsync(statusTopic, { qos: 1 });

    const gateway = await tp.connect(v1.id, v1.secret, {
      will: {
        topic: statusTopic,
        payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now() })),
        qos: 1,
        retain: true,
      },
    });
    expect(gateway.connected).toBe(true);
    await gateway.publishAsync(statusTopic, JSON.stringify({ online: true, ts: Date.now() }), { qos: 1, retain: true });
    await seen.waitFor((m) => (m.json as { online?: boolean }).online === true, 5000, 'online:true');

    await vi.waitFor(
      async () => {
        const p = await tp.platform.presence.get(v1.id);
        expect(p).toMatchObject({ online: true, lastAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
      },
      { timeout: 5000 },
    );
    const connectedAt = (await tp.platform.presence.get(v1.id))!.lastConnectAt!;

    // the gateway vanishes without a DISCONNECT: the broker publishes its will
    const gone = closed(gateway);
    gateway.stream.destroy();
    await gone;
    const will = await seen.waitFor(
      (m) => (m.json as { online?: boolean }).online === false,
      5000,
      'the last will online:false',
    );
    expect(will.topic).toBe(statusTopic);

    await vi.waitFor(
      async () => {
        const p = await tp.platform.presence.get(v1.id);
        expect(p?.online).toBe(false);
        expect(p?.disconnectReason).toEqual(expect.any(String));
        expect(p?.disconnectReason).not.toBe('');
        expect(p?.lastDisconnectAt).toBeGreaterThanOrEqual(connectedAt);
      },
      { timeout: 5000 },
    );

    // the will was retained: a subscriber arriving now gets online:false
    const late = await connectService(tp, 'svc-status-late');
    const lateSeen = inbox(late);
    await late.subscribeAsync(statusTopic, { qos: 1 });
    const retained = await lateSeen.waitFor((m) => m.topic === statusTopic, 5000, 'the retained status');
    expect(retained.retain).toBe(true);
    expect(retained.json).toMatchObject({ online: false });
  });

  it('refuses a wrong secret with CONNACK 4 and counts it', async () => {
    const before = refused('bad_secret');
    expect(await refusalCode(tp, v2.id, 'not-the-secret')).toBe(4);
    expect(refused('bad_secret')).toBe(before + 1);
  });

  it('refuses an unknown vehicle with CONNACK 4 and counts it', async () => {
    const before = refused('unknown_account');
    expect(await refusalCode(tp, 'NOPE', 'whatever')).toBe(4);
    expect(refused('unknown_account')).toBe(before + 1);
  });

  it('refuses a client id that differs from the username with CONNACK 2', async () => {
    const before = refused('client_id_mismatch');
    expect(await refusalCode(tp, v2.id, v2.secret, { clientId: 'someone-else' })).toBe(2);
    expect(refused('client_id_mismatch')).toBe(before + 1);
  });

  it.each(['V2+', 'V#', 'v1/vehicles', '#', '+'])('refuses the client id %j', async (clientId) => {
    const before = refused('bad_client_id');
    expect(await refusalCode(tp, clientId, v2.secret, { username: clientId })).toBe(2);
    expect(refused('bad_client_id')).toBe(before + 1);
  });

  it('refuses a connection without credentials with CONNACK 4', async () => {
    const before = refused('missing_credentials');
    expect(await refusalCode(tp, v2.id, '', { username: undefined, password: undefined })).toBe(4);
    // a username without a password is no better
    expect(await refusalCode(tp, v2.id, '', { password: undefined })).toBe(4);
    expect(refused('missing_credentials')).toBe(before + 2);
  });

  it('refuses a last will aimed at another vehicle with CONNACK 5', async () => {
    const before = refused('will_not_allowed');
    const code = await refusalCode(tp, v2.id, v2.secret, {
      will: {
        topic: vehicleTopic(v1.id, 'status'),
        payload: Buffer.from(JSON.stringify({ online: false, ts: Date.now() })),
        qos: 1,
        retain: true,
      },
    });
    expect(code).toBe(5);
    expect(refused('will_not_allowed')).toBe(before + 1);
  });

  it('keeps the live session when someone connects with its id and a wrong secret', async () => {
    const live = await tp.connect(v2.id, v2.secret);
    const received = inbox(live);
    let closedEarly = false;
    live.on('close', () => (closedEarly = true));
    await live.subscribeAsync(vehicleTopic(v2.id, 'commands'), { qos: 1 });

    expect(await refusalCode(tp, v2.id, 'stolen-id-wrong-secret')).toBe(4);

    await tp.platform.broker.publishToVehicle(v2.id, 'commands', { id: 'c1', ts: Date.now(), name: 'ping', args: {} });
    const cmd = await received.waitFor((m) => m.topic === vehicleTopic(v2.id, 'commands'), 5000, 'the command');
    expect(cmd.json).toMatchObject({ id: 'c1', name: 'ping' });
    expect(closedEarly).toBe(false);
    expect(live.connected).toBe(true);
    expect(tp.platform.broker.isConnected(v2.id)).toBe(true);
    await live.endAsync();
  });
});
