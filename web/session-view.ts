import type { SessionRecord } from '../remote/record.ts';
import type { RemoteSession, SessionTimelineEntry } from '../remote/types.ts';
import type { Account } from './auth/accounts.ts';
import type { Naming } from './public-names.ts';

/**
 * A session as one viewer is sent it. Staff see everything as stored. A customer (the crew) never
 * gets a staff login id: people are named by public-names.ts' rules (display name, else a role
 * label), a ring entry says which step rang but not whom, and a command or step entry loses its
 * actor's id.
 */
export interface SessionView {
  session(s: RemoteSession): RemoteSession;
  entry(e: SessionTimelineEntry): SessionTimelineEntry;
  record(r: SessionRecord): SessionRecord;
}

const AS_STORED: SessionView = { session: (s) => s, entry: (e) => e, record: (r) => r };

export function sessionView(viewer: Pick<Account, 'role'>, naming: Naming): SessionView {
  if (viewer.role !== 'customer') return AS_STORED;
  const person = (id: string | null) => (id === null ? null : naming.person(id));
  const session = (s: RemoteSession): RemoteSession => ({
    ...s,
    requestedBy: naming.person(s.requestedBy),
    answeredBy: person(s.answeredBy),
    participants: s.participants.map((p) => ({ ...p, id: naming.person(p.id) })),
  });
  const entry = (e: SessionTimelineEntry): SessionTimelineEntry => {
    const data = (e.data ?? null) as Record<string, unknown> | null;
    let shown: unknown = data;
    if (e.kind === 'ring') shown = { step: data?.step ?? null };
    else if (data && (e.kind === 'command' || e.kind === 'ack' || e.kind === 'step') && 'actor' in data)
      shown = { ...data, actor: naming.person(String(data.actor)) };
    return { ...e, actor: naming.person(e.actor), data: shown };
  };
  return {
    session,
    entry,
    record: (r) => ({
      ...r,
      session: session(r.session),
      participants: {
        staff: r.participants.staff.map((p) => ({ ...p, id: naming.person(p.id) })),
        crew: r.participants.crew,
        guests: r.participants.guests,
      },
      timeline: r.timeline.map(entry),
    }),
  };
}
