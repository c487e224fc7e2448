import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type MQEmitterRedisFactory from 'mqemitter-redis';
import type { Redis } from 'ioredis';
import type { Counters } from '../core/counters.ts';
import { PlatformError } from '../core/errors.ts';
import { lazyModule } from '../core/lazy-module.ts';
import type { Logger } from '../core/logger.ts';
import { GATEWAY_PUBLISH_KINDS, parseVehicleTopic, TOPIC_KINDS, TOPIC_ROOT, vehicleTopic } from '../protocol/index.ts';
import { filterMatches } from '../broker/acl.ts';
import { isRedisDown, redisUnavailable, type RedisConnections } from './redis.ts';

/** An aedes message as the emitter carries it. */
export interface MqMessage {
  topic: string;
  [key: string]: unknown;
}
type Listener = (message: MqMessage, done: () => void) => void;

/** What aedes asks of its `mq` (mqemitter's interface). */
export interface MqEmitter {
  on(topic: string, listener: Listener, done?: () => void): MqEmitter;
  removeListener(topic: string, listener: Listener, done?: () => void): MqEmitter;
  emit(message: MqMessage, done?: (err?: Error) => void): void;
  close(done: () => void): void;
}

/**
 * mqemitter-redis's close() calls `quit()` on both its connections, drops the promise and waits for
 * their 'end' events. A connection that closes before QUIT's reply (under load, at a stop) rejects
 * it with nobody to hear it, and Node ends the process: the rejection is handled here (callers that
 * await `quit()` still see it). And while Redis is away QUIT would wait for it for ever (ioredis
 * queues it; a connection waiting to reconnect never ends by itself): the connection is cut instead
 * and, when it was waiting to reconnect, ends here — the node's stop does not hang on Redis.
 */
function quietQuit(conn: Redis): Redis {
  const quit = conn.quit.bind(conn);
  conn.quit = ((...args: Parameters<Redis['quit']>) => {
    if (conn.status === 'ready') {
      const done = quit(...args);
      done.catch(() => undefined);
      return done;
    }
    // 'reconnecting' (or ended already): no close event will come, so no 'end' either
    const waiting = conn.status === 'reconnecting' || conn.status === 'end';
    conn.disconnect();
    if (waiting) conn.emit('end');
    return Promise.resolve('OK');
  }) as Redis['quit'];
  return conn;
}

/** The part of aedes-persistence-redis the platform calls itself (aedes calls the rest). */
interface RedisPersistence {
  destroy(): Promise<void>;
}

/**
 * The persistence with every promise its methods return rejected with REDIS_UNAVAILABLE (core/errors.ts)
 * rather than ioredis' own words when Redis cannot be reached; `failed` hears each such failure.
 * Streams, callbacks and synchronous results pass unchanged.
 */
function failingClearly<T extends object>(
  persistence: T,
  conn: Pick<Redis, 'status'>,
  failed: (method: string, err: unknown) => void,
): T {
  const mapped = (method: string) => (err: unknown) => {
    if (!isRedisDown(err, conn)) throw err;
    failed(method, err);
    throw redisUnavailable(err, conn, `MQTT sessions and retained messages (${method})`);
  };
  return new Proxy(persistence, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const method = value as (...a: unknown[]) => unknown;
      // aedes checks that `setup` is an async function: such methods stay async functions
      if (method.constructor.name === 'AsyncFunction')
        return async (...args: unknown[]) => (method.apply(target, args) as Promise<unknown>).catch(mapped(property));
      return (...args: unknown[]) => {
        const result = method.apply(target, args);
        return result instanceof Promise ? result.catch(mapped(property)) : result;
      };
    },
  });
}

/** What the broker gets in cluster mode: aedes' `mq` and `persistence`, and how to let them go. */
export interface ClusterMqtt {
  mq: MqEmitter;
  persistence: unknown;
  /** After aedes.close() (which closes `mq`): the persistence's connection, this node's subscription entries. */
  close(): Promise<void>;
  /** Messages sent through Redis and kept on this node (vehicle uplink nobody elsewhere subscribes to). */
  stats(): { viaRedis: number; localOnly: number; remoteUplinkFilters: number };
}

