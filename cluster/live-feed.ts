import type { Redis } from 'ioredis';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { FleetChange, LiveClusterFeed, StoredFrames } from '../web/live/cluster-feed.ts';
import { newestFrame } from '../web/live/vehicles.ts';
import type { RedisConnections } from './redis.ts';

/** What every node's watch announcements and fleet changes are keyed by: a vehicle's frames, or the fleet. */
const FLEET = 'fleet';
const vehicleKey = (vehicleId: string) => `v:${vehicleId}`;

export interface LiveFeedOptions {
  node: string;
  /** How often a node's fleet changes go to the other nodes (LIVE_FLEET_INTERVAL_MS). */
  fleetIntervalMs: number;
  /** How often each node renews what it watches (and re-reads what the others watch); an entry lives 3 × this. */
  refreshMs?: number;
}

export interface LiveFeedDeps {
  /** This node's own bus: its stored frames and presence changes go to the nodes that want them. */
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  redis: Pick<RedisConnections, 'client' | 'keyPrefix' | 'duplicate'>;
  counters: Counters;
  log: Logger;
  now?: () => number;
}

interface WatchMessage {
  node: string;
  key: string;
  /** Until when (ms) the node watches; 0: no longer. */
  until: number;
}

/**
 * The live layer's frames and fleet changes between nodes over Redis pub/sub (best effort, like
 * frames to a console: a message lost while Redis is away is superseded by the next).
 *
 * - What each node watches is a sorted set (`<prefix>live:watched`, member `key|node`, score: until
 *   when), renewed every `refreshMs` and announced at once on `<prefix>live:watch`: a node's first
 *   watcher of a vehicle (a subscription, a session) makes it subscribe to `<prefix>live:frames:<id>`;
 *   the node storing that vehicle's frames publishes each stored message there only while another
 *   node watches it. No watcher, no frame leaves the node that stored it. A watch of a node that died
 *   lapses after 3 × `refreshMs`.
 * - Fleet changes (presence, newest frame) are merged per vehicle on the node they happen on and
 *   published every `fleetIntervalMs` on `<prefix>live:fleet` while another node has live
 *   connections (key `fleet`); each node merges them into its own fleet batches.
 */
