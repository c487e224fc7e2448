import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLeaderLease, FENCE_LOCK_KEY, type LeaderLease, type Leadership } from '../../cluster/leader.ts';
import { silentLogger } from '../../core/logger.ts';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { WEBHOOK_HEADERS } from '../../notifications/webhook-signature.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';
import type { Platform } from '../../platform/platform.ts';
import { CLUSTER_TESTS, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { withTimeout } from '../helpers/platform.ts';
import type { RecordsDb } from '../../records/db.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/records.ts';
import { startReceiver } from '../notifications/receivers.ts';

const RETRY_MS = 500;
const TIMERS = { LEADER_RETRY_MS: String(RETRY_MS), LEADER_POLL_MS: '100', NOTIFY_POLL_MS: '100' };
const MINUTE = 60_000;

const hotline = {
  source: 'hotline' as const,
  customerId: 'C1',
  level: 'urgent' as const,
  title: 'No power in shelter',
  need: 'Shelter dark since 08:00',
  contacts: [{ name: 'Zhang', phone: '0730-0000000' }],
};

/** Resolves when `leadership` reports `state` (at once when it already is). */
function becomes(leadership: Leadership, state: boolean, ms: number, what: string): Promise<void> {
  if (leadership.isLeader() === state) return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => {
      const off = leadership.onChange((now) => {
        if (now !== state) return;
        off();
        resolve();
      });
    }),
    ms,
    what,
  );
}

/** Every `ticket.deadline_breached` of every node's bus (each node's bus is its own). */
function breaches(platforms: Platform[]) {
  const seen: { node: number; ticketId: number; deadline: string }[] = [];
  const waiting: (() => void)[] = [];
  platforms.forEach((p, node) =>
    p.bus.on('ticket.deadline_breached', (e) => {
      seen.push({ node, ticketId: e.ticket.id, deadline: e.deadline });
      waiting.splice(0).forEach((w) => w());
    }),
  );
  return {
    seen,
    async forTicket(id: number, what: string) {
      await withTimeout(
        (async () => {
          while (!seen.some((s) => s.ticketId === id)) await new Promise<void>((r) => waiting.push(r));
        })(),
        10_000,
        what,
      );
    },
  };
}

/** The breach events of an urgent ticket breached once, by `node`. */
const once = (node: number, ticketId: number) => [
  { node, ticketId, deadline: 'work_content' },
  { node, ticketId, deadline: 'plan' },
];

async function timelineOf(p: Platform, ticketId: number, action: string): Promise<number> {
  const rows = await p.records
    .selectFrom('ticket_timeline')
    .select('id')
    .where('ticket_id', '=', ticketId)
    .where('action', '=', action)
    .execute();
  return rows.length;
}

