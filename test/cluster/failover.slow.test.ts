/**
 * A cluster of three platform processes (`node --import tsx platform/main.ts`, as `npm start` runs
 * it) on one PostgreSQL database and one Redis key prefix, 500 gateways streaming through a TCP
 * balancer (HAProxy's part in production), and `kill -9` of one node per round, ten rounds: the
 * killed node's gateways reconnect to the others within their keepalive, and every frame a
 * gateway saw acknowledged is stored (PUBACK after commit, on any node).
 *
 * Needs PostgreSQL and Redis: `PW_CLUSTER_PG_URL` (an admin URL that may CREATE DATABASE; `.ci/run`
 * sets it) or `TEST_DATABASE_URL`; skipped without either.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { openPostgresRecords } from '../../records/db.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { deleteRedisPrefix, TEST_REDIS_URL } from '../helpers/cluster.ts';
import { frame } from '../helpers/platform.ts';
import { withAdmin } from '../helpers/records.ts';
import { startTcpBalancer, type TcpBalancer } from '../../bench/shared/tcp-balancer.ts';
import { freePort, kill9, outputOf, startPlatformProcess, until } from '../reliability/kill-loop.ts';

const ADMIN_URL = process.env.PW_CLUSTER_PG_URL ?? process.env.TEST_DATABASE_URL;
const NODES = 3;
const GATEWAYS = 500;
const ROUNDS = Number(process.env.PW_CLUSTER_ROUNDS ?? 10);
const KEEPALIVE_S = 10;
/** How long the gateways stream between a node's restart and the next kill. */
const STREAM_MS = 4000;

interface Node {
  name: string;
  mqttPort: number;
  httpPort: number;
  dataDir: string;
  process?: ChildProcess;
}

interface Gateway {
  id: string;
  client: MqttClient;
  seq: number;
  acked: Set<number>;
  connects: number;
}

describe.skipIf(!ADMIN_URL)('a cluster node killed under load (3 processes, PostgreSQL + Redis)', () => {
  const dbName = `pwc_${randomBytes(4).toString('hex')}`;
  const redisPrefix = `pwc:${randomBytes(4).toString('hex')}:`;
  let databaseUrl = '';
  const children: ChildProcess[] = [];
  const nodes: Node[] = [];
  const gateways: Gateway[] = [];
  let balancer: TcpBalancer;
  let streaming: NodeJS.Timeout | undefined;

  const startNode = async (node: Node) => {
    node.process = await startPlatformProcess(children, node.dataDir, {
      DATABASE_URL: databaseUrl,
      TELEMETRY_STORE: 'postgres',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      NODE_ID: node.name,
      MQTT_PORT: String(node.mqttPort),
      HTTP_PORT: String(node.httpPort),
    });
    balancer.setBackend(node.name, node.mqttPort);
  };

  const publishAll = () => {
    for (const g of gateways) {
      if (!g.client.connected) continue;
      const seq = ++g.seq;
      g.client.publish(vehicleTopic(g.id, 'telemetry'), JSON.stringify(frame(seq)), { qos: 1 }, (err) => {
        if (!err) g.acked.add(seq);
      });
    }
  };

  beforeAll(async () => {
    await withAdmin((admin) => admin.query(`create database "${dbName}"`), ADMIN_URL);
    const url = new URL(ADMIN_URL!);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
    balancer = await startTcpBalancer();
    for (let i = 0; i < NODES; i++)
      nodes.push({
        name: `node-${i}`,
        mqttPort: await freePort(),
        httpPort: await freePort(),
        dataDir: mkdtempSync(join(tmpdir(), `pw-cluster-${i}-`)),
      });
    // the first node migrates the empty database; the others start on it
    await startNode(nodes[0]!);
    await Promise.all(nodes.slice(1).map(startNode));
    const db = await openPostgresRecords({ url: databaseUrl, maxConnections: 4 });
    const credentials: { id: string; secret: string }[] = [];
    try {
      const registry = createVehicleRegistry({ db });
      for (let start = 0; start < GATEWAYS; start += 100) {
        const added = await Promise.all(
          Array.from({ length: Math.min(100, GATEWAYS - start) }, (_, k) =>
            registry.add({ id: `CL-${String(start + k).padStart(4, '0')}`, customerId: `U${(start + k) % 5}` }),
          ),
        );
        for (const a of added) credentials.push({ id: a.vehicle.id, secret: a.secret });
      }
    } finally {
      await db.destroy();
    }
    for (const { id, secret } of credentials) {
      const g: Gateway = {
        id,
        seq: 0,
        acked: new Set(),
        connects: 0,
        client: mqtt.connect(`mqtt://127.0.0.1:${balancer.port}`, {
          clientId: id,
          username: id,
          password: secret,
          keepalive: KEEPALIVE_S,
          reconnectPeriod: 250,
          connectTimeout: 5000,
        }),
      };
      g.client.on('connect', () => g.connects++);
      g.client.on('error', () => undefined);
      gateways.push(g);
    }
    await until(() => gateways.every((g) => g.client.connected), 60_000, 'every gateway connected');
    streaming = setInterval(publishAll, 1000);
  }, 240_000);

  afterAll(async () => {
    if (streaming) clearInterval(streaming);
    await Promise.all(gateways.map((g) => g.client.endAsync(true).catch(() => undefined)));
    await balancer?.close();
    await Promise.all(children.map((c) => kill9(c)));
    for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
    await withAdmin((admin) => admin.query(`drop database if exists "${dbName}" with (force)`), ADMIN_URL);
    await deleteRedisPrefix(TEST_REDIS_URL, redisPrefix);
  }, 60_000);

  /** Every frame some gateway saw acknowledged, missing from the store: none, or the test fails naming them. */
  const lostFrames = async (): Promise<string[]> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ vehicle_id: string; seq: string }>(
        'select vehicle_id, seq from telemetry_frames',
      );
      const stored = new Set(rows.map((r) => `${r.vehicle_id}#${r.seq}`));
      return gateways.flatMap((g) =>
        [...g.acked].filter((s) => !stored.has(`${g.id}#${s}`)).map((s) => `${g.id}#${s}`),
      );
    } finally {
      await client.end();
    }
  };

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: kill -9 of a node — its gateways reconnect elsewhere within their keepalive, no acknowledged frame lost`, async () => {
      const node = nodes[round % NODES]!;
      const onIt = balancer.connections()[node.name] ?? 0;
      expect(onIt, `gateways on ${node.name} before the kill`).toBeGreaterThan(0);
      const connectsBefore = gateways.reduce((n, g) => n + g.connects, 0);
      balancer.setBackend(node.name, undefined);
      const killedAt = Date.now();
      await kill9(node.process!);
      // its gateways are back, on the other nodes, within their keepalive
      await until(
        () =>
          gateways.every((g) => g.client.connected) &&
          gateways.reduce((n, g) => n + g.connects, 0) >= connectsBefore + onIt,
        KEEPALIVE_S * 1000,
        `the ${onIt} gateways of ${node.name} to reconnect (${outputOf(node.process!).slice(-500)})`,
      );
      const failoverMs = Date.now() - killedAt;
      expect(failoverMs).toBeLessThan(KEEPALIVE_S * 1000);
      await startNode(node);
      const ackedBefore = gateways.reduce((n, g) => n + g.acked.size, 0);
      await until(
        () => gateways.reduce((n, g) => n + g.acked.size, 0) >= ackedBefore + (GATEWAYS * STREAM_MS) / 1000 / 2,
        STREAM_MS * 4,
        'the gateways to stream on',
      );
      expect(await lostFrames()).toEqual([]);
    }, 120_000);
  }
});
