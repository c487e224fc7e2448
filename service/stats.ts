import { sql, type RawBuilder } from 'kysely';
import { localDateTime } from '../core/local-time.ts';
import type { RecordsDb } from '../records/db.ts';
import type {} from '../remote/records.ts';
import { dayStartOf, nextDayStart, periodStarts, type Period } from './periods.ts';
import {
  addSums,
  createStatDays,
  subtractSums,
  sumsOfRow,
  ticketSumColumns,
  type StatDays,
  type StatSums,
} from './stat-days.ts';
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

/** The index of the period (of `starts`) holding `at`: the last start at or before it. */
function periodIndex(starts: readonly number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * The statistics (信息统计) for the duty desk and management, in SQL with GROUP BY: the service
 * views add up the daily rollup (service/stat-days.ts) and read the tickets (index
 * `tickets_received`, joined to their outcome `ticket_outcomes` and vehicle) only for the part-days at
 * a window's edges and the supplier parts; the survey views and repeat faults are one statement each.
 * First-time fix compares the outcome's `next_same_fault_at` (the next ticket of the same vehicle and
 * fault, kept by service/outcomes.ts) with `repeatWindowMs` after the closure. Nothing is loaded into
 * memory but the groups.
 */
export function createStats(
  deps: { db: RecordsDb; statDays?: StatDays },
  options: {
    repeatWindowMs: number;
    timeZone: string;
    lowScore: number;
    /** false: every service view reads the tickets (the bench's and the tests' comparison); default true. */
    rollup?: boolean;
  },
) {
  const { db } = deps;
  const statDays =
    deps.statDays ?? createStatDays({ db }, { timeZone: options.timeZone, repeatWindowMs: options.repeatWindowMs });

  /** The group's key expression, and how an index of a period becomes its label. */
  function keyOf(
    q: StatsQuery,
    timeColumn: string,
    unitColumn = 't.customer_id',
  ): { expr: RawBuilder<string | number | null>; label: (k: unknown) => string } {
    switch (q.by) {
      case 'level':
        return { expr: sql`t.level`, label: String };
      case 'fault':
        return { expr: sql`coalesce(t.fault_code, '')`, label: String };
      case 'model':
        return { expr: sql`coalesce(v.model, '')`, label: String };
      case 'unit':
        return { expr: sql`coalesce(${sql.ref(unitColumn)}, '')`, label: String };
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

  /** The service statistics' sums per group, read from the tickets received in [from, to). */
  async function rawSums(
    keyExpr: RawBuilder<string | number | null>,
    from: number,
    to: number,
    join: {
      vehicles?: boolean;
      /** left: every ticket, once per quality record if it has any; inner: per quality record; once: the tickets with any, once each. */
      quality?: 'left' | 'inner' | 'once';
    } = {},
  ): Promise<Map<string, StatSums>> {
    const w = options.repeatWindowMs;
    const rows = await db
      .selectFrom('tickets as t')
      .leftJoin('ticket_outcomes as o', 'o.ticket_id', 't.id')
      .$if(join.vehicles === true, (b) => b.leftJoin('vehicles as v', 'v.id', 't.vehicle_id'))
      .$if(join.quality === 'left', (b) => b.leftJoin('quality_records as qr', 'qr.ticket_id', 't.id'))
      .$if(join.quality === 'inner', (b) => b.innerJoin('quality_records as qr', 'qr.ticket_id', 't.id'))
      .$if(join.quality === 'once', (b) =>
        b.where('t.id', 'in', (eb) => eb.selectFrom('quality_records').select('ticket_id')),
      )
      .select([keyExpr.as('key'), ...ticketSumColumns(w)])
      .where('t.received_at', '>=', from)
      .where('t.received_at', '<', to)
      .where('t.status', '<>', 'cancelled')
      // a former 常规 ticket moved to a service order (migration 0023) is no emergency task
      .where('t.service_order_id', 'is', null)
      .groupBy(sql`1`)
      .execute();
    return new Map(rows.map((r) => [String(r.key ?? ''), sumsOfRow(r)]));
  }

  return {
    /**
     * Deadlines met  return {
    /**
     * Deadlines met per level (or any dimension), MTTR, restore, arrival, first-time fix, remote,
     * repeats. The whole local days of the window come from the daily rollup (service/stat-days.ts,
     * brought up to date first), the part-days at its edges and the supplier parts from the tickets.
     */
    async service(q: StatsQuery): Promise<ServiceStatsRow[]> {
      const key = keyOf(q, 't.received_at');
      const groups = new Map<string, StatSums>();
      const add = (k: string, sums: StatSums) => {
        const g = groups.get(k);
        if (g) addSums(g, sums);
        else groups.set(k, { ...sums });
      };
      const tz = options.timeZone;
      const dayOfFrom = dayStartOf(q.from, tz);
      const first = dayOfFrom === q.from ? q.from : nextDayStart(dayOfFrom, tz);
      const last = dayStartOf(q.to, tz);
      const rolled = first < last && options.rollup !== false;
      const join = { vehicles: q.by === 'model' };
      /** The part-days at the window's edges, read from the tickets. */
      const edges = async (keyExpr: RawBuilder<string | number | null>) => {
        if (q.from < first) for (const [k, sums] of await rawSums(keyExpr, q.from, first, join)) add(k, sums);
        if (last < q.to) for (const [k, sums] of await rawSums(keyExpr, last, q.to, join)) add(k, sums);
      };
      if (!rolled) {
        const quality = q.by === 'supplier_part' ? ('left' as const) : undefined;
        for (const [k, sums] of await rawSums(key.expr, q.from, q.to, { ...join, quality })) add(k, sums);
      } else if (q.by === 'supplier_part') {
        // the attributed tickets per part from their quality records (few); the rest ('') is every
        // ticket, added up as the other views do, less the attributed ones counted once each
        await statDays.refresh();
        for (const d of await statDays.days(first, last)) add('', d.sums);
        await edges(sql<string>`''`);
        const once = (await rawSums(sql<string>`''`, q.from, q.to, { quality: 'once' })).get('');
        if (once) subtractSums(groups.get('')!, once);
        if (groups.get('')?.tickets === 0) groups.delete('');
        for (const [k, sums] of await rawSums(key.expr, q.from, q.to, { quality: 'inner' })) add(k, sums);
      } else {
        await statDays.refresh();
        if (q.by === 'period') {
          const starts = periodStarts(q.from, q.to, q.period ?? 'month', tz);
          for (const d of await statDays.days(first, last)) add(String(periodIndex(starts, d.day)), d.sums);
        } else {
          for (const [k, sums] of await statDays.sums(q.by, first, last)) add(k, sums);
        }
        await edges(key.expr);
      }
      const order =
        q.by === 'period'
          ? (a: string, b: string) => Number(a) - Number(b)
          : (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      return [...groups.keys()].sort(order).map((k) => {
        const g = groups.get(k)!;
        const repeats = g.repeats;
        return {
          key: key.label(k),
          tickets: g.tickets,
          workContent: { met: g.wcMet, total: g.tickets, rate: rate(g.wcMet, g.tickets) },
          plan: { met: g.planMet, total: g.planTotal, rate: rate(g.planMet, g.planTotal) },
          closed: g.closed,
          mttrMs: g.closed > 0 ? g.mttrSum / g.closed : null,
          restore: { count: g.restored, avgMs: g.restored > 0 ? g.restoreSum / g.restored : null },
          arrive: { count: g.arrived, avgMs: g.arrived > 0 ? g.arriveSum / g.arrived : null },
          firstTimeFix: { count: g.closed - repeats, rate: rate(g.closed - repeats, g.closed) },
          remote: { count: g.remote, rate: rate(g.remote, g.closed) },
          repeats,
        };
      });
    },

    /** Survey response rate and scores (the period is the survey's sending time). */
    async surveys(q: StatsQuery): Promise<SurveyStatsRow[]> {
      // the survey row holds its ticket's unit and vehicle: the ticket is read only for its level and fault
      const key = keyOf(q, 's.sent_at', 's.customer_id');
      const rows = await db
        .selectFrom('service_surveys as s')
        .$if(q.by === 'level' || q.by === 'fault', (b) => b.innerJoin('tickets as t', 't.id', 's.ticket_id'))
        .leftJoin('survey_follow_ups as f', 'f.survey_id', 's.id')
        .$if(q.by === 'model', (b) => b.leftJoin('vehicles as v', 'v.id', 's.vehicle_id'))
        .$if(q.by === 'supplier_part', (b) => b.leftJoin('quality_records as qr', 'qr.ticket_id', 's.ticket_id'))
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
      // grouped first, the vehicle's model read for the groups kept only (not for every ticket)
      const groups = db
        .selectFrom('tickets as t')
        .select([
          't.vehicle_id',
          't.fault_code',
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
        .as('g');
      const rows = await db
        .selectFrom(groups)
        .leftJoin('vehicles as v', 'v.id', 'g.vehicle_id')
        .select(['g.vehicle_id', 'g.fault_code', 'v.model', 'g.customer_id', 'g.n', 'g.last_at'])
        .orderBy('g.n', 'desc')
        .orderBy('g.vehicle_id')
        .orderBy('g.fault_code')
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
