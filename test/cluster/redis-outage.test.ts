/**
 * A Redis outage under a running cluster (docs/architecture.md, "Several nodes", "Failures"): a
 * redis-server of this test's own on a free port (the machine's 6379 is never touched), two nodes on
 * it and on PostgreSQL, vehicles connected to both streaming QoS 1 frames. Redis is killed (SIGKILL)
 * and restarted empty on the same port (no persistence: sessions and retained messages are gone).
 * Throughout: every frame a vehicle saw acknowledged is stored; the telemetry of the connected
 * vehicles goes on being stored while Redis is away; `/readyz` says `redis` is failing and then ok;
 * no node throws an unhandled error; a third node stopped meanwhile stops (it waited for ever). After: a command from node 0 reaches the vehicle on node 1 and is
 * acknowledged, the event relay carries an event again, new MQTT connections succeed, and a vehicle
 * connecting again gets its delivery confirmation (republished on connect, the retained one is gone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { CLUSTER_TESTS, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { frame, inbox, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { freePort, until } from '../reliability/kill-loop.ts';

interface Report {
  ready: boolean;
  failing: string[];
  checks: Record<string, { ok: boolean; failure?: string }>;
}

interface Vehicle {
  id: string;
  node: number;
  secret: string;
  client: MqttClient;
  seq: number;
  acked: Set<number>;
  /** Frames acknowledged while Redis was away. */
  ackedDuringOutage: number;
}

/** Starts redis-server on `port` (no persistence); resolves once it accepts connections. */
function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return withTimeout(
    new Promise<ChildProcess>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
      child.once('error', reject);
    }),
    10_000,
    `redis-server on port ${port}`,
  );
}

function killRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  return withTimeout(exited, 5000, 'redis-server to exit');
}

