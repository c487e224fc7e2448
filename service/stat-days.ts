import { sql } from 'kysely';
import type { RecordsDb } from '../records/db.ts';
import type { TicketStatDaysTable } from '../records/ticket-stat-dirty.ts';
import type {} from '../records/ticket-stat-dirty.ts';
import type {} from '../remote/records.ts';
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

export const emptySums = (): StatSums => ({
  tickets: 0,
  wcMet: 0,
  planTotal: 0,
  planMet: 0,
  closed: 0,
  mttrSum: 0,
  restored: 0,
  restoreSum: 0,
  arrived: 0,
  arriveSum: 0,
  remote: 0,
  repeats: 0,
});

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

/** At most this many days are rebuilt from one read of the tickets (bounds the rows held in memory). */
const REBUILD_SPAN_DAYS = 31;
const INSERT_CHUNK = 500;

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

  /** Reads the tickets received in [from, to) and writes their days' rows (the days' old rows removed first). */
  async function rebuild(tx: RecordsDb, from: number, to: number): Promise<void> {
    await tx.deleteFrom('ticket_stat_days').where('day_start', '>=', from).where('day_start', '<', to).execute();
    const rows = await tx
      .selectFrom('tickets as t')
      .leftJoin('ticket_outcomes as o', 'o.ticket_id', 't.id')
      .leftJoin('vehicles as v', 'v.id', 't.vehicle_id')
      .select([
        't.received_at',
        't.level',
        't.fault_code',
        't.customer_id',
        'v.model',
        't.work_content_due_at',
        't.work_content_done_at',
        't.plan_due_at',
        't.plan_done_at',
        'o.ticket_id as outcome',
        'o.closed_at',
        'o.restored_at',
        'o.arrived_at',
        'o.remote',
        'o.next_same_fault_at',
      ])
      .where('t.received_at', '>=', from)
      .where('t.received_at', '<', to)
      .where('t.status', '<>', 'cancelled')
      .where('t.service_order_id', 'is', null)
      .orderBy('t.received_at')
      .execute();
    const groups = new Map<string, { dim: RollupDim; day: number; key: string; sums: StatSums }>();
    let day = -Infinity;
    let dayEnd = -Infinity;
    for (const r of rows) {
      const at = Number(r.received_at);
      if (at >= dayEnd) {
        day = dayStartOf(at, timeZone);
        dayEnd = nextDayStart(day, timeZone);
      }
      const s = ticketSums(r, repeatWindowMs);
      const keys: [RollupDim, string][] = [
        ['level', r.level],
        ['fault', r.fault_code ?? ''],
        ['model', r.model ?? ''],
        ['unit', r.customer_id ?? ''],
        ['all', ''],
      ];
      for (const [dim, key] of keys) {
        const id = `${dim}\u0000${day}\u0000${key}`;
        const g = groups.get(id);
        if (g) addSums(g.sums, s);
        else groups.set(id, { dim, day, key, sums: { ...s } });
      }
    }
    const values = [...groups.values()].map((g): TicketStatDaysTable => ({
      dim: g.dim,
      day_start: g.day,
      key: g.key,
      tickets: g.sums.tickets,
      wc_met: g.sums.wcMet,
      plan_total: g.sums.planTotal,
      plan_met: g.sums.planMet,
      closed: g.sums.closed,
      mttr_sum: g.sums.mttrSum,
      restored: g.sums.restored,
      restore_sum: g.sums.restoreSum,
      arrived: g.sums.arrived,
      arrive_sum: g.sums.arriveSum,
      remote: g.sums.remote,
      repeats: g.sums.repeats,
    }));
    for (let i = 0; i < values.length; i += INSERT_CHUNK) {
      await tx
        .insertInto('ticket_stat_days')
        .values(values.slice(i, i + INSERT_CHUNK))
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

/** What one ticket adds to its groups: the same conditions as the statistics' SQL (service/stats.ts). */
function ticketSums(
  r: {
    received_at: number;
    work_content_due_at: number;
    work_content_done_at: number | null;
    plan_due_at: number | null;
    plan_done_at: number | null;
    outcome: number | null;
    closed_at: number | null;
    restored_at: number | null;
    arrived_at: number | null;
    remote: number | null;
    next_same_fault_at: number | null;
  },
  repeatWindowMs: number,
): StatSums {
  const at = Number(r.received_at);
  const s = emptySums();
  s.tickets = 1;
  if (r.work_content_done_at !== null && Number(r.work_content_done_at) <= Number(r.work_content_due_at)) s.wcMet = 1;
  if (r.plan_due_at !== null) {
    s.planTotal = 1;
    if (r.plan_done_at !== null && Number(r.plan_done_at) <= Number(r.plan_due_at)) s.planMet = 1;
  }
  if (r.outcome !== null && r.closed_at !== null) {
    const closedAt = Number(r.closed_at);
    s.closed = 1;
    s.mttrSum = closedAt - at;
    if (r.restored_at !== null) {
      s.restored = 1;
      s.restoreSum = Number(r.restored_at) - at;
    }
    if (r.arrived_at !== null) {
      s.arrived = 1;
      s.arriveSum = Number(r.arrived_at) - at;
    }
    if (Number(r.remote) === 1) s.remote = 1;
    if (r.next_same_fault_at !== null && Number(r.next_same_fault_at) <= closedAt + repeatWindowMs) s.repeats = 1;
  }
  return s;
}
