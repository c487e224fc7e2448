import { sql } from 'kysely';
import type { RecordsDb } from '../records/db.ts';
import type {} from '../notifications/contacts.ts';
import type {} from './records.ts';

/** At most this many tickets in one file (newest first); `ticketCount` says how many there are. */
export const FILE_MAX_TICKETS = 500;

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
  /** Service reports: a seam — the reports (issue 13 item 4) are not recorded yet; always empty until then. */
  reports: { ticketId: number; kind: string; createdAt: number }[];
}

export interface FileMatch {
  customerId: string;
  name: string;
  /** What matched: the unit's name, one of its vehicles (id, name or model), or a ticket number. */
  matched: 'unit' | 'vehicle' | 'ticket';
  detail: string;
}

/** `%` and `_` typed by people match themselves. */
const likeOf = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The customer file (客户信息系统/服务记录系统): a unit's contacts, vehicles with their model and
 * delivery date, every ticket, survey (and report, when they are recorded), and the search over
 * units by name, vehicle or ticket number. The caller decides whose file may be read (routes: a
 * customer only its own unit's).
 */
export function createCustomerFiles(deps: { db: RecordsDb }) {
  const { db } = deps;
  return {
    async file(customerId: string): Promise<CustomerFile | undefined> {
      const unit = await db.selectFrom('customers').selectAll().where('id', '=', customerId).executeTakeFirst();
      if (!unit) return undefined;
      const [contacts, vehicles, tickets, count, surveys] = await Promise.all([
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
        reports: [],
      };
    },

    /** Units whose name, vehicle (id, name, model) or ticket number contains `q`; `scope`: only that unit. */
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
      return [
        ...units.map((u) => ({ customerId: u.id, name: u.name, matched: 'unit' as const, detail: u.name })),
        ...vehicles.map((v) => ({
          customerId: v.id,
          name: v.name,
          matched: 'vehicle' as const,
          detail: `${v.vehicle_id} ${v.vehicle_name} (${v.model})`,
        })),
        ...tickets.map((t) => ({ customerId: t.id, name: t.name, matched: 'ticket' as const, detail: t.number })),
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