describe.skipIf(!CLUSTER_TESTS)('a Redis outage under a running cluster', () => {
  let cluster: TestCluster | undefined;
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  let streaming: NodeJS.Timeout | undefined;
  let outage = false;
  let newSecret = '';
  let relayedLate: Promise<number> | undefined;
  let openedDuring = 0;
  let parkedSecret = '';
  const vehicles: Vehicle[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => void unhandled.push(err);

  const ready = async (n: TestPlatform): Promise<Report> => {
    const res = await fetch(`http://127.0.0.1:${n.platform.ports.http}/readyz`);
    return (await res.json()) as Report;
  };

  const connect = (n: TestPlatform, id: string, secret: string) =>
    mqtt.connect(n.mqttUrl, {
      clientId: id,
      username: id,
      password: secret,
      reconnectPeriod: 250,
      connectTimeout: 5000,
      keepalive: 10,
    });

  const publishAll = () => {
    for (const v of vehicles) {
      if (!v.client.connected) continue;
      const seq = ++v.seq;
      v.client.publish(vehicleTopic(v.id, 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 }, (err) => {
        if (err) return;
        v.acked.add(seq);
        if (outage) v.ackedDuringOutage++;
      });
    }
  };

  /** Per vehicle, the acknowledged frames missing from the store. */
  const lost = async (): Promise<Record<string, number[]>> => {
    const client = new pg.Client({ connectionString: cluster!.databaseUrl });
    await client.connect();
    try {
      // what was acknowledged before the query: committed before it, so in its snapshot (a frame
      // acknowledged while the answer travels was committed after the snapshot, and is not lost)
      const acked = vehicles.map((v) => [...v.acked]);
      const { rows } = await client.query<{ vehicle_id: string; seq: string }>(
        'select vehicle_id, seq from telemetry_frames',
      );
      const stored = new Set(rows.map((r) => `${r.vehicle_id}#${r.seq}`));
      const out: Record<string, number[]> = {};
      for (const [i, v] of vehicles.entries()) {
        const missing = acked[i]!.filter((s) => !stored.has(`${v.id}#${s}`));
        if (missing.length) out[v.id] = missing;
      }
      return out;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    cluster = await startTestCluster(3, {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      TELEMETRY_CONFIRM_INTERVAL_MS: '200',
    });
    const a = cluster.node(0);
    for (let i = 0; i < 6; i++) {
      const node = i % 2;
      const id = `RO-${i}`;
      const { secret } = await a.addVehicle(id);
      const client = connect(cluster.node(node), id, secret);
      client.on('error', () => undefined);
      const v: Vehicle = { id, node, secret, client, seq: 0, acked: new Set(), ackedDuringOutage: 0 };
      client.on('connect', () => void client.subscribe(vehicleTopic(id, 'commands'), { qos: 1 }));
      // a command is answered at once
      client.on('message', (topic, payload) => {
        if (topic !== vehicleTopic(id, 'commands')) return;
        const command = JSON.parse(payload.toString()) as { id: string };
        client.publish(
          vehicleTopic(id, 'commands/ack'),
          JSON.stringify({ id: command.id, ts: Date.now(), ok: true, result: { gateway: id } }),
          { qos: 1 },
        );
      });
      vehicles.push(v);
    }
    await until(() => vehicles.every((v) => v.client.connected), 10_000, 'every vehicle connected');
    // a vehicle that sent its frames, had them confirmed and went offline before the outage
    parkedSecret = (await a.addVehicle('RO-park')).secret;
    const parked = await a.connect('RO-park', parkedSecret);
    const got = inbox(parked);
    await parked.subscribeAsync(vehicleTopic('RO-park', 'telemetry/confirmed'), { qos: 1 });
    for (let seq = 1; seq <= 5; seq++)
      await parked.publishAsync(vehicleTopic('RO-park', 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 });
    await got.waitFor((m) => (m.json as { seq?: number } | undefined)?.seq === 5, 5000, 'RO-park confirmed');
    await parked.endAsync();
    streaming = setInterval(publishAll, 100);
  }, 60_000);

  afterAll(async () => {
    if (streaming) clearInterval(streaming);
    await Promise.all(vehicles.map((v) => v.client.endAsync(true).catch(() => undefined)));
    await cluster?.close();
    if (redis) await killRedis(redis);
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  }, 60_000);

  it('Redis killed: telemetry goes on being stored, /readyz says redis is failing, nothing acknowledged is lost', async () => {
    await until(() => vehicles.every((v) => v.acked.size >= 10), 10_000, 'the vehicles streaming');
    for (const n of [cluster!.node(0), cluster!.node(1)]) expect((await ready(n)).ready).toBe(true);

    await killRedis(redis!);
    outage = true;
    const killedAt = Date.now();
    for (const n of [cluster!.node(0), cluster!.node(1)])
      await until(async () => (await ready(n)).failing.includes('redis'), 10_000, '/readyz to report redis failing');
    // several seconds away: each connected vehicle has 40 frames (4 s at 10 Hz) acknowledged meanwhile
    await until(
      () => vehicles.every((v) => v.ackedDuringOutage >= 40),
      20_000,
      `frames acknowledged during the outage (${vehicles.map((v) => `${v.id}: ${v.ackedDuringOutage}`).join(', ')})`,
    );
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(3000);
    // what needs Redis fails at once and clearly, rather than hanging: a command to a vehicle on
    // the other node (its publish), a new MQTT connection (its session lookup)
    const [a, b] = [cluster!.node(0), cluster!.node(1)];
    const onB = vehicles.find((v) => v.node === 1)!;
    const command = await withTimeout(
      a.platform.commands.send({ vehicleId: onB.id, name: 'snapshot', args: {}, actor: 'ops' }),
      3000,
      'the command to fail',
    );
    expect(command).toMatchObject({ state: 'no_answer' });
    expect(command.error).toMatch(/^not delivered: Redis is unreachable/);
    expect(a.platform.counters.get('cluster.mqtt_redis_failed', 'publish')).toBeGreaterThanOrEqual(1);
    newSecret = (await a.addVehicle('RO-new')).secret;
    const refused = await new Promise<string>((resolve) => {
      const c = mqtt.connect(b.mqttUrl, {
        clientId: 'RO-new',
        username: 'RO-new',
        password: newSecret,
        reconnectPeriod: 0,
      });
      c.on('error', () => undefined);
      c.once('connect', () => resolve('connected'));
      c.once('close', () => resolve('closed'));
    });
    expect(refused).toBe('closed');
    expect(
      b.platform.counters.get('cluster.mqtt_redis_failed', 'persistence.cleanSubscriptions'),
    ).toBeGreaterThanOrEqual(1);
    for (const n of [a, b]) expect(n.platform.counters.get('cluster.redis_connection_lost', 'commands')).toBe(1);
    // a node stopped meanwhile (SIGTERM in production) stops: nothing waits for Redis for ever
    await withTimeout(cluster!.stopNode(2), 10_000, 'node 2 to stop while Redis is away');
    // a ticket opened on node 1 meanwhile: its event waits for Redis (relayed when it is back)
    relayedLate = new Promise<number>((resolve) =>
      a.platform.relay!.remote.on('ticket.opened', (e) => {
        if (e.ticket.title.endsWith('during the outage')) resolve(e.ticket.id);
      }),
    );
    openedDuring = (
      await b.platform.tickets.open(
        {
          source: 'rule',
          vehicleId: onB.id,
          customerId: 'C1',
          level: 'urgent',
          title: `${onB.id}: during the outage`,
          need: 'relay check',
        },
        'system',
      )
    ).id;
    for (const n of [cluster!.node(0), cluster!.node(1)]) {
      const r = await ready(n);
      expect(r.ready).toBe(false);
      expect(r.failing).toEqual(['redis']);
    }
    expect(vehicles.every((v) => v.client.connected)).toBe(true);
    expect(await lost()).toEqual({});
    expect(unhandled).toEqual([]);
  }, 60_000);

  it('Redis back (empty): /readyz ok, commands cross nodes, the relay carries events, new connections succeed', async () => {
    redis = await startRedis(redisPort);
    outage = false;
    const [a, b] = [cluster!.node(0), cluster!.node(1)];
    for (const n of [a, b]) await until(async () => (await ready(n)).ready, 15_000, '/readyz ok again');

    // a command published on node 0 reaches the vehicle on node 1 (mqemitter-redis subscribed again)
    const onB = vehicles.find((v) => v.node === 1)!;
    await until(
      async () => (await a.platform.presence.get(onB.id))?.online === true,
      5000,
      `${onB.id} online for node 0`,
    );
    const record = await withTimeout(
      a.platform.commands.send({ vehicleId: onB.id, name: 'snapshot', args: {}, actor: 'ops' }),
      10_000,
      'the command to settle',
    );
    expect(record).toMatchObject({ state: 'done', result: { gateway: onB.id } });

    // the event of the ticket opened during the outage, and one opened now, reach node 0 through
    // the relay (its stream and groups were lost with Redis)
    expect(await withTimeout(relayedLate!, 10_000, 'the ticket opened during the outage, relayed')).toBe(openedDuring);
    const received = new Promise<number>((resolve) =>
      a.platform.relay!.remote.on('ticket.opened', (e) => {
        if (e.ticket.title.endsWith('after the outage')) resolve(e.ticket.id);
      }),
    );
    const ticket = await b.platform.tickets.open(
      {
        source: 'rule',
        vehicleId: onB.id,
        customerId: 'C1',
        level: 'urgent',
        title: `${onB.id}: after the outage`,
        need: 'relay check',
      },
      'system',
    );
    expect(await withTimeout(received, 10_000, 'the relayed ticket.opened')).toBe(ticket.id);

    // a new MQTT connection on each node (RO-new was refused during the outage)
    for (const n of [a, b]) {
      const c = await n.connect('RO-new', newSecret);
      await c.endAsync();
    }
    // the retained confirmation went with Redis; RO-park connecting again gets it anyway (the
    // platform publishes the saved mark again at every connection)
    const parked = await a.connect('RO-park', parkedSecret);
    const got = inbox(parked);
    await parked.subscribeAsync(vehicleTopic('RO-park', 'telemetry/confirmed'), { qos: 1 });
    const confirmed = await got.waitFor(
      (m) => m.topic === vehicleTopic('RO-park', 'telemetry/confirmed'),
      5000,
      'RO-park’s confirmation',
    );
    expect(confirmed.json).toMatchObject({ seq: 5 });
    await parked.endAsync();

    // the vehicles streamed on; every acknowledged frame is stored
    const counts = vehicles.map((v) => v.acked.size);
    await until(
      () => vehicles.every((v, i) => v.acked.size >= counts[i]! + 10),
      10_000,
      'the vehicles streaming after the outage',
    );
    clearInterval(streaming);
    streaming = undefined;
    await until(async () => Object.keys(await lost()).length === 0, 5000, 'every acknowledged frame stored');
    expect(await lost()).toEqual({});
    expect(unhandled).toEqual([]);
  }, 60_000);
});
