import { sql } from 'kysely';
import type { RecordsDb } from '../records/db.ts';
import type {} from '../diagnostics/support-plans/plans.ts';
import { SERVICE_MODE_LABELS, type ServiceMode } from '../diagnostics/tickets/status.ts';
import type {} from '../notifications/contacts.ts';
import type {} from './records.ts';

/** At most this many tickets in one file (newest first); `ticketCount` says how many there are. */
export const FILE_MAX_TICKETS = 500;
/** At most this many service orders in one file (newest first); `orderCount` says how many there are. */
export const FILE_MAX_ORDERS = 500;
/** At most this many report entries in one file (newest first). */
export const FILE_MAX_REPORTS = 500;

/** The ticket statuses from which the ticket's 《售后服务报告》 is part of its record. */
const REPORTED_TICKET_STATUSES = ['repaired', 'verified', 'closed'];

/** The documents a unit's records make (generated on the fly by the report routes, never stored). */
export const FILE_REPORT_KINDS = [
  'service_report',
  'support_plan',
  'contact_letter',
  'shipment_notice',
  'patrol_report',
  'training_report',
  'accompanying_report',
] as const;
export type FileReportKind = (typeof FILE_REPORT_KINDS)[number];

/** Titles in the plan's own words (the same as the documents' own: reports/labels.ts, support-plan-forms.ts, order-labels.ts). */
export const FILE_REPORT_TITLES: Record<FileReportKind, { zh: string; en: string }> = {
  service_report: { zh: '售后服务报告', en: 'After-sales service report' },
  support_plan: { zh: '专项保障工作计划', en: 'Special support work plan' },
  contact_letter: { zh: '售后服务工作联系函', en: 'After-sales service work contact letter' },
  shipment_notice: { zh: '售后服务发运通知', en: 'After-sales service shipment notice' },
  patrol_report: { zh: '巡检巡修服务报告', en: 'Patrol inspection and repair service report' },
  training_report: { zh: '技术培训服务报告', en: 'Technical training service report' },
  accompanying_report: { zh: '伴随保障服务报告', en: 'Accompanying support service report' },
};

const ORDER_REPORT: Record<string, FileReportKind> = {
  patrol_inspection: 'patrol_report',
  training: 'training_report',
  accompanying_support: 'accompanying_report',
};
const PLAN_FORMS = [
  ['support_plan', 'plan'],
  ['contact_letter', 'contact-letter'],
  ['shipment_notice', 'shipment-notice'],
] as const;

export interface FileReport {
  kind: FileReportKind;
  title: { zh: string; en: string };
  /** What the document is of: a ticket or a service order, by id and number. */
  ticketId: number | null;
  orderId: number | null;
  number: string;
  /** When the document became available: the ticket first reached repaired, the plan was first issued, the order was done. */
  availableAt: number;
  /** The routes that render it (`?lang=zh|en`). */
  html: string;
  pdf: string;
}

export interface CustomerFile {
  unit: { id: string; name: string; createdAt: number };
  contacts: { id: number; name: string; role: string | null; phone: string | null; email: string | null }[];
  vehicles: { id: string; name: string; model: string; deliveredAt: number | null; assignedAt: number }[];
  tickets: {
    id: number;
    number: string;
    level: string;
    status: string;
    title: string;
    vehicleId: string | null;
    faultCode: string | null;
    serviceMode: string | null;
    receivedAt: number;
    closedAt: number | null;
  }[];
  ticketCount: number;
  surveys: {
    ticketId: number;
    ticketNumber: string;
    sentAt: number;
    answeredAt: number | null;
    scores: { response: number; quality: number; attitude: number } | null;
    comments: string | null;
  }[];
  orders: {
    id: number;
    number: string;
    kind: string;
    kindLabel: { zh: string; en: string };
    status: string;
    title: string;
    /** YYYY-MM-DD, the date asked for. */
    requestedDate: string;
    scheduledStart: number | null;
    signedOff: boolean;
  }[];
  orderCount: number;
  /** The documents the records make, newest first (at most FILE_MAX_REPORTS). */
  reports: FileReport[];
}

