import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedHistory } from '../../bench/stats/seed.ts';
import type { RecordsDb } from '../../records/db.ts';
import { markTicketStatsDirty } from '../../records/ticket-stat-dirty.ts';
import { dayStartOf } from '../../service/periods.ts';
import { createStats, type StatDimension, type StatsQuery } from '../../service/stats.ts';
import { openTestRecords } from '../helpers/records.ts';
import { startWeb, type TestWeb } from '../web/helpers.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const TZ = 'Asia/Shanghai';
const SETTINGS = { repeatWindowMs: 30 * DAY, timeZone: TZ, lowScore: 2 };
const DIMS: StatDimension[] = ['level', 'fault', 'model', 'unit', 'period', 'supplier_part'];

/**
 * The daily rollup (service/stat-days.ts) answers every service view exactly as reading every
 * ticket does (`rollup: false`), for windows on and off local midnights, and follows the changes.
 */
describe('statistics daily rollup (service/stat-days.ts)', () => {
  let db: RecordsDb;
  const now = Date.UTC(2026, 11, 1, 5, 17); // 13:17 in Shanghai: not a midnight
  beforeAll(async () => {
    db = await openTestRecords();
    await seedHistory(db, { tickets: 2500, units: 8, vehicles: 120, days: 120, now });
  });
  afterAll(() => db.destroy());

  const windows = (): [string, Pick<StatsQuery, 'from' | 'to'>][] => {
    const midnight = dayStartOf(now, TZ);
    return [
      ['everything', { from: now - 130 * DAY, to: now + DAY }],
      ['on midnights', { from: midnight - 60 * DAY, to: midnight - 10 * DAY }],
      [
        'part-days at both ends',
        { from: midnight - 45 * DAY + 3 * HOUR + 17 * MIN, to: midnight - 2 * DAY + 20 * HOUR },
      ],
      ['within one day', { from: midnight - 5 * DAY + 2 * HOUR, to: midnight - 5 * DAY + 23 * HOUR }],
      ['one part-day and one whole day', { from: midnight - 3 * DAY + 12 * HOUR, to: midnight - DAY }],
    ];
  };

  async function expectSameAsRaw(label: string) {
    const rolled = createStats({ db }, SETTINGS);
    const raw = createStats({ db }, { ...SETTINGS, rollup: false });
    let groups = 0;
    for (const [name, w] of windows())
      for (const by of DIMS)
        for (const period of by === 'period' ? (['day', 'week', 'month'] as const) : ([undefined] as const)) {
          const q: StatsQuery = { ...w, by, ...(period ? { period } : {}) };
          const expected = await raw.service(q);
          groups += expected.length;
          expect(await rolled.service(q), `${label}: ${name}, by ${by} ${period ?? ''}`).toEqual(expected);
        }
    expect(groups).toBeGreaterThan(200); // the views have something to compare
  }

  it('answers every view as the tickets do; a rollup of other settings is rebuilt', async () => {
    await expectSameAsRaw('first build');
    // the seed attributes some causes to supplier parts: those groups and the unattributed ('') one
    const bySupplier = await createStats({ db }, SETTINGS).service({
      from: now - 130 * DAY,
      to: now,
      by: 'supplier_part',
    });
    expect(bySupplier.length).toBeGreaterThan(10);
    expect(bySupplier[0]!.key).toBe('');
    expect(
      Number(
        (
          await db
            .selectFrom('ticket_stat_days')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).toBeGreaterThan(100);
    // another repeat window: the stored days were counted with the old one and are rebuilt
    const other = { ...SETTINGS, repeatWindowMs: 2 * DAY };
    const raw = await createStats({ db }, { ...other, rollup: false }).service({
      from: now - 130 * DAY,
      to: now,
      by: 'level',
    });
    expect(await createStats({ db }, other).service({ from: now - 130 * DAY, to: now, by: 'level' })).toEqual(raw);
    expect(raw.reduce((n, r) => n + r.repeats, 0)).not.toBe(
      (await createStats({ db }, SETTINGS).service({ from: now - 130 * DAY, to: now, by: 'level' })).reduce(
        (n, r) => n + r.repeats,
        0,
      ),
    );
  });

  it('a change marked with its ticket is counted at the next query; one not marked is not (the writers mark theirs)', async () => {
    const stats = createStats({ db }, SETTINGS);
    const q: StatsQuery = { from: now - 130 * DAY, to: now, by: 'level' };
    const before = await stats.service(q);
    const total = (rows: typeof before) => rows.reduce((n, r) => n + r.tickets, 0);
    const victims = await db
      .selectFrom('tickets')
      .select(['id', 'received_at'])
      .where('status', '<>', 'cancelled')
      .where('received_at', '<', now - 20 * DAY)
      .orderBy('id')
      .limit(7)
      .execute();
    await db
      .updateTable('tickets')
      .set({ status: 'cancelled' })
      .where(
        'id',
        'in',
        victims.map((v) => v.id),
      )
      .execute();
    expect(total(await stats.service(q))).toBe(total(before));
    await markTicketStatsDirty(
      db,
      victims.map((v) => Number(v.received_at)),
    );
    expect(total(await stats.service(q))).toBe(total(before) - 7);
    expect(await db.selectFrom('ticket_stat_dirty').selectAll().execute()).toEqual([]);
    await expectSameAsRaw('after cancelling');
  });
});

describe('the ticket service and the outcomes mark what they change', () => {
  let w: TestWeb;
  beforeEach(async () => {
    w = await startWeb();
  });
  afterEach(() => w.close());

  /** To closed from received, or (`reopened`) from in service, where a reopened ticket stands. */
  async function closeTicket(id: number, level: string, reopened = false) {
    const steps = reopened
      ? []
      : ['determine_work_content', ...(level === 'extra_urgent' ? [] : ['issue_plan']), 'start_service'];
    for (const a of steps) {
      w.advance(5 * MIN);
      await w.tickets.transition(id, a as never, 'dispatcher');
    }
    w.advance(5 * MIN);
    await w.tickets.transition(id, 'mark_repaired', 'engineer', undefined, undefined, {
      resolution: { rootCause: 'worn part', workDone: 'replaced it', partsUsed: [] },
    });
    for (const a of ['verify', 'close'] as const) {
      w.advance(5 * MIN);
      await w.tickets.transition(id, a, 'dispatcher', undefined, undefined, { alarmOverride: 'mains still off' });
    }
    await w.service.idle();
  }

  it('opened, closed, reopened, repeated: the rollup follows, equal to the tickets', async () => {
    const day = dayStartOf(w.now(), TZ);
    const q: StatsQuery = { from: day - 2 * DAY, to: day + 3 * DAY, by: 'fault' };
    const stats = w.service.stats;
    const raw = createStats({ db: w.db }, { ...SETTINGS, rollup: false });
    const check = async () => {
      const rows = await stats.service(q);
      expect(rows).toEqual(await raw.service(q));
      return rows.find((r) => r.key === 'GEN-START-FAIL');
    };
    expect(await check()).toBeUndefined();

    const a = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    expect(await check()).toMatchObject({ tickets: 1, closed: 0 });
    await closeTicket(a.id, 'extra_urgent');
    expect(await check()).toMatchObject({ tickets: 1, closed: 1, repeats: 0 });

    w.advance(HOUR);
    await w.tickets.transition(a.id, 'reopen', 'dispatcher', 'came back');
    await w.service.idle();
    expect(await check()).toMatchObject({ tickets: 1, closed: 0 });
    await closeTicket(a.id, 'extra_urgent', true);
    expect(await check()).toMatchObject({ closed: 1, repeats: 0 });

    // the same fault again the next day: the first one was no first-time fix
    w.advance(DAY);
    await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    await w.service.idle();
    expect(await check()).toMatchObject({ tickets: 2, closed: 1, repeats: 1, firstTimeFix: { count: 0 } });
  });

  it('an outcome written after the ticket’s own change (the bus is asynchronous) is counted too', async () => {
    const day = dayStartOf(w.now(), TZ);
    const q: StatsQuery = { from: day - DAY, to: day + 2 * DAY, by: 'level' };
    const raw = createStats({ db: w.db }, { ...SETTINGS, rollup: false });
    const a = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    await closeTicket(a.id, 'extra_urgent');
    const closed = await w.tickets.get(a.id);
    expect(await w.service.stats.service(q)).toMatchObject([{ closed: 1, arrive: { count: 0 } }]);
    // the outcome alone changes (the ticket's row does not): an arrival recorded, the close heard again
    await w.db
      .insertInto('ticket_mode_steps')
      .values({
        ticket_id: a.id,
        mode: 'on_site_repair',
        step: 'arrived',
        at: closed.receivedAt + 20 * MIN,
        recorded_at: w.now(),
        actor: 'engineer',
        side: 'staff',
        note: null,
        visibility: 'internal',
        details: '{}',
        confirmed_at: null,
        confirmed_by: null,
        confirm_note: null,
      })
      .execute();
    w.bus.emit('ticket.updated', { ticket: closed, action: 'close' });
    await w.service.idle();
    expect(await w.service.stats.service(q)).toMatchObject([{ closed: 1, arrive: { count: 1, avgMs: 20 * MIN } }]);
    expect(await w.service.stats.service(q)).toEqual(await raw.service(q));
    // the outcome removed alone
    w.bus.emit('ticket.updated', { ticket: closed, action: 'reopen' });
    await w.service.idle();
    expect(await w.service.stats.service(q)).toMatchObject([{ closed: 0 }]);
    expect(await w.service.stats.service(q)).toEqual(await raw.service(q));
  });
});
