import type { Redis } from 'ioredis';
import type { Counters } from '../core/counters.ts';
import type { Logger } from '../core/logger.ts';

/** One consumer group of the relay's stream as XINFO GROUPS / CONSUMERS report it. */
export interface RelayGroup {
  name: string;
  consumers: number;
  pending: number;
  /**
   * Milliseconds since its node last read: from the relay's own note (`readersKey`), else XINFO
   * CONSUMERS' smallest `idle`, else since the last entry it was given (no consumer at all).
   */
  idleMs: number;
  /** The id of the last entry given to it (`0-0`: none yet). */
  lastDeliveredId: string;
}

export interface RelayGroupExpiryOptions {
  /** The relay's stream (`<prefix>events`). */
  key: string;
  /** The relay's hash of when each node last read (group → epoch ms). */
  readersKey: string;
  /** This node's own group: never removed by it. */
  ownGroup: string;
  /** A group whose consumers have not read for longer than this is a node that is gone (CLUSTER_GROUP_EXPIRY_MS). */
  expiryMs: number;
  /** How often the leader looks. Default: a tenth of `expiryMs`, between 1 s and 10 minutes. */
  intervalMs?: number;
}

function fieldsOf(list: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = list[i + 1];
  return out;
}

/** When an id like `1733350000000-3` was made (its milliseconds part). */
const idTime = (id: string) => Number(id.split('-')[0]);

/**
 * Removes the relay's consumer groups of nodes that are gone for good (docs/architecture.md, "Live
 * data and events across nodes", Failures). Every node reads the stream in a group named by its
 * NODE_ID and keeps it across restarts; a node that never comes back leaves its group behind, with
 * its pending entries. Each relay notes, at most once a second, when it last read (the hash
 * `readersKey`; XINFO CONSUMERS' `idle` cannot tell: before Redis 7.2 it counts from the last read
 * that returned entries, so a live node on a quiet stream looks idle). The leader (`gate`,
 * cluster/leader.ts) looks every `intervalMs` and deletes (XGROUP DESTROY) each other group whose
 * node has not read for longer than `expiryMs` (a group without a note: its consumers' `idle`, or
 * with no consumer at all, since the last entry it was given). A running node reads every few
 * seconds (its blocking read), so its group is never that idle; a node that returns after its group was removed makes it again at its
 * start (from then on: what was appended while it was away is not read). Counted
 * (`cluster.events_groups_expired`) and logged.
 */
export function createRelayGroupExpiry(
  deps: {
    redis: Pick<Redis, 'xinfo' | 'xgroup' | 'hgetall' | 'hdel'>;
    counters: Counters;
    log: Logger;
    now?: () => number;
    /** Cluster mode: only the leader removes groups. */
    gate: () => boolean;
  },
  options: RelayGroupExpiryOptions,
) {
  const { redis, counters, log } = deps;
  const now = deps.now ?? Date.now;
  const intervalMs = options.intervalMs ?? Math.min(600_000, Math.max(1000, Math.floor(options.expiryMs / 10)));
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<string[]> | undefined;

  async function groups(): Promise<RelayGroup[]> {
    let raw: unknown[];
    try {
      raw = (await redis.xinfo('GROUPS', options.key)) as unknown[];
    } catch (err) {
      // no stream yet (no node has started its relay, or Redis restarted empty): no groups
      if (err instanceof Error && /no such key/i.test(err.message)) return [];
      throw err;
    }
    const readAt = await redis.hgetall(options.readersKey);
    const at = now();
    const out: RelayGroup[] = [];
    for (const entry of raw) {
      const g = fieldsOf(entry as unknown[]);
      const name = String(g.name);
      const lastDeliveredId = String(g['last-delivered-id']);
      let idleMs: number;
      if (readAt[name] !== undefined) idleMs = at - Number(readAt[name]);
      else {
        const consumers = (await redis.xinfo('CONSUMERS', options.key, name)) as unknown[];
        const idle = consumers.map((c) => Number(fieldsOf(c as unknown[]).idle));
        idleMs = idle.length ? Math.min(...idle) : at - idTime(lastDeliveredId);
      }
      out.push({ name, consumers: Number(g.consumers), pending: Number(g.pending), idleMs, lastDeliveredId });
    }
    return out;
  }

  /** Removes the expired groups now (when this node is the leader); returns their names. */
  async function run(): Promise<string[]> {
    if (!deps.gate()) return [];
    const removed: string[] = [];
    for (const g of await groups()) {
      if (g.name === options.ownGroup) continue;
      const idleMs = g.idleMs;
      if (!(idleMs > options.expiryMs)) continue;
      // the leader may have changed while looking: the next one will look again
      if (!deps.gate()) break;
      await redis.xgroup('DESTROY', options.key, g.name);
      await redis.hdel(options.readersKey, g.name);
      removed.push(g.name);
      counters.inc('cluster.events_groups_expired', g.name);
      log.warn(
        { group: g.name, idleMs, pending: g.pending, expiryMs: options.expiryMs },
        'relay consumer group of a node gone for longer than CLUSTER_GROUP_EXPIRY_MS removed',
      );
    }
    return removed;
  }

  const tick = () => {
    if (running || !deps.gate()) return;
    running = run().catch((err: unknown) => {
      log.warn({ err }, 'could not look for expired relay consumer groups');
      return [];
    });
    void running.finally(() => {
      running = undefined;
    });
  };

  return {
    run,
    groups,
    intervalMs,
    start() {
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type RelayGroupExpiry = ReturnType<typeof createRelayGroupExpiry>;
