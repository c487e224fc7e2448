import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters, type Counters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { createEventRelay, type EventRelay } from '../../cluster/event-relay.ts';
import { createRedisConnections, type RedisConnections } from '../../cluster/redis.ts';
import { createRelayGroupExpiry } from '../../cluster/relay-groups.ts';
import { CLUSTER_TESTS, deleteRedisPrefix, TEST_REDIS_URL } from '../helpers/cluster.ts';
import { until } from '../reliability/kill-loop.ts';

const log = silentLogger();

/**
 * The event relay's consumer groups on the machine's Redis (a key prefix of the test's own): the
 * leader removes those of nodes gone for longer than CLUSTER_GROUP_EXPIRY_MS and keeps the live
 * ones; a node whose group was lost makes it again from the last entry it read.
 */
describe.skipIf(!CLUSTER_TESTS)('the relay’s consumer groups', () => {
  let prefix: string;
  let raw: Redis;
  const connections: RedisConnections[] = [];
  const relays: EventRelay[] = [];

  const startRelay = async (node: string, counters: Counters = createCounters()) => {
    const redis = createRedisConnections({ log }, { url: TEST_REDIS_URL, keyPrefix: prefix, node });
    connections.push(redis);
    const relay = createEventRelay(
      { bus: createInProcessBus<PlatformEvents>(log), redis, counters, log },
      { node, maxLength: 1000, blockMs: 200 },
    );
    relays.push(relay);
    await relay.start();
    return { relay, redis, counters };
  };
  /** An event appended by another node, as its relay would. */
  const appendFrom = (origin: string, ticketId: number) =>
    raw.xadd(
      `${prefix}events`,
      '*',
      'id',
      randomBytes(8).toString('hex'),
      'origin',
      origin,
      'event',
      'ticket.opened',
      'payload',
      JSON.stringify({ ticket: { id: ticketId } }),
    );

  beforeEach(() => {
    prefix = `pwt:${randomBytes(4).toString('hex')}:`;
    raw = new Redis(TEST_REDIS_URL);
  });
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.stop();
    for (const c of connections.splice(0)) await c.close();
    raw.disconnect();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  });

  it('the leader removes the group of a node that stopped reading longer ago than the expiry, keeps the live ones', async () => {
    const live = await startRelay('node-live');
    const gone = await startRelay('node-gone');
    const key = live.relay.key;
    // both read (their consumers exist); then node-gone stops for good
    await appendFrom('node-x', 1);
    await until(
      () =>
        live.counters.get('cluster.events_received', 'ticket.opened') === 1 &&
        gone.counters.get('cluster.events_received', 'ticket.opened') === 1,
      5000,
      'both nodes reading',
    );
    await gone.relay.stop();
    // and a node of an older version that noted nothing: its consumers' idle time counts
    await raw.hdel(live.relay.readersKey, 'node-gone');
    // and a group some node made a minute ago and never read in (no consumer)
    await raw.xgroup('CREATE', key, 'node-never', `${Date.now() - 60_000}-0`);

    const counters = createCounters();
    let leader = false;
    const expiry = createRelayGroupExpiry(
      { redis: raw, counters, log, gate: () => leader },
      { key, readersKey: live.relay.readersKey, ownGroup: 'node-live', expiryMs: 3000 },
    );
    const names = async () => (await expiry.groups()).map((g) => g.name).sort();
    expect(await names()).toEqual(['node-gone', 'node-live', 'node-never']);
    // not the leader: nothing removed, however idle
    await until(
      async () => ((await expiry.groups()).find((g) => g.name === 'node-gone')?.idleMs ?? 0) > 3000,
      10_000,
      'node-gone idle past the expiry',
    );
    expect(await expiry.run()).toEqual([]);
    expect(await names()).toEqual(['node-gone', 'node-live', 'node-never']);

    leader = true;
    expect((await expiry.run()).sort()).toEqual(['node-gone', 'node-never']);
    expect(await names()).toEqual(['node-live']);
    expect(counters.get('cluster.events_groups_expired', 'node-gone')).toBe(1);
    expect(counters.get('cluster.events_groups_expired', 'node-never')).toBe(1);
    // the live node reads on every 200 ms (its blocking read): never idle past the expiry
    expect((await expiry.groups())[0]!.idleMs).toBeLessThan(3000);
    expect(await raw.hkeys(live.relay.readersKey)).toEqual(['node-live']);
    await appendFrom('node-x', 2);
    await until(() => live.counters.get('cluster.events_received', 'ticket.opened') === 2, 5000, 'node-live reading');

    // an own group is never removed, even by a leader that stopped reading
    const own = createRelayGroupExpiry(
      { redis: raw, counters, log, gate: () => true },
      { key, readersKey: live.relay.readersKey, ownGroup: 'node-live', expiryMs: 60_000 },
    );
    expect(await own.run()).toEqual([]);
  });

  it('a node whose group was lost (Redis restarted empty) makes it again from the last entry it read: nothing appended meanwhile is skipped', async () => {
    const node = await startRelay('node-a');
    const got: number[] = [];
    node.relay.remote.on('ticket.opened', (e) => void got.push(e.ticket.id));
    await appendFrom('node-b', 1);
    await until(() => got.length === 1, 5000, 'the first event');
    // the stream goes with its groups (Redis restarted empty) and node-b appends before node-a notices
    await raw.del(node.relay.key);
    await appendFrom('node-b', 2);
    await appendFrom('node-b', 3);
    await until(() => got.length === 3, 10_000, 'the events appended while the group was gone');
    expect(got).toEqual([1, 2, 3]);
    expect(node.counters.get('cluster.events_group_recreated')).toBeGreaterThanOrEqual(1);
  });
});
