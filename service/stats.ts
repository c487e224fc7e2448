import { sql, type RawBuilder } from 'kysely';
import { localDateTime } from '../core/local-time.ts';
import type { RecordsDb } from '../records/db.ts';
import type {} from '../remote/records.ts';
import { periodStarts, type Period } from './periods.ts';
import type {} from './records.ts';

/** What the statistics group by: level, fault type, vehicle model, customer unit, period. */
export const STAT_DIMENSIONS = ['level', 'fault', 'model', 'unit', 'period'] as const;
export type StatDimension = (typeof STAT_DIMENSIONS)[number];

/**
 * What the statistics cannot give yet, said in every answer: supplier parts come with the resources
 * issue's quality records. (Time to arrive is the on-site repair's `arrived` step: ticket_outcomes.arrived_at.)
 */
export const STAT_SEAMS = {
  supplierPart: 'by supplier part: waits for the quality records of the resources issue',
} as const;

export interface StatsQuery {
  by: StatDimension;
  from: number;
  to: number;
  /** The calendar period when `by` is `period` (default month). */
  period?: Period;
}

/** One group of the service statistics. Rates are 0–1 (null: nothing to divide); times are ms (null: none). */
export interface ServiceStatsRow {
  key: string;
  tickets: number;
  workContent: { met: number; total: number; rate: number | null };
  plan: { met: number; total: number; rate: number | null };
  closed: number;
  mttrMs: number | null;
  restore: { count: number; avgMs: number | null };
  arrive: { count: number; avgMs: number | null };
  firstTimeFix: { count: number; rate: number | null };
  remote: { count: number; rate: number | null };
  repeats: number;
}

export interface SurveyStatsRow {
  key: string;
  sent: number;
  answered: number;
  responseRate: number | null;
  scores: { response: number | null; quality: number | null; attitude: number | null };
  low: number;
  followUps: { open: number; done: number };
}

export interface RepeatFault {
  vehicleId: string;
  faultCode: string;
  model: string | null;
  customerId: string | null;
  tickets: number;
  lastAt: number;
}

const rate = (n: number, d: number) => (d > 0 ? n / d : null);
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * The statistics (信息统计) for the duty desk and management, each view one SQL statement with
 * GROUP BY over the period's tickets (index `tickets_received`), joined to their outcome
 * (`ticket_outcomes`) and vehicle; first-time fix compares the outcome's `next_same_fault_at` (the
 * next ticket of the same vehicle and fault, kept by service/outcomes.ts) with `repeatWindowMs` after
 * the closure. Nothing is loaded into memory but the groups.
 */
