import type { MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { FleetUpdate, LiveAlarm, LiveFrame, LiveTicket } from '../../web/live/events.ts';
import { CLUSTER_TESTS, startTestCluster, TEST_REDIS_URL, type TestCluster } from '../helpers/cluster.ts';
import { askVehicle, openConsole, type LiveClient, type LiveRecorder } from '../helpers/live-client.ts';
import { frame, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, RULES, TEST_COST } from '../web/helpers.ts';
import { fleetEntries } from '../../web/live/fleet-wire.ts';

/**
 * Live data and events across nodes (docs/architecture.md, "Live data and events across nodes"):
 * consoles on node 0, vehicles on node 1.
 */
describe.skipIf(!CLUSTER_TESTS)('live data and events across nodes', () => {
  let cluster: TestCluster;
  let gateway: MqttClient;
  let seq = 1;
  const opened: LiveClient[] = [];
  const base = (n: TestPlatform) => `http://127.0.0.1:${n.platform.ports.http}`;
  const consoleOn = async (n: TestPlatform, user: string) => {
    const c = await openConsole(base(n), user, PASSWORD, { opened });
    return c.rec;
  };
  const openTicket = (n: TestPlatform, vehicleId: string, customerId: string): Promise<Ticket> =>
    n.platform.tickets.open(
      {
        source: 'rule',
        vehicleId,
        customerId,
        level: 'extra_urgent',
        title: `${vehicleId}: fault GEN-START-FAIL`,
        need: 'GEN-START-FAIL detected automatically',
        faultCode: 'GEN-START-FAIL',
      },
      'system',
    );
  const ticketsOpened = (rec: LiveRecorder, id: number) =>
    rec.got.filter((g) => g.event === 'ticket' && (g.payload as LiveTicket).ticket.id === id).length;

  beforeAll(async () => {
    cluster = await startTestCluster(2, { LIVE_FLEET_INTERVAL_MS: '100', CLUSTER_WATCH_REFRESH_MS: '500' });
    const p = cluster.node(0).platform;
    await p.customers.add({ id: 'CA', name: 'Unit A' });
    await p.customers.add({ id: 'CB', name: 'Unit B' });
    const accounts = createAccounts({ db: p.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['engineer', 'engineer', null],
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
    ] as const)
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    const { secret } = await cluster.node(0).addVehicle('VA1', 'CA');
    await cluster.node(0).addVehicle('VB1', 'CB');
    // the vehicle is connected to node 1
    gateway = await cluster.node(1).connect('VA1', secret);
  });

  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await cluster?.close();
  });

  async function publish(): Promise<number> {
    const s = seq++;
    await gateway.publishAsync(vehicleTopic('VA1', 'telemetry'), JSON.stringify(frame(s, Date.now())), { qos: 1 });
    return s;
  }

  it('a console on node 0 receives live the frames and fleet changes of a vehicle connected to node 1', async () => {
    const staff = await consoleOn(cluster.node(0), 'engineer');
    const custA = await consoleOn(cluster.node(0), 'cust-a');
    const custB = await consoleOn(cluster.node(0), 'cust-b');
    const sStaff = opened[opened.length - 3]!;
    const sA = opened[opened.length - 2]!;
    expect(await askVehicle(sStaff, 'subscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    expect(await askVehicle(sA, 'subscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    // node 1 learns that node 0 watches VA1 and has consoles (announced on Redis pub/sub)
    const feed1 = cluster.node(1).platform.liveFeed!;
    await vi.waitFor(() => expect(feed1.state().theirs).toEqual(expect.arrayContaining(['v:VA1', 'fleet'])), {
      timeout: 5000,
      interval: 20,
    });

    const last = await publish();
    await staff.next<LiveFrame>('frame', (m) => m.vehicleId === 'VA1' && m.frame.seq === last);
    await custA.next<LiveFrame>('frame', (m) => m.vehicleId === 'VA1' && m.frame.seq === last);
    await staff.next<FleetUpdate>('fleet', (m) =>
      fleetEntries(m).some((v) => v.id === 'VA1' && v.latest?.ts !== undefined),
    );
    await custA.next<FleetUpdate>('fleet', (m) =>
      fleetEntries(m).some((v) => v.id === 'VA1' && v.latest !== undefined),
    );
    // the other unit's customer: nothing of VA1 (its fleet batches go to unit A's room only)
    expect(JSON.stringify(custB.got.map((g) => g.payload))).not.toContain('VA1');

    // nobody on node 0 watches any more: node 1 stops sending VA1's frames to Redis
    expect(await askVehicle(sStaff, 'unsubscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    expect(await askVehicle(sA, 'unsubscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
    await vi.waitFor(() => expect(feed1.state().theirs).not.toContain('v:VA1'), { timeout: 5000, interval: 20 });
    const published = cluster.node(1).platform.counters.get('cluster.live_frames_published');
    await publish();
    await custA.next<FleetUpdate>('fleet', (m) =>
      fleetEntries(m).some((v) => v.id === 'VA1' && v.latest?.ts !== undefined),
    );
    expect(cluster.node(1).platform.counters.get('cluster.live_frames_published')).toBe(published);
  });

  it('a ticket and an alarm on node 1 reach the consoles of node 0 once, the other unit’s customer never', async () => {
    const staff0 = await consoleOn(cluster.node(0), 'engineer');
    const staff1 = await consoleOn(cluster.node(1), 'engineer');
    const custA = await consoleOn(cluster.node(0), 'cust-a');
    const custB = await consoleOn(cluster.node(0), 'cust-b');
    const n1 = cluster.node(1).platform;

    const ticketA = await openTicket(cluster.node(1), 'VA1', 'CA');
    const rule = RULES.rules.find((r) => r.id === 'mains_lost')!;
    const alarmA = (await n1.diagnostics.alarms.raise('VA1', rule, Date.now(), true, null)).alarm;
    n1.bus.emit('alarm.raised', { alarm: alarmA });
    for (const c of [staff0, custA]) {
      await c.next<LiveTicket>('ticket', (m) => m.kind === 'opened' && m.ticket.id === ticketA.id);
      await c.next<LiveAlarm>('alarm', (m) => m.kind === 'raised' && m.alarm.id === alarmA.id);
    }
    await staff1.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketA.id);

    // then unit B's ticket: once unit B's customer has it, unit A's (relayed before it) would have come
    const ticketB = await openTicket(cluster.node(1), 'VB1', 'CB');
    await custB.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketB.id);
    await staff0.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketB.id);
    await staff1.next<LiveTicket>('ticket', (m) => m.ticket.id === ticketB.id);
    const toB = JSON.stringify(custB.got.map((g) => g.payload));
    expect(toB).not.toContain('VA1');
    expect(toB).not.toContain('"CA"');
    // each console got it once: node 1 does not hear its own events back, node 0 once from the stream
    expect(ticketsOpened(staff0, ticketA.id)).toBe(1);
    expect(ticketsOpened(staff1, ticketA.id)).toBe(1);
    expect(ticketsOpened(custA, ticketA.id)).toBe(1);
  });

  it('an event appended twice (a repeated XADD) reaches a console once', async () => {
    const staff = await consoleOn(cluster.node(0), 'engineer');
    const ticket = await cluster.node(1).platform.tickets.get(1);
    expect(ticket).toBeDefined();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const fields = ['id', 'dup-1', 'origin', 'node-x', 'event', 'ticket.updated'];
      const payload = JSON.stringify({ ticket, action: 'note' });
      await redis.xadd(`${cluster.redisPrefix}events`, '*', ...fields, 'payload', payload);
      await redis.xadd(`${cluster.redisPrefix}events`, '*', ...fields, 'payload', payload);
    } finally {
      redis.disconnect();
    }
    const marker = await openTicket(cluster.node(1), 'VA1', 'CA');
    await staff.next<LiveTicket>('ticket', (m) => m.ticket.id === marker.id);
    const updates = staff.got.filter((g) => g.event === 'ticket' && (g.payload as LiveTicket).kind === 'updated');
    expect(updates).toHaveLength(1);
    expect(cluster.node(0).platform.counters.get('cluster.events_duplicate')).toBeGreaterThanOrEqual(1);
  });

  it('a command published on node 0 and settled on node 1 (the vehicle’s) answers the waiter on node 0', async () => {
    const n0 = cluster.node(0).platform;
    const n1 = cluster.node(1).platform;
    const sending = n0.commands.send({
      vehicleId: 'VA1',
      id: 'x-node-1',
      name: 'snapshot',
      args: {},
      actor: 'engineer',
    });
    // the vehicle's answer arrives at node 1 (where it is connected), once the command is recorded
    const id = 'x-node-1';
    await vi.waitFor(async () => expect((await n0.commands.get(id))?.state).toBe('sent'), {
      timeout: 5000,
      interval: 20,
    });
    n1.bus.emit('command.ack', { vehicleId: 'VA1', receivedAt: Date.now(), ack: { id, ts: Date.now(), ok: true } });
    const settled = await sending;
    expect(settled).toMatchObject({ id, state: 'done' });
  });

  it('a node stopped while events were relayed reads them at its restart (pending first, then the rest), once', async () => {
    await cluster.stopNode(0);
    const during = [await openTicket(cluster.node(1), 'VA1', 'CA'), await openTicket(cluster.node(1), 'VA1', 'CA')];
    const key = `${cluster.redisPrefix}events`;
    // node 0 "died" after reading the first of them and before acknowledging it: pending in its group
    const raw = new Redis(TEST_REDIS_URL);
    try {
      await vi.waitFor(async () => expect(await raw.xlen(key)).toBeGreaterThanOrEqual(during.length), {
        timeout: 5000,
        interval: 20,
      });
      const read = (await raw.xreadgroup('GROUP', 'node-0', 'node-0', 'COUNT', 1, 'STREAMS', key, '>')) as [
        string,
        unknown[],
      ][];
      expect(read[0]![1]).toHaveLength(1);
      expect(((await raw.xpending(key, 'node-0')) as [number])[0]).toBe(1);
    } finally {
      raw.disconnect();
    }
    const i = await cluster.addNode({ NODE_ID: 'node-0' });
    const n0 = cluster.node(i).platform;
    await vi.waitFor(() => expect(n0.counters.get('cluster.events_received', 'ticket.opened')).toBe(during.length), {
      timeout: 5000,
      interval: 20,
    });
    // nothing left pending in node-0's group
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const pending = (await redis.xpending(key, 'node-0')) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
