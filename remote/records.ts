import type { Generated, Selectable } from 'kysely';
import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import type {
  Participant,
  ParticipantRole,
  RemoteSession,
  SessionOutcome,
  SessionStatus,
  SessionTimelineEntry,
  SessionTimelineKind,
} from './types.ts';
import './errors.ts';

/** The step of the ringing ladder a session is at (core/events.ts `remote.ringing`). */
export type RingStep = 'primary' | 'secondary' | 'duty_lead';

export interface RemoteSessionsTable {
  id: Generated<number>;
  ticket_id: number;
  vehicle_id: string;
  customer_id: string;
  status: SessionStatus;
  outcome: SessionOutcome | null;
  description: string;
  requested_by: string;
  requested_at: number;
  answered_at: number | null;
  answered_by: string | null;
  ended_at: number | null;
  ended_by: string | null;
  /** Where the ringing is; null once answered or ended (or never rung: started by staff). */
  ring_step: RingStep | null;
  /** When the next ring is due (the ladder's next step); null when no ring is pending. */
  ring_due_at: number | null;
  /** Since when nobody has been present (null while somebody is): the abandon clock, kept across restarts. */
  absent_since: number | null;
  /** The seq of the next timeline entry. */
  next_seq: number;
  updated_at: number;
}

export interface RemoteSessionParticipantsTable {
  session_id: number;
  participant_id: string;
  role: ParticipantRole;
  name: string;
  joined_at: number;
  left_at: number | null;
}

/** Append-only: rows are inserted, never updated or deleted. */
export interface RemoteSessionTimelineTable {
  session_id: number;
  seq: number;
  at: number;
  actor: string;
  actor_name: string;
  kind: SessionTimelineKind;
  text: string | null;
  /** JSON. */
  data: string | null;
}

export interface DutyShiftsTable {
  id: Generated<number>;
  /** 0 = Sunday … 6 = Saturday; null for a dated shift. */
  weekday: number | null;
  /** YYYY-MM-DD in the service time zone; null for a weekly shift. */
  date: string | null;
  /** HH:MM local; an end at or before the start runs past midnight. */
  start_time: string;
  end_time: string;
  primary_engineer: string;
  secondary_engineer: string | null;
  duty_lead: string;
  created_at: number;
  updated_at: number;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    remote_sessions: RemoteSessionsTable;
    remote_session_participants: RemoteSessionParticipantsTable;
    remote_session_timeline: RemoteSessionTimelineTable;
    duty_shifts: DutyShiftsTable;
  }
}

export type SessionRow = Selectable<RemoteSessionsTable>;

/** A session with the bookkeeping the stage needs beside the shared shape. */
export interface StoredSession {
  session: RemoteSession;
  ringStep: RingStep | null;
  ringDueAt: number | null;
  absentSince: number | null;
  endedBy: string | null;
}

const num = (v: number | null) => (v === null ? null : Number(v));

function toParticipant(r: Selectable<RemoteSessionParticipantsTable>): Participant {
  return {
    id: r.participant_id,
    role: r.role,
    name: r.name,
    joinedAt: Number(r.joined_at),
    leftAt: num(r.left_at),
  };
}

function toStored(r: SessionRow, participants: Participant[]): StoredSession {
  return {
    session: {
      id: Number(r.id),
      ticketId: Number(r.ticket_id),
      vehicleId: r.vehicle_id,
      customerId: r.customer_id,
      status: r.status,
      outcome: r.outcome,
      description: r.description,
      requestedBy: r.requested_by,
      requestedAt: Number(r.requested_at),
      answeredAt: num(r.answered_at),
      answeredBy: r.answered_by,
      endedAt: num(r.ended_at),
      participants,
    },
    ringStep: r.ring_step,
    ringDueAt: num(r.ring_due_at),
    absentSince: num(r.absent_since),
    endedBy: r.ended_by,
  };
}

