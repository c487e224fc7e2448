/**
 * Remote guidance sessions (远程支援): the shapes the session records (remote/) and their users
 * (live stream, guided steps, commands, console) share.
 */

/** requested → ringing → live → ended. */
export const SESSION_STATUSES = ['requested', 'ringing', 'live', 'ended'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** How a session ended. `abandoned`: everyone had left for 10 minutes. */
export const SESSION_OUTCOMES = ['resolved_remotely', 'escalated_on_site', 'crew_unreachable', 'abandoned'] as const;
export type SessionOutcome = (typeof SESSION_OUTCOMES)[number];

/** lead engineer, observing engineers, crew members of the ticket's unit, invited guests (no account). */
export const PARTICIPANT_ROLES = ['lead', 'observer', 'crew', 'guest'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

export interface Participant {
  /** Account id, or `guest:<invite id>`. */
  id: string;
  role: ParticipantRole;
  /** Shown to the other side (display name, else a role label). */
  name: string;
  joinedAt: number;
  /** Null while present (connected or not yet timed out). */
  leftAt: number | null;
}

export interface RemoteSession {
  id: number;
  ticketId: number;
  vehicleId: string;
  customerId: string;
  status: SessionStatus;
  outcome: SessionOutcome | null;
  description: string;
  requestedBy: string;
  requestedAt: number;
  answeredAt: number | null;
  answeredBy: string | null;
  endedAt: number | null;
  participants: Participant[];
}

/** One entry of a session's append-only timeline (the record both sides keep). */
export const TIMELINE_KINDS = [
  'status',
  'joined',
  'left',
  'chat',
  'photo',
  'step',
  'command',
  'ack',
  'note',
  'ring',
] as const;
export type SessionTimelineKind = (typeof TIMELINE_KINDS)[number];

export interface SessionTimelineEntry {
  /** Increasing within the session: the order both sides see. */
  seq: number;
  at: number;
  /** Participant id, or `system`. */
  actor: string;
  /** As shown to the other side. */
  actorName: string;
  kind: SessionTimelineKind;
  text: string | null;
  /** Kind-specific structured data (a step result with its evidence, a command record, a photo id…). */
  data: unknown;
}

/** Who is asking to see or join a session: a console account, or a guest holding an invite. */
export interface SessionPrincipal {
  /** Account id, or `guest:<invite id>`. */
  id: string;
  role: 'admin' | 'dispatcher' | 'engineer' | 'customer' | 'supply' | 'guest';
  customerId: string | null;
  /** For a guest: the only session the invite opens. */
  sessionId?: number;
}

/** What the session records tell other parts (the live stream, guided steps, commands) about access. */
export interface SessionAccess {
  /**
   * The session and the part `principal` plays in it, when it may see it: staff (lead/observer), the
   * ticket unit's customer accounts (crew), the session's guests. Null otherwise (or when there is no such session).
   */
  access(
    principal: SessionPrincipal,
    sessionId: number,
  ): Promise<{ session: RemoteSession; role: ParticipantRole } | null>;
  /** A participant's socket joined or left (presence: a session nobody is present in for 10 min ends abandoned). */
  present(sessionId: number, participantId: string, present: boolean): void;
}

/** A guided step's result (from the plan's steps), as put on the session timeline. */
export interface StepResult {
  sessionId: number;
  index: number;
  status: 'current' | 'done' | 'passed' | 'failed' | 'skipped' | 'added';
  actor: string;
  at: number;
  /** What the crew typed. */
  observation: string | null;
  /** Why a step was skipped, or why a check failed without a deciding frame (e.g. the platform restarted). */
  reason?: string | null;
  /** For an expected observation: the condition and the values that decided it. */
  evidence: {
    condition: string;
    values: Record<string, number | boolean | string | null>;
    frameTs: number | null;
  } | null;
}