export function createStats(
  deps: { db: RecordsDb },
  options: { repeatWindowMs: number; timeZone: string; lowScore: number },
) {
  const { db } = deps;

  /** The group's key expression, and how an index of a period becomes its label. */
  function keyOf(
    q: StatsQuery,
    timeColumn: string,
  ): { expr: RawBuilder<string | number | null>; label: (k: unknown) => string } {
    switch (q.by) {
      case 'level':
        return { expr: sql`t.level`, label: String };
      case 'fault':
        return { expr: sql`coalesce(t.fault_code, '')`, label: String };
      case 'model':
        return { expr: sql`coalesce(v.model, '')`, label: String };
      case 'unit':
        return { expr: sql`coalesce(t.customer_id, '')`, label: String };
      case 'period': {
        const starts = periodStarts(q.from, q.to, q.period ?? 'month', options.timeZone);
        const col = sql.ref(timeColumn);
        const cases = starts.slice(1).map((s, i) => sql`when ${col} < ${sql.lit(s)} then ${sql.lit(i)}`);
        const expr =
          cases.length === 0
            ? sql<number>`0`
            : sql<number>`case ${sql.join(cases, sql` `)} else ${sql.lit(starts.length - 1)} end`;
        return {
          expr,
          label: (k) => localDateTime(starts[Number(k)] ?? q.from, options.timeZone).slice(0, 10),
        };
      }
    }
  }

  return {
    /** Deadlines met per level (or any dimension), MTTR, restore, arrival, first-time fix, remote, repeats. */
    async service(q: StatsQuery): Promise<ServiceStatsRow[]> {
      const key = keyOf(q, 't.received_at');
      const w = options.repeatWindowMs;
      const rows = await db
        .selectFrom('tickets as t')
        .leftJoin('ticket_outcomes as o', 'o.ticket_id', 't.id')
        .$if(q.by === 'model', (b) => b.leftJoin('vehicles as v', 'v.id', 't.vehicle_id'))
        .select([
          key.expr.as('key'),
          sql<number>`count(*)`.as('tickets'),
          sql<number>`sum(case when t.work_content_done_at is not null and t.work_content_done_at <= t.work_content_due_at then 1 else 0 end)`.as(
            'wc_met',
          ),
          sql<number>`sum(case when t.plan_due_at is not null then 1 else 0 end)`.as('plan_total'),
          sql<number>`sum(case when t.plan_due_at is not null and t.plan_done_at is not null and t.plan_done_at <= t.plan_due_at then 1 else 0 end)`.as(
            'plan_met',
          ),
          sql<number>`count(o.ticket_id)`.as('closed'),
          sql<number | null>`avg(o.closed_at - t.received_at)`.as('mttr'),
          sql<number>`count(o.restored_at)`.as('restored'),
          sql<number | null>`avg(o.restored_at - t.received_at)`.as('restore'),
          sql<number>`count(o.arrived_at)`.as('arrived'),
          sql<number | null>`avg(o.arrived_at - t.received_at)`.as('arrive'),
          sql<number>`sum(case when o.remote = 1 then 1 else 0 end)`.as('remote'),
          sql<number>`sum(case when o.next_same_fault_at is not null and o.next_same_fault_at <= o.closed_at + ${sql.lit(w)}
            then 1 else 0 end)`.as('repeats'),
        ])
        .where('t.received_at', '>=', q.from)
        .where('t.received_at', '<', q.to)
        .where('t.status', '<>', 'cancelled')
        // a former 常规 ticket moved to a service order (migration 0023) is no emergency task
        .where('t.service_order_id', 'is', null)
        .groupBy(sql`1`)
        .orderBy(sql`1`)
        .execute();
      return rows.map((r) => {
        const tickets = num(r.tickets);
        const closed = num(r.closed);
        const repeats = num(r.repeats);
        return {
          key: key.label(r.key),
          tickets,
          workContent: { met: num(r.wc_met), total: tickets, rate: rate(num(r.wc_met), tickets) },
          plan: { met: num(r.plan_met), total: num(r.plan_total), rate: rate(num(r.plan_met), num(r.plan_total)) },
          closed,
          mttrMs: orNull(r.mttr),
          restore: { count: num(r.restored), avgMs: orNull(r.restore) },
          arrive: { count: num(r.arrived), avgMs: orNull(r.arrive) },
          firstTimeFix: { count: closed - repeats, rate: rate(closed - repeats, closed) },
          remote: { count: num(r.remote), rate: rate(num(r.remote), closed) },
          repeats,
        };
      });
    },

    /** Survey response rate and scores (the period is the survey's sending time). */
    async surveys(q: StatsQuery): Promise<SurveyStatsRow[]> {
      const key = keyOf(q, 's.sent_at');
      const rows = await db
        .selectFrom('service_surveys as s')
        .innerJoin('tickets as t', 't.id', 's.ticket_id')
        .leftJoin('survey_follow_ups as f', 'f.survey_id', 's.id')
        .$if(q.by === 'model', (b) => b.leftJoin('vehicles as v', 'v.id', 't.vehicle_id'))
        .select([
          key.expr.as('key'),
          sql<number>`count(*)`.as('sent'),
          sql<number>`count(s.answered_at)`.as('answered'),
          sql<number | null>`avg(s.score_response)`.as('response'),
          sql<number | null>`avg(s.score_quality)`.as('quality'),
          sql<number | null>`avg(s.score_attitude)`.as('attitude'),
          sql<number>`sum(case when s.min_score <= ${sql.lit(options.lowScore)} then 1 else 0 end)`.as('low'),
          sql<number>`sum(case when f.status = 'open' then 1 else 0 end)`.as('open'),
          sql<number>`sum(case when f.status = 'done' then 1 else 0 end)`.as('done'),
        ])
        .where('s.sent_at', '>=', q.from)
        .where('s.sent_at', '<', q.to)
        .groupBy(sql`1`)
        .orderBy(sql`1`)
        .execute();
      return rows.map((r) => ({
        key: key.label(r.key),
        sent: num(r.sent),
        answered: num(r.answered),
        responseRate: rate(num(r.answered), num(r.sent)),
        scores: { response: orNull(r.response), quality: orNull(r.quality), attitude: orNull(r.attitude) },
        low: num(r.low),
        followUps: { open: num(r.open), done: num(r.done) },
      }));
    },

    /** Vehicles with the same fault more than once in the period, most often first. */
    async repeatFaults(q: Omit<StatsQuery, 'by'>, limit = 50): Promise<RepeatFault[]> {
      const rows = await db
        .selectFrom('tickets as t')
        .leftJoin('vehicles as v', 'v.id', 't.vehicle_id')
        .select([
          't.vehicle_id',
          't.fault_code',
          sql<string | null>`max(v.model)`.as('model'),
          sql<string | null>`max(t.customer_id)`.as('customer_id'),
          sql<number>`count(*)`.as('n'),
          sql<number>`max(t.received_at)`.as('last_at'),
        ])
        .where('t.received_at', '>=', q.from)
        .where('t.received_at', '<', q.to)
        .where('t.vehicle_id', 'is not', null)
        .where('t.fault_code', 'is not', null)
        .where('t.status', '<>', 'cancelled')
        // a former 常规 ticket moved to a service order (migration 0023) is no emergency task
        .where('t.service_order_id', 'is', null)
        .groupBy(['t.vehicle_id', 't.fault_code'])
        .having(sql`count(*)`, '>=', 2)
        .orderBy(sql`count(*)`, 'desc')
        .orderBy('t.vehicle_id')
        .orderBy('t.fault_code')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        vehicleId: r.vehicle_id!,
        faultCode: r.fault_code!,
        model: r.model,
        customerId: r.customer_id,
        tickets: num(r.n),
        lastAt: num(r.last_at),
      }));
    },
  };
}

export type Stats = ReturnType<typeof createStats>;
