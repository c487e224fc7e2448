import type { EventBus } from '../core/bus.ts';
import { cursors } from '../core/cursor.ts';
import { PlatformError } from '../core/errors.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import type { StoredFrame } from '../telemetry/store.ts';
import { buildRecord, type SessionRecord, type RecordTicket } from './record.ts';
import {
  appendTimeline,
  changeSession,
  findSession,
  getSession,
  listSessionIds,
  markLeft,
  openSessionOfTicket,
  OPEN_SESSION_STATUSES,
  timedSessions,
  timelineOf,
  upsertParticipant,
  type RingStep,
  type SessionChange,
  type StoredSession,
} from './records.ts';
import { createPresence } from './presence.ts';
import { NEXT_RING, RING_TEXT, ringTargets } from './ringing.ts';
import { createRoster } from './roster.ts';
import { createSessionTimer } from './timer.ts';
import type {
  ParticipantRole,
  RemoteSession,
  SessionAccess,
  SessionOutcome,
  SessionPrincipal,
  SessionStatus,
  SessionTimelineEntry,
} from './types.ts';

/** The ticket service as the session records use it (diagnostics/tickets/service.ts). */
export interface SessionTickets {
  get(id: number): Promise<RecordTicket & { vehicleId: string | null; customerId: string | null }>;
  list(query: {
    vehicleId: string;
    open: boolean;
    limit: number;
  }): Promise<{ id: number; customerId: string | null }[]>;
  open(
    request: {
      source: 'customer';
      vehicleId: string;
      customerId: string;
      level: 'urgent';
      title: string;
      need: string;
      serviceMode: 'remote_support';
    },
    actor: string,
  ): Promise<{ id: number }>;
  transition(id: number, action: 'determine_work_content', actor: string, note?: string): Promise<unknown>;
  setServiceMode(id: number, mode: 'on_site_repair', actor: string): Promise<unknown>;
  comment(id: number, actor: string, text: string): Promise<unknown>;
}

/** A console account as the session records need it. */
export interface SessionPerson {
  id: string;
  role: 'admin' | 'dispatcher' | 'engineer' | 'customer' | 'supply';
  customerId: string | null;
  disabled: boolean;
}

export interface RemoteSessionsDeps {
  db: RecordsDb;
  bus: EventBus<PlatformEvents>;
  log: Logger;
  now?: () => number;
  tickets: SessionTickets;
  vehicles: { get(id: string): Promise<{ id: string; customerId: string; name: string } | undefined> };
  people: {
    get(id: string): Promise<SessionPerson | undefined>;
    /** How `id` is shown to the other side: a staff display name or role label, never a staff login id. */
    shownName(id: string): Promise<string>;
  };
  /** Raw frames, for the record (telemetry/store.ts `frames`). */
  frames(vehicleId: string, from: number, to: number, limit: number): Promise<StoredFrame[]>;
  /**
   * Notifications written inside the session's own transaction (the outbox commits with the change):
   * the unit told a session was requested, the accounts rung told over their channels and inbox.
   */
  notify?: SessionNotifications;
  /** Cluster mode: rings and abandons fire on the leader only (cluster/leader.ts); default always. */
  gate?: () => boolean;
  /** Cluster mode: the longest wait between two looks at the due times (another node writes them too). */
  gatePollMs?: number;
  /** Cluster mode: called first in a timed ring's transaction; false → not rung here (cluster/leader.ts `fence`). */
  fence?: (tx: RecordsDb) => Promise<boolean>;
}

/** Hooks called inside a session change's transaction (notifications/producer.ts implements them). */
export interface SessionNotifications {
  requested(tx: RecordsDb, s: { sessionId: number; ticketId: number }): Promise<void>;
  ringing(
    tx: RecordsDb,
    s: { sessionId: number; ticketId: number; step: RingStep; accounts: string[]; description: string },
  ): Promise<void>;
}

export interface RemoteSessionsOptions {
  /** Unanswered this long, the ring moves on: primary → secondary → duty lead (SESSION_RING_MS). */
  ringMs: number;
  /** Nobody present this long, an open session ends `abandoned` (SESSION_ABANDON_MS). */
  abandonMs: number;
  /** The service centre's time zone, in which the roster's shifts are written (SERVICE_TIME_ZONE). */
  timeZone: string;
  /** Rung when no shift covers now (DUTY_LEAD). */
  dutyLead: string;
  /** The record's telemetry starts this long before the request (default 5 min). */
  recordBeforeMs?: number;
  /** At most this many raw frames in a record (default 100,000: close to 3 h at 10 Hz). */
  recordMaxFrames?: number;
}

