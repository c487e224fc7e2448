import { Redis } from 'ioredis';
import type { Logger } from '../core/logger.ts';

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
  duplicate(name: string, options?: { keyPrefix?: string }): Redis;
  /** `/readyz`'s check: resolves when Redis answers PING. */
  ping(): Promise<void>;
  /** Closes every connection (QUIT; a connection that does not answer is cut). */
  close(): Promise<void>;
}

export function createRedisConnections(
  deps: { log: Logger },
  options: { url: string; keyPrefix: string; node: string },
): RedisConnections {
  const log = deps.log;
  const opened: Redis[] = [];
  const open = (name: string, extra: { keyPrefix?: string } = {}): Redis => {
    if (extra.keyPrefix !== undefined && !extra.keyPrefix.startsWith(options.keyPrefix))
      throw new Error(`a connection's key prefix must start with ${options.keyPrefix}`);
    const redis = new Redis(options.url, {
      ...extra,
      connectionName: `powerwatch:${options.node}:${name}`,
      maxRetriesPerRequest: 20,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2000),
      lazyConnect: false,
    });
    let failing = false;
    redis.on('error', (err: Error) => {
      // ioredis reconnects by itself; say so once per outage, not at every retry
      if (!failing) log.warn({ err, connection: name }, 'redis connection failed; reconnecting');
      failing = true;
    });
    redis.on('ready', () => {
      if (failing) log.info({ connection: name }, 'redis connection back');
      failing = false;
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
