import { CompiledQuery, Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_DEADLINE, queueColumns, type QueuePosition } from '../../diagnostics/tickets/queue.ts';
import { queueQuery, type TicketQuery } from '../../diagnostics/tickets/records.ts';
import type { TicketLevel } from '../../diagnostics/tickets/status.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { migrationProvider } from '../../records/migrations.ts';
import type { Alarm } from '../../diagnostics/types.ts';
import { codeOf, RULES, startWeb, type Agent, type TestWeb } from './helpers.ts';

type Page = { tickets: (Ticket & { nextDueAt: number | null })[]; nextCursor: string | null };

/** Every page of a list, following nextCursor; `between` runs after each page. */
async function allPages(a: Agent, query: string, between?: () => Promise<void>): Promise<Page['tickets']> {
  const out: Page['tickets'] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const res = await a.get(`/api/tickets?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as Page;
    out.push(...page.tickets);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
    await between?.();
  }
  throw new Error('paging did not end');
}

/** The queue order the console relies on: next deadline (none last), first deadline, id. */
const queueOrder = (a: Page['tickets'][number], b: Page['tickets'][number]) =>
  (a.nextDueAt ?? Infinity) - (b.nextDueAt ?? Infinity) || a.workContentDueAt - b.workContentDueAt || a.id - b.id;

describe('the ticket list pages in the database (keyset)', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
  });
  afterEach(async () => w.close());

  /** A mixed queue: levels, some with work content determined, some closed, some breached, over time. */
  async function mixedQueue(n: number): Promise<Ticket[]> {
    const levels: TicketLevel[] = ['extra_urgent', 'urgent', 'urgent'];
    const made: Ticket[] = [];
    for (let i = 0; i < n; i++) {
      const t = await w.ticket(i % 2 ? 'VA1' : 'VB1', levels[i % 3]);
      if (i % 4 === 1) await w.tickets.transition(t.id, 'determine_work_content', 'dispatcher');
      // assigned while open: a closed ticket can no longer be assigned
      if (i % 7 === 3) await w.tickets.assign(t.id, 'engineer', 'dispatcher');
      if (i % 5 === 2) await w.tickets.transition(t.id, 'cancel', 'dispatcher');
      made.push(t);
      w.advance(i % 3 ? 60_000 : 0); // some share their deadlines: the id breaks the tie
    }
    return made;
  }

  it('pages follow the queue order, each ticket once, the same as one page', async () => {
    await mixedQueue(23);
    const one = (await dispatcher.get('/api/tickets?limit=1000')).json() as Page;
    expect(one.nextCursor).toBeNull();
    expect(one.tickets).toHaveLength(23);
    expect([...one.tickets].sort(queueOrder).map((t) => t.id)).toEqual(one.tickets.map((t) => t.id));
    // open tickets first (by next deadline), then the cancelled ones and those with no deadline left
    const firstDone = one.tickets.findIndex((t) => t.nextDueAt === null);
    expect(one.tickets.slice(firstDone).every((t) => t.nextDueAt === null)).toBe(true);
    for (const limit of [1, 2, 5, 22]) {
      const paged = await allPages(dispatcher, `limit=${limit}`);
      expect(paged.map((t) => t.id)).toEqual(one.tickets.map((t) => t.id));
    }
  });

  it('tickets opened while paging never appear twice and nothing is skipped', async () => {
    await mixedQueue(12);
    const before = ((await dispatcher.get('/api/tickets?limit=1000')).json() as Page).tickets.map((t) => t.id);
    let k = 0;
    const paged = await allPages(dispatcher, 'limit=3', async () => {
      // new tickets land anywhere in the order: earlier (the clock went back) or later deadlines
      w.advance(k++ % 2 ? -20 * 60_000 : 30 * 60_000);
      await w.ticket('VA1', 'urgent');
    });
    const ids = paged.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of before) expect(ids).toContain(id);
    expect([...paged].sort(queueOrder).map((t) => t.id)).toEqual(ids);
  });

  it('filters are the database’s and combine with paging', async () => {
    await mixedQueue(20);
    const all = ((await dispatcher.get('/api/tickets?limit=1000')).json() as Page).tickets;
    const cases: [string, (t: Page['tickets'][number]) => boolean][] = [
      ['open=true', (t) => t.status !== 'cancelled'],
      ['open=false', (t) => t.status === 'cancelled'],
      ['assignee=engineer', (t) => t.assignee === 'engineer'],
      ['level=urgent&open=true', (t) => t.level === 'urgent' && t.status !== 'cancelled'],
      ['status=work_content_determined', (t) => t.status === 'work_content_determined'],
      ['vehicleId=VA1', (t) => t.vehicleId === 'VA1'],
      ['customerId=CB&open=true', (t) => t.customerId === 'CB' && t.status !== 'cancelled'],
      ['breached=false', () => true],
      ['breached=true', () => false],
    ];
    for (const [q, keep] of cases) {
      const paged = await allPages(dispatcher, `${q}&limit=4`);
      expect(
        paged.map((t) => t.id),
        q,
      ).toEqual(all.filter(keep).map((t) => t.id));
    }
  });

  it('a missed deadline shows with breached=true (the breach recorded by the service)', async () => {
    const t = await w.ticket('VA1', 'urgent');
    await w.ticket('VA1', 'urgent');
    w.advance(31 * 60_000);
    await w.tickets.start(); // records the deadlines missed by now
    w.tickets.stop();
    const late = ((await dispatcher.get('/api/tickets?breached=true')).json() as Page).tickets;
    expect(late.map((x) => x.id)).toEqual([t.id, t.id + 1]);
    expect(late[0]!.breaches).toEqual(['work_content', 'plan']);
  });

  it('a cursor edited, made up, or used with other filters answers 400 INVALID_CURSOR', async () => {
    await mixedQueue(4);
    const first = (await dispatcher.get('/api/tickets?open=true&limit=1')).json() as Page;
    const cursor = first.nextCursor!;
    expect(cursor).toEqual(expect.any(String));
    expect((await dispatcher.get(`/api/tickets?open=true&limit=1&cursor=${cursor}`)).statusCode).toBe(200);
    const [payload, sig] = cursor.split('.') as [string, string];
    const position = JSON.parse(Buffer.from(payload, 'base64url').toString()) as unknown[];
    const moved = Buffer.from(JSON.stringify([position[0], 0, 0, 0])).toString('base64url');
    const bad: [string, string][] = [
      ['open=true', 'not-a-cursor'],
      ['open=true', ''],
      ['open=true', '%00'],
      ['open=true', 'x'.repeat(300)],
      ['open=true', `${moved}.${sig}`], // another position, same signature
      ['open=true', payload], // no signature
      ['open=true', `${payload}.${sig}x`],
      ['open=true', `${payload}.${sig}.${sig}`],
      ['open=true', Buffer.from('["q1",1,2,3]').toString('base64url') + '.AAAAAAAAAAAAAAAAAAAAAA'],
      ['open=false', cursor], // another list
      ['open=true&level=urgent', cursor],
      ['', cursor],
    ];
    for (const [q, c] of bad) {
      const res = await dispatcher.get(`/api/tickets?${q}&cursor=${encodeURIComponent(c)}`);
      expect(res.statusCode, `${q} ${c}`).toBe(400);
      expect(codeOf(res), `${q} ${c}`).toBe('INVALID_CURSOR');
    }
    // the page size may change between pages
    expect((await dispatcher.get(`/api/tickets?open=true&limit=50&cursor=${cursor}`)).statusCode).toBe(200);
  });

  it('a customer pages through its own unit’s tickets only, whatever the cursor or filters say', async () => {
    await mixedQueue(15);
    const custA = await w.login('cust-a');
    const own = await allPages(custA, 'limit=2');
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((t) => t.customerId === 'CA')).toBe(true);
    expect(own.map((t) => t.id)).toEqual(
      ((await dispatcher.get('/api/tickets?customerId=CA&limit=1000')).json() as Page).tickets.map((t) => t.id),
    );
    // a cursor taken from the staff's view of the other unit is not one of the customer's lists
    const staffB = (await dispatcher.get('/api/tickets?customerId=CB&limit=1')).json() as Page;
    const crossed = await custA.get(`/api/tickets?cursor=${encodeURIComponent(staffB.nextCursor!)}&limit=1000`);
    expect(codeOf(crossed)).toBe('INVALID_CURSOR');
    expect((await custA.get('/api/tickets?customerId=CB')).json()).toEqual({ tickets: [], nextCursor: null });
  });
});

describe('the alarm list pages in the database (keyset), newest first', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
  });
  afterEach(async () => w.close());

  type AlarmPage = { alarms: Alarm[]; nextCursor: string | null };
  async function allAlarms(a: Agent, query: string): Promise<Alarm[]> {
    const out: Alarm[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const res = await a.get(`/api/alarms?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as AlarmPage;
      out.push(...page.alarms);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('paging did not end');
  }

  it('pages equal one page; a customer pages through its own unit’s only; cursors are checked', async () => {
    const rules = RULES.rules.slice(0, 6).map((r) => r.id);
    for (const [i, rule] of rules.entries()) {
      await w.alarm('VA1', rule);
      await w.alarm('VB1', rule);
      w.advance(i % 2 ? 1000 : 0); // some raised at the same time: the id breaks the tie
    }
    const one = (await dispatcher.get('/api/alarms?limit=1000')).json() as AlarmPage;
    expect(one.alarms).toHaveLength(12);
    expect(one.nextCursor).toBeNull();
    for (const limit of [1, 5]) expect(await allAlarms(dispatcher, `limit=${limit}`)).toEqual(one.alarms);

    const custA = await w.login('cust-a');
    const own = await allAlarms(custA, 'limit=2');
    expect(own.map((a) => a.id)).toEqual(one.alarms.filter((a) => a.vehicleId === 'VA1').map((a) => a.id));

    const first = (await dispatcher.get('/api/alarms?limit=1')).json() as AlarmPage;
    await w.ticket('VA1');
    await w.ticket('VA1');
    const ticketCursor = ((await dispatcher.get('/api/tickets?limit=1')).json() as { nextCursor: string }).nextCursor;
    for (const [who, q] of [
      [dispatcher, `state=active&cursor=${first.nextCursor!}`], // other filters
      [custA, `cursor=${first.nextCursor!}`], // the staff's list, not the customer's
      [dispatcher, `cursor=${first.nextCursor!.slice(1)}`],
      [dispatcher, 'cursor=abc'],
      [dispatcher, `cursor=${ticketCursor}`], // another list's
    ] as const) {
      const res = await who.get(`/api/alarms?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(codeOf(res), q).toBe('INVALID_CURSOR');
    }
  });
});

describe('the list queries use their indexes', () => {
  let db: RecordsDb;
  beforeEach(async () => {
    db = await openTestRecords();
  });
  afterEach(async () => db.destroy());

  async function plan(q: TicketQuery & { after?: QueuePosition }): Promise<string> {
    const { sql, parameters } = queueQuery(db, q, q.after ?? null, 501).compile();
    const r = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${sql}`, [...parameters]),
    );
    return r.rows.map((x) => x.detail).join(' | ');
  }

  // SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner picks by table statistics, not checked here
  const sqliteOnly = it.skipIf(TEST_RECORDS_DIALECT !== 'sqlite');

  sqliteOnly('each list the console asks for is an index range in queue order, with no sort', async () => {
    const after = { dueAt: 1, workContentDueAt: 2, id: 3 };
    const cases: [TicketQuery & { after?: QueuePosition }, string][] = [
      [{}, 'tickets_queue'],
      [{ after }, 'tickets_queue'],
      [{ open: true }, 'tickets_open_queue'],
      [{ open: true, after, assignee: 'x', level: 'urgent' }, 'tickets_open_queue'],
      [{ open: true, breached: true }, 'tickets_open_queue'],
      [{ customerId: 'CA', open: true, after }, 'tickets_customer_queue'],
      [{ vehicleId: 'VA1', after }, 'tickets_vehicle_queue'],
    ];
    for (const [q, index] of cases) {
      const p = await plan(q);
      expect(p, JSON.stringify(q)).toContain(`USING INDEX ${index}`);
      expect(p, JSON.stringify(q)).not.toContain('TEMP B-TREE');
    }
  });

  sqliteOnly('the alarm list, newest first, walks its index backwards', async () => {
    const q = db.selectFrom('alarms').selectAll().orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(201);
    const { sql, parameters } = q
      .where(({ eb, refTuple, tuple }) => eb(refTuple('raised_at', 'id'), '<', tuple(5, 6)))
      .compile();
    const r = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${sql}`, [...parameters]),
    );
    const p = r.rows.map((x) => x.detail).join(' | ');
    expect(p).toContain('USING INDEX alarms_raised');
    expect(p).not.toContain('TEMP B-TREE');
  });

  it('the migration fills the queue columns of the tickets already there', async () => {
    const old = await openTestRecords();
    try {
      const migrator = new Migrator({ db: old, provider: migrationProvider(TEST_RECORDS_DIALECT) });
      expect((await migrator.migrateTo('0005_telemetry_confirmations')).error).toBeUndefined();
      const at = 1_800_000_000_000;
      const rows: [string, number | null, number | null, number | null][] = [
        // status, work content done, plan due, plan done
        ['received', null, null, null],
        ['received', null, at + 20, null],
        ['work_content_determined', at + 5, at + 30, null],
        ['plan_issued', at + 5, at + 30, at + 9],
        ['in_service', at + 5, null, null],
        ['closed', null, null, null],
        ['cancelled', null, at + 30, null],
      ];
      for (const [i, [status, wcDone, planDue, planDone]] of rows.entries()) {
        await sql`insert into tickets (number, source, level, status, title, need, contacts, received_at,
            work_content_due_at, work_content_done_at, plan_due_at, plan_done_at, updated_at)
          values (${`T${i}`}, 'hotline', 'urgent', ${status}, 't', 'n', '[]', ${at}, ${at + 30}, ${wcDone},
            ${planDue}, ${planDone}, ${at})`.execute(old);
      }
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const got = await old
        .selectFrom('tickets')
        .select([
          'status',
          'work_content_due_at',
          'work_content_done_at',
          'plan_due_at',
          'plan_done_at',
          'is_open',
          'queue_due_at',
        ])
        .orderBy('id')
        .execute();
      for (const r of got) {
        const expected = queueColumns({
          status: r.status as Ticket['status'],
          workContentDueAt: Number(r.work_content_due_at),
          workContentDoneAt: r.work_content_done_at === null ? null : Number(r.work_content_done_at),
          planDueAt: r.plan_due_at === null ? null : Number(r.plan_due_at),
          planDoneAt: r.plan_done_at === null ? null : Number(r.plan_done_at),
        });
        expect({ is_open: Number(r.is_open), queue_due_at: Number(r.queue_due_at) }, r.status).toEqual(expected);
      }
      expect(got.map((r) => Number(r.queue_due_at))).toEqual([
        at + 30,
        at + 20,
        at + 30,
        NO_DEADLINE,
        NO_DEADLINE,
        NO_DEADLINE,
        NO_DEADLINE,
      ]);
    } finally {
      await old.destroy();
    }
  });
});