describe.skipIf(!CLUSTER_TESTS)('timers that fire once across the cluster (leader lease)', () => {
  let cluster: TestCluster | undefined;
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A clock every node shares, moved forward by the test (the deadlines are 30 minutes). */
  function sharedClock() {
    let skew = 0;
    return { now: () => Date.now() + skew, advance: (ms: number) => (skew += ms) };
  }

  it('a ticket deadline due while two nodes run breaches exactly once, on the leader', async () => {
    const clock = sharedClock();
    cluster = await startTestCluster(2, TIMERS, { now: clock.now });
    const [a, b] = [cluster.node(0).platform, cluster.node(1).platform];
    // the first node took the lock at its start; the second asks in vain
    expect([a.leader.isLeader(), b.leader.isLeader()]).toEqual([true, false]);
    await a.customers.add({ id: 'C1', name: 'Unit 1' });
    const seen = breaches([a, b]);

    // opened on the follower: the leader learns of the deadline from the database, not from a timer of its own
    const t = await b.tickets.open(hotline, 'desk');
    clock.advance(31 * MINUTE);
    await seen.forTicket(t.id, 'the deadline breach');

    // an urgent ticket has two deadlines (work content and the support plan): each breaches once, on the leader
    expect(seen.seen).toEqual(once(0, t.id));
    expect(await timelineOf(a, t.id, 'deadline_breached')).toBe(2);
    expect(await timelineOf(a, t.id, 'escalated')).toBe(1);
    const after = await b.tickets.get(t.id);
    expect(after.breaches).toEqual(['work_content', 'plan']);
  });

  it('the leader dies → another node leads within the retry interval, and a deadline due after that breaches once', async () => {
    const clock = sharedClock();
    cluster = await startTestCluster(3, TIMERS, { now: clock.now });
    const ps = [0, 1, 2].map((i) => cluster!.node(i).platform);
    await ps[0]!.customers.add({ id: 'C1', name: 'Unit 1' });
    const seen = breaches(ps);
    expect(ps.map((p) => p.leader.isLeader())).toEqual([true, false, false]);

    // "kill -9" as PostgreSQL sees it: the leader's session is gone (the lock with it)
    const lease = ps[0]!.leader as LeaderLease;
    const pid = lease.backendPid()!;
    const lost = becomes(lease, false, 5000, 'the old leader noticing');
    const taken = Promise.race(
      [1, 2].map((i) => becomes(ps[i]!.leader, true, RETRY_MS * 4, `node ${i} taking over`).then(() => i)),
    );
    await terminate(cluster.databaseUrl, pid);
    await lost;
    const next = await taken;
    // and the old leader, still running, does not take it back
    expect(ps.map((p) => p.leader.isLeader())).toEqual([0, 1, 2].map((i) => i === next));

    const t = await ps[0]!.tickets.open(hotline, 'desk');
    clock.advance(31 * MINUTE);
    await seen.forTicket(t.id, 'the deadline breach after the failover');
    expect(seen.seen).toEqual(once(next, t.id));
    expect(await timelineOf(ps[0]!, t.id, 'deadline_breached')).toBe(2);

    // the new leader stops gracefully: one of the others (the old one is back in the race) takes over
    const others = [0, 1, 2].filter((i) => i !== next);
    const again = Promise.race(
      others.map((i) => becomes(ps[i]!.leader, true, RETRY_MS * 4, `node ${i} taking over`).then(() => i)),
    );
    await cluster.stopNode(next);
    const third = await again;
    const t2 = await ps[third]!.tickets.open(hotline, 'desk');
    clock.advance(31 * MINUTE);
    await seen.forTicket(t2.id, 'the deadline breach after the second failover');
    expect(seen.seen.filter((s) => s.ticketId === t2.id)).toEqual(once(third, t2.id));
  });

  it('a session ring step nobody answers moves on once, on the leader, though the session was requested on a follower', async () => {
    const clock = sharedClock();
    const RING_MS = 1000;
    cluster = await startTestCluster(2, { ...TIMERS, SESSION_RING_MS: String(RING_MS), DUTY_LEAD: 'lead-1' }, clock);
    const ps = [cluster.node(0).platform, cluster.node(1).platform];
    const b = ps[1]!;
    await b.customers.add({ id: 'CA', name: 'Unit A' });
    await b.vehicles.add({ id: 'VA1', customerId: 'CA' });
    const accounts = createAccounts({ db: b.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'lead-1', name: 'lead', role: 'dispatcher', password: PASSWORD });
    await accounts.add({ id: 'cust-a', name: 'crew a', role: 'customer', customerId: 'CA', password: PASSWORD });
    const rings: { node: number; step: string }[] = [];
    const waiting: (() => void)[] = [];
    ps.forEach((p, node) =>
      p.bus.on('remote.ringing', (e) => {
        rings.push({ node, step: e.step });
        waiting.splice(0).forEach((w) => w());
      }),
    );

    // no shift on the roster: the request rings the duty lead at once, on the node asked
    const { session } = await b.remote.request(
      { id: 'cust-a', role: 'customer', customerId: 'CA' },
      { vehicleId: 'VA1', description: 'generator will not start' },
    );
    expect(rings).toEqual([{ node: 1, step: 'duty_lead' }]);
    // nobody answers within SESSION_RING_MS: the next ring (the duty lead again) by the leader's timer
    clock.advance(RING_MS + 1);
    await withTimeout(
      (async () => {
        while (rings.length < 2) await new Promise<void>((r) => waiting.push(r));
      })(),
      10_000,
      'the second ring',
    );
    expect(rings).toEqual([
      { node: 1, step: 'duty_lead' },
      { node: 0, step: 'duty_lead' },
    ]);
    const entries = await b.records
      .selectFrom('remote_session_timeline')
      .select('kind')
      .where('session_id', '=', session.id)
      .where('kind', '=', 'ring')
      .execute();
    expect(entries).toHaveLength(2);
  });

  it('delivers each outbox row once although every node runs a dispatcher', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-timers-once-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanup.push(() => receiver.close());
    writeFileSync(join(dir, 'hook-secret'), 'cluster-hook-secret-4455\n');
    const channels = join(dir, 'channels.yaml');
    writeFileSync(
      channels,
      `webhooks:\n  - id: ops-hook\n    url: ${receiver.url}/hook\n    secretFile: ${join(dir, 'hook-secret')}\n`,
    );
    cluster = await startTestCluster(2, { ...TIMERS, NOTIFY_CHANNELS_FILE: channels });
    const ps = [cluster.node(0).platform, cluster.node(1).platform];
    const delivered: number[] = [];
    const all = new Promise<void>((resolve) =>
      ps.forEach((p, node) =>
        p.bus.on('notification.delivered', () => {
          delivered.push(node);
          if (delivered.length === 6) resolve();
        }),
      ),
    );
    const row = (i: number): NewNotification => ({
      key: `once-${i}`,
      channel: 'webhook',
      target: 'ops-hook',
      accountId: null,
      kind: 'ticket.opened',
      language: 'en',
      urgent: true,
      ticketId: null,
      subject: `Row ${i}`,
      text: `Row ${i}`,
    });
    // written on both nodes, each node's own dispatcher woken at once
    for (const [n, p] of ps.entries()) {
      await enqueue(
        p.records,
        [0, 1, 2].map((i) => row(n * 3 + i)),
        Date.now(),
      );
      p.bus.emit('notification.enqueued', { count: 3 });
    }
    await withTimeout(all, 10_000, 'six deliveries');
    await Promise.all(ps.map((p) => p.notifications.dispatcher.drain()));

    expect(delivered).toEqual([0, 0, 0, 0, 0, 0]);
    expect(receiver.received).toHaveLength(6);
    const keys = receiver.received.map((r) => r.headers[WEBHOOK_HEADERS.id]);
    expect(new Set(keys).size).toBe(6);
    const rows = await ps[0]!.records.selectFrom('notifications').select(['status', 'tries']).execute();
    expect(rows.map((r) => `${r.status}/${r.tries}`)).toEqual(Array(6).fill('delivered/1'));
  });

  it('exposes the leader in /healthz and as powerwatch_leader{node} in /metrics', async () => {
    cluster = await startTestCluster(2, { LEADER_RETRY_MS: '2000', METRICS_TOKEN: 'metrics-token-for-tests-1234' });
    for (const i of [0, 1]) {
      const base = `http://127.0.0.1:${cluster.node(i).platform.ports.http}`;
      const health = (await (await fetch(`${base}/healthz`)).json()) as { leader: boolean };
      expect(health.leader).toBe(i === 0);
      const text = await (
        await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer metrics-token-for-tests-1234' } })
      ).text();
      expect(text).toContain(`powerwatch_leader{node="node-${i}"} ${i === 0 ? 1 : 0}`);
    }
  });
});