export const CHAT_MAX_CHARS = 2000;
export const DESCRIPTION_MAX_CHARS = 2000;
/** The outcomes a person chooses; `abandoned` is the platform's. */
export const CHOSEN_OUTCOMES = ['resolved_remotely', 'escalated_on_site', 'crew_unreachable'] as const;
export type ChosenOutcome = (typeof CHOSEN_OUTCOMES)[number];

/** Which status may follow which: requested → ringing → live → ended; staff starting from a ticket go straight to live. */
const NEXT: Record<SessionStatus, readonly SessionStatus[]> = {
  requested: ['ringing', 'live', 'ended'],
  ringing: ['live', 'ended'],
  live: ['ended'],
  ended: [],
};

const STAFF = new Set(['admin', 'dispatcher', 'engineer']);
const isStaff = (p: { role: string }) => STAFF.has(p.role);

/** Who did something, with the name the other side sees. */
interface Actor {
  id: string;
  name: string;
}
const SYSTEM: Actor = { id: 'system', name: 'System' };

interface Pending {
  timeline: { sessionId: number; entry: SessionTimelineEntry }[];
  changed: Map<number, string>;
  rings: { sessionId: number; accounts: string[]; step: RingStep }[];
}

export interface SessionPage {
  sessions: RemoteSession[];
  nextCursor: string | null;
}

/**
 * Remote guidance sessions (远程支援) as records: requests from a crew or a ticket, the duty roster
 * and the ringing ladder (7×24 answering), participants and presence, the append-only timeline (own
 * entries, and the commands, acks and guided steps other parts announce on the bus), chat, the end
 * with its outcome and what it does to the ticket, and the record kept with the ticket.
 *
 * Every change is written with its timeline entries in one transaction and announced on the bus
 * (`remote.timeline`, `remote.session.changed`, `remote.ringing`) after it commits. The ring and
 * abandon clocks live in the rows, so one timer recomputed from the database survives restarts.
 */
