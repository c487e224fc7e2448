import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createInProcessBus, type EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { RedisConnections } from './redis.ts';

/**
 * The bus events other nodes need: what the live layer shows (alarms, tickets, remote sessions,
 * operator commands, inbox deliveries) and what a node waits for (a command it published settled on
 * the node the vehicle is connected to). Not relayed: telemetry (frames cross in cluster/live-feed.ts,
 * only while watched), `registry.changed` (every node's registry watcher already follows the shared
 * `registry_changes` log), `command.ack` (settled where it arrives; the waiter hears `command.settled`),
 * presence (the live feed's fleet changes), and the events only the node's own stages act on.
 */
export const RELAYED_EVENTS = [
  'alarm.raised',
  'alarm.updated',
  'alarm.cleared',
  'ticket.opened',
  'ticket.updated',
  'ticket.deadline_breached',
  'remote.session.changed',
  'remote.timeline',
  'remote.ringing',
  'remote.step',
  'command.sent',
  'command.settled',
  'notification.delivered',
] as const satisfies readonly (keyof PlatformEvents)[];

export type RelayedEvent = (typeof RELAYED_EVENTS)[number];

export interface EventRelayOptions {
  /** This node (NODE_ID): its consumer group and the `origin` of what it appends. */
  node: string;
  /** The stream's approximate bound (XADD MAXLEN ~): what a node stopped longer than that misses. */
  maxLength: number;
  /** How long one XREADGROUP blocks (it is cut at stop). */
  blockMs?: number;
  /** Event ids remembered for deduplication. */
  dedupeWindow?: number;
}

export interface EventRelayDeps {
  /** The node's own bus: its events of RELAYED_EVENTS are appended to the stream. */
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  redis: Pick<RedisConnections, 'client' | 'keyPrefix' | 'duplicate'>;
  counters: Counters;
  log: Logger;
}

type Entry = [id: string, fields: string[]];

function fieldsOf(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
}

const isBusyGroup = (err: unknown) => err instanceof Error && err.message.startsWith('BUSYGROUP');

/**
 * The cluster's event relay over one Redis Stream (`<prefix>events`). Each node appends the events
 * of RELAYED_EVENTS its own stages emit (XADD, MAXLEN ~ `maxLength`), with an event id and its
 * `origin`; each node reads the stream in a consumer group of its own (named by NODE_ID, created at
 * the stream's end the first time the node starts), skips its own and already seen event ids,
 * re-emits the rest on `remote` — a bus of its own, never the node's bus, so no stage that records or
 * acts on an event (notifications, diagnostics, the session timeline) processes it a second time —
 * and acknowledges (XACK) after the emit. What a node was given and did not acknowledge (it died
 * between the emit and the XACK) stays pending in its group and is read again at its next start:
 * at-least-once per node. A node stopped for a while reads at its next start what was appended
 * meanwhile, as far as the stream's bound reaches back.
 */
