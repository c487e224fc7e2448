import { sql, type RawBuilder } from 'kysely';
import type { RecordsDb } from '../records/db.ts';
import type {} from '../records/ticket-stat-dirty.ts';
import { dayStartOf, nextDayStart } from './periods.ts';
import type {} from './records.ts';

/** The dimensions the daily rollup keeps; `all` is one group per day (the periods add days up). */
export const ROLLUP_DIMS = ['level', 'fault', 'model', 'unit', 'all'] as const;
export type RollupDim = (typeof ROLLUP_DIMS)[number];

/** What the service statistics add up per group: counts, and sums of durations (ms) for the means. */
export interface StatSums {
  tickets: number;
  wcMet: number;
  planTotal: number;
  planMet: number;
  closed: number;
  mttrSum: number;
  restored: number;
  restoreSum: number;
  arrived: number;
  arriveSum: number;
  remote: number;
  repeats: number;
}

export function addSums(a: StatSums, b: StatSums): StatSums {
  for (const k of Object.keys(a) as (keyof StatSums)[]) a[k] += b[k];
  return a;
}

export function subtractSums(a: StatSums, b: StatSums): StatSums {
  for (const k of Object.keys(a) as (keyof StatSums)[]) a[k] -= b[k];
  return a;
}

const n = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

/** A rollup row (or an aggregate of rows, same column names) as sums. */
export function sumsOfRow(r: Record<string, unknown>): StatSums {
  return {
    tickets: n(r.tickets),
    wcMet: n(r.wc_met),
    planTotal: n(r.plan_total),
    planMet: n(r.plan_met),
    closed: n(r.closed),
    mttrSum: n(r.mttr_sum),
    restored: n(r.restored),
    restoreSum: n(r.restore_sum),
    arrived: n(r.arrived),
    arriveSum: n(r.arrive_sum),
    remote: n(r.remote),
    repeats: n(r.repeats),
  };
}

const SUM_COLUMNS = [
  'tickets',
  'wc_met',
  'plan_total',
  'plan_met',
  'closed',
  'mttr_sum',
  'restored',
  'restore_sum',
  'arrived',
  'arrive_sum',
  'remote',
  'repeats',
] as const;

/**
 * What the service statistics add up over tickets `t` (with their outcome `o`), one column per
 * figure, named as the rollup's columns: the rollup's build and the statistics' own reads of the
 * tickets share them, so the two count alike. Over no rows the sums are 0, not null.
 */
export function ticketSumColumns(repeatWindowMs: number) {
  return [
    sql<number>`count(*)`.as('tickets'),
    sql<number>`coalesce(sum(case when t.work_content_done_at is not null and t.work_content_done_at <= t.work_content_due_at then 1 else 0 end), 0)`.as(
      'wc_met',
    ),
    sql<number>`coalesce(sum(case when t.plan_due_at is not null then 1 else 0 end), 0)`.as('plan_total'),
    sql<number>`coalesce(sum(case when t.plan_due_at is not null and t.plan_done_at is not null and t.plan_done_at <= t.plan_due_at then 1 else 0 end), 0)`.as(
      'plan_met',
    ),
    sql<number>`count(o.ticket_id)`.as('closed'),
    sql<number>`coalesce(sum(o.closed_at - t.received_at), 0)`.as('mttr_sum'),
    sql<number>`count(o.restored_at)`.as('restored'),
    sql<number>`coalesce(sum(o.restored_at - t.received_at), 0)`.as('restore_sum'),
    sql<number>`count(o.arrived_at)`.as('arrived'),
    sql<number>`coalesce(sum(o.arrived_at - t.received_at), 0)`.as('arrive_sum'),
    sql<number>`coalesce(sum(case when o.remote = 1 then 1 else 0 end), 0)`.as('remote'),
    sql<number>`coalesce(sum(case when o.next_same_fault_at is not null and o.next_same_fault_at <= o.closed_at + ${sql.lit(repeatWindowMs)} then 1 else 0 end), 0)`.as(
      'repeats',
    ),
  ];
}

