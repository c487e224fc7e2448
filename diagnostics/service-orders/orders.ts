import type { Selectable } from 'kysely';
import { cursors } from '../../core/cursor.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { inTransaction, inTransactionRetryingUnique, type RecordsDb } from '../../records/db.ts';
import type { ServiceOrdersTable } from '../../records/schema.ts';
import type { Contact } from '../types.ts';
import { createOrderRecords, type OrderApplication, type SignOff } from './order-records.ts';

/**
 * Service orders (服务申请): the plan's planned services — patrol inspection and repair (巡检巡修),
 * technical training (技术培训), accompanying support (伴随保障) — requested by application with the
 * place, date and people, scheduled by the duty desk, with their own lifecycle and no 30-minute
 * clock. Emergencies are tickets (diagnostics/tickets/), 特急 and 加急 only.
 *
 * requested → scheduled → in progress → done; cancelled from requested or scheduled. Each step is
 * one transaction with its event. Each kind's own application, team and records (visits and
 * findings, attendees and assessment, the daily log) are order-records.ts; the reports reports/.
 */
export const SERVICE_ORDER_KINDS = ['patrol_inspection', 'training', 'accompanying_support'] as const;
export type ServiceOrderKind = (typeof SERVICE_ORDER_KINDS)[number];
export const SERVICE_ORDER_STATUSES = ['requested', 'scheduled', 'in_progress', 'done', 'cancelled'] as const;
export type ServiceOrderStatus = (typeof SERVICE_ORDER_STATUSES)[number];
export const SERVICE_ORDER_ACTIONS = ['schedule', 'start', 'complete', 'cancel'] as const;
export type ServiceOrderAction = (typeof SERVICE_ORDER_ACTIONS)[number];

export const SERVICE_ORDER_KIND_LABELS: Record<ServiceOrderKind, { en: string; zh: string }> = {
  patrol_inspection: { en: 'Patrol inspection and repair', zh: '巡检巡修' },
  training: { en: 'Technical training', zh: '技术培训' },
  accompanying_support: { en: 'Accompanying support', zh: '伴随保障' },
};

/** Which action moves an order from which statuses to where (re-scheduling a scheduled order is allowed). */
export const ORDER_TRANSITIONS: Record<
  ServiceOrderAction,
  { from: readonly ServiceOrderStatus[]; to: ServiceOrderStatus }
> = {
  schedule: { from: ['requested', 'scheduled'], to: 'scheduled' },
  start: { from: ['scheduled'], to: 'in_progress' },
  complete: { from: ['in_progress'], to: 'done' },
  cancel: { from: ['requested', 'scheduled'], to: 'cancelled' },
};

