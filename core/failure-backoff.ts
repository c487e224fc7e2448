/**
 * Growing delays for a source that keeps failing (a wrong password, a wrong secret), by key: the
 * first `freeFailures` cost nothing, each one after blocks the key for `baseBlockMs`, doubling up
 * to `maxBlockMs`. A key is forgotten `windowMs` after its last failure or the end of its block,
 * whichever is later. Only failures are counted: whoever asks decides what a block refuses.
 *
 * Bounded memory: at most `maxEntries` keys. The map is kept in the order keys last failed, so
 * the first ones are the oldest: expired ones are dropped from the front as failures come in,
 * and at the cap the least recently failed key goes.
 */
export interface FailureBackoffOptions {
  freeFailures: number;
  windowMs: number;
  baseBlockMs: number;
  maxBlockMs: number;
  maxEntries: number;
}

interface Entry {
  failures: number;
  lastAt: number;
  blockedUntil: number;
}

/** What one failure did: the block it started (0 while failures are still free), and whether it is the key's first. */
export interface FailureOutcome {
  blockMs: number;
  firstBlock: boolean;
}

export function createFailureBackoff(options: FailureBackoffOptions, now: () => number = Date.now) {
  const entries = new Map<string, Entry>();
  const expired = (e: Entry, t: number) => t - Math.max(e.lastAt, e.blockedUntil) > options.windowMs;

  function current(key: string, t: number): Entry | undefined {
    const e = entries.get(key);
    if (e && expired(e, t)) {
      entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Drops expired keys from the front (the least recently failed), a few at a time. */
  function dropExpired(t: number, budget: number): void {
    for (const [key, e] of entries) {
      if (budget-- <= 0 || !expired(e, t)) return;
      entries.delete(key);
    }
  }

  return {
    /** Milliseconds the key is still blocked; 0 when it may be tried now. */
    blockedFor(key: string): number {
      const t = now();
      const e = current(key, t);
      return e && e.blockedUntil > t ? e.blockedUntil - t : 0;
    },
    /** Counts a failure of `key`. */
    fail(key: string): FailureOutcome {
      const t = now();
      dropExpired(t, 4);
      let e = current(key, t);
      if (e)
        entries.delete(key); // re-inserted at the end: the map's order is the order keys last failed
      else e = { failures: 0, lastAt: t, blockedUntil: 0 };
      entries.set(key, e);
      while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
      e.failures++;
      e.lastAt = t;
      const over = e.failures - options.freeFailures;
      if (over <= 0) return { blockMs: 0, firstBlock: false };
      const blockMs = Math.min(options.maxBlockMs, options.baseBlockMs * 2 ** Math.min(over - 1, 30));
      e.blockedUntil = t + blockMs;
      return { blockMs, firstBlock: over === 1 };
    },
    /** Forgets the key (a success from it). */
    clear(key: string): void {
      entries.delete(key);
    },
    /** Keys held now (expired ones not yet dropped included). */
    size: (): number => entries.size,
  };
}

export type FailureBackoff = ReturnType<typeof createFailureBackoff>;