export async function findSession(h: RecordsDb, id: number): Promise<StoredSession | undefined> {
  const row = await h.selectFrom('remote_sessions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  const parts = await h
    .selectFrom('remote_session_participants')
    .selectAll()
    .where('session_id', '=', id)
    .orderBy('joined_at')
    .orderBy('participant_id')
    .execute();
  return toStored(row, parts.map(toParticipant));
}

export async function getSession(h: RecordsDb, id: number): Promise<StoredSession> {
  const s = await findSession(h, id);
  if (!s) throw new PlatformError('SESSION_NOT_FOUND', `session ${id} not found`);
  return s;
}

export const OPEN_SESSION_STATUSES: readonly SessionStatus[] = ['requested', 'ringing', 'live'];

export async function openSessionOfTicket(h: RecordsDb, ticketId: number): Promise<number | undefined> {
  const row = await h
    .selectFrom('remote_sessions')
    .select('id')
    .where('ticket_id', '=', ticketId)
    .where('status', 'in', OPEN_SESSION_STATUSES)
    .executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

export interface SessionQuery {
  customerId?: string;
  ticketId?: number;
  vehicleId?: string;
  /** true: requested/ringing/live only; false: ended only. */
  open?: boolean;
  limit: number;
  /** Ids below this (newest first). */
  beforeId?: number;
}

/** Newest first; one more than `limit` tells whether a next page exists. */
export async function listSessionIds(h: RecordsDb, q: SessionQuery): Promise<number[]> {
  let sel = h.selectFrom('remote_sessions').select('id').orderBy('id', 'desc').limit(q.limit);
  if (q.customerId !== undefined) sel = sel.where('customer_id', '=', q.customerId);
  if (q.ticketId !== undefined) sel = sel.where('ticket_id', '=', q.ticketId);
  if (q.vehicleId !== undefined) sel = sel.where('vehicle_id', '=', q.vehicleId);
  if (q.open === true) sel = sel.where('status', 'in', OPEN_SESSION_STATUSES);
  if (q.open === false) sel = sel.where('status', '=', 'ended');
  if (q.beforeId !== undefined) sel = sel.where('id', '<', q.beforeId);
  return (await sel.execute()).map((r) => Number(r.id));
}

/** The open sessions with a ring or an abandon clock running: what the timer works from. */
export async function timedSessions(h: RecordsDb): Promise<SessionRow[]> {
  return h.selectFrom('remote_sessions').selectAll().where('status', 'in', OPEN_SESSION_STATUSES).execute();
}

export async function appendTimeline(
  tx: RecordsDb,
  sessionId: number,
  e: Omit<SessionTimelineEntry, 'seq'>,
): Promise<SessionTimelineEntry> {
  // the seq counter lives in the session row: taking it and bumping it in one UPDATE serialises appends
  const row = await tx
    .updateTable('remote_sessions')
    .set((eb) => ({ next_seq: eb('next_seq', '+', 1) }))
    .where('id', '=', sessionId)
    .returning('next_seq')
    .executeTakeFirst();
  if (!row) throw new PlatformError('SESSION_NOT_FOUND', `session ${sessionId} not found`);
  const seq = Number(row.next_seq) - 1;
  await tx
    .insertInto('remote_session_timeline')
    .values({
      session_id: sessionId,
      seq,
      at: e.at,
      actor: e.actor,
      actor_name: e.actorName,
      kind: e.kind,
      text: e.text,
      data: e.data === undefined || e.data === null ? null : JSON.stringify(e.data),
    })
    .execute();
  return { seq, ...e, data: e.data ?? null };
}

export async function timelineOf(
  h: RecordsDb,
  sessionId: number,
  afterSeq = 0,
  limit = 10_000,
): Promise<SessionTimelineEntry[]> {
  const rows = await h
    .selectFrom('remote_session_timeline')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: Number(r.at),
    actor: r.actor,
    actorName: r.actor_name,
    kind: r.kind,
    text: r.text,
    data: r.data === null ? null : (JSON.parse(r.data) as unknown),
  }));
}

export async function upsertParticipant(
  tx: RecordsDb,
  sessionId: number,
  p: { id: string; role: ParticipantRole; name: string },
  at: number,
): Promise<void> {
  await tx
    .insertInto('remote_session_participants')
    .values({ session_id: sessionId, participant_id: p.id, role: p.role, name: p.name, joined_at: at, left_at: null })
    .onConflict((oc) =>
      oc.columns(['session_id', 'participant_id']).doUpdateSet({ role: p.role, name: p.name, left_at: null }),
    )
    .execute();
}

export async function markLeft(tx: RecordsDb, sessionId: number, participantId: string, at: number): Promise<void> {
  await tx
    .updateTable('remote_session_participants')
    .set({ left_at: at })
    .where('session_id', '=', sessionId)
    .where('participant_id', '=', participantId)
    .where('left_at', 'is', null)
    .execute();
}

export type SessionChange = Partial<
  Pick<
    RemoteSessionsTable,
    | 'status'
    | 'outcome'
    | 'answered_at'
    | 'answered_by'
    | 'ended_at'
    | 'ended_by'
    | 'ring_step'
    | 'ring_due_at'
    | 'absent_since'
  >
>;

export async function changeSession(tx: RecordsDb, id: number, change: SessionChange, at: number): Promise<void> {
  await tx
    .updateTable('remote_sessions')
    .set({ ...change, updated_at: at })
    .where('id', '=', id)
    .execute();
}