export interface FileMatch {
  customerId: string;
  name: string;
  /** What matched: the unit's name, one of its vehicles (id, name or model), a ticket or a service order number. */
  matched: 'unit' | 'vehicle' | 'ticket' | 'order';
  detail: string;
}

/** `%` and `_` typed by people match themselves. */
const likeOf = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The customer file (客户信息系统/服务记录系统): a unit's contacts, vehicles with their model and
 * delivery date, every ticket, service order, survey and report, and the search over units by
 * name, vehicle, ticket or service order number. The caller decides whose file may be read (routes: a
 * customer only its own unit's).
 */
export function createCustomerFiles(deps: { db: RecordsDb }) {
  const { db } = deps;

  /**
   * The unit's documents, from three bounded SQL queries (one row per ticket or order, grouped in
   * the database): tickets that reached repaired/verified/closed (their 《售后服务报告》), tickets
   * with an issued support plan (its three forms), done service orders (their kind's report).
   */
  async function reportsOf(customerId: string): Promise<FileReport[]> {
    const [repaired, planned, done] = await Promise.all([
      db
        .selectFrom('tickets as t')
        .innerJoin('ticket_timeline as l', 'l.ticket_id', 't.id')
        .select(['t.id', 't.number', (eb) => eb.fn.min('l.at').as('at')])
        .where('t.customer_id', '=', customerId)
        .where('l.to_status', 'in', REPORTED_TICKET_STATUSES)
        .groupBy(['t.id', 't.number'])
        .orderBy('at', 'desc')
        .limit(FILE_MAX_REPORTS)
        .execute(),
      db
        .selectFrom('tickets as t')
        .innerJoin('support_plan_versions as p', 'p.ticket_id', 't.id')
        .select(['t.id', 't.number', (eb) => eb.fn.min('p.issued_at').as('at')])
        .where('t.customer_id', '=', customerId)
        .where('p.status', '=', 'issued')
        .groupBy(['t.id', 't.number'])
        .orderBy('at', 'desc')
        .limit(Math.ceil(FILE_MAX_REPORTS / PLAN_FORMS.length))
        .execute(),
      db
        .selectFrom('service_orders as o')
        .leftJoin('service_order_events as e', (j) => j.onRef('e.order_id', '=', 'o.id').on('e.to_status', '=', 'done'))
        // an order done before its events were kept: when it was last updated
        .select(['o.id', 'o.number', 'o.kind', sql<number>`coalesce(max(e.at), o.updated_at)`.as('at')])
        .where('o.customer_id', '=', customerId)
        .where('o.status', '=', 'done')
        .groupBy(['o.id', 'o.number', 'o.kind', 'o.updated_at'])
        .orderBy('at', 'desc')
        .limit(FILE_MAX_REPORTS)
        .execute(),
    ]);
    const out: FileReport[] = [];
    for (const r of repaired) {
      const id = Number(r.id);
      out.push({
        kind: 'service_report',
        title: FILE_REPORT_TITLES.service_report,
        ticketId: id,
        orderId: null,
        number: r.number,
        availableAt: Number(r.at),
        html: `/api/tickets/${id}/report.html`,
        pdf: `/api/tickets/${id}/report.pdf`,
      });
    }
    for (const r of planned) {
      const id = Number(r.id);
      for (const [kind, form] of PLAN_FORMS)
        out.push({
          kind,
          title: FILE_REPORT_TITLES[kind],
          ticketId: id,
          orderId: null,
          number: r.number,
          availableAt: Number(r.at),
          html: `/api/tickets/${id}/support-plan/${form}.html`,
          pdf: `/api/tickets/${id}/support-plan/${form}.pdf`,
        });
    }
    for (const r of done) {
      const id = Number(r.id);
      const kind = ORDER_REPORT[r.kind];
      if (!kind) continue;
      out.push({
        kind,
        title: FILE_REPORT_TITLES[kind],
        ticketId: null,
        orderId: id,
        number: r.number,
        availableAt: Number(r.at),
        html: `/api/service-orders/${id}/report.html`,
        pdf: `/api/service-orders/${id}/report.pdf`,
      });
    }
    return out
      .sort((a, b) => b.availableAt - a.availableAt || a.number.localeCompare(b.number))
      .slice(0, FILE_MAX_REPORTS);
  }

  return {
    async file(customerId: string): Promise<CustomerFile | undefined> {
      const unit = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
      if (!unit) return undefined;
      const [contacts, vehicles, tickets, count, surveys, orders, orderCount, reports] = await Promise.all([
        db
          .selectFrom('notification_contacts')
          .select(['id', 'name', 'role', 'phone', 'email'])
          .where('customer_id', '=', customerId)
          .orderBy('id')
          .execute(),
        db
          .selectFrom('vehicles')
          .select(['id', 'name', 'model', 'delivered_at', 'assigned_at', 'created_at'])
          .where('customer_id', '=', customerId)
          .orderBy('id')
          .execute(),
        db
          .selectFrom('tickets as t')
          .leftJoin('ticket_outcomes as o', 'o.ticket_id', 't.id')
          .select([
            't.id',
            't.number',
            't.level',
            't.status',
            't.title',
            't.vehicle_id',
            't.fault_code',
            't.service_mode',
            't.received_at',
            'o.closed_at',
          ])
          .where('t.customer_id', '=', customerId)
          .orderBy('t.received_at', 'desc')
          .orderBy('t.id', 'desc')
          .limit(FILE_MAX_TICKETS)
          .execute(),
        db
          .selectFrom('tickets')
          .select(sql<number>`count(*)`.as('n'))
          .where('customer_id', '=', customerId)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('service_surveys as s')
          .innerJoin('tickets as t', 't.id', 's.ticket_id')
          .select([
            's.ticket_id',
            't.number',
            's.sent_at',
            's.answered_at',
            's.score_response',
            's.score_quality',
            's.score_attitude',
            's.comments',
          ])
          .where('s.customer_id', '=', customerId)
          .orderBy('s.sent_at', 'desc')
          .limit(FILE_MAX_TICKETS)
          .execute(),
        db
          .selectFrom('service_orders')
          .select(['id', 'number', 'kind', 'status', 'title', 'requested_date', 'scheduled_start', 'signed_at'])
          .where('customer_id', '=', customerId)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(FILE_MAX_ORDERS)
          .execute(),
        db
          .selectFrom('service_orders')
          .select(sql<number>`count(*)`.as('n'))
          .where('customer_id', '=', customerId)
          .executeTakeFirstOrThrow(),
        reportsOf(customerId),
      ]);
      return {
        unit: { id: unit.id, name: unit.name, createdAt: Number(unit.created_at) },
        contacts: contacts.map((c) => ({ ...c, id: Number(c.id) })),
        vehicles: vehicles.map((v) => ({
          id: v.id,
          name: v.name,
          model: v.model,
          deliveredAt: v.delivered_at === null ? null : Number(v.delivered_at),
          assignedAt: Number(v.assigned_at ?? v.created_at),
        })),
        tickets: tickets.map((t) => ({
          id: Number(t.id),
          number: t.number,
          level: t.level,
          status: t.status,
          title: t.title,
          vehicleId: t.vehicle_id,
          faultCode: t.fault_code,
          serviceMode: t.service_mode,
          receivedAt: Number(t.received_at),
          closedAt: t.closed_at === null ? null : Number(t.closed_at),
        })),
        ticketCount: Number(count.n),
        surveys: surveys.map((s) => ({
          ticketId: Number(s.ticket_id),
          ticketNumber: s.number,
          sentAt: Number(s.sent_at),
          answeredAt: s.answered_at === null ? null : Number(s.answered_at),
          scores:
            s.answered_at === null
              ? null
              : { response: s.score_response ?? 0, quality: s.score_quality ?? 0, attitude: s.score_attitude ?? 0 },
          comments: s.comments,
        })),
        orders: orders.map((o) => ({
          id: Number(o.id),
          number: o.number,
          kind: o.kind,
          kindLabel: SERVICE_MODE_LABELS[o.kind as ServiceMode] ?? { zh: o.kind, en: o.kind },
          status: o.status,
          title: o.title,
          requestedDate: o.requested_date,
          scheduledStart: o.scheduled_start === null ? null : Number(o.scheduled_start),
          signedOff: o.signed_at !== null,
        })),
        orderCount: Number(orderCount.n),
        reports,
      };
    },

    /** Units whose name, vehicle (id, name, model), ticket or service order number contains `q`; `scope`: only that unit. */
    async search(q: string, scope?: string, limit = 20): Promise<FileMatch[]> {
      const like = likeOf(q);
      const esc = sql`escape '\\'`;
      const units = await db
        .selectFrom('customers')
        .select(['id', 'name'])
        .where(sql<boolean>`lower(name) like lower(${like}) ${esc}`)
        .$if(scope !== undefined, (b) => b.where('id', '=', scope!))
        .orderBy('name')
        .limit(limit)
        .execute();
      const vehicles = await db
        .selectFrom('vehicles as v')
        .innerJoin('customers as c', 'c.id', 'v.customer_id')
        .select(['c.id', 'c.name', 'v.id as vehicle_id', 'v.name as vehicle_name', 'v.model'])
        .where((eb) =>
          eb.or([
            sql<boolean>`lower(v.id) like lower(${like}) ${esc}`,
            sql<boolean>`lower(v.name) like lower(${like}) ${esc}`,
            sql<boolean>`lower(v.model) like lower(${like}) ${esc}`,
          ]),
        )
        .$if(scope !== undefined, (b) => b.where('c.id', '=', scope!))
        .orderBy('v.id')
        .limit(limit)
        .execute();
      const tickets = await db
        .selectFrom('tickets as t')
        .innerJoin('customers as c', 'c.id', 't.customer_id')
        .select(['c.id', 'c.name', 't.number'])
        .where(sql<boolean>`upper(t.number) like upper(${like}) ${esc}`)
        .$if(scope !== undefined, (b) => b.where('c.id', '=', scope!))
        .orderBy('t.number')
        .limit(limit)
        .execute();
      const orders = await db
        .selectFrom('service_orders as o')
        .innerJoin('customers as c', 'c.id', 'o.customer_id')
        .select(['c.id', 'c.name', 'o.number'])
        .where(sql<boolean>`upper(o.number) like upper(${like}) ${esc}`)
        .$if(scope !== undefined, (b) => b.where('c.id', '=', scope!))
        .orderBy('o.number')
        .limit(limit)
        .execute();
      return [
        ...units.map((u) => ({ customerId: u.id, name: u.name, matched: 'unit' as const, detail: u.name })),
        ...vehicles.map((v) => ({
          customerId: v.id,
          name: v.name,
          matched: 'vehicle' as const,
          detail: `${v.vehicle_id} ${v.vehicle_name} (${v.model})`,
        })),
        ...tickets.map((t) => ({ customerId: t.id, name: t.name, matched: 'ticket' as const, detail: t.number })),
        ...orders.map((o) => ({ customerId: o.id, name: o.name, matched: 'order' as const, detail: o.number })),
      ].slice(0, limit);
    },

    /** Sets (or clears) a vehicle's delivery date; false when there is no such vehicle. */
    async setDeliveredAt(vehicleId: string, at: number | null): Promise<boolean> {
      const r = await db
        .updateTable('vehicles')
        .set({ delivered_at: at })
        .where('id', '=', vehicleId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}

export type CustomerFiles = ReturnType<typeof createCustomerFiles>;
