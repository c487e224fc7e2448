import type { Selectable, Updateable } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import type { RecordsDb } from '../../records/db.ts';
import type { TicketsTable } from '../../records/schema.ts';
import { markTicketStatsDirty } from '../../records/ticket-stat-dirty.ts';
import type { Contact, Ticket, TimelineEntry } from '../types.ts';
import type { NoteVisibility } from '../visibility.ts';
import { cursors } from '../../core/cursor.ts';
import { positionOf, queueColumns, type QueuePosition } from './queue.ts';
import type { Resolution } from './resolution.ts';
import { OPEN_STATUSES, type ServiceMode, type TicketLevel, type TicketStatus } from './status.ts';
import type { TimelineAction } from './timeline-actions.ts';

/**
 * The ticket rows and their append-only timeline: reads and writes over a records handle (the
 * database or a transaction). Only the ticket service (service.ts) writes through these; it keeps
 * the queue columns (`is_open`, `queue_due_at`) true to the row with every change.
 */

/** A ticket row as inserted: everything the service has decided. */
export interface TicketRow {
  source: Ticket['source'];
  vehicleId: string | null;
  customerId: string | null;
  level: TicketLevel;
  title: string;
  need: string;
  contacts: Contact[];
  faultCode: string | null;
  incidentId: number | null;
  serviceMode: ServiceMode | null;
  planRef: Ticket['planRef'];
  snapshot: unknown;
  /** What the opener proposed; the level stays unconfirmed unless `confirmedBy` (the duty desk opening it) is given. */
  proposedLevel?: TicketLevel;
  confirmedBy?: string | null;
  place?: string | null;
  province?: Ticket['province'];
  deadlinesApply?: boolean;
}

/** Filters of the ticket list, all applied by the database. */
export interface TicketQuery {
  status?: TicketStatus[];
  /** true: only open tickets; false: only closed or cancelled ones. */
  open?: boolean;
  level?: TicketLevel;
  customerId?: string;
  vehicleId?: string;
  assignee?: string;
  /** true: only tickets with a missed deadline; false: only those without. */
  breached?: boolean;
  /** Page size (default 500). */
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

export interface TicketPage {
  tickets: Ticket[];
  /** The cursor of the next page, or null on the last one. */
  nextCursor: string | null;
}

/** What a change may set, in the ticket's own terms. */
export type TicketChange = Partial<
  Pick<
    Ticket,
    | 'status'
    | 'level'
    | 'assignee'
    | 'serviceMode'
    | 'escalatedTo'
    | 'workContentDoneAt'
    | 'planDueAt'
    | 'planDoneAt'
    | 'breaches'
    | 'eta'
    | 'etaNote'
    | 'mergedInto'
    | 'repairedBy'
    | 'resolution'
    | 'escalatedAccounts'
    | 'levelConfirmedAt'
    | 'levelConfirmedBy'
    | 'contacts'
    | 'place'
    | 'province'
    | 'deadlinesApply'
  >
>;

export interface TimelineInput {
  at: number;
  actor: string;
  action: TimelineAction;
  from?: string | null;
  to?: string | null;
  note?: string | null;
  /** Who may read the note (default `customer`: the platform's own entries). */
  visibility?: NoteVisibility;
}

type Row = Omit<Selectable<TicketsTable>, 'snapshot' | 'is_open' | 'queue_due_at' | 'unit_seq'>;
const num = (v: number | null): number | null => (v === null ? null : Number(v));

/** Every column but the snapshot (large; read on its own). */
const COLUMNS = [
  'id',
  'number',
  'source',
  'vehicle_id',
  'customer_id',
  'level',
  'status',
  'title',
  'need',
  'contacts',
  'fault_code',
  'incident_id',
  'service_mode',
  'assignee',
  'escalated_to',
  'received_at',
  'work_content_due_at',
  'work_content_done_at',
  'plan_due_at',
  'plan_done_at',
  'breaches',
  'plan_ref',
  'eta',
  'eta_note',
  'updated_at',
  'merged_into',
  'repaired_by',
  'resolution',
  'escalated_accounts',
  'proposed_level',
  'level_confirmed_at',
  'level_confirmed_by',
  'place',
  'province',
  'deadlines_apply',
  'service_order_id',
] as const;

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
    eta: r.eta === null ? null : Number(r.eta),
    etaNote: r.eta_note,
    updatedAt: Number(r.updated_at),
    mergedInto: r.merged_into === null ? null : Number(r.merged_into),
    repairedBy: r.repaired_by,
    resolution: r.resolution ? (JSON.parse(r.resolution) as Resolution) : null,
    escalatedAccounts: r.escalated_accounts ? (JSON.parse(r.escalated_accounts) as string[]) : [],
    proposedLevel: r.proposed_level,
    levelConfirmedAt: num(r.level_confirmed_at),
    levelConfirmedBy: r.level_confirmed_by,
    place: r.place,
    province: r.province,
    deadlinesApply: Number(r.deadlines_apply) !== 0,
    serviceOrderId: num(r.service_order_id),
  };
}