export interface ServiceOrder {
  id: number;
  /** SO-<unit>-0001: counted per customer unit. */
  number: string;
  kind: ServiceOrderKind;
  status: ServiceOrderStatus;
  customerId: string;
  vehicleId: string | null;
  title: string;
  details: string;
  place: string;
  /** YYYY-MM-DD as asked for. */
  requestedDate: string;
  people: number;
  contacts: Contact[];
  requestedBy: string;
  scheduledStart: number | null;
  scheduledEnd: number | null;
  team: string | null;
  /** The former 常规 ticket it was moved from (migration 0023). */
  fromTicketId: number | null;
  /** The kind's application (null: requested before applications had one). */
  application: OrderApplication | null;
  /** The outcome written at completion (结论). */
  outcome: string | null;
  /** The customer side's sign-off of the done order (双方确认). */
  signOff: SignOff | null;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceOrderEvent {
  at: number;
  actor: string;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
}

export interface ServiceOrderRequest {
  kind: ServiceOrderKind;
  customerId: string;
  vehicleId: string | null;
  title: string;
  details: string;
  place: string;
  requestedDate: string;
  people: number;
  contacts: Contact[];
  application?: OrderApplication | null;
}

export interface ScheduleInput {
  scheduledStart: number;
  scheduledEnd: number | null;
  team: string | null;
}

export interface ServiceOrderQuery {
  customerId?: string;
  status?: ServiceOrderStatus[];
  kind?: ServiceOrderKind;
  limit?: number;
  cursor?: string;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function toOrder(r: Selectable<ServiceOrdersTable>): ServiceOrder {
  return {
    id: Number(r.id),
    number: r.number,
    kind: r.kind as ServiceOrderKind,
    status: r.status as ServiceOrderStatus,
    customerId: r.customer_id,
    vehicleId: r.vehicle_id,
    title: r.title,
    details: r.details,
    place: r.place,
    requestedDate: r.requested_date,
    people: Number(r.people),
    contacts: JSON.parse(r.contacts) as Contact[],
    requestedBy: r.requested_by,
    scheduledStart: num(r.scheduled_start),
    scheduledEnd: num(r.scheduled_end),
    team: r.team,
    fromTicketId: num(r.from_ticket_id),
    application: r.application ? (JSON.parse(r.application) as OrderApplication) : null,
    outcome: r.outcome,
    signOff:
      r.signed_at === null
        ? null
        : { at: Number(r.signed_at), by: r.signed_by ?? '', name: r.signed_name ?? '', note: r.sign_note },
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function serviceOrderNumber(customerId: string, seq: number): string {
  return `SO-${customerId}-${String(seq).padStart(4, '0')}`;
}

export function createServiceOrders(deps: { db: RecordsDb; log: Logger; now?: () => number }) {
  const { db, log } = deps;
  const now = deps.now ?? Date.now;

  async function find(h: RecordsDb, id: number): Promise<ServiceOrder> {
    const row = await h.selectFrom('service_orders').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new PlatformError('SERVICE_ORDER_NOT_FOUND', `service order ${id} not found`);
    return toOrder(row);
  }

  async function event(h: RecordsDb, orderId: number, e: ServiceOrderEvent): Promise<void> {
    await h
      .insertInto('service_order_events')
      .values({
        order_id: orderId,
        at: e.at,
        actor: e.actor,
        action: e.action,
        from_status: e.fromStatus,
        to_status: e.toStatus,
        note: e.note,
      })
      .execute();
  }

  return {
    /** Each kind's team, records and the customer's sign-off (order-records.ts). */
    records: createOrderRecords({ db, log, now }),

    /** A request by application (the customer for its own unit, or the duty desk on its behalf). */
    async request(r: ServiceOrderRequest, actor: string): Promise<ServiceOrder> {
      const at = now();
      // the unit's next number is max + 1: two requests at once on PostgreSQL, the second tries again
      const order = await inTransactionRetryingUnique(db, async (tx) => {
        const last = await tx
          .selectFrom('service_orders')
          .select((eb) => eb.fn.max('unit_seq').as('n'))
          .where('customer_id', '=', r.customerId)
          .executeTakeFirst();
        const seq = Number(last?.n ?? 0) + 1;
        const res = await tx
          .insertInto('service_orders')
          .values({
            number: serviceOrderNumber(r.customerId, seq),
            unit_seq: seq,
            kind: r.kind,
            status: 'requested',
            customer_id: r.customerId,
            vehicle_id: r.vehicleId,
            title: r.title,
            details: r.details,
            place: r.place,
            requested_date: r.requestedDate,
            people: r.people,
            contacts: JSON.stringify(r.contacts),
            requested_by: actor,
            scheduled_start: null,
            scheduled_end: null,
            team: null,
            from_ticket_id: null,
            application: r.application ? JSON.stringify(r.application) : null,
            created_at: at,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const id = Number(res.id);
        await event(tx, id, { at, actor, action: 'requested', fromStatus: null, toStatus: 'requested', note: null });
        return find(tx, id);
      });
      log.info({ order: order.number, kind: order.kind }, 'service order requested');
      return order;
    },

    /** Moves an order along its lifecycle; `schedule` sets when and who (the team). */
    async act(
      id: number,
      action: ServiceOrderAction,
      actor: string,
      input: { note?: string | null; schedule?: ScheduleInput } = {},
    ): Promise<ServiceOrder> {
      const at = now();
      return inTransaction(db, async (tx) => {
        const before = await find(tx, id);
        const t = ORDER_TRANSITIONS[action];
        if (!t.from.includes(before.status))
          throw new PlatformError(
            'INVALID_TRANSITION',
            `cannot ${action} a service order that is ${before.status.replace(/_/g, ' ')}`,
          );
        if (action === 'schedule' && !input.schedule)
          throw new PlatformError('VALIDATION_FAILED', 'body.scheduledStart: say when the service starts');
        const s = action === 'schedule' ? input.schedule : undefined;
        const res = await tx
          .updateTable('service_orders')
          .set({
            status: t.to,
            ...(s ? { scheduled_start: s.scheduledStart, scheduled_end: s.scheduledEnd, team: s.team } : {}),
            // the completion's note is the order's outcome (结论), printed in its report
            ...(action === 'complete' ? { outcome: input.note ?? null } : {}),
            updated_at: at,
          })
          .where('id', '=', id)
          .where('status', '=', before.status)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1)
          throw new PlatformError('INVALID_TRANSITION', 'the service order changed meanwhile; reload and try again');
        const note = s
          ? [new Date(s.scheduledStart).toISOString(), s.team, input.note].filter(Boolean).join('; ')
          : (input.note ?? null);
        await event(tx, id, { at, actor, action, fromStatus: before.status, toStatus: t.to, note: note || null });
        return find(tx, id);
      });
    },

    get: (id: number): Promise<ServiceOrder> => find(db, id),

    async events(id: number): Promise<ServiceOrderEvent[]> {
      const rows = await db
        .selectFrom('service_order_events')
        .selectAll()
        .where('order_id', '=', id)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        at: Number(r.at),
        actor: r.actor,
        action: r.action,
        fromStatus: r.from_status,
        toStatus: r.to_status,
        note: r.note,
      }));
    },

    /** Newest first, filtered and paged by the database. */
    async page(q: ServiceOrderQuery = {}): Promise<{ orders: ServiceOrder[]; nextCursor: string | null }> {
      const limit = q.limit ?? 100;
      const list = `service-orders:${JSON.stringify([q.customerId ?? null, q.status ?? null, q.kind ?? null])}`;
      const before = q.cursor === undefined ? null : cursors.decode(q.cursor, list, 1)[0]!;
      let query = db.selectFrom('service_orders').selectAll();
      if (q.customerId !== undefined) query = query.where('customer_id', '=', q.customerId);
      if (q.status?.length) query = query.where('status', 'in', q.status);
      if (q.kind) query = query.where('kind', '=', q.kind);
      if (before !== null) query = query.where('id', '<', before);
      const rows = await query
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const orders = rows.slice(0, limit).map(toOrder);
      const last = orders[orders.length - 1];
      return { orders, nextCursor: rows.length > limit && last ? cursors.encode([last.id], list) : null };
    },
  };
}

export type ServiceOrders = ReturnType<typeof createServiceOrders>;
