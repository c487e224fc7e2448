/**
 * Test doubles of the session records for unit tests of one module alone (the live session stream,
 * the telemetry rate keeper). Tests of the platform, the web app or the live layer use the real
 * records (remote/sessions.ts via platform/remote.ts): `platform.remote`, `startWeb().sessions`.
 */
import type { ParticipantRole, RemoteSession, SessionAccess, SessionPrincipal } from '../../remote/types.ts';

export function remoteSession(id: number, vehicleId: string, customerId: string, status: RemoteSession['status']) {
  return {
    id,
    ticketId: 1,
    vehicleId,
    customerId,
    status,
    outcome: null,
    description: 'generator does not start',
    requestedBy: 'crew',
    requestedAt: 0,
    answeredAt: null,
    answeredBy: null,
    endedAt: null,
    participants: [],
  } satisfies RemoteSession;
}

/**
 * Sessions by id; staff are the lead (`engineer`) or observers, the session unit's customer
 * accounts are crew, anybody else gets null. Records presence calls.
 */
export function fakeSessionAccess(sessions: RemoteSession[]) {
  const presence: { sessionId: number; participantId: string; present: boolean }[] = [];
  const waiters = new Set<() => void>();
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const access: SessionAccess = {
    async access(p: SessionPrincipal, sessionId: number) {
      const session = byId.get(sessionId);
      if (!session) return null;
      let role: ParticipantRole | null = null;
      if (p.role === 'engineer') role = 'lead';
      else if (p.role === 'admin' || p.role === 'dispatcher') role = 'observer';
      else if (p.role === 'customer' && p.customerId === session.customerId) role = 'crew';
      return role ? { session, role } : null;
    },
    present(sessionId, participantId, present) {
      presence.push({ sessionId, participantId, present });
      for (const w of [...waiters]) w();
    },
  };
  /** Resolves once `holds()` is true, checked now and at every presence report. */
  function until(holds: () => boolean): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve) => {
      const w = () => {
        if (!holds()) return;
        waiters.delete(w);
        resolve();
      };
      waiters.add(w);
    });
  }
  return { access, presence, sessions: byId, until };
}