export async function findTicket(h: RecordsDb, id: number): Promise<Ticket | undefined> {
  const row = await h.selectFrom('tickets').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toTicket(row);
}

export async function getTicket(h: RecordsDb, id: number): Promise<Ticket> {
  const t = await findTicket(h, id);
  if (!t) throw new PlatformError('TICKET_NOT_FOUND', `ticket ${id} not found`);
  return t;
}

export async function ticketOfIncident(h: RecordsDb, incidentId: number): Promise<Ticket | undefined> {
  const row = await h.selectFrom('tickets').select(COLUMNS).where('incident_id', '=', incidentId).executeTakeFirst();
  return row && toTicket(row);
}

export async function addTimeline(h: RecordsDb, ticketId: number, e: TimelineInput): Promise<void> {
  await h
    .insertInto('ticket_timeline')
    .values({
      ticket_id: ticketId,
      at: e.at,
      actor: e.actor,
      action: e.action,
      from_status: e.from ?? null,
      to_status: e.to ?? null,
      note: e.note ?? null,
      visibility: e.visibility ?? 'customer',
    })
    .execute();
}

/**
 * The ticket number for place `seq` in a unit's sequence: `EM-<unit>-0001`, `EM-0001` without a
 * unit. Numbers count each customer unit's own tickets only (issue 16: a global sequence showed a
 * customer how many tickets the other units opened). Unique: the part after the last `-` is digits
 * only, the unit id never is empty, and the older numbers (`EMyyyymmdd-nnnnn`) have no `-` after EM.
 */
export function ticketNumber(customerId: string | null, seq: number): string {
  return `EM-${customerId ? `${customerId}-` : ''}${String(seq).padStart(4, '0')}`;
}

/**
 * Advances a unit's ticket sequence and returns the new place; inside the opening transaction, so
 * two tickets opened at once get two numbers and a rolled-back opening gives its number back.
 */
async function nextUnitSeq(tx: RecordsDb, customerId: string | null): Promise<number> {
  const row = await tx
    .insertInto('ticket_sequences')
    .values({ unit: customerId ?? '', last_seq: 1 })
    .onConflict((oc) =>
      oc.column('unit').doUpdateSet((eb) => ({ last_seq: eb(eb.ref('ticket_sequences.last_seq'), '+', 1) })),
    )
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return Number(row.last_seq);
}