async function terminate(url: string, pid: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await c.end();
  }
}

describe.skipIf(!CLUSTER_TESTS)('the leader lease (cluster/leader.ts)', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function twoLeases() {
    const url = await createTestDatabase({ empty: true });
    cleanup.push(() => dropTestDatabase(url));
    const leases = ['n1', 'n2'].map((node) =>
      createLeaderLease({ log: silentLogger() }, { url, node, retryMs: RETRY_MS }),
    );
    for (const l of leases) {
      cleanup.push(() => l.stop());
      await l.start();
    }
    return { url, leases };
  }

  it('two leases on one database: exactly one leader; stopping it hands the lock over', async () => {
    const { leases } = await twoLeases();
    expect(leases.map((l) => l.isLeader())).toEqual([true, false]);
    const taken = becomes(leases[1]!, true, RETRY_MS * 4, 'the second lease taking over');
    await leases[0]!.stop();
    await taken;
    expect(leases.map((l) => l.isLeader())).toEqual([false, true]);
  });

  it("the leader's dedicated connection killed (pg_terminate_backend): it stops leading, the other takes over", async () => {
    const { url, leases } = await twoLeases();
    const [first, second] = leases as [LeaderLease, LeaderLease];
    const lost = becomes(first, false, 5000, 'the first lease noticing');
    const taken = becomes(second, true, RETRY_MS * 4, 'the second lease taking over');
    await terminate(url, first.backendPid()!);
    await lost;
    await taken;
    // the first one keeps asking, in vain while the second holds it
    expect(leases.map((l) => l.isLeader())).toEqual([false, true]);
    const back = becomes(first, true, RETRY_MS * 4, 'the first lease back');
    await second.stop();
    await back;
  });

  it('the fence: only the leader passes it; a transaction after a takeover waits for the old leader’s to commit', async () => {
    const { url, leases } = await twoLeases();
    const [first, second] = leases as [LeaderLease, LeaderLease];
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    const db = new Kysely<never>({ dialect: new PostgresDialect({ pool }) }) as unknown as RecordsDb;
    cleanup.push(() => db.destroy());

    expect(await db.transaction().execute((tx) => second.fence(tx))).toBe(false);
    // the old leader is inside a once-job's transaction, fenced, when its lease connection dies
    const old = await db.startTransaction().execute();
    expect(await first.fence(old)).toBe(true);
    const taken = becomes(second, true, RETRY_MS * 4, 'the second lease taking over');
    await terminate(url, first.backendPid()!);
    await taken;
    // the new leader's fence waits for the old transaction to end, then passes
    const order: string[] = [];
    const next = db
      .transaction()
      .execute((tx) => second.fence(tx))
      .then((passed) => order.push(`new leader fenced: ${passed}`));
    // the new leader's fence is blocked on the fence lock (PostgreSQL shows it waiting) until the commit
    await withTimeout(
      (async () => {
        for (;;) {
          const r = await pool.query(
            "select 1 from pg_locks where locktype = 'advisory' and objid = $1::int4::oid and not granted",
            [FENCE_LOCK_KEY],
          );
          if (r.rowCount) return;
        }
      })(),
      5000,
      'the new leader waiting on the fence',
    );
    expect(order).toEqual([]);
    order.push('old committed');
    await old.commit().execute();
    await next;
    expect(order).toEqual(['old committed', 'new leader fenced: true']);
    expect(await db.transaction().execute((tx) => first.fence(tx))).toBe(false);
  });
});
