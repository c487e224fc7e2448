import { z } from 'zod';
import type { EventBus } from '../../core/bus.ts';
import type { Counters } from '../../core/counters.ts';
import { isPlatformError } from '../../core/errors.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type {} from '../../remote/errors.ts';
import type {
  RemoteSession,
  SessionAccess,
  SessionPrincipal,
  SessionTimelineEntry,
  StepResult,
} from '../../remote/types.ts';
import type { Naming, PublicNames } from '../public-names.ts';
import type { Backpressure } from './backpressure.ts';
import { frameSource, type FrameSource } from './cluster-feed.ts';
import type { SessionJoined } from './events.ts';
import { ack, readRequest, refuse } from './protocol.ts';
import type { LiveModule, LiveServer, LiveSocket } from './sockets.ts';

/** Reads a session's timeline (the session records): the entries after `afterSeq`, oldest first. */
export interface SessionTimelineReader {
  since(sessionId: number, afterSeq: number): Promise<SessionTimelineEntry[]>;
}

export interface RemoteSessionStreamDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  access: SessionAccess;
  timeline: SessionTimelineReader;
  send: Pick<Backpressure, 'sendDroppable' | 'sendReliable'>;
  /** Stored frames: this node's `telemetry.stored` by default; in cluster mode also the other nodes' (cluster-feed.ts). */
  frames?: FrameSource;
  /** Customers never get staff login ids: the crew's copy names people as web/public-names.ts says. */
  names: Pick<PublicNames, 'forCustomer'>;
  counters: Counters;
  log: Logger;
}

/** Per session: the staff's room and the crew's (the unit's accounts get the copy naming people for customers). */
export const sessionRooms = {
  staff: (sessionId: number) => `session:${sessionId}`,
  crew: (sessionId: number) => `session:${sessionId}:crew`,
};

