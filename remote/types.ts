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