export function createRemoteSessions(deps: RemoteSessionsDeps, options: RemoteSessionsOptions) {
  const { db, bus, log } = deps;
  const now = deps.now ?? Date.now;
  const recordBeforeMs = options.recordBeforeMs ?? 5 * 60_000;
  const recordMaxFrames = options.recordMaxFrames ?? 100_000;
  const roster = createRoster({
    db,
    now,
    timeZone: options.timeZone,
    checkStaff: async (id) => {
      const p = await deps.people.get(id);
      if (!p || p.disabled || !isStaff(p))
        throw new PlatformError('ACCOUNT_NOT_FOUND', `no active staff account ${id}`);
    },
  });
  /** Sockets present per session and participant (the live layer tells, through `present`). */
  const presence = createPresence();
  const unsubscribe: (() => void)[] = [];
  let serial: Promise<void> = Promise.resolve();
  let running = false;

  const timer = createSessionTimer({
    now,
    log,
    nextDue: async () => {
      let next: number | null = null;
      for (const r of await timedSessions(db)) {
        for (const due of [
          r.ring_due_at === null ? null : Number(r.ring_due_at),
          r.absent_since === null ? null : Number(r.absent_since) + options.abandonMs,
        ])
          if (due !== null && (next === null || due < next)) next = due;
      }
      return next;
    },
    check: () => checkDue(),
    ...(deps.gate ? { gate: deps.gate } : {}),
    ...(deps.gatePollMs ? { pollMs: deps.gatePollMs } : {}),
  });

  // ---------- writing

  async function write<T>(fn: (tx: RecordsDb, p: Pending) => Promise<T>): Promise<T> {
    const p: Pending = { timeline: [], changed: new Map(), rings: [] };
    const result = await inTransaction(db, (tx) => fn(tx, p));
    for (const t of p.timeline) bus.emit('remote.timeline', t);
    for (const [id, action] of p.changed) {
      const s = await findSession(db, id);
      if (s) bus.emit('remote.session.changed', { session: s.session, action });
    }
    for (const r of p.rings) {
      const s = await findSession(db, r.sessionId);
      if (s) bus.emit('remote.ringing', { session: s.session, accounts: r.accounts, step: r.step });
    }
    if (running) await timer.reschedule();
    return result;
  }

  async function add(
    tx: RecordsDb,
    p: Pending,
    sessionId: number,
    e: Omit<SessionTimelineEntry, 'seq' | 'at'> & { at?: number },
  ): Promise<SessionTimelineEntry> {
    const entry = await appendTimeline(tx, sessionId, {
      at: e.at ?? now(),
      actor: e.actor,
      actorName: e.actorName,
      kind: e.kind,
      text: e.text,
      data: e.data,
    });
    p.timeline.push({ sessionId, entry });
    return entry;
  }

  /**
   * How an actor is shown. Read before a transaction, never inside one: the records store has one
   * connection, so a read outside the transaction would wait for it to end.
   */
  async function nameOf(actor: string): Promise<string> {
    if (actor === 'system') return 'System';
    if (actor.startsWith('guest:')) return 'Guest';
    return deps.people.shownName(actor);
  }

  async function setStatus(
    tx: RecordsDb,
    p: Pending,
    s: StoredSession,
    to: SessionStatus,
    actor: Actor,
    change: SessionChange,
    text: string,
    data: unknown = null,
  ): Promise<void> {
    const from = s.session.status;
    if (!NEXT[from].includes(to))
      throw new PlatformError('SESSION_INVALID_STATE', `session ${s.session.id} is ${from}; it cannot become ${to}`);
    await changeSession(tx, s.session.id, { ...change, status: to }, now());
    await add(tx, p, s.session.id, {
      actor: actor.id,
      actorName: actor.name,
      kind: 'status',
      text,
      data: { from, to, ...(data as object) },
    });
    p.changed.set(s.session.id, to);
    s.session.status = to;
  }

  /** Somebody acted over HTTP: with nobody present, the abandon clock starts again now. */
  async function touch(tx: RecordsDb, s: StoredSession): Promise<void> {
    if (presence.count(s.session.id) === 0) await changeSession(tx, s.session.id, { absent_since: now() }, now());
  }

  // ---------- ringing

  type Ring = { step: RingStep; accounts: string[]; names: string[] };
  /** Whom `wanted` rings now, with their names (read before the ring's transaction). */
  async function ringFor(wanted: RingStep): Promise<Ring> {
    const t = ringTargets(wanted, await roster.onDuty(now()), options.dutyLead);
    return { ...t, names: await Promise.all(t.accounts.map(nameOf)) };
  }

  async function ring(tx: RecordsDb, p: Pending, s: StoredSession, t: Ring): Promise<void> {
    const at = now();
    const change: SessionChange = { ring_step: t.step, ring_due_at: at + options.ringMs };
    if (s.session.status === 'requested') await setStatus(tx, p, s, 'ringing', SYSTEM, change, 'ringing');
    else await changeSession(tx, s.session.id, change, at);
    const names = t.names;
    await add(tx, p, s.session.id, {
      actor: 'system',
      actorName: 'System',
      kind: 'ring',
      text: `${RING_TEXT[t.step]}: ${names.join(', ')}`,
      data: { step: t.step, accounts: t.accounts, names },
    });
    p.rings.push({ sessionId: s.session.id, accounts: t.accounts, step: t.step });
    await deps.notify?.ringing(tx, {
      sessionId: s.session.id,
      ticketId: s.session.ticketId,
      step: t.step,
      accounts: t.accounts,
      description: s.session.description,
    });
    p.changed.set(s.session.id, p.changed.get(s.session.id) ?? 'ringing');
  }

  // ---------- the timer: rings to move on, sessions to abandon

  async function checkDue(): Promise<void> {
    const at = now();
    for (const r of await timedSessions(db)) {
      const id = Number(r.id);
      const abandonAt = r.absent_since === null ? null : Number(r.absent_since) + options.abandonMs;
      if (abandonAt !== null && abandonAt <= at) {
        await endSession(id, SYSTEM, 'abandoned', `nobody present for ${Math.round(options.abandonMs / 60_000)} min`);
        continue;
      }
      if (r.ring_due_at !== null && Number(r.ring_due_at) <= at && r.status !== 'live') {
        const next = await ringFor(r.ring_step ? NEXT_RING[r.ring_step] : 'primary');
        await write(async (tx, p) => {
          if (deps.fence && !(await deps.fence(tx))) return;
          const s = await getSession(tx, id);
          if (s.session.status !== 'requested' && s.session.status !== 'ringing') return;
          if (s.ringDueAt === null || s.ringDueAt > now()) return;
          await ring(tx, p, s, next);
        });
      }
    }
  }

  // ---------- participants

  async function roleOf(s: StoredSession, principal: SessionPrincipal): Promise<ParticipantRole | null> {
    if (principal.role === 'guest') {
      // a guest sees only the session of its invite, and only until it ends
      const me = s.session.participants.find((x) => x.id === principal.id);
      return principal.sessionId === s.session.id && me?.role === 'guest' && s.session.status !== 'ended'
        ? 'guest'
        : null;
    }
    if (principal.role === 'customer') return principal.customerId === s.session.customerId ? 'crew' : null;
    return s.session.answeredBy === principal.id ? 'lead' : 'observer';
  }

  async function joinAs(
    tx: RecordsDb,
    p: Pending,
    s: StoredSession,
    who: Actor,
    role: ParticipantRole,
  ): Promise<boolean> {
    const current = s.session.participants.find((x) => x.id === who.id);
    if (current && current.leftAt === null && current.role === role) return false;
    const name = who.name;
    await upsertParticipant(tx, s.session.id, { id: who.id, role, name }, now());
    await add(tx, p, s.session.id, {
      actor: who.id,
      actorName: name,
      kind: 'joined',
      text: `${name} joined as ${role}`,
      data: { role },
    });
    p.changed.set(s.session.id, p.changed.get(s.session.id) ?? 'joined');
    return true;
  }

  async function accessOrThrow(principal: SessionPrincipal, id: number) {
    const s = await findSession(db, id);
    const role = s ? await roleOf(s, principal) : null;
    if (!s || !role) throw new PlatformError('SESSION_NOT_FOUND', `session ${id} not found`);
    return { s, role };
  }

  function notEnded(s: StoredSession, doing: string): void {
    if (s.session.status === 'ended')
      throw new PlatformError('SESSION_INVALID_STATE', `session ${s.session.id} has ended; cannot ${doing}`);
  }

  // ---------- ending

  async function endSession(id: number, actor: Actor, outcome: SessionOutcome, note: string | null) {
    const ended = await write(async (tx, p) => {
      const s = await getSession(tx, id);
      notEnded(s, 'end it again');
      const at = now();
      await setStatus(
        tx,
        p,
        s,
        'ended',
        actor,
        { outcome, ended_at: at, ended_by: actor.id, ring_step: null, ring_due_at: null, absent_since: null },
        note ? `ended: ${outcome.replace(/_/g, ' ')} (${note})` : `ended: ${outcome.replace(/_/g, ' ')}`,
        { outcome, note },
      );
      for (const x of s.session.participants) if (x.leftAt === null) await markLeft(tx, id, x.id, at);
      return s;
    });
    presence.forget(id);
    await onTicket(ended.session, actor.id, outcome, note);
    return (await getSession(db, id)).session;
  }

  const OUTCOME_NOTE: Record<SessionOutcome, string> = {
    resolved_remotely: 'resolved remotely',
    escalated_on_site: 'escalated to on-site repair',
    crew_unreachable: 'crew unreachable',
    abandoned: 'abandoned (everyone had left)',
  };

  /** The ticket hears of the end: a timeline entry with the record's address; an escalation moves it toward dispatch. */
  async function onTicket(s: RemoteSession, actor: string, outcome: SessionOutcome, note: string | null) {
    const ticketActor = actor === 'system' ? 'system' : actor;
    try {
      await deps.tickets.comment(
        s.ticketId,
        ticketActor,
        `remote session ${s.id} ended: ${OUTCOME_NOTE[outcome]}${note ? ` — ${note}` : ''}; record: /api/sessions/${s.id}/record.html`,
      );
      if (outcome !== 'escalated_on_site') return;
      const t = await deps.tickets.get(s.ticketId);
      if (t.serviceMode !== 'on_site_repair') await deps.tickets.setServiceMode(t.id, 'on_site_repair', ticketActor);
      if (t.status === 'received')
        await deps.tickets.transition(
          t.id,
          'determine_work_content',
          ticketActor,
          `remote session ${s.id}: on-site repair needed`,
        );
    } catch (err) {
      log.warn({ err, session: s.id, ticket: s.ticketId }, 'the ticket could not take the session outcome');
    }
  }

  // ---------- presence (from the live layer)

  function present(sessionId: number, participantId: string, isPresent: boolean): void {
    const counted = presence.change(sessionId, participantId, isPresent);
    if (!counted) return;
    const { before, after } = counted;
    serial = serial
      .then(async () => {
        const before0 = await findSession(db, sessionId);
        if (!before0 || before0.session.status === 'ended') return;
        const role = isPresent ? await participantRole(before0, participantId) : null;
        const who = { id: participantId, name: await nameOf(participantId) };
        await write(async (tx, p) => {
          const s = await findSession(tx, sessionId);
          if (!s || s.session.status === 'ended') return;
          // a reload or a new connection rejoins with the state intact
          if (role) await joinAs(tx, p, s, who, role);
          if (before === 0 && after > 0) await changeSession(tx, sessionId, { absent_since: null }, now());
          if (before > 0 && after === 0) await changeSession(tx, sessionId, { absent_since: now() }, now());
        });
      })
      .catch((err: unknown) => log.error({ err, session: sessionId }, 'session presence update failed'));
  }

  async function participantRole(s: StoredSession, id: string): Promise<ParticipantRole | null> {
    const known = s.session.participants.find((x) => x.id === id);
    if (known) return known.role;
    if (id.startsWith('guest:')) return null;
    const person = await deps.people.get(id);
    if (!person || person.disabled) return null;
    if (person.role === 'customer') return person.customerId === s.session.customerId ? 'crew' : null;
    return s.session.answeredBy === id ? 'lead' : 'observer';
  }

  // ---------- bus listeners: commands, acks, guided steps

  /** Appends what another part announced, in the order announced (one queue with presence). */
  function appendFromBus(sessionId: number, entry: Omit<SessionTimelineEntry, 'seq' | 'actorName' | 'at'>): void {
    const at = now();
    serial = serial
      .then(async () => {
        const actorName = await nameOf(entry.actor);
        await write(async (tx, p) => {
          const s = await findSession(tx, sessionId);
          if (!s) return;
          await add(tx, p, sessionId, { ...entry, actorName, at });
        });
      })
      .catch((err: unknown) => log.error({ err, session: sessionId }, 'session timeline append failed'));
  }

  const access: SessionAccess['access'] = async (principal, sessionId) => {
    const s = await findSession(db, sessionId);
    if (!s) return null;
    const role = await roleOf(s, principal);
    return role ? { session: s.session, role } : null;
  };

  return {
    roster,

    async start(): Promise<void> {
      running = true;
      unsubscribe.push(
        bus.on('command.sent', ({ command: c }) => {
          if (c.sessionId == null) return;
          appendFromBus(c.sessionId, {
            actor: c.actor,
            kind: 'command',
            text: `${c.name} ${JSON.stringify(c.args)}`,
            data: c,
          });
        }),
        bus.on('command.settled', ({ command: c }) => {
          if (c.sessionId == null) return;
          appendFromBus(c.sessionId, {
            actor: 'system',
            kind: 'ack',
            text: `${c.name}: ${c.state.replace(/_/g, ' ')}${c.error ? ` (${c.error})` : ''}`,
            data: c,
          });
        }),
        bus.on('remote.step', ({ result: r }) => {
          appendFromBus(r.sessionId, {
            actor: r.actor,
            kind: 'step',
            text: `step ${r.index + 1}: ${r.status}${r.observation ? ` — ${r.observation}` : ''}`,
            data: r,
          });
        }),
      );
      // nobody's sockets survive a restart: every open session's abandon clock runs from now unless it already ran
      const at = now();
      await db
        .updateTable('remote_sessions')
        .set({ absent_since: at, updated_at: at })
        .where('status', 'in', OPEN_SESSION_STATUSES)
        .where('absent_since', 'is', null)
        .execute();
      await timer.start();
    },

    async stop(): Promise<void> {
      running = false;
      timer.stop();
      for (const u of unsubscribe.splice(0)) u();
      await serial;
    },

    access,
    present,

    /** Resolves once the presence changes and bus entries reported so far are written (for orderly shutdown and tests). */
    idle: () => serial,

    /**
     * A request for remote support. A crew (customer account) names a vehicle of its unit and describes
     * the need: the session joins the vehicle's open ticket (or one opened now) and rings the engineers
     * on duty; asked again while that ticket has an open session, it answers that session
     * (`existing: true`). Staff start one from a ticket: they lead it, live at once.
     */
    async request(
      principal: SessionPrincipal,
      input: { vehicleId?: string; ticketId?: number; description?: string },
    ): Promise<{ session: RemoteSession; existing: boolean }> {
      const description = (input.description ?? '').trim();
      if (description.length > DESCRIPTION_MAX_CHARS)
        throw new PlatformError('INVALID_ARGUMENT', `description has at most ${DESCRIPTION_MAX_CHARS} characters`);
      let ticketId: number;
      let vehicleId: string;
      let customerId: string;
      if (principal.role === 'customer') {
        if (!input.vehicleId) throw new PlatformError('INVALID_ARGUMENT', 'name the vehicle (vehicleId)');
        if (!description) throw new PlatformError('INVALID_ARGUMENT', 'describe the need (description)');
        const v = await deps.vehicles.get(input.vehicleId);
        if (!v || v.customerId !== principal.customerId)
          throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${input.vehicleId} not found`);
        vehicleId = v.id;
        customerId = v.customerId;
        const open = (await deps.tickets.list({ vehicleId: v.id, open: true, limit: 1 }))[0];
        ticketId = open
          ? open.id
          : (
              await deps.tickets.open(
                {
                  source: 'customer',
                  vehicleId: v.id,
                  customerId,
                  level: 'urgent',
                  title: `Remote support request: ${v.name}`,
                  need: description,
                  serviceMode: 'remote_support',
                },
                principal.id,
              )
            ).id;
      } else if (isStaff(principal)) {
        if (input.ticketId === undefined) throw new PlatformError('INVALID_ARGUMENT', 'name the ticket (ticketId)');
        const t = await deps.tickets.get(input.ticketId);
        if (!t.vehicleId || !t.customerId)
          throw new PlatformError('INVALID_ARGUMENT', `ticket ${t.id} names no vehicle; a session is about a vehicle`);
        if (!['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired'].includes(t.status))
          throw new PlatformError('INVALID_TRANSITION', `ticket ${t.id} is ${t.status}; reopen it first`);
        ticketId = t.id;
        vehicleId = t.vehicleId;
        customerId = t.customerId;
      } else {
        throw new PlatformError('SESSION_NOT_FOUND', 'a guest cannot request a session');
      }

      const staffStart = principal.role !== 'customer';
      const me: Actor = { id: principal.id, name: await nameOf(principal.id) };
      const firstRing = staffStart ? undefined : await ringFor('primary');
      return write(async (tx, p) => {
        const openId = await openSessionOfTicket(tx, ticketId);
        if (openId !== undefined) {
          const s = await getSession(tx, openId);
          if (staffStart)
            throw new PlatformError('SESSION_ALREADY_OPEN', `ticket ${ticketId} has an open session (${openId})`);
          await joinAs(tx, p, s, me, 'crew');
          await touch(tx, s);
          return { session: (await getSession(tx, openId)).session, existing: true };
        }
        const at = now();
        const row = await tx
          .insertInto('remote_sessions')
          .values({
            ticket_id: ticketId,
            vehicle_id: vehicleId,
            customer_id: customerId,
            status: 'requested',
            outcome: null,
            description,
            requested_by: principal.id,
            requested_at: at,
            answered_at: null,
            answered_by: null,
            ended_at: null,
            ended_by: null,
            ring_step: null,
            ring_due_at: null,
            absent_since: at,
            next_seq: 1,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const id = Number(row.id);
        await add(tx, p, id, {
          actor: me.id,
          actorName: me.name,
          kind: 'status',
          text: description ? `requested: ${description}` : 'requested',
          data: { from: null, to: 'requested', ticketId },
        });
        p.changed.set(id, 'requested');
        await deps.notify?.requested(tx, { sessionId: id, ticketId });
        let s = await getSession(tx, id);
        if (staffStart) {
          await setStatus(
            tx,
            p,
            s,
            'live',
            me,
            { answered_at: at, answered_by: principal.id },
            'live: started from the ticket',
            { timeToAnswerMs: 0 },
          );
          s = await getSession(tx, id);
          await joinAs(tx, p, s, me, 'lead');
        } else {
          await joinAs(tx, p, s, me, 'crew');
          await ring(tx, p, s, firstRing!);
        }
        return { session: (await getSession(tx, id)).session, existing: false };
      });
    },

    /** An engineer answers: becomes the lead; the session is live; the time to answer is recorded. */
    async answer(principal: SessionPrincipal, id: number): Promise<RemoteSession> {
      if (!isStaff(principal)) throw new PlatformError('SESSION_NOT_FOUND', `session ${id} not found`);
      const me: Actor = { id: principal.id, name: await nameOf(principal.id) };
      return write(async (tx, p) => {
        const s = await getSession(tx, id);
        if (s.session.status === 'live')
          throw new PlatformError('SESSION_INVALID_STATE', `session ${id} is live: it has been answered already`);
        const at = now();
        const waited = at - s.session.requestedAt;
        await setStatus(
          tx,
          p,
          s,
          'live',
          me,
          { answered_at: at, answered_by: principal.id, ring_step: null, ring_due_at: null },
          `answered after ${Math.round(waited / 1000)} s`,
          { timeToAnswerMs: waited },
        );
        s.session.answeredBy = principal.id;
        await joinAs(tx, p, s, me, 'lead');
        await touch(tx, s);
        return (await getSession(tx, id)).session;
      });
    },

    /** Joins (or rejoins): staff as observers (the lead as lead), the ticket unit's customers as crew. */
    async join(principal: SessionPrincipal, id: number): Promise<RemoteSession> {
      const { role } = await accessOrThrow(principal, id);
      const me: Actor = { id: principal.id, name: await nameOf(principal.id) };
      return write(async (tx, p) => {
        const s = await getSession(tx, id);
        notEnded(s, 'join');
        await joinAs(tx, p, s, me, role);
        await touch(tx, s);
        return (await getSession(tx, id)).session;
      });
    },

    async leave(principal: SessionPrincipal, id: number): Promise<RemoteSession> {
      await accessOrThrow(principal, id);
      return write(async (tx, p) => {
        const s = await getSession(tx, id);
        notEnded(s, 'leave');
        const me = s.session.participants.find((x) => x.id === principal.id);
        if (!me || me.leftAt !== null) throw new PlatformError('SESSION_NOT_JOINED', `you are not in session ${id}`);
        await markLeft(tx, id, principal.id, now());
        await add(tx, p, id, {
          actor: principal.id,
          actorName: me.name,
          kind: 'left',
          text: `${me.name} left`,
          data: { role: me.role },
        });
        p.changed.set(id, 'left');
        return (await getSession(tx, id)).session;
      });
    },

    /** A chat message (≤ 2000 characters), stored in timeline order; the unit's crew join by writing. */
    async chat(principal: SessionPrincipal, id: number, text: string): Promise<SessionTimelineEntry> {
      const { role } = await accessOrThrow(principal, id);
      const body = text.trim();
      if (!body) throw new PlatformError('INVALID_ARGUMENT', 'the message is empty');
      if (body.length > CHAT_MAX_CHARS)
        throw new PlatformError('INVALID_ARGUMENT', `a message has at most ${CHAT_MAX_CHARS} characters`);
      const sender: Actor = { id: principal.id, name: await nameOf(principal.id) };
      return write(async (tx, p) => {
        const s = await getSession(tx, id);
        notEnded(s, 'chat');
        const me = s.session.participants.find((x) => x.id === principal.id);
        if (role === 'crew') await joinAs(tx, p, s, sender, role);
        else if (!me || me.leftAt !== null)
          throw new PlatformError('SESSION_NOT_JOINED', `join session ${id} before writing in it`);
        await touch(tx, s);
        return add(tx, p, id, {
          actor: sender.id,
          actorName: sender.name,
          kind: 'chat',
          text: body,
          data: { role: me?.role ?? role },
        });
      });
    },

    /**
     * A guest holding an invite of this session comes in (web guest login): a `guest` participant,
     * with its `joined` entry, written in the transaction of `also` (the invite being used).
     */
    async admitGuest(id: number, guestId: string, also: (tx: RecordsDb) => Promise<void>): Promise<RemoteSession> {
      if (!guestId.startsWith('guest:')) throw new PlatformError('INVALID_ARGUMENT', 'a guest id starts with guest:');
      return write(async (tx, p) => {
        const s = await getSession(tx, id);
        notEnded(s, 'admit a guest');
        await also(tx);
        await joinAs(tx, p, s, { id: guestId, name: 'Guest' }, 'guest');
        await touch(tx, s);
        return (await getSession(tx, id)).session;
      });
    },

    /**
     * A photo a participant attaches: its row (`insert`, the photo store's) and a `photo` timeline
     * entry in one transaction. Same rules as chat: the unit's crew join by sending, staff and guests
     * must be in the session.
     */
    async photo(
      principal: SessionPrincipal,
      id: number,
      photo: { id: string; type: string; size: number; caption: string | null },
      insert: (tx: RecordsDb, at: number) => Promise<void>,
    ): Promise<SessionTimelineEntry> {
      const { role } = await accessOrThrow(principal, id);
      const sender: Actor = { id: principal.id, name: await nameOf(principal.id) };
      return write(async (tx, p) => {
        const s = await getSession(tx, id);
        notEnded(s, 'attach a photo');
        const me = s.session.participants.find((x) => x.id === principal.id);
        if (role === 'crew') await joinAs(tx, p, s, sender, role);
        else if (!me || me.leftAt !== null)
          throw new PlatformError('SESSION_NOT_JOINED', `join session ${id} before attaching a photo`);
        await touch(tx, s);
        const at = now();
        await insert(tx, at);
        return add(tx, p, id, {
          at,
          actor: sender.id,
          actorName: sender.name,
          kind: 'photo',
          text: photo.caption ?? 'photo',
          data: {
            photoId: photo.id,
            type: photo.type,
            size: photo.size,
            caption: photo.caption,
            role: me?.role ?? role,
          },
        });
      });
    },

    /** Ends the session with its outcome (staff); the ticket gets an entry, an escalation moves it toward dispatch. */
    async end(
      principal: SessionPrincipal,
      id: number,
      outcome: ChosenOutcome,
      note: string | null = null,
    ): Promise<RemoteSession> {
      if (!isStaff(principal)) throw new PlatformError('SESSION_NOT_FOUND', `session ${id} not found`);
      if (!(CHOSEN_OUTCOMES as readonly string[]).includes(outcome))
        throw new PlatformError('INVALID_ARGUMENT', `outcome must be one of ${CHOSEN_OUTCOMES.join(', ')}`);
      return endSession(id, { id: principal.id, name: await nameOf(principal.id) }, outcome, note);
    },

    async get(id: number): Promise<RemoteSession> {
      return (await getSession(db, id)).session;
    },

    /** Newest first, paged by `nextCursor`. */
    async list(
      query: {
        customerId?: string;
        ticketId?: number;
        vehicleId?: string;
        open?: boolean;
        limit?: number;
        cursor?: string;
      } = {},
    ): Promise<SessionPage> {
      const limit = query.limit ?? 100;
      const listKey = `sessions:${JSON.stringify([query.customerId, query.ticketId, query.vehicleId, query.open])}`;
      const beforeId = query.cursor !== undefined ? cursors.decode(query.cursor, listKey, 1)[0] : undefined;
      const ids = await listSessionIds(db, {
        ...query,
        limit: limit + 1,
        ...(beforeId !== undefined ? { beforeId } : {}),
      });
      const page = ids.slice(0, limit);
      const sessions = await Promise.all(page.map(async (id) => (await getSession(db, id)).session));
      const last = page[page.length - 1];
      return {
        sessions,
        nextCursor: ids.length > limit && last !== undefined ? cursors.encode([last], listKey) : null,
      };
    },

    /** Timeline entries after `since` (a seq), in order. */
    timeline: (id: number, since = 0, limit = 1000): Promise<SessionTimelineEntry[]> =>
      timelineOf(db, id, since, limit),

    /** The session's record: participants on both sides, the whole timeline, the telemetry from 5 min before the request at full rate. */
    async record(id: number): Promise<SessionRecord> {
      const s = (await getSession(db, id)).session;
      const ticket = await deps.tickets.get(s.ticketId);
      const from = s.requestedAt - recordBeforeMs;
      const to = s.endedAt ?? now();
      const frames = await deps.frames(s.vehicleId, from, to, recordMaxFrames + 1);
      return buildRecord({
        session: s,
        ticket,
        timeline: await timelineOf(db, id, 0, Number.MAX_SAFE_INTEGER),
        frames: frames.slice(0, recordMaxFrames),
        truncated: frames.length > recordMaxFrames,
        from,
        to,
        generatedAt: now(),
      });
    },
  };
}

export type RemoteSessions = ReturnType<typeof createRemoteSessions>;