/** Inserts a received ticket, numbers it in its unit's sequence (ticketNumber) and starts its timeline; call inside a transaction. */
export async function insertTicket(
  tx: RecordsDb,
  t: TicketRow,
  deadlines: { workContentDueAt: number; planDueAt: number | null },
  actor: string,
  at: number,
): Promise<Ticket> {
  const seq = await nextUnitSeq(tx, t.customerId);
  const res = await tx
    .insertInto('tickets')
    .values({
      number: ticketNumber(t.customerId, seq),
      unit_seq: seq,
      source: t.source,
      vehicle_id: t.vehicleId,
      customer_id: t.customerId,
      level: t.level,
      status: 'received',
      title: t.title,
      need: t.need,
      contacts: JSON.stringify(t.contacts),
      fault_code: t.faultCode,
      incident_id: t.incidentId,
      service_mode: t.serviceMode,
      assignee: null,
      escalated_to: null,
      received_at: at,
      work_content_due_at: deadlines.workContentDueAt,
      work_content_done_at: null,
      plan_due_at: deadlines.planDueAt,
      plan_done_at: null,
      breaches: '[]',
      plan_ref: t.planRef ? JSON.stringify(t.planRef) : null,
      snapshot: t.snapshot === undefined ? null : JSON.stringify(t.snapshot),
      eta: null,
      eta_note: null,
      merged_into: null,
      repaired_by: null,
      resolution: null,
      escalated_accounts: null,
      updated_at: at,
      proposed_level: t.proposedLevel ?? t.level,
      level_confirmed_at: t.confirmedBy ? at : null,
      level_confirmed_by: t.confirmedBy ?? null,
      place: t.place ?? null,
      province: t.province ?? null,
      deadlines_apply: t.deadlinesApply === false ? 0 : 1,
      service_order_id: null,
      ...queueColumns({
        status: 'received',
        ...deadlines,
        workContentDoneAt: null,
        planDoneAt: null,
        deadlinesApply: t.deadlinesApply !== false,
      }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(res.id);
  await addTimeline(tx, id, { at, actor, action: 'received', to: 'received', note: t.need });
  await markTicketStatsDirty(tx, [at]);
  return getTicket(tx, id);
}

/**
 * Applies a change to a ticket as it was read (`before`) and records it in the timeline; call
 * inside a transaction. Optimistic: when the ticket's status changed meanwhile, nothing is written
 * and INVALID_TRANSITION is thrown.
 */
export async function changeTicket(
  tx: RecordsDb,
  before: Ticket,
  change: TicketChange,
  entry: TimelineInput,
): Promise<Ticket> {
  const after = { ...before, ...change };
  const set: Updateable<TicketsTable> = {
    ...('status' in change ? { status: after.status } : {}),
    ...('level' in change ? { level: after.level } : {}),
    ...('assignee' in change ? { assignee: after.assignee } : {}),
    ...('serviceMode' in change ? { service_mode: after.serviceMode } : {}),
    ...('escalatedTo' in change ? { escalated_to: after.escalatedTo } : {}),
    ...('workContentDoneAt' in change ? { work_content_done_at: after.workContentDoneAt } : {}),
    ...('planDueAt' in change ? { plan_due_at: after.planDueAt } : {}),
    ...('planDoneAt' in change ? { plan_done_at: after.planDoneAt } : {}),
    ...('breaches' in change ? { breaches: JSON.stringify(after.breaches) } : {}),
    ...('eta' in change ? { eta: after.eta } : {}),
    ...('etaNote' in change ? { eta_note: after.etaNote } : {}),
    ...('mergedInto' in change ? { merged_into: after.mergedInto } : {}),
    ...('repairedBy' in change ? { repaired_by: after.repairedBy } : {}),
    ...('resolution' in change
      ? { resolution: after.resolution === null ? null : JSON.stringify(after.resolution) }
      : {}),
    ...('escalatedAccounts' in change ? { escalated_accounts: JSON.stringify(after.escalatedAccounts) } : {}),
    ...('levelConfirmedAt' in change ? { level_confirmed_at: after.levelConfirmedAt } : {}),
    ...('levelConfirmedBy' in change ? { level_confirmed_by: after.levelConfirmedBy } : {}),
    ...('contacts' in change ? { contacts: JSON.stringify(after.contacts) } : {}),
    ...('place' in change ? { place: after.place } : {}),
    ...('province' in change ? { province: after.province } : {}),
    ...('deadlinesApply' in change ? { deadlines_apply: after.deadlinesApply ? 1 : 0 } : {}),
    ...queueColumns(after),
    updated_at: entry.at,
  };
  const res = await tx
    .updateTable('tickets')
    .set(set)
    .where('id', '=', before.id)
    .where('status', '=', before.status)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1)
    throw new PlatformError('INVALID_TRANSITION', 'the ticket changed meanwhile; reload and try again');
  await addTimeline(tx, before.id, entry);
  await markTicketStatsDirty(tx, [before.receivedAt]);
  return getTicket(tx, before.id);
}

const toPosition = ([dueAt, workContentDueAt, id]: number[]): QueuePosition => ({
  dueAt: dueAt!,
  workContentDueAt: workContentDueAt!,
  id: id!,
});
const fromPosition = (p: QueuePosition) => [p.dueAt, p.workContentDueAt, p.id];

/** The filters of a query as one stable string: a cursor is valid only with the filters it was made for. */
export function filtersKey(q: TicketQuery): string {
  return JSON.stringify([
    q.status ? [...new Set(q.status)].sort() : null,
    q.open ?? null,
    q.level ?? null,
    q.customerId ?? null,
    q.vehicleId ?? null,
    q.assignee ?? null,
    q.breached ?? null,
  ]);
}

/** The query of one page of the queue after `after` (exported so that tests can check its plan uses the indexes). */
export function queueQuery(
  h: RecordsDb,
  query: Omit<TicketQuery, 'cursor'>,
  after: QueuePosition | null,
  limit: number,
) {
  let q = h.selectFrom('tickets').select(COLUMNS);
  if (query.status?.length) q = q.where('status', 'in', query.status);
  if (query.open !== undefined) q = q.where('is_open', '=', query.open ? 1 : 0);
  if (query.level) q = q.where('level', '=', query.level);
  if (query.customerId !== undefined) q = q.where('customer_id', '=', query.customerId);
  if (query.vehicleId !== undefined) q = q.where('vehicle_id', '=', query.vehicleId);
  if (query.assignee !== undefined) q = q.where('assignee', '=', query.assignee);
  if (query.breached !== undefined) q = q.where('breaches', query.breached ? '<>' : '=', '[]');
  if (after) {
    const p = after;
    q = q.where(({ eb, refTuple, tuple }) =>
      eb(refTuple('queue_due_at', 'work_content_due_at', 'id'), '>', tuple(p.dueAt, p.workContentDueAt, p.id)),
    );
  }
  return q.orderBy('queue_due_at').orderBy('work_content_due_at').orderBy('id').limit(limit);
}

/** One page of the queue (see queue.ts for the order), filtered, ordered and paged by the database. */
export async function listTickets(h: RecordsDb, query: TicketQuery = {}): Promise<TicketPage> {
  const limit = query.limit ?? 500;
  const list = `tickets:${filtersKey(query)}`;
  const after = query.cursor === undefined ? null : toPosition(cursors.decode(query.cursor, list, 3));
  const rows = await queueQuery(h, query, after, limit + 1).execute();
  const tickets = rows.slice(0, limit).map(toTicket);
  const last = tickets[tickets.length - 1];
  return {
    tickets,
    nextCursor: rows.length > limit && last ? cursors.encode(fromPosition(positionOf(last)), list) : null,
  };
}

export async function timelineOf(h: RecordsDb, id: number): Promise<TimelineEntry[]> {
  const rows = await h.selectFrom('ticket_timeline').selectAll().where('ticket_id', '=', id).orderBy('id').execute();
  return rows.map((r) => ({
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    note: r.note,
    visibility: r.visibility,
  }));
}

export async function snapshotOf(h: RecordsDb, id: number): Promise<unknown> {
  const row = await h.selectFrom('tickets').select('snapshot').where('id', '=', id).executeTakeFirst();
  if (!row) throw new PlatformError('TICKET_NOT_FOUND', `ticket ${id} not found`);
  return row.snapshot ? JSON.parse(row.snapshot) : null;
}

/** The earliest deadline of an open ticket not yet met nor recorded as breached, computed by the database. */
export async function earliestUnbreachedDeadline(h: RecordsDb): Promise<number | null> {
  const open = [...OPEN_STATUSES];
  const work = await h
    .selectFrom('tickets')
    .select((eb) => eb.fn.min('work_content_due_at').as('due'))
    .where('status', 'in', open)
    .where('work_content_done_at', 'is', null)
    .where('deadlines_apply', '=', 1)
    .where('breaches', 'not like', '%work_content%')
    .executeTakeFirst();
  const plan = await h
    .selectFrom('tickets')
    .select((eb) => eb.fn.min('plan_due_at').as('due'))
    .where('status', 'in', open)
    .where('plan_due_at', 'is not', null)
    .where('plan_done_at', 'is', null)
    .where('deadlines_apply', '=', 1)
    .where('breaches', 'not like', '%plan%')
    .executeTakeFirst();
  const next = Math.min(
    work?.due == null ? Infinity : Number(work.due),
    plan?.due == null ? Infinity : Number(plan.due),
  );
  return next === Infinity ? null : next;
}

/** Open tickets with a deadline at or before `at` (met or not: the caller decides). */
export async function ticketsDueBy(h: RecordsDb, at: number): Promise<Ticket[]> {
  const rows = await h
    .selectFrom('tickets')
    .select(COLUMNS)
    .where('status', 'in', [...OPEN_STATUSES])
    .where('deadlines_apply', '=', 1)
    .where((eb) => eb.or([eb('work_content_due_at', '<=', at), eb('plan_due_at', '<=', at)]))
    .execute();
  return rows.map(toTicket);
}

/** A ticket's alarm as the close checks and the ticket page show it. */
export interface TicketAlarm {
  id: number;
  ruleId: string;
  code: string;
  severity: string;
  state: 'active' | 'acknowledged' | 'cleared';
  raisedAt: number;
  clearedAt: number | null;
  /** The ticket whose incident raised it (this one, or one merged into it). */
  ticketId: number;
}

/**
 * The alarms of a ticket: those of its incident and of the incidents of every ticket merged into it
 * (transitively), newest first; `activeOnly`: only those not cleared.
 */
export async function alarmsOfTicket(h: RecordsDb, id: number, activeOnly = false): Promise<TicketAlarm[]> {
  const incidents = new Map<number, number>();
  const seen = new Set<number>([id]);
  let frontier = [id];
  while (frontier.length) {
    const rows = await h.selectFrom('tickets').select(['id', 'incident_id']).where('id', 'in', frontier).execute();
    for (const r of rows) if (r.incident_id !== null) incidents.set(Number(r.incident_id), Number(r.id));
    const merged = await h.selectFrom('tickets').select('id').where('merged_into', 'in', frontier).execute();
    frontier = merged.map((r) => Number(r.id)).filter((x) => !seen.has(x));
    for (const x of frontier) seen.add(x);
  }
  if (incidents.size === 0) return [];
  let q = h
    .selectFrom('alarms')
    .select(['id', 'rule_id', 'code', 'severity', 'state', 'raised_at', 'cleared_at', 'incident_id'])
    .where('incident_id', 'in', [...incidents.keys()]);
  if (activeOnly) q = q.where('state', '<>', 'cleared');
  const rows = await q.orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(200).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    ruleId: r.rule_id,
    code: r.code,
    severity: r.severity,
    state: r.state,
    raisedAt: Number(r.raised_at),
    clearedAt: r.cleared_at === null ? null : Number(r.cleared_at),
    ticketId: incidents.get(Number(r.incident_id)) ?? id,
  }));
}

/** The open tickets of a vehicle (the queue's order), for "other open tickets of this vehicle". */
export async function openTicketsOfVehicle(h: RecordsDb, vehicleId: string): Promise<Ticket[]> {
  const rows = await h
    .selectFrom('tickets')
    .select(COLUMNS)
    .where('vehicle_id', '=', vehicleId)
    .where('is_open', '=', 1)
    .orderBy('queue_due_at')
    .orderBy('id')
    .limit(50)
    .execute();
  return rows.map(toTicket);
}

/** The tickets merged into this one (their id and number). */
export async function ticketsMergedInto(h: RecordsDb, id: number): Promise<{ id: number; number: string }[]> {
  const rows = await h
    .selectFrom('tickets')
    .select(['id', 'number'])
    .where('merged_into', '=', id)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), number: r.number }));
}
