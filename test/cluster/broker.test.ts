import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { CLUSTER_TESTS, startTestCluster, TEST_REDIS_URL, type TestCluster } from '../helpers/cluster.ts';
import { closed, connectService, frame, inbox, withTimeout } from '../helpers/platform.ts';

/** PUBLISHes to this cluster's MQTT channels seen by Redis (MONITOR), per channel. */
async function monitorPublishes(prefix: string) {
  const redis = new Redis(TEST_REDIS_URL);
  const monitor = await redis.monitor();
  const published: string[] = [];
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args[0]?.toLowerCase() === 'publish' && args[1]?.startsWith(`${prefix}mqtt/`)) published.push(args[1]);
  });
  return {
    published,
    async stop() {
      monitor.disconnect();
      redis.disconnect();
    },
  };
}

describe.skipIf(!CLUSTER_TESTS)('MQTT across nodes (mqemitter-redis, aedes-persistence-redis)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('a command sent on node 0 reaches the vehicle on node 1; its ack (arriving on node 1) settles it on node 0', async () => {
    cluster = await startTestCluster(2);
    const a = cluster.node(0);
    const b = cluster.node(1);
    const v = await a.addVehicle('CV1');
    const gw = await b.connect(v.id, v.secret);
    await gw.subscribeAsync(vehicleTopic(v.id, 'commands'), { qos: 1 });
    gw.on('message', (topic, payload) => {
      if (topic !== vehicleTopic(v.id, 'commands')) return;
      const cmd = JSON.parse(payload.toString()) as { id: string };
      gw.publish(
        vehicleTopic(v.id, 'commands/ack'),
        JSON.stringify({ id: cmd.id, ts: Date.now(), ok: true, result: { n: 1 } }),
        {
          qos: 1,
        },
      );
    });
    // presence is written by node 1 (batched): node 0 refuses a command to an offline vehicle
    await vi.waitFor(async () => expect((await a.platform.presence.get(v.id))?.online).toBe(true), {
      timeout: 5000,
      interval: 50,
    });
    const record = await withTimeout(
      a.platform.commands.send({ vehicleId: v.id, name: 'snapshot', args: {}, actor: 'ops' }),
      5000,
      'the command to settle',
    );
    expect(record).toMatchObject({ state: 'done', result: { n: 1 } });
    // the command log recorded it once, on node 0, and node 1 matched the ack to that row
    await b.platform.commandLog.settled();
    const logged = await a.platform.commandLog.ofVehicle(v.id);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ publisher: 'platform', ack: { ok: true } });
  });

  it('a node starting meanwhile leaves a command another node waits for alone (it is not settled no_answer)', async () => {
    cluster = await startTestCluster(2);
    const a = cluster.node(0);
    const b = cluster.node(1);
    const v = await a.addVehicle('CV6');
    const gw = await b.connect(v.id, v.secret);
    await gw.subscribeAsync(vehicleTopic(v.id, 'commands'), { qos: 1 });
    const got = inbox(gw);
    await vi.waitFor(async () => expect((await a.platform.presence.get(v.id))?.online).toBe(true), {
      timeout: 5000,
      interval: 50,
    });
    const sent = a.platform.commands.send({ vehicleId: v.id, name: 'snapshot', args: {}, actor: 'ops' });
    const cmd = (await got.waitFor((m) => m.topic === vehicleTopic(v.id, 'commands'), 5000)).json as { id: string };
    await cluster.addNode();
    expect((await a.platform.commands.get(cmd.id))?.state).toBe('sent');
    gw.publish(vehicleTopic(v.id, 'commands/ack'), JSON.stringify({ id: cmd.id, ts: Date.now(), ok: true }), {
      qos: 1,
    });
    expect(await withTimeout(sent, 5000, 'the command to settle')).toMatchObject({ state: 'done' });
  });

  it('retained confirmations and a persistent session’s QoS 1 queue reach the vehicle on the other node', async () => {
    cluster = await startTestCluster(2);
    const a = cluster.node(0);
    const b = cluster.node(1);
    const v = await a.addVehicle('CV2');
    // a persistent session on node 1, then offline
    const first = await b.connect(v.id, v.secret, { clean: false });
    await first.subscribeAsync(vehicleTopic(v.id, 'commands'), { qos: 1 });
    await first.endAsync();
    // published on node 0 while the vehicle is offline: a QoS 1 command and a retained confirmation
    await a.platform.broker.publishToVehicle(v.id, 'commands', {
      id: 'queued-1',
      ts: Date.now(),
      name: 'ping',
      args: {},
    });
    await a.platform.broker.publishToVehicle(v.id, 'telemetry/confirmed', { seq: 41 });
    // back, on node 0 this time: the session's queue is delivered; a new subscription gets the retained one
    const again = await a.connect(v.id, v.secret, { clean: false });
    const got = inbox(again);
    const queued = await got.waitFor((m) => m.topic === vehicleTopic(v.id, 'commands'), 5000, 'the queued command');
    expect(queued.json).toMatchObject({ id: 'queued-1' });
    await again.subscribeAsync(vehicleTopic(v.id, 'telemetry/confirmed'), { qos: 1 });
    const retained = await got.waitFor((m) => m.topic === vehicleTopic(v.id, 'telemetry/confirmed'), 5000);
    expect(retained).toMatchObject({ retain: true, json: { seq: 41 } });
  });

  it('a service account on node 0 receives the telemetry of a vehicle on node 1', async () => {
    cluster = await startTestCluster(2);
    const a = cluster.node(0);
    const b = cluster.node(1);
    const v = await a.addVehicle('CV3');
    const svc = await connectService(a, 'svc-watch');
    const got = inbox(svc);
    await svc.subscribeAsync('v1/vehicles/+/telemetry', { qos: 1 });
    // node 1 hears of the subscription (a notice through Redis)
    await vi.waitFor(() => expect(b.platform.broker.clusterStats()?.remoteUplinkFilters).toBe(1), {
      timeout: 5000,
      interval: 20,
    });
    const gw = await b.connect(v.id, v.secret);
    await gw.publishAsync(vehicleTopic(v.id, 'telemetry'), JSON.stringify(frame(1)), { qos: 1 });
    const m = await got.waitFor((x) => x.topic === vehicleTopic(v.id, 'telemetry'), 5000, 'the telemetry');
    expect(m.json).toMatchObject({ seq: 1 });
    // unsubscribed: node 1 keeps the telemetry to itself again
    await svc.unsubscribeAsync('v1/vehicles/+/telemetry');
    await vi.waitFor(() => expect(b.platform.broker.clusterStats()?.remoteUplinkFilters).toBe(0), {
      timeout: 5000,
      interval: 20,
    });
  });

  it('telemetry nobody subscribes to is stored on its node without a single PUBLISH to Redis; refused messages neither', async () => {
    cluster = await startTestCluster(2);
    const a = cluster.node(0);
    const b = cluster.node(1);
    const v = await a.addVehicle('CV4');
    const gw = await b.connect(v.id, v.secret);
    const monitor = await monitorPublishes(cluster.redisPrefix);
    try {
      const N = 50;
      for (let seq = 1; seq <= N; seq++)
        await gw.publishAsync(vehicleTopic(v.id, 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 });
      // a refused one (not JSON) and one on a topic the vehicle may not use
      await gw.publishAsync(vehicleTopic(v.id, 'telemetry'), 'not json', { qos: 1 });
      await gw.publishAsync(vehicleTopic('OTHER', 'telemetry'), JSON.stringify(frame(1)), { qos: 1 });
      // a command through Redis afterwards: once MONITOR shows it, everything before it was seen too
      await a.platform.broker.publishToVehicle(v.id, 'commands', {
        id: 'marker',
        ts: Date.now(),
        name: 'ping',
        args: {},
      });
      const commands = `${cluster.redisPrefix}mqtt/${vehicleTopic(v.id, 'commands')}`;
      await vi.waitFor(() => expect(monitor.published).toContain(commands), { timeout: 5000, interval: 20 });
      expect(await a.platform.telemetry.count(v.id)).toBe(N);
      expect(monitor.published.filter((c) => c.endsWith('/telemetry') || c.includes('refused'))).toEqual([]);
      // what does cross: the platform's downlink, e.g. the delivery confirmations (per interval, not per frame)
      expect(monitor.published.filter((c) => c.endsWith('/telemetry/confirmed')).length).toBeLessThan(N / 5);
      expect(b.platform.broker.clusterStats()?.localOnly).toBeGreaterThanOrEqual(N + 2);
    } finally {
      await monitor.stop();
    }
  });

  it('the same client id connecting to node 1 closes its connection on node 0 (takeover across nodes)', async () => {
    cluster = await startTestCluster(2);
    const a = cluster.node(0);
    const b = cluster.node(1);
    const v = await a.addVehicle('CV5');
    const old = await a.connect(v.id, v.secret);
    const gone = closed(old);
    const disconnected = new Promise<string>((resolve) =>
      a.platform.bus.on('vehicle.disconnected', (e) => {
        if (e.vehicleId === v.id) resolve(e.reason);
      }),
    );
    await b.connect(v.id, v.secret);
    await gone;
    expect(await withTimeout(disconnected, 5000, 'the disconnect on node 0')).toBe('connected again on another node');
    expect(a.platform.broker.isConnected(v.id)).toBe(false);
    expect(b.platform.broker.isConnected(v.id)).toBe(true);
  });
});