export function createEventRelay(deps: EventRelayDeps, options: EventRelayOptions) {
  const { counters, log } = deps;
  const key = `${deps.redis.keyPrefix}events`;
  /** When each node's reader last read (a hash: group → epoch ms), for relay-groups.ts. */
  const readersKey = `${deps.redis.keyPrefix}events:readers`;
  let lastBeat = 0;
  const group = options.node;
  const blockMs = options.blockMs ?? 5000;
  const dedupeWindow = options.dedupeWindow ?? 10_000;
  /** The events of the other nodes, as they arrive. */
  const remote = createInProcessBus<PlatformEvents>(log);
  /** Event ids re-emitted or skipped lately (insertion order: the oldest are forgotten first). */
  const seen = new Set<string>();
  let reader: Redis | undefined;
  let offs: (() => void)[] = [];
  let loop: Promise<void> | undefined;
  let stopped = true;
  /** The stream id of the last entry given to this node (its group's position at start, then each read): where its group starts again if it is lost. */
  let lastRead: string | undefined;
  /** Appends in flight (stop waits for them). */
  const appending = new Set<Promise<unknown>>();

  function remember(id: string): boolean {
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > dedupeWindow) seen.delete(seen.values().next().value!);
    return true;
  }

  function append(event: RelayedEvent, payload: unknown): void {
    const id = randomUUID();
    const p = deps.redis.client
      .xadd(
        key,
        'MAXLEN',
        '~',
        String(options.maxLength),
        '*',
        'id',
        id,
        'origin',
        options.node,
        'event',
        event,
        'payload',
        JSON.stringify(payload),
      )
      .then(
        () => counters.inc('cluster.events_relayed', event),
        (err: unknown) => {
          // Redis unreachable beyond ioredis' retries: the other nodes never hear of this one
          counters.inc('cluster.events_relay_failed', event);
          log.warn({ err, event }, 'event not relayed to the other nodes');
        },
      );
    appending.add(p);
    void p.finally(() => appending.delete(p));
  }

  function deliver(entries: Entry[]): string[] {
    const done: string[] = [];
    for (const [streamId, list] of entries) {
      done.push(streamId);
      // an entry trimmed away while pending comes back without fields
      if (!list) continue;
      const f = fieldsOf(list);
      if (f.origin === options.node || !f.id || !f.event || f.payload === undefined) continue;
      if (!remember(f.id)) {
        counters.inc('cluster.events_duplicate');
        continue;
      }
      let payload: unknown;
      try {
        payload = JSON.parse(f.payload);
      } catch (err) {
        log.warn({ err, event: f.event, streamId }, 'relayed event unreadable; skipped');
        continue;
      }
      counters.inc('cluster.events_received', f.event);
      remote.emit(f.event as RelayedEvent, payload as never);
    }
    return done;
  }

  async function read(r: Redis, from: '0' | '>'): Promise<number> {
    const res = (await (from === '0'
      ? r.xreadgroup('GROUP', group, options.node, 'COUNT', 100, 'STREAMS', key, '0')
      : r.xreadgroup('GROUP', group, options.node, 'COUNT', 100, 'BLOCK', blockMs, 'STREAMS', key, '>'))) as
      [string, Entry[]][] | null;
    const entries = res?.[0]?.[1] ?? [];
    if (!entries.length) return 0;
    const done = deliver(entries);
    lastRead = entries[entries.length - 1]![0];
    await r.xack(key, group, ...done);
    return entries.length;
  }

  /**
   * Notes that this node reads (at most once a second): XINFO CONSUMERS' `idle` does not tell (Redis
   * before 7.2 counts it from the last read that returned entries, i.e. a quiet stream looks idle).
   */
  function beat(): void {
    const at = Date.now();
    if (at - lastBeat < 1000) return;
    lastBeat = at;
    deps.redis.client
      .hset(readersKey, group, String(at))
      .catch((err: unknown) => log.debug({ err }, 'could not note this node’s relay read'));
  }

  /** Where this node's group stands (the last entry given to it), by Redis' own ids. */
  async function position(r: Redis): Promise<string | undefined> {
    const groups = (await r.xinfo('GROUPS', key)) as unknown[][];
    for (const g of groups) {
      const f = fieldsOf(g.map(String));
      if (f.name === group) return f['last-delivered-id'];
    }
    return undefined;
  }

  async function ensureGroup(r: Redis): Promise<void> {
    try {
      // a node's first start: from now on; a restart keeps its group's position and pending entries;
      // a group lost meanwhile (Redis restarted empty, the group expired: relay-groups.ts) starts after
      // the last entry read, so what other nodes appended before it is made again is not skipped
      await r.xgroup('CREATE', key, group, lastRead ?? '$', 'MKSTREAM');
    } catch (err) {
      if (!isBusyGroup(err)) throw err;
    }
  }

  async function run(r: Redis): Promise<void> {
    let pendingFirst = true;
    while (!stopped) {
      try {
        if (pendingFirst) {
          // what this node was given and did not acknowledge (it stopped between emit and XACK)
          while (!stopped && (await read(r, '0')) > 0);
          pendingFirst = false;
        }
        await read(r, '>');
        beat();
      } catch (err) {
        if (stopped) return;
        // NOGROUP: the stream or the group was deleted (a flushed Redis, an expired group): make it again
        if (err instanceof Error && err.message.startsWith('NOGROUP')) {
          log.warn({ group, after: lastRead ?? '$' }, 'relay consumer group lost; making it again');
          counters.inc('cluster.events_group_recreated');
          // made again: straight back to reading (the other nodes go on appending meanwhile)
          const made = await ensureGroup(r).then(
            () => true,
            () => false,
          );
          if (made) continue;
        } else log.warn({ err }, 'reading relayed events failed; retrying');
        pendingFirst = true;
        await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    }
  }

  return {
    /** The other nodes' events (never this node's own): listen here, emit nothing. */
    remote: remote as Pick<EventBus<PlatformEvents>, 'on' | 'listenerCount'>,
    key,
    /** When each node last read: a hash, group → epoch milliseconds. */
    readersKey,
    /** This node's consumer group (and consumer) name. */
    group,
    async start(): Promise<void> {
      if (!stopped) return;
      stopped = false;
      reader = deps.redis.duplicate('event-relay');
      await ensureGroup(deps.redis.client);
      lastRead = await position(deps.redis.client);
      offs = RELAYED_EVENTS.map((event) => deps.bus.on(event, (payload) => append(event, payload)));
      loop = run(reader);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      for (const off of offs) off();
      offs = [];
      // Redis away: the appends wait in ioredis' offline queue and fail when the connection closes
      // (counted, logged); a stop does not wait for Redis
      if (deps.redis.client.status === 'ready') await Promise.allSettled([...appending]);
      // cuts the blocking read; what was emitted was acknowledged, what was read and not emitted stays pending
      const up = reader?.status === 'ready';
      reader?.disconnect();
      // Redis away: the read waits in the offline queue of a connection that no longer reconnects;
      // the loop ends with it (stopped), nothing to wait for
      if (up) await loop;
      loop = undefined;
    },
  };
}

export type EventRelay = ReturnType<typeof createEventRelay>;
