import type { Redis } from 'ioredis';
import { lazyModule } from '../core/lazy-module.ts';
import type { Counters } from '../core/counters.ts';
import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type {} from './errors.ts';

/** ioredis, loaded when cluster mode connects (core/lazy-module.ts). */
const ioredis = lazyModule<typeof import('ioredis')>('ioredis');

/**
 * What a connection does with a command issued while Redis is unreachable:
 * - `queue` (default): ioredis' offline queue, retried over about 40 s (`maxRetriesPerRequest` 20),
 *   then rejected: a short outage only delays it;
 * - `fail`: rejected at once once the connection has been up (no offline queue after the first
 *   `ready`): for work somebody waits for (a new MQTT connection, a command to a vehicle), which must
 *   fail clearly rather than hang;
 * - `wait`: kept until Redis is back (no retry limit): subscriptions, which ioredis restores at each
 *   reconnection only when they once succeeded.
 */
export type WhenRedisDown = 'queue' | 'fail' | 'wait';

/**
 * Whether `err`, from a command on `conn`, means that Redis cannot be reached (rather than being the
 * command's own error): ioredis gave up retrying it, or the connection is not up. Judged by the
 * connection's state, not by ioredis' wording.
 */
export function isRedisDown(err: unknown, conn: Pick<Redis, 'status'>): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'MaxRetriesPerRequestError' || conn.status !== 'ready';
}

/** A Redis-unreachable error of ioredis as the platform's REDIS_UNAVAILABLE (others unchanged). */
export function redisUnavailable(err: unknown, conn: Pick<Redis, 'status'>, what: string): unknown {
  if (!isRedisDown(err, conn)) return err;
  return new PlatformError('REDIS_UNAVAILABLE', `Redis is unreachable: ${what}`, { cause: err });
}

/**
 * The Redis connections of one node in cluster mode (REDIS_URL). One command connection shared by
 * the parts that only send commands; a part that subscribes (pub/sub puts a connection in subscriber
 * mode) or blocks (XREADGROUP … BLOCK) asks for its own with `duplicate()`. Every key a part writes
 * starts with `keyPrefix` (REDIS_KEY_PREFIX), so several platforms — or tests — share one Redis.
 *
 * A lost connection is retried with backoff by ioredis; commands issued meanwhile wait in its offline
 * queue (bounded by `maxRetriesPerRequest`), and `/readyz` reports `redis` failing until it is back.
 */
export interface RedisConnections {
  /** The shared command connection. */
  readonly client: Redis;
  readonly keyPrefix: string;
  /**
   * A new connection to the same server (pub/sub, blocking reads); closed by `close()` with the rest.
   * `keyPrefix`: ioredis prefixes every key of every command with it (for a library that takes a
   * connection but has no prefix option of its own; it must start with `keyPrefix` above).
   */
  duplicate(name: string, options?: { keyPrefix?: string; whenDown?: WhenRedisDown }): Redis;
  /** `/readyz`'s check: resolves when Redis answers PING. */
  ping(): Promise<void>;
  /** Closes every connection (QUIT; a connection that does not answer is cut). */
  close(): Promise<void>;
}

export function createRedisConnections(
  deps: { log: Logger; counters?: Counters },
  options: { url: string; keyPrefix: string; node: string },
): RedisConnections {
  const log = deps.log;
  const opened: Redis[] = [];
  const open = (name: string, extra: { keyPrefix?: string; whenDown?: WhenRedisDown } = {}): Redis => {
    if (extra.keyPrefix !== undefined && !extra.keyPrefix.startsWith(options.keyPrefix))
      throw new Error(`a connection's key prefix must start with ${options.keyPrefix}`);
    const whenDown = extra.whenDown ?? 'queue';
    const redis = new (ioredis().Redis)(options.url, {
      ...(extra.keyPrefix !== undefined ? { keyPrefix: extra.keyPrefix } : {}),
      connectionName: `powerwatch:${options.node}:${name}`,
      maxRetriesPerRequest: whenDown === 'wait' ? null : 20,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
      // a server that does not answer (a partition rather than a refusal) counts as down after this long
      connectTimeout: 5000,
      lazyConnect: false,
    });
    let failing = false;
    redis.on('error', (err: Error) => {
      // ioredis reconnects by itself; say so once per outage, not at every retry
      if (!failing) {
        log.warn({ err, connection: name }, 'redis connection failed; reconnecting');
        deps.counters?.inc('cluster.redis_connection_lost', name);
      }
      failing = true;
    });
    redis.on('ready', () => {
      if (failing) log.info({ connection: name }, 'redis connection back');
      failing = false;
      // from now on a command issued while Redis is away fails at once (see WhenRedisDown)
      if (whenDown === 'fail') redis.options.enableOfflineQueue = false;
    });
    opened.push(redis);
    return redis;
  };
  const client = open('commands');
  return {
    client,
    keyPrefix: options.keyPrefix,
    duplicate: open,
    async ping() {
      await client.ping();
    },
    async close() {
      await Promise.all(
        opened.splice(0).map(async (r) => {
          try {
            await Promise.race([
              r.quit(),
              new Promise((_, reject) => setTimeout(() => reject(new Error('quit timed out')), 2000).unref()),
            ]);
          } catch {
            r.disconnect();
          }
        }),
      );
    },
  };
}
