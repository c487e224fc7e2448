/**
 * Who is present in which session: sockets counted per participant (a participant with two tabs
 * stays present until both close), in memory — nobody's sockets survive a restart.
 */
export function createPresence() {
  const bySession = new Map<number, Map<string, number>>();
  const count = (sessionId: number) => bySession.get(sessionId)?.size ?? 0;
  return {
    count,
    /**
     * One socket of a participant came or went. Returns how many participants were present before
     * and after, or undefined when a departure was not known (nothing changed).
     */
    change(sessionId: number, participantId: string, present: boolean): { before: number; after: number } | undefined {
      let ids = bySession.get(sessionId);
      const before = count(sessionId);
      if (present) {
        if (!ids) bySession.set(sessionId, (ids = new Map()));
        ids.set(participantId, (ids.get(participantId) ?? 0) + 1);
      } else if (ids?.has(participantId)) {
        const n = ids.get(participantId)! - 1;
        if (n > 0) ids.set(participantId, n);
        else ids.delete(participantId);
        if (ids.size === 0) bySession.delete(sessionId);
      } else return undefined;
      return { before, after: count(sessionId) };
    },
    /** The session ended: nobody is counted in it any more. */
    forget(sessionId: number): void {
      bySession.delete(sessionId);
    },
  };
}
