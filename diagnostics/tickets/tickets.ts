import type { Selectable } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { TicketsTable } from '../../records/schema.ts';
import type { Contact, Ticket, TimelineEntry } from '../types.ts';
import {
  DEADLINE_MS,
  deadlinesFor,
  higherLevel,
  nextStatus,
  OPEN_STATUSES,
  type ServiceMode,
  type TicketAction,
  type TicketLevel,
  type TicketStatus,
} from './status.ts';

export interface NewTicket {
  source: 'rule' | 'hotline' | 'customer';
  vehicleId?: string | null;
  customerId?: string | null;
  level: TicketLevel;
  title: string;
  need: string;
  contacts?: Contact[];
  faultCode?: string | null;
  incidentId?: number | null;
  serviceMode?: ServiceMode | null;
  planRef?: { code: string; version: number } | null;
  snapshot?: unknown;
}

export interface TicketFilter {
  status?: TicketStatus[];
  open?: boolean;
  level?: TicketLevel;
  customerId?: string;
  vehicleId?: string;
  limit?: number;
}

type Row = Selectable<TicketsTable>;

function toTicket(r: Row): Ticket {
  return {
    id: Number(r.id),
    number: r.number,
    source: r.source,
    vehicleId: r.vehicle_id,
    customerId: r.customer_id,
    level: r.level,
    status: r.status as TicketStatus,
    title: r.title,
    need: r.need,
    contacts: JSON.parse(r.contacts) as Contact[],
    faultCode: r.fault_code,
    incidentId: r.incident_id === null ? null : Number(r.incident_id),
    serviceMode: r.service_mode as ServiceMode | null,
    assignee: r.assignee,
    escalatedTo: r.escalated_to,
    receivedAt: Number(r.received_at),
    workContentDueAt: Number(r.work_content_due_at),
    workContentDoneAt: r.work_content_done_at === null ? null : Number(r.work_content_done_at),
    planDueAt: r.plan_due_at === null ? null : Number(r.plan_due_at),
    planDoneAt: r.plan_done_at === null ? null : Number(r.plan_done_at),
    breaches: JSON.parse(r.breaches) as Ticket['breaches'],
    planRef: r.plan_ref ? (JSON.parse(r.plan_ref) as Ticket['planRef']) : null,
    updatedAt: Number(r.updated_at),
  };
}

export interface TicketEvents {
  opened(ticket: Ticket): void;
  updated(ticket: Ticket, action: string): void;
  breached(ticket: Ticket, deadline: 'work_content' | 'plan', escalatedTo: string): void;
}

/**
 * Emergency tickets: persistence, the status machine with an append-only timeline, and the
 * 30-minute deadline timers, which are recomputed from the database at start so they survive
 * restarts. A breach is recorded once, escalated to the duty lead and announced.
 */