export function createLiveFeed(deps: LiveFeedDeps, options: LiveFeedOptions) {
  const { counters, log } = deps;
  const now = deps.now ?? Date.now;
  const node = options.node;
  const refreshMs = options.refreshMs ?? 5000;
  const ttlMs = 3 * refreshMs;
  const prefix = `${deps.redis.keyPrefix}live:`;
  const watchedKey = `${prefix}watched`;
  const watchChannel = `${prefix}watch`;
  const fleetChannel = `${prefix}fleet`;
  const framesChannel = (vehicleId: string) => `${prefix}frames:${vehicleId}`;
  const framesPrefix = `${prefix}frames:`;

  /** What this node watches, with how many of its connections. */
  const mine = new Map<string, number>();
  /** What the other nodes watch: key → node → until. */
  const theirs = new Map<string, Map<string, number>>();
  const frameListeners = new Set<(e: StoredFrames) => void>();
  const fleetListeners = new Set<(changes: FleetChange[]) => void>();
  let fleetPending = new Map<string, FleetChange>();
  let fleetTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;
  let sub: Redis | undefined;
  let offs: (() => void)[] = [];
  let running = false;

  const client = deps.redis.client;
  const failed = (what: string) => (err: unknown) => {
    counters.inc('cluster.live_feed_failed', what);
    log.warn({ err, what }, 'live feed: a Redis command failed');
  };

  function wantedElsewhere(key: string): boolean {
    const nodes = theirs.get(key);
    if (!nodes) return false;
    const at = now();
    for (const [n, until] of nodes) {
      if (until > at) return true;
      nodes.delete(n);
    }
    theirs.delete(key);
    return false;
  }

  function noteTheirs(m: WatchMessage): void {
    if (m.node === node) return;
    let nodes = theirs.get(m.key);
    if (m.until > now()) {
      if (!nodes) theirs.set(m.key, (nodes = new Map()));
      nodes.set(m.node, m.until);
    } else if (nodes) {
      nodes.delete(m.node);
      if (!nodes.size) theirs.delete(m.key);
    }
  }

  function announce(key: string, watching: boolean): void {
    const member = `${key}|${node}`;
    const until = watching ? now() + ttlMs : 0;
    const m: WatchMessage = { node, key, until };
    (watching ? client.zadd(watchedKey, until, member) : client.zrem(watchedKey, member))
      .then(() => client.publish(watchChannel, JSON.stringify(m)))
      .catch(failed('watch'));
  }

  function watchKey(key: string): void {
    const n = mine.get(key) ?? 0;
    mine.set(key, n + 1);
    if (n > 0 || !running) return;
    announce(key, true);
    if (key.startsWith('v:')) void sub?.subscribe(framesChannel(key.slice(2))).catch(failed('subscribe'));
  }

  function unwatchKey(key: string): void {
    const n = mine.get(key) ?? 0;
    if (n <= 0) return;
    if (n > 1) {
      mine.set(key, n - 1);
      return;
    }
    mine.delete(key);
    if (!running) return;
    announce(key, false);
    if (key.startsWith('v:')) void sub?.unsubscribe(framesChannel(key.slice(2))).catch(failed('unsubscribe'));
  }

  /** Renews this node's watches and re-reads the others' (a node that started or died meanwhile). */
  async function refresh(): Promise<void> {
    const at = now();
    const until = at + ttlMs;
    const multi = client.multi();
    for (const key of mine.keys()) multi.zadd(watchedKey, until, `${key}|${node}`);
    multi.zremrangebyscore(watchedKey, '-inf', at);
    multi.zrangebyscore(watchedKey, at, '+inf', 'WITHSCORES');
    const res = await multi.exec();
    const list = (res?.[res.length - 1]?.[1] ?? []) as string[];
    theirs.clear();
    for (let i = 0; i + 1 < list.length; i += 2) {
      const member = list[i]!;
      const cut = member.lastIndexOf('|');
      noteTheirs({ key: member.slice(0, cut), node: member.slice(cut + 1), until: Number(list[i + 1]) });
    }
  }

  function onMessage(channel: string, message: string): void {
    let m: unknown;
    try {
      m = JSON.parse(message);
    } catch {
      return;
    }
    if (channel === watchChannel) return noteTheirs(m as WatchMessage);
    const { origin } = m as { origin?: string };
    if (origin === node) return;
    if (channel === fleetChannel) {
      const changes = (m as { changes: FleetChange[] }).changes;
      for (const l of fleetListeners) l(changes);
    } else if (channel.startsWith(framesPrefix)) {
      const e = (m as { stored: StoredFrames }).stored;
      counters.inc('cluster.live_frames_received');
      for (const l of frameListeners) l(e);
    }
  }

  function fleetChanged(change: FleetChange): void {
    const p = fleetPending.get(change.vehicleId) ?? { vehicleId: change.vehicleId };
    if (change.presence) p.presence = change.presence;
    if (change.latest && (!p.latest || change.latest.frame.ts >= p.latest.frame.ts)) p.latest = change.latest;
    fleetPending.set(change.vehicleId, p);
  }

  function flushFleet(): void {
    const changes = [...fleetPending.values()];
    fleetPending = new Map();
    if (!changes.length || !wantedElsewhere(FLEET)) return;
    client.publish(fleetChannel, JSON.stringify({ origin: node, changes })).catch(failed('fleet'));
  }

  const feed: LiveClusterFeed = {
    onFrames(listener) {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
    onFleet(listener) {
      fleetListeners.add(listener);
      return () => fleetListeners.delete(listener);
    },
    watch: (vehicleId) => watchKey(vehicleKey(vehicleId)),
    unwatch: (vehicleId) => unwatchKey(vehicleKey(vehicleId)),
    consoles: (present) => (present ? watchKey(FLEET) : unwatchKey(FLEET)),
  };

  return {
    ...feed,
    /** Vehicles and the fleet this node watches, with the other nodes' watches (tests, metrics). */
    state: () => ({ mine: new Map(mine), theirs: [...theirs.keys()] }),
    async start(): Promise<void> {
      if (running) return;
      sub = deps.redis.duplicate('live-feed');
      sub.on('message', onMessage);
      await sub.subscribe(watchChannel, fleetChannel);
      running = true;
      // what was watched before the start (a connection is not possible before, but be exact)
      for (const key of mine.keys()) {
        announce(key, true);
        if (key.startsWith('v:')) await sub.subscribe(framesChannel(key.slice(2)));
      }
      await refresh();
      refreshTimer = setInterval(() => void refresh().catch(failed('refresh')), refreshMs);
      refreshTimer.unref();
      fleetTimer = setInterval(flushFleet, options.fleetIntervalMs);
      fleetTimer.unref();
      offs = [
        deps.bus.on('telemetry.stored', (e) => {
          if (wantedElsewhere(vehicleKey(e.vehicleId))) {
            counters.inc('cluster.live_frames_published');
            client
              .publish(framesChannel(e.vehicleId), JSON.stringify({ origin: node, stored: e }))
              .catch(failed('frames'));
          }
          const newest = newestFrame(e.frames);
          if (newest) fleetChanged({ vehicleId: e.vehicleId, latest: { receivedAt: e.receivedAt, frame: newest } });
        }),
        deps.bus.on('vehicle.connected', (e) =>
          fleetChanged({ vehicleId: e.vehicleId, presence: { online: true, at: e.at, reason: null } }),
        ),
        deps.bus.on('vehicle.disconnected', (e) =>
          fleetChanged({ vehicleId: e.vehicleId, presence: { online: false, at: e.at, reason: e.reason } }),
        ),
      ];
    },
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      for (const off of offs) off();
      offs = [];
      clearInterval(refreshTimer);
      clearInterval(fleetTimer);
      // the last fleet changes (a vehicle that left with this node) still go out
      flushFleet();
      const members = [...mine.keys()].map((k) => `${k}|${node}`);
      // Redis away: the watches lapse by themselves (the commands would wait in the offline queue)
      if (client.status === 'ready') {
        if (members.length) await client.zrem(watchedKey, ...members).catch(failed('stop'));
        for (const key of mine.keys()) {
          const m: WatchMessage = { node, key, until: 0 };
          await client.publish(watchChannel, JSON.stringify(m)).catch(failed('stop'));
        }
      }
      mine.clear();
      sub?.disconnect();
      sub = undefined;
    },
  };
}

export type LiveFeed = ReturnType<typeof createLiveFeed>;