/** What each dimension groups by, over tickets `t` and vehicles `v`. */
const DIM_KEYS: Record<RollupDim, RawBuilder<string>> = {
  level: sql<string>`t.level`,
  fault: sql<string>`coalesce(t.fault_code, '')`,
  model: sql<string>`coalesce(v.model, '')`,
  unit: sql<string>`coalesce(t.customer_id, '')`,
  all: sql<string>`''`,
};

/** At most this many days are rebuilt from one read of the tickets (bounds the rows held in memory). */
const REBUILD_SPAN_DAYS = 31;

/**
 * The statistics' daily rollup (`ticket_stat_days`, migration 0032): per local day of the service
 * centre's time zone and per dimension, the sums and counts the service statistics need, so a view
 * over two years adds up a few thousand rows instead of reading every ticket with its outcome and
 * vehicle. Every write that changes what a ticket counts for (the ticket's row, its outcome) marks
 * its day in `ticket_stat_dirty` in the same transaction (records/ticket-stat-dirty.ts); `refresh()`
 * claims those marks and rebuilds the marked days from the tickets, before each statistics query.
 * A rollup built for another time zone or repeat window (`ticket_stat_state`) is rebuilt whole, as is
 * a database that has none yet (the first query after the upgrade). Counted as the raw statistics
 * count: emergency tickets not cancelled and not moved to a service order.
 */
