import type { StoredFrame } from '../telemetry/store.ts';
import type { Participant, RemoteSession, SessionTimelineEntry } from './types.ts';

/** What the record names of the ticket it belongs to. */
export interface RecordTicket {
  id: number;
  number: string;
  title: string;
  status: string;
  serviceMode: string | null;
}

/**
 * A session's record, kept with its ticket: both sides' participants, the whole timeline (steps
 * with their results, commands and acks, chat), the time to answer, and the vehicle's telemetry
 * from 5 minutes before the request to the end, every frame as received.
 */
export interface SessionRecord {
  session: RemoteSession;
  ticket: RecordTicket;
  /** Answered − requested, or null when never answered. */
  timeToAnswerMs: number | null;
  participants: {
    /** The lead and the observing engineers (our side). */
    staff: Participant[];
    /** The crew of the ticket's unit (the user's side). */
    crew: Participant[];
    guests: Participant[];
  };
  timeline: SessionTimelineEntry[];
  /** The photos attached, from the timeline's `photo` entries: fetched at `url` by the session's participants. */
  photos: RecordPhoto[];
  telemetry: {
    from: number;
    to: number;
    /** Every frame in [from, to], ordered by ts. */
    frames: { receivedAt: number; frame: StoredFrame['frame'] }[];
    /** True when there were more frames than a record keeps (see RemoteSessionsOptions.recordMaxFrames). */
    truncated: boolean;
  };
  generatedAt: number;
}

export interface RecordPhoto {
  id: string;
  type: string;
  size: number;
  caption: string | null;
  at: number;
  /** As shown to the other side. */
  by: string;
  /** The photo's address in the API (GET, participants only). */
  url: string;
}

export function buildRecord(input: {
  session: RemoteSession;
  ticket: RecordTicket;
  timeline: SessionTimelineEntry[];
  frames: StoredFrame[];
  truncated: boolean;
  from: number;
  to: number;
  generatedAt: number;
}): SessionRecord {
  const s = input.session;
  const t = input.ticket;
  return {
    session: s,
    ticket: { id: t.id, number: t.number, title: t.title, status: t.status, serviceMode: t.serviceMode },
    timeToAnswerMs: s.answeredAt === null ? null : s.answeredAt - s.requestedAt,
    participants: {
      staff: s.participants.filter((p) => p.role === 'lead' || p.role === 'observer'),
      crew: s.participants.filter((p) => p.role === 'crew'),
      guests: s.participants.filter((p) => p.role === 'guest'),
    },
    timeline: input.timeline,
    photos: input.timeline.flatMap((e) => {
      const d = e.data as { photoId?: string; type?: string; size?: number; caption?: string | null } | null;
      if (e.kind !== 'photo' || !d?.photoId) return [];
      return [
        {
          id: d.photoId,
          type: d.type ?? '',
          size: d.size ?? 0,
          caption: d.caption ?? null,
          at: e.at,
          by: e.actorName,
          url: `/api/sessions/${s.id}/photos/${d.photoId}`,
        },
      ];
    }),
    telemetry: {
      from: input.from,
      to: input.to,
      frames: input.frames.map((f) => ({ receivedAt: f.receivedAt, frame: f.frame })),
      truncated: input.truncated,
    },
    generatedAt: input.generatedAt,
  };
}
