/**
 * Failed-login throttle per account id: after `freeAttempts` failures within `windowMs`, further
 * attempts are refused without checking the secret for a back-off that doubles up to `maxBlockMs`.
 * A success clears the record. Bounded in size.
 */
export function createLoginThrottle(
  options: { freeAttempts: number; windowMs: number; baseBlockMs: number; maxBlockMs: number; maxEntries?: number },
  now: () => number = Date.now,
) {
  const entries = new Map<string, { failures: number; firstAt: number; blockedUntil: number }>();
  const maxEntries = options.maxEntries ?? 100_000;

  return {
    isBlocked(id: string): boolean {
      const e = entries.get(id);
      return !!e && e.blockedUntil > now();
    },
    failed(id: string): void {
      const t = now();
      let e = entries.get(id);
      // the record lasts `windowMs` past the later of its first failure and the end of its block:
      // a block longer than the window must not hand out fresh free attempts when it ends
      if (!e || t - Math.max(e.firstAt, e.blockedUntil) > options.windowMs) {
        if (!e && entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
        e = { failures: 0, firstAt: t, blockedUntil: 0 };
        entries.set(id, e);
      }
      e.failures++;
      const over = e.failures - options.freeAttempts;
      if (over > 0) {
        const block = Math.min(options.maxBlockMs, options.baseBlockMs * 2 ** Math.min(over - 1, 30));
        e.blockedUntil = t + block;
        e.firstAt = t;
      }
    },
    succeeded(id: string): void {
      entries.delete(id);
    },
  };
}
