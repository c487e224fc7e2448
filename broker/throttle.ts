/**
 * Failed-login throttle per account id: after `freeAttempts` failures within `windowMs`, further
 * attempts are refused without checking the secret for a back-off that doubles up to `maxBlockMs`.
 * A success clears the record. Bounded in size.
 */
export function createLoginThrottle(options: { freeAttempts: number; windowMs: number; baseBlockMs: number; maxBlockMs: number; maxEntries?: number }, now: () => number = Date.now) {
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
      if (!e || t - e.firstAt > options.windowMs) {
        if (!e && entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
        e = { failures: 0, firstAt: t, blockedUntil: 0 };
        entries.set(id, e);
      }
      e.failures++;
      const over = e.failures - options.freeAttempts;
      if (over > 0) {
        const block = Math.min(options.maxBlockMs, options.baseBlockMs * 2 ** Math.min(over - 1, 30));
        e.blockedUntil = t + block;
        e.firstAt = t; // keep the record alive while attacks continue
      }
    },
    succeeded(id: string): void {
      entries.delete(id);
    },
  };
}
