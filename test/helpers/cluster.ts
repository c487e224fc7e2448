import { randomBytes } from 'node:crypto';
import { deleteRedisPrefix } from '../../bench/shared/redis.ts';
import type { Logger } from '../../core/logger.ts';
import { createTestDatabase, dropTestDatabase } from './records.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

/** The Redis the cluster tests use (the machine's; `.ci/run` starts it when it is down). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether the cluster tests can run: they need PostgreSQL (TEST_DATABASE_URL, `npm run test:postgres`). */
export const CLUSTER_TESTS = Boolean(process.env.TEST_DATABASE_URL);

export interface TestCluster {
  /** The running nodes, in start order (`undefined` once stopped or killed). */
  nodes: (TestPlatform | undefined)[];
  /** The shared PostgreSQL database (records and telemetry). */
  databaseUrl: string;
  /** This cluster's Redis key prefix (REDIS_KEY_PREFIX). */
  redisPrefix: string;
  /** The env every node is started with (shared part), for starting another node later. */
  env: Record<string, string>;
  /** Starts one more node (NODE_ID `node-<index>`) on the same databases; returns its index. */
  addNode(extraEnv?: Record<string, string>): Promise<number>;
  /** A running node, or throws. */
  node(i: number): TestPlatform;
  /** Graceful stop of node i (drain). */
  stopNode(i: number): Promise<void>;
  /** Stops every node, drops the database and deletes the Redis keys under the prefix. */
  close(): Promise<void>;
}

/**
 * N platform nodes in this process on ephemeral ports, in cluster mode: one fresh PostgreSQL database
 * (records and TELEMETRY_STORE=postgres, migrated from the run's template) and one Redis key prefix of
 * their own. The first node starts alone (it runs the migrations), the others after it.
 */
export async function startTestCluster(
  count: number,
  env: Record<string, string> = {},
  options: { log?: Logger; now?: () => number } = {},
): Promise<TestCluster> {
  const databaseUrl = await createTestDatabase();
  const redisPrefix = `pwt:${randomBytes(4).toString('hex')}:`;
  const shared: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    TELEMETRY_STORE: 'postgres',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    ...env,
  };
  const nodes: (TestPlatform | undefined)[] = [];
  const cluster: TestCluster = {
    nodes,
    databaseUrl,
    redisPrefix,
    env: shared,
    async addNode(extraEnv = {}) {
      const index = nodes.length;
      nodes.push(undefined);
      nodes[index] = await startTestPlatform({ NODE_ID: `node-${index}`, ...shared, ...extraEnv }, options);
      return index;
    },
    node(i) {
      const n = nodes[i];
      if (!n) throw new Error(`node ${i} is not running`);
      return n;
    },
    async stopNode(i) {
      const n = nodes[i];
      nodes[i] = undefined;
      await n?.close();
    },
    async close() {
      await Promise.all(nodes.map((n, i) => (n ? cluster.stopNode(i) : undefined)));
      await dropTestDatabase(databaseUrl);
      await deleteRedisPrefix(TEST_REDIS_URL, redisPrefix);
    },
  };
  try {
    for (let i = 0; i < count; i++) await cluster.addNode();
  } catch (err) {
    await cluster.close().catch(() => undefined);
    throw err;
  }
  return cluster;
}

/** Deletes every key under `prefix` (SCAN, never KEYS); shared with bench:cluster. */
export { deleteRedisPrefix } from '../../bench/shared/redis.ts';
