import { sql, type RawBuilder } from 'kysely';
import { localDateTime } from '../core/local-time.ts';
import type { RecordsDb } from '../records/db.ts';
import type {} from '../remote/records.ts';
import { periodStarts, type Period } from './periods.ts';
import type {} from './records.ts';
import type {} from '../resources/stock/records.ts';
import type {} from '../resources/suppliers/quality.ts';
import type {} from '../resources/partners/partners.ts';

/**
 * What the statistics group by: level, fault type, vehicle model, customer unit, period, and the
 * supplier part the ticket's cause was attributed to (`<supplierId>:<partNumber>` from its quality
 * records; a ticket attributed to two parts counts in both groups, one attributed to none in '').
 */
export const STAT_DIMENSIONS = ['level', 'fault', 'model', 'unit', 'period', 'supplier_part'] as const;
export type StatDimension = (typeof STAT_DIMENSIONS)[number];

/**
 * What the statistics cannot give yet, said in every answer (`seams`: none now — supplier parts come
 * from the quality records, time to arrive from the on-site repair's `arrived` step).
 */
export const STAT_SEAMS: Readonly<Record<string, string>> = {} as const;

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

/** Parts consumed on tickets (the stock ledger's `consumption` movements) per part. */
export interface PartsConsumedRow {
  partNo: string;
  name: { en: string; zh: string };
  unit: string;
  qty: number;
  tickets: number;
}

/** Per supplier part: the faults attributed to it (quality records) and the parts of that number consumed on those tickets. */
export interface SupplierPartRow {
  supplierId: string;
  partNumber: string;
  failures: number;
  tickets: number;
  /** Units of that part number consumed on the attributed tickets (the replacements). */
  replaced: number;
}

/** A partner's dispatches in the window: on time (arrived by the ETA), rework (of the completed ones). */
export interface PartnerStatsRow {
  partnerId: number;
  name: string;
  kind: string;
  dispatches: number;
  arrived: number;
  onTime: number;
  onTimeRate: number | null;
  completed: number;
  rework: number;
  reworkRate: number | null;
  /** Mean minutes late of the late arrivals. */
  avgLateMin: number | null;
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
      case 'supplier_part':
        return { expr: sql`coalesce(qr.supplier_id || ':' || qr.part_number, '')`, label: String };
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
        .$if(q.by === 'supplier_part', (b) => b.leftJoin('quality_records as qr', 'qr.ticket_id', 't.id'))
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
        .$if(q.by === 'supplier_part', (b) => b.leftJoin('quality_records as qr', 'qr.ticket_id', 't.id'))
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

    /** Parts consumed on tickets in the window (the consumption's time), most first. */
    async partsConsumed(q: Omit<StatsQuery, 'by'>): Promise<PartsConsumedRow[]> {
      const rows = await db
        .selectFrom('stock_movements as m')
        .leftJoin('parts as p', 'p.part_no', 'm.part_no')
        .select([
          'm.part_no',
          sql<string | null>`max(p.name_en)`.as('name_en'),
          sql<string | null>`max(p.name_zh)`.as('name_zh'),
          sql<string | null>`max(p.unit)`.as('unit'),
          sql<number>`sum(m.qty)`.as('qty'),
          sql<number>`count(distinct m.ticket_id)`.as('tickets'),
        ])
        .where('m.kind', '=', 'consumption')
        .where('m.at', '>=', q.from)
        .where('m.at', '<', q.to)
        .groupBy('m.part_no')
        .orderBy(sql`sum(m.qty)`, 'desc')
        .orderBy('m.part_no')
        .execute();
      return rows.map((r) => ({
        partNo: r.part_no,
        name: { en: r.name_en ?? r.part_no, zh: r.name_zh ?? r.part_no },
        unit: r.unit ?? '',
        qty: num(r.qty),
        tickets: num(r.tickets),
      }));
    },

    /**
     * Per supplier part: the faults attributed to it in the window (quality records by failure
     * time) and the units of that part number consumed on those tickets, most failures first.
     */
    async supplierParts(q: Omit<StatsQuery, 'by'>): Promise<SupplierPartRow[]> {
      const used = db
        .selectFrom('stock_movements')
        .select(['ticket_id', 'part_no', sql<number>`sum(qty)`.as('qty')])
        .where('kind', '=', 'consumption')
        .groupBy(['ticket_id', 'part_no'])
        .as('c');
      const rows = await db
        .selectFrom('quality_records as qr')
        .leftJoin(used, (j) => j.onRef('c.ticket_id', '=', 'qr.ticket_id').onRef('c.part_no', '=', 'qr.part_number'))
        .select([
          'qr.supplier_id',
          'qr.part_number',
          sql<number>`count(*)`.as('failures'),
          sql<number>`count(distinct qr.ticket_id)`.as('tickets'),
          sql<number>`coalesce(sum(c.qty), 0)`.as('replaced'),
        ])
        .where('qr.failed_at', '>=', q.from)
        .where('qr.failed_at', '<', q.to)
        .groupBy(['qr.supplier_id', 'qr.part_number'])
        .orderBy(sql`count(*)`, 'desc')
        .orderBy('qr.supplier_id')
        .orderBy('qr.part_number')
        .execute();
      return rows.map((r) => ({
        supplierId: r.supplier_id,
        partNumber: r.part_number,
        failures: num(r.failures),
        tickets: num(r.tickets),
        replaced: num(r.replaced),
      }));
    },

    /** Partner performance over the dispatches made in the window: on time, rework, lateness. */
    async partners(q: Omit<StatsQuery, 'by'>): Promise<PartnerStatsRow[]> {
      const rows = await db
        .selectFrom('partner_dispatches as d')
        .innerJoin('partners as p', 'p.id', 'd.partner_id')
        .select([
          'd.partner_id',
          sql<string>`max(p.name)`.as('name'),
          sql<string>`max(p.kind)`.as('kind'),
          sql<number>`count(*)`.as('dispatches'),
          sql<number>`count(d.arrived_at)`.as('arrived'),
          sql<number>`sum(case when d.arrived_at is not null and d.arrived_at <= d.eta then 1 else 0 end)`.as(
            'on_time',
          ),
          sql<number>`sum(case when d.outcome in ('resolved', 'not_resolved') then 1 else 0 end)`.as('completed'),
          sql<number>`sum(case when d.outcome in ('resolved', 'not_resolved') and d.rework = 1 then 1 else 0 end)`.as(
            'rework',
          ),
          sql<number | null>`avg(case when d.arrived_at > d.eta then d.arrived_at - d.eta end)`.as('late_ms'),
        ])
        .where('d.dispatched_at', '>=', q.from)
        .where('d.dispatched_at', '<', q.to)
        .groupBy('d.partner_id')
        .orderBy('d.partner_id')
        .execute();
      return rows.map((r) => {
        const late = orNull(r.late_ms);
        return {
          partnerId: Number(r.partner_id),
          name: r.name,
          kind: r.kind,
          dispatches: num(r.dispatches),
          arrived: num(r.arrived),
          onTime: num(r.on_time),
          onTimeRate: rate(num(r.on_time), num(r.arrived)),
          completed: num(r.completed),
          rework: num(r.rework),
          reworkRate: rate(num(r.rework), num(r.completed)),
          avgLateMin: late === null ? null : Math.round(late / 60_000),
        };
      });
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