export function createStatDays(deps: { db: RecordsDb; now?: () => number }, options: StatDaysOptions) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const { timeZone, repeatWindowMs } = options;
  let running: Promise<void> | undefined;
  let again = false;

  /**
   * Writes the rows of the days in [from, to) (`from` a local midnight, at most REBUILD_SPAN_DAYS
   * days) from the tickets received in them, the days' old rows removed first: one INSERT … SELECT
   * … GROUP BY per dimension, the day found by comparing `received_at` with the days' starts (local
   * midnights, computed here: the database knows no time zone), nothing of the tickets read out.
   */
  async function rebuild(tx: RecordsDb, from: number, to: number): Promise<void> {
    await tx.deleteFrom('ticket_stat_days').where('day_start', '>=', from).where('day_start', '<', to).execute();
    const starts = [from];
    for (let d = nextDayStart(from, timeZone); d < to; d = nextDayStart(d, timeZone)) starts.push(d);
    const cases = starts.slice(1).map((d, i) => sql`when t.received_at < ${sql.lit(d)} then ${sql.lit(starts[i]!)}`);
    const day =
      cases.length === 0
        ? sql<number>`${sql.lit(from)}`
        : sql<number>`case ${sql.join(cases, sql` `)} else ${sql.lit(starts.at(-1)!)} end`;
    for (const dim of ROLLUP_DIMS) {
      const rows = tx
        .selectFrom('tickets as t')
        .leftJoin('ticket_outcomes as o', 'o.ticket_id', 't.id')
        .$if(dim === 'model', (b) => b.leftJoin('vehicles as v', 'v.id', 't.vehicle_id'))
        .select([
          sql.lit(dim).as('dim'),
          day.as('day_start'),
          DIM_KEYS[dim].as('key'),
          ...ticketSumColumns(repeatWindowMs),
        ])
        .where('t.received_at', '>=', from)
        .where('t.received_at', '<', to)
        .where('t.status', '<>', 'cancelled')
        // a former 常规 ticket moved to a service order (migration 0023) is no emergency task
        .where('t.service_order_id', 'is', null)
        .groupBy(sql`2, 3`);
      await tx
        .insertInto('ticket_stat_days')
        .columns(['dim', 'day_start', 'key', ...SUM_COLUMNS])
        .expression(rows)
        // two nodes rebuilding the same day at once (PostgreSQL): the later one's figures stand
        .onConflict((oc) =>
          oc
            .columns(['dim', 'day_start', 'key'])
            .doUpdateSet((eb) => Object.fromEntries(SUM_COLUMNS.map((c) => [c, eb.ref(`excluded.${c}`)]))),
        )
        .execute();
    }
  }

  /**
   * Builds the whole rollup, a span of days per transaction, so the records' writers (a ticket opened
   * by a rule within a second) wait for one span at most, never for the whole build. A change made
   * meanwhile marks its day, and the next refresh reads it again.
   */
  async function buildAll(): Promise<void> {
    const span = await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('ticket_stat_state').execute();
      await tx.deleteFrom('ticket_stat_dirty').execute();
      await tx.deleteFrom('ticket_stat_days').execute();
      return tx
        .selectFrom('tickets')
        .select([sql<number | null>`min(received_at)`.as('first'), sql<number | null>`max(received_at)`.as('last')])
        .executeTakeFirst();
    });
    if (span && span.first !== null && span.last !== null) {
      let start = dayStartOf(Number(span.first), timeZone);
      const end = nextDayStart(dayStartOf(Number(span.last), timeZone), timeZone);
      while (start < end) {
        let spanEnd = start;
        for (let i = 0; i < REBUILD_SPAN_DAYS && spanEnd < end; i++) spanEnd = nextDayStart(spanEnd, timeZone);
        const from = start;
        await db.transaction().execute((tx) => rebuild(tx, from, spanEnd));
        start = spanEnd;
      }
    }
    const row = { time_zone: timeZone, repeat_window_ms: repeatWindowMs, built_at: now() };
    await db
      .insertInto('ticket_stat_state')
      .values({ id: 1, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }

  async function refreshOnce(): Promise<void> {
    const state = await db.selectFrom('ticket_stat_state').selectAll().where('id', '=', 1).executeTakeFirst();
    if (!state || state.time_zone !== timeZone || Number(state.repeat_window_ms) !== repeatWindowMs) {
      await buildAll();
      return;
    }
    // nothing marked (the usual case between changes): no write transaction for a read
    if (!(await db.selectFrom('ticket_stat_dirty').select('received_at').limit(1).executeTakeFirst())) return;
    await db.transaction().execute(async (tx) => {
      // claimed by deleting them: a change committed after this statement marks its day again
      const dirty = await tx.deleteFrom('ticket_stat_dirty').returning('received_at').execute();
      if (dirty.length === 0) return;
      const days = [...new Set(dirty.map((d) => dayStartOf(Number(d.received_at), timeZone)))].sort((a, b) => a - b);
      // contiguous days are read together
      let i = 0;
      while (i < days.length) {
        let end = nextDayStart(days[i]!, timeZone);
        let j = i + 1;
        while (j < days.length && days[j] === end && j - i < REBUILD_SPAN_DAYS) {
          end = nextDayStart(days[j]!, timeZone);
          j++;
        }
        await rebuild(tx, days[i]!, end);
        i = j;
      }
    });
  }

  return {
    /**
     * Brings the rollup up to date with every change marked so far. Calls while one runs wait for it
     * and, if they came after it started, for one more run.
     */
    async refresh(): Promise<void> {
      if (running) {
        again = true;
        return running;
      }
      running = (async () => {
        try {
          do {
            again = false;
            await refreshOnce();
          } while (again);
        } finally {
          running = undefined;
        }
      })();
      return running;
    },

    /** The sums per group of `dim` over the whole days starting in [fromDay, toDay). */
    async sums(dim: Exclude<RollupDim, 'all'>, fromDay: number, toDay: number): Promise<Map<string, StatSums>> {
      const rows = await db
        .selectFrom('ticket_stat_days')
        .select(['key', ...SUM_COLUMNS.map((c) => sql<number>`sum(${sql.ref(c)})`.as(c))])
        .where('dim', '=', dim)
        .where('day_start', '>=', fromDay)
        .where('day_start', '<', toDay)
        .groupBy('key')
        .execute();
      return new Map(rows.map((r) => [r.key, sumsOfRow(r)]));
    },

    /** The sums of each day starting in [fromDay, toDay), in order (the periods add them up). */
    async days(fromDay: number, toDay: number): Promise<{ day: number; sums: StatSums }[]> {
      const rows = await db
        .selectFrom('ticket_stat_days')
        .select(['day_start', ...SUM_COLUMNS])
        .where('dim', '=', 'all')
        .where('day_start', '>=', fromDay)
        .where('day_start', '<', toDay)
        .orderBy('day_start')
        .execute();
      return rows.map((r) => ({ day: Number(r.day_start), sums: sumsOfRow(r) }));
    },
  };
}

export interface StatDaysOptions {
  timeZone: string;
  /** A closed ticket followed by one of the same vehicle and fault within this is a repeat. */
  repeatWindowMs: number;
}

export type StatDays = ReturnType<typeof createStatDays>;