export interface ClusterMqttOptions {
  /** This node's name (NODE_ID): part of its subscription registry entry. */
  node: string;
  /** How often every node re-reads the registry and renews its own entry (whose TTL is 3×). Default 10 s. */
  registryRefreshMs?: number;
}

/** Where refused messages go (broker.ts): nobody subscribes to it, nothing of it leaves the node. */
const REFUSED_TOPIC = '$platform/refused';
/** The notice a node publishes (through the emitter, i.e. Redis) when its uplink subscriptions change. */
const NOTICE_TOPIC = '$platform/cluster/uplink-filters';
/** Characters that would make the prefix a pattern in Redis (PSUBSCRIBE, SCAN MATCH) or in MQTT. */
const UNSAFE_PREFIX = /[*?[\]\\+#]/;

/** mqemitter-redis and aedes-persistence-redis, loaded when cluster mode starts its broker (core/lazy-module.ts). */
const MQEmitterRedis = lazyModule<typeof MQEmitterRedisFactory>('mqemitter-redis');
// the package's default export: the async persistence behind the stream-returning layer aedes 1.2 calls
const redisPersistence = lazyModule<(opts: { conn: unknown }) => RedisPersistence>('aedes-persistence-redis');

/** Whether `topic` is a vehicle's uplink (telemetry, status, events, commands/ack): stored where it arrives. */
export function isVehicleUplink(topic: string): boolean {
  const parsed = parseVehicleTopic(topic);
  return !!parsed && GATEWAY_PUBLISH_KINDS.includes(parsed.kind);
}

/** Whether a subscription filter can match some vehicle's uplink topic (the kinds a vehicle publishes). */
export function mayMatchUplink(filter: string): boolean {
  if (filter.startsWith('$')) return false;
  const named = filter.split('/')[TOPIC_ROOT.split('/').length];
  const probe = named && named !== '+' && named !== '#' ? named : 'any';
  return TOPIC_KINDS.some((k) => GATEWAY_PUBLISH_KINDS.includes(k) && filterMatches(filter, vehicleTopic(probe, k)));
}

/**
 * aedes' shared state in cluster mode (docs/architecture.md, "MQTT across nodes"):
 *
 * - `mq`: mqemitter-redis (Redis pub/sub) on two connections of this node, every channel named
 *   `<REDIS_KEY_PREFIX>mqtt/<topic>`, wrapped so that a **vehicle's uplink** (telemetry, status, events,
 *   commands/ack — ingested on the node the vehicle is connected to, before the PUBACK) is delivered on
 *   this node only unless a subscriber on another node has a filter that matches it. Each node keeps its
 *   filters that can match vehicle uplink in a Redis hash of its own (`<prefix>mqtt:uplink-filters:<node>:<id>`,
 *   renewed with a TTL, so a dead node's vanish) and announces changes on the emitter; every node re-reads
 *   them all every `registryRefreshMs`. Refused messages (`$platform/refused`) never leave the node.
 *   Everything else — platform downlink (commands, confirmations, errors), aedes' `$SYS` notices (client
 *   takeover, subscription broadcasts, heartbeats) — goes through Redis.
 * - `persistence`: aedes-persistence-redis on a connection whose ioredis `keyPrefix` is
 *   `<REDIS_KEY_PREFIX>mqtt:` (the library has no prefix option of its own; every key it uses — and
 *   the keys it keeps as list values and reads back — goes through that connection's prefixing).
 */
export function createClusterMqtt(
  deps: { redis: RedisConnections; log: Logger; counters?: Counters },
  options: ClusterMqttOptions,
): ClusterMqtt {
  const { redis, log } = deps;
  const prefix = redis.keyPrefix;
  if (UNSAFE_PREFIX.test(prefix))
    throw new PlatformError('CONFIG_INVALID', `REDIS_KEY_PREFIX may not contain any of * ? [ ] \\ + #: "${prefix}"`);
  const channelPrefix = `${prefix}mqtt/`;
  const registryPrefix = `${prefix}mqtt:uplink-filters:`;
  const instance = `${options.node}:${randomBytes(4).toString('hex')}`;
  const ownKey = registryPrefix + instance;
  const refreshMs = options.registryRefreshMs ?? 10_000;

  const counters = deps.counters;
  const pubConn = quietQuit(redis.duplicate('mqtt-pub', { whenDown: 'fail' }));
  const inner = MQEmitterRedis()({
    // Redis away: a subscription waits for it (ioredis restores only subscriptions that once
    // succeeded); a publish fails at once with REDIS_UNAVAILABLE (a command is then "not delivered")
    subConn: quietQuit(redis.duplicate('mqtt-sub', { whenDown: 'wait' })),
    pubConn,
    // no delivery queue (broker.ts: each connection's receive window bounds the work instead)
    concurrency: 0,
    matchEmptyLevels: true,
  });
  /** mqemitter's own emit: delivery to this node's listeners, no Redis. */
  const emitLocally = (inner as unknown as { _emit: MqEmitter['emit'] })._emit.bind(inner);
  (inner as unknown as { state: EventEmitter }).state.on('error', (err: Error) =>
    log.warn({ err }, 'MQTT emitter: Redis error'),
  );

  // Redis away: the persistence's calls (a new connection's session, a retained message, a QoS 1
  // message queued for an offline session) fail at once with REDIS_UNAVAILABLE: aedes closes the
  // connection or fails the publish instead of holding it for the offline queue's 40 s
  const persistenceConn = redis.duplicate('mqtt-persistence', { keyPrefix: `${prefix}mqtt:`, whenDown: 'fail' });
  /**
   * A failure for want of Redis: counted each time, logged at most every 10 s (an outage fails a
   * retained confirmation per streaming vehicle per second; one line says it).
   */
  let loggedAt = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  const redisFailed = (operation: string, err: unknown) => {
    counters?.inc('cluster.mqtt_redis_failed', operation);
    const at = Date.now();
    if (at - loggedAt < 10_000) return void unlogged++;
    log.warn({ err, operation, notLogged: unlogged }, 'MQTT: Redis unreachable, the operation failed');
    loggedAt = at;
    unlogged = 0;
  };
  const persistence = failingClearly(redisPersistence()({ conn: persistenceConn }), persistenceConn, (method, err) =>
    redisFailed(`persistence.${method}`, err),
  );

  /** Listeners by original listener and topic → the one registered on the prefixed channel. */
  const proxies = new Map<Listener, Map<string, Listener>>();
  /** This node's filters that can match vehicle uplink, with how many listeners use each. */
  const ownFilters = new Map<string, number>();
  /** Other nodes' such filters, by registry instance. */
  let remote = new Map<string, Set<string>>();
  let remoteFilters: string[] = [];
  const stats = { viaRedis: 0, localOnly: 0 };
  let closed = false;

  const rebuild = () => {
    const all = new Set<string>();
    for (const filters of remote.values()) for (const f of filters) all.add(f);
    remoteFilters = [...all];
  };
  const remoteWants = (topic: string) => remoteFilters.some((f) => filterMatches(f, topic));

  async function reload(): Promise<void> {
    await redis.client.pexpire(ownKey, 3 * refreshMs);
    const next = new Map<string, Set<string>>();
    let cursor = '0';
    do {
      const [after, keys] = await redis.client.scan(cursor, 'MATCH', `${registryPrefix}*`, 'COUNT', 200);
      cursor = after;
      for (const key of keys) {
        const id = key.slice(registryPrefix.length);
        if (id === instance) continue;
        next.set(id, new Set(await redis.client.hkeys(key)));
      }
    } while (cursor !== '0');
    remote = next;
    rebuild();
  }
  const refresher = setInterval(() => {
    reload().catch((err: unknown) => log.warn({ err }, 'could not read the MQTT subscription registry'));
  }, refreshMs);
  refresher.unref();

  function notice(filter: string, add: boolean): Promise<void> {
    const payload = Buffer.from(JSON.stringify({ instance, filter, add }));
    return new Promise((resolve) =>
      inner.emit({ topic: channelPrefix + NOTICE_TOPIC, payload }, (err?: Error) => {
        if (err && !closed) log.warn({ err }, 'could not announce an MQTT subscription change');
        resolve();
      }),
    );
  }

  async function register(filter: string): Promise<void> {
    const n = ownFilters.get(filter) ?? 0;
    ownFilters.set(filter, n + 1);
    if (n > 0) return;
    await redis.client
      .multi()
      .hset(ownKey, filter, '1')
      .pexpire(ownKey, 3 * refreshMs)
      .exec();
    await notice(filter, true);
  }
  async function unregister(filter: string): Promise<void> {
    const n = ownFilters.get(filter) ?? 0;
    if (n > 1) return void ownFilters.set(filter, n - 1);
    ownFilters.delete(filter);
    if (closed) return;
    await redis.client.hdel(ownKey, filter);
    await notice(filter, false);
  }

  const mq: MqEmitter = {
    on(topic, listener, done) {
      const proxy: Listener = (message, cb) =>
        listener({ ...message, topic: message.topic.slice(channelPrefix.length) }, cb);
      let byTopic = proxies.get(listener);
      if (!byTopic) proxies.set(listener, (byTopic = new Map()));
      byTopic.set(topic, proxy);
      const subscribe = () => inner.on(channelPrefix + topic, proxy as never, done);
      if (!mayMatchUplink(topic)) subscribe();
      else
        register(topic)
          .catch((err: unknown) => log.warn({ err, topic }, 'could not register an MQTT subscription in Redis'))
          .finally(subscribe);
      return mq;
    },
    removeListener(topic, listener, done) {
      const byTopic = proxies.get(listener);
      const proxy = byTopic?.get(topic);
      if (!byTopic || !proxy) {
        if (done) setImmediate(done);
        return mq;
      }
      byTopic.delete(topic);
      if (!byTopic.size) proxies.delete(listener);
      // closed (the persistence unsubscribes at its destroy): the subscriptions went with the
      // connection, and an UNSUBSCRIBE on it would wait for a Redis that may be away
      if (closed) {
        if (done) setImmediate(done);
        return mq;
      }
      inner.removeListener(channelPrefix + topic, proxy as never, done);
      if (mayMatchUplink(topic))
        unregister(topic).catch((err: unknown) =>
          log.warn({ err, topic }, 'could not unregister an MQTT subscription in Redis'),
        );
      return mq;
    },
    emit(message, done) {
      const topic = message.topic;
      const prefixed = { ...message, topic: channelPrefix + topic };
      if (topic === REFUSED_TOPIC || (isVehicleUplink(topic) && !remoteWants(topic))) {
        stats.localOnly++;
        emitLocally(prefixed, done);
        return;
      }
      stats.viaRedis++;
      inner.emit(prefixed, (err?: Error) => {
        if (err && isRedisDown(err, pubConn)) {
          redisFailed('publish', err);
          err = redisUnavailable(err, pubConn, `the message on ${topic} could not be sent to the nodes`) as Error;
          if (done) done(err);
          return;
        }
        if (done) done(err);
        else if (err && !closed) log.warn({ err, topic }, 'MQTT emitter: a message was not sent');
      });
    },
    close(done) {
      closed = true;
      clearInterval(refresher);
      inner.close(done);
    },
  };

  // other nodes' subscription changes, as they happen (the periodic reload catches up on anything missed)
  mq.on(NOTICE_TOPIC, (message, done) => {
    try {
      const n = JSON.parse(String(message.payload)) as { instance: string; filter: string; add: boolean };
      if (n.instance !== instance) {
        const set = remote.get(n.instance) ?? new Set<string>();
        if (n.add) set.add(n.filter);
        else set.delete(n.filter);
        remote.set(n.instance, set);
        rebuild();
      }
    } catch (err) {
      log.warn({ err }, 'unreadable MQTT subscription notice');
    }
    done();
  });
  reload().catch((err: unknown) => log.warn({ err }, 'could not read the MQTT subscription registry'));

  return {
    mq,
    persistence,
    async close() {
      closed = true;
      clearInterval(refresher);
      await persistence.destroy().catch((err: unknown) => log.debug({ err }, 'MQTT persistence close'));
      // Redis away: the entry lapses by its TTL (the command would wait in the offline queue)
      if (redis.client.status === 'ready') await redis.client.del(ownKey).catch(() => undefined);
    },
    stats: () => ({ ...stats, remoteUplinkFilters: remoteFilters.length }),
  };
}