export function createTickets(
  deps: { db: RecordsDb; log: Logger; events: TicketEvents; now?: () => number },
  options: { dutyLead: string },
) {
  const { db, log, events } = deps;
  const now = deps.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function get(id: number, h: RecordsDb = db): Promise<Ticket> {
    const row = await h.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new PlatformError('TICKET_NOT_FOUND', `ticket ${id} not found`);
    return toTicket(row);
  }

  async function addTimeline(
    tx: RecordsDb,
    e: {
      ticketId: number;
      at: number;
      actor: string;
      action: string;
      from?: string | null;
      to?: string | null;
      note?: string | null;
    },
  ) {
    await tx
      .insertInto('ticket_timeline')
      .values({
        ticket_id: e.ticketId,
        at: e.at,
        actor: e.actor,
        action: e.action,
        from_status: e.from ?? null,
        to_status: e.to ?? null,
        note: e.note ?? null,
      })
      .execute();
  }

  /** Arms one timer for the earliest unmet, unbreached deadline of an open ticket. */
  async function schedule(): Promise<void> {
    if (!running) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    // the earliest unmet deadline not yet recorded as breached, computed by the database
    const open = [...OPEN_STATUSES];
    const work = await db
      .selectFrom('tickets')
      .select((eb) => eb.fn.min('work_content_due_at').as('due'))
      .where('status', 'in', open)
      .where('work_content_done_at', 'is', null)
      .where('breaches', 'not like', '%work_content%')
      .executeTakeFirst();
    const plan = await db
      .selectFrom('tickets')
      .select((eb) => eb.fn.min('plan_due_at').as('due'))
      .where('status', 'in', open)
      .where('plan_due_at', 'is not', null)
      .where('plan_done_at', 'is', null)
      .where('breaches', 'not like', '%plan%')
      .executeTakeFirst();
    const next = Math.min(
      work?.due == null ? Infinity : Number(work.due),
      plan?.due == null ? Infinity : Number(plan.due),
    );
    if (next === Infinity || !running) return;
    const delay = Math.min(Math.max(0, next - now()), 2 ** 31 - 1);
    timer = setTimeout(
      () => void checkDeadlines().catch((err: unknown) => log.error({ err }, 'deadline check failed')),
      delay,
    );
  }

  async function checkDeadlines(): Promise<void> {
    const at = now();
    const due = await db
      .selectFrom('tickets')
      .selectAll()
      .where('status', 'in', [...OPEN_STATUSES])
      .where((eb) => eb.or([eb('work_content_due_at', '<=', at), eb('plan_due_at', '<=', at)]))
      .execute();
    for (const row of due) {
      const t = toTicket(row);
      const missed: ('work_content' | 'plan')[] = [];
      if (t.workContentDoneAt === null && t.workContentDueAt <= at && !t.breaches.includes('work_content'))
        missed.push('work_content');
      if (t.planDueAt !== null && t.planDoneAt === null && t.planDueAt <= at && !t.breaches.includes('plan'))
        missed.push('plan');
      if (missed.length === 0) continue;
      await inTransaction(db, async (tx) => {
        await tx
          .updateTable('tickets')
          .set({ breaches: JSON.stringify([...t.breaches, ...missed]), escalated_to: options.dutyLead, updated_at: at })
          .where('id', '=', t.id)
          .execute();
        for (const m of missed) {
          await addTimeline(tx, {
            ticketId: t.id,
            at,
            actor: 'system',
            action: 'deadline_breached',
            note:
              m === 'work_content'
                ? 'work content not determined within 30 min'
                : 'support plan not issued within 30 min',
          });
        }
        await addTimeline(tx, {
          ticketId: t.id,
          at,
          actor: 'system',
          action: 'escalated',
          note: `escalated to ${options.dutyLead}`,
        });
      });
      const updated = await get(t.id);
      log.warn({ ticket: t.number, missed }, 'ticket deadline breached; escalated');
      for (const m of missed) events.breached(updated, m, options.dutyLead);
    }
    await schedule();
  }

  return {
    get,
    /**
     * Opens a ticket. Inside a caller's transaction (`tx`), announcing it (bus event, deadline timer)
     * is left to `announce()`, to be called after that transaction commits.
     */
    async open(
      input: NewTicket,
      actor: string,
      tx?: RecordsDb,
    ): Promise<{ ticket: Ticket; created: boolean; announce: () => Promise<void> }> {
      const h = tx ?? db;
      const at = now();
      const { workContentDueAt, planDueAt } = deadlinesFor(input.level, at);
      const nothing = async () => undefined;
      if (input.incidentId != null) {
        const existing = await h
          .selectFrom('tickets')
          .selectAll()
          .where('incident_id', '=', input.incidentId)
          .executeTakeFirst();
        if (existing) return { ticket: toTicket(existing), created: false, announce: nothing };
      }
      const id = await inTransaction(h, async (tx) => {
        const res = await tx
          .insertInto('tickets')
          .values({
            number: `tmp-${at}-${Math.random().toString(36).slice(2)}`,
            source: input.source,
            vehicle_id: input.vehicleId ?? null,
            customer_id: input.customerId ?? null,
            level: input.level,
            status: 'received',
            title: input.title,
            need: input.need,
            contacts: JSON.stringify(input.contacts ?? []),
            fault_code: input.faultCode ?? null,
            incident_id: input.incidentId ?? null,
            service_mode: input.serviceMode ?? null,
            assignee: null,
            escalated_to: null,
            received_at: at,
            work_content_due_at: workContentDueAt,
            work_content_done_at: null,
            plan_due_at: planDueAt,
            plan_done_at: null,
            breaches: '[]',
            plan_ref: input.planRef ? JSON.stringify(input.planRef) : null,
            snapshot: input.snapshot === undefined ? null : JSON.stringify(input.snapshot),
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const id = Number(res.id);
        const day = new Date(at).toISOString().slice(0, 10).replace(/-/g, '');
        await tx
          .updateTable('tickets')
          .set({ number: `EM${day}-${String(id).padStart(5, '0')}` })
          .where('id', '=', id)
          .execute();
        await addTimeline(tx, { ticketId: id, at, actor, action: 'received', to: 'received', note: input.need });
        return id;
      });
      const ticket = await get(id, h);
      const announce = async () => {
        events.opened(ticket);
        await schedule();
      };
      if (!tx) await announce();
      return { ticket, created: true, announce };
    },
    async list(filter: TicketFilter = {}): Promise<Ticket[]> {
      let q = db.selectFrom('tickets').selectAll();
      if (filter.status?.length) q = q.where('status', 'in', filter.status);
      if (filter.open) q = q.where('status', 'in', [...OPEN_STATUSES]);
      if (filter.level) q = q.where('level', '=', filter.level);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      if (filter.vehicleId) q = q.where('vehicle_id', '=', filter.vehicleId);
      const rows = await q
        .orderBy('work_content_due_at')
        .orderBy('id')
        .limit(filter.limit ?? 500)
        .execute();
      return rows.map(toTicket);
    },
    async timeline(id: number): Promise<TimelineEntry[]> {
      const rows = await db
        .selectFrom('ticket_timeline')
        .selectAll()
        .where('ticket_id', '=', id)
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
    async snapshot(id: number): Promise<unknown> {
      const row = await db.selectFrom('tickets').select('snapshot').where('id', '=', id).executeTakeFirst();
      if (!row) throw new PlatformError('TICKET_NOT_FOUND', `ticket ${id} not found`);
      return row.snapshot ? JSON.parse(row.snapshot) : null;
    },
    async transition(id: number, action: TicketAction, actor: string, note?: string): Promise<Ticket> {
      const t = await get(id);
      const next = nextStatus(t.level, t.status, action);
      if (!next.ok) throw new PlatformError('INVALID_TRANSITION', next.reason);
      const at = now();
      await inTransaction(db, async (tx) => {
        await tx
          .updateTable('tickets')
          .set({
            status: next.to,
            updated_at: at,
            ...(action === 'determine_work_content' ? { work_content_done_at: at } : {}),
            ...(action === 'issue_plan' ? { plan_done_at: at } : {}),
          })
          .where('id', '=', id)
          .where('status', '=', t.status) // optimistic: a concurrent transition loses
          .execute();
        await addTimeline(tx, { ticketId: id, at, actor, action, from: t.status, to: next.to, note: note ?? null });
      });
      const updated = await get(id);
      if (updated.status !== next.to)
        throw new PlatformError('INVALID_TRANSITION', 'the ticket changed meanwhile; reload and try again');
      events.updated(updated, action);
      await schedule();
      return updated;
    },
    async assign(id: number, assignee: string, actor: string): Promise<Ticket> {
      return (await update(id, actor, 'assigned', { assignee }, `assigned to ${assignee}`)).ticket;
    },
    async setServiceMode(id: number, mode: ServiceMode, actor: string): Promise<Ticket> {
      return (await update(id, actor, 'service_mode_set', { service_mode: mode }, mode)).ticket;
    },
    async comment(id: number, actor: string, text: string): Promise<Ticket> {
      return (await update(id, actor, 'comment', {}, text)).ticket;
    },
    /** Raises the level (never lowers it); a higher level can tighten the plan deadline. */
    async raiseLevel(
      id: number,
      level: TicketLevel,
      actor: string,
      reason: string,
      tx?: RecordsDb,
    ): Promise<{ ticket: Ticket; announce: () => Promise<void> }> {
      const t = await get(id, tx);
      const to = higherLevel(t.level, level);
      if (to === t.level) return { ticket: t, announce: async () => undefined };
      const plan = to === 'urgent' && t.planDueAt === null ? { plan_due_at: t.receivedAt + DEADLINE_MS } : {};
      return update(id, actor, 'level_raised', { level: to, ...plan }, `${t.level} → ${to}: ${reason}`, tx);
    },
    async start() {
      running = true;
      await checkDeadlines();
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };

  async function update(
    id: number,
    actor: string,
    action: string,
    set: Partial<Pick<Row, 'assignee' | 'service_mode' | 'level' | 'plan_due_at'>>,
    note: string,
    outer?: RecordsDb,
  ): Promise<{ ticket: Ticket; announce: () => Promise<void> }> {
    const h = outer ?? db;
    const at = now();
    await get(id, h);
    await inTransaction(h, async (tx) => {
      await tx
        .updateTable('tickets')
        .set({ ...set, updated_at: at })
        .where('id', '=', id)
        .execute();
      await addTimeline(tx, { ticketId: id, at, actor, action, note });
    });
    const t = await get(id, h);
    const announce = async () => {
      events.updated(t, action);
      if (set.plan_due_at !== undefined) await schedule();
    };
    if (!outer) await announce();
    return { ticket: t, announce };
  }
}

export type Tickets = ReturnType<typeof createTickets>;