const joinSchema = z.strictObject({
  sessionId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  sinceSeq: z.number().int().min(-1).optional(),
});
const leaveSchema = z.strictObject({ sessionId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const JOIN_EXPECTED = 'send {sessionId: number, sinceSeq?: number} and an acknowledgement callback';
const LEAVE_EXPECTED = 'send {sessionId: number} and an acknowledgement callback';
/** Sessions one connection may be in at once. */
const MAX_JOINED = 10;

const principalOf = (s: LiveSocket): SessionPrincipal =>
  s.data.guest ?? {
    id: s.data.account.id,
    role: s.data.account.role,
    customerId: s.data.account.customerId,
  };

function sessionForCrew(session: RemoteSession, n: Naming): RemoteSession {
  return {
    ...session,
    requestedBy: n.person(session.requestedBy),
    answeredBy: session.answeredBy === null ? null : n.person(session.answeredBy),
    participants: session.participants.map((p) => (p.role === 'crew' ? p : { ...p, id: n.person(p.id) })),
  };
}
const entryForCrew = (e: SessionTimelineEntry, n: Naming): SessionTimelineEntry =>
  e.actor === 'system' ? e : { ...e, actor: n.person(e.actor) };
const stepForCrew = (r: StepResult, n: Naming): StepResult =>
  r.actor === 'system' ? r : { ...r, actor: n.person(r.actor) };

/**
 * The remote session stream: `session.join` / `session.leave` put a connection in a session's room,
 * for participants only (asked of the session records through `SessionAccess`; anyone else gets
 * SESSION_NOT_FOUND, exactly as for a session that does not exist). Presence goes back to the
 * session records (`present`) on join, leave and disconnect, once per participant however many tabs.
 *
 * Frames: every stored frame of the session's vehicle goes to its rooms as stored — no per-vehicle
 * throttle (the gateway sends 10 Hz while the session is live). They are sent droppable
 * (`sendDroppable`): a connection with `LIVE_MAX_BUFFERED` messages waiting skips frames and is
 * closed when it stays behind for `LIVE_SLOW_TIMEOUT_MS` or reaches the hard cap, so a stuck socket
 * stays bounded; a participant that fell behind reads the gap from the telemetry API. Timeline
 * entries, session changes and step results are never dropped (`sendReliable`). A join after a reload
 * answers with the session now and the timeline after the client's `sinceSeq`.
 */
export function createRemoteSessionStream(io: LiveServer, deps: RemoteSessionStreamDeps) {
  const { counters, log, send } = deps;
  const frames = deps.frames ?? frameSource(deps.bus);
  /** The vehicle of each session someone is in. */
  const vehicleOf = new Map<number, string>();
  /** The unit of each session (for the crew's copy). */
  const customerOf = new Map<number, string>();
  /** Sessions each connection joined. */
  const joined = new WeakMap<LiveSocket, Set<number>>();
  /** Connections per participant of a session: presence changes on the first join and the last leave. */
  const sockets = new Map<string, number>();
  let crewQueue: Promise<void> = Promise.resolve();

  const occupied = (sessionId: number) =>
    (io.sockets.adapter.rooms.get(sessionRooms.staff(sessionId))?.size ?? 0) +
      (io.sockets.adapter.rooms.get(sessionRooms.crew(sessionId))?.size ?? 0) >
    0;

  /** The vehicle of a session someone here is in: its frames are watched (from the other nodes too). */
  function setVehicle(sessionId: number, vehicleId: string): void {
    const before = vehicleOf.get(sessionId);
    if (before === vehicleId) return;
    vehicleOf.set(sessionId, vehicleId);
    frames.watch(vehicleId);
    if (before !== undefined) frames.unwatch(before);
  }

  function forget(sessionId: number): void {
    if (occupied(sessionId)) return;
    const vehicleId = vehicleOf.get(sessionId);
    if (vehicleId !== undefined) frames.unwatch(vehicleId);
    vehicleOf.delete(sessionId);
    customerOf.delete(sessionId);
  }

  function presence(sessionId: number, participantId: string, here: boolean): void {
    const k = `${sessionId}\u0000${participantId}`;
    const n = (sockets.get(k) ?? 0) + (here ? 1 : -1);
    if (n > 0) sockets.set(k, n);
    else sockets.delete(k);
    if ((here && n === 1) || (!here && n === 0)) {
      try {
        deps.access.present(sessionId, participantId, here);
      } catch (err) {
        log.warn({ err, sessionId }, 'session presence not recorded');
      }
    }
  }

  function leave(socket: LiveSocket, sessionId: number): boolean {
    const mine = joined.get(socket);
    if (!mine?.delete(sessionId)) return false;
    void socket.leave(sessionRooms.staff(sessionId));
    void socket.leave(sessionRooms.crew(sessionId));
    presence(sessionId, socket.data.account.id, false);
    forget(sessionId);
    return true;
  }

  /** Reliable to both rooms; the crew's copy names people for customers, in the order of the events. */
  function toRooms(sessionId: number, staff: () => void, crew: (n: Naming) => void): void {
    staff();
    const cid = customerOf.get(sessionId);
    if (!cid || !io.sockets.adapter.rooms.get(sessionRooms.crew(sessionId))?.size) return;
    crewQueue = crewQueue
      .then(async () => crew(await deps.names.forCustomer(cid)))
      .catch((err: unknown) => log.warn({ err }, 'live session event for the crew failed'));
  }

  const offs = [
    frames.on((e) => {
      if (!vehicleOf.size) return;
      for (const [sessionId, vehicleId] of vehicleOf) {
        if (vehicleId !== e.vehicleId) continue;
        const m = { sessionId, vehicleId, receivedAt: e.receivedAt, frames: e.frames };
        send.sendDroppable(sessionRooms.staff(sessionId), 'session_frames', 'remote.frames', m);
        send.sendDroppable(sessionRooms.crew(sessionId), 'session_frames', 'remote.frames', m);
      }
    }),
    deps.bus.on('remote.timeline', ({ sessionId, entry }) => {
      if (!vehicleOf.has(sessionId)) return;
      toRooms(
        sessionId,
        () => send.sendReliable([sessionRooms.staff(sessionId)], 'remote.timeline', { sessionId, entry }),
        (n) =>
          send.sendReliable([sessionRooms.crew(sessionId)], 'remote.timeline', {
            sessionId,
            entry: entryForCrew(entry, n),
          }),
      );
    }),
    deps.bus.on('remote.session.changed', ({ session, action }) => {
      if (!vehicleOf.has(session.id)) return;
      setVehicle(session.id, session.vehicleId);
      const sessionId = session.id;
      toRooms(
        sessionId,
        () => send.sendReliable([sessionRooms.staff(sessionId)], 'remote.changed', { sessionId, action, session }),
        (n) =>
          send.sendReliable([sessionRooms.crew(sessionId)], 'remote.changed', {
            sessionId,
            action,
            session: sessionForCrew(session, n),
          }),
      );
    }),
    deps.bus.on('remote.step', ({ result }) => {
      const sessionId = result.sessionId;
      if (!vehicleOf.has(sessionId)) return;
      toRooms(
        sessionId,
        () => send.sendReliable([sessionRooms.staff(sessionId)], 'remote.step', { sessionId, result }),
        (n) =>
          send.sendReliable([sessionRooms.crew(sessionId)], 'remote.step', {
            sessionId,
            result: stepForCrew(result, n),
          }),
      );
    }),
  ];

  return {
    requests: ['session.join', 'session.leave'],
    connected(socket: LiveSocket) {
      const mine = new Set<number>();
      joined.set(socket, mine);

      socket.on('session.join', (...args: unknown[]) => {
        const r = readRequest<z.infer<typeof joinSchema>, SessionJoined>(
          counters,
          args,
          (p) => joinSchema.safeParse(p).data,
          JOIN_EXPECTED,
        );
        if (!r) return;
        const { payload, cb } = r;
        const { sessionId } = payload;
        if (!mine.has(sessionId) && mine.size >= MAX_JOINED)
          return ack(
            cb,
            refuse('INVALID_ARGUMENT', `at most ${MAX_JOINED} sessions at once on one connection; leave one first`),
          );
        void (async () => {
          const a = await deps.access.access(principalOf(socket), sessionId);
          if (!a) {
            counters.inc('live.session_join_refused');
            return ack(cb, refuse('SESSION_NOT_FOUND', `remote session ${sessionId} not found`));
          }
          const timeline = await deps.timeline.since(sessionId, payload.sinceSeq ?? -1);
          if (!socket.connected) return;
          // guests get the crew's copy (people named as the unit's customers see them)
          const crew = socket.data.account.role === 'customer' || !!socket.data.guest;
          setVehicle(sessionId, a.session.vehicleId);
          customerOf.set(sessionId, a.session.customerId);
          if (!mine.has(sessionId)) {
            mine.add(sessionId);
            void socket.join(crew ? sessionRooms.crew(sessionId) : sessionRooms.staff(sessionId));
            presence(sessionId, socket.data.account.id, true);
          }
          if (!crew) return ack(cb, { ok: true, sessionId, role: a.role, session: a.session, timeline });
          const n = await deps.names.forCustomer(a.session.customerId);
          ack(cb, {
            ok: true,
            sessionId,
            role: a.role,
            session: sessionForCrew(a.session, n),
            timeline: timeline.map((e) => entryForCrew(e, n)),
          });
        })().catch((err: unknown) => {
          if (isPlatformError(err)) return ack(cb, refuse(err.code, err.message));
          log.error({ err }, 'live session join failed');
          ack(cb, refuse('INTERNAL', 'joining the session failed; try again'));
        });
      });

      socket.on('session.leave', (...args: unknown[]) => {
        const r = readRequest<number, { sessionId: number }>(
          counters,
          args,
          (p) => leaveSchema.safeParse(p).data?.sessionId,
          LEAVE_EXPECTED,
        );
        if (!r) return;
        leave(socket, r.payload);
        ack(r.cb, { ok: true, sessionId: r.payload });
      });

      socket.on('disconnect', () => {
        for (const id of [...mine]) leave(socket, id);
      });
    },
    close() {
      for (const off of offs) off();
    },
  } satisfies LiveModule;
}
