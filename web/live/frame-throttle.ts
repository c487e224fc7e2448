import { performance } from 'node:perf_hooks';

interface Throttle<M> {
  /** When (clock) the last message went out. */
  last: number;
  /** The newest `ts` accepted. */
  lastTs: number;
  pending: { ts: number; message: M } | null;
  timer: NodeJS.Timeout | null;
}

/**
 * At most one message per key every `intervalMs`, latest wins: a message offered within the interval
 * waits, and is replaced by a newer one offered before it goes out. A message older (by `ts`) than
 * one already accepted is history, not live: it is ignored.
 */
export function createFrameThrottle<M>(opts: { intervalMs: number; send: (message: M) => void; clock?: () => number }) {
  const { intervalMs, send } = opts;
  const clock = opts.clock ?? (() => performance.now());
  const throttles = new Map<string, Throttle<M>>();

  function flush(t: Throttle<M>): void {
    t.timer = null;
    const p = t.pending;
    if (!p) return;
    t.pending = null;
    t.last = clock();
    send(p.message);
  }

  return {
    /** Sends `message` now, later (the latest of the interval), or never (older than one accepted). */
    offer(key: string, ts: number, message: M): void {
      let t = throttles.get(key);
      if (!t) throttles.set(key, (t = { last: -Infinity, lastTs: -Infinity, pending: null, timer: null }));
      if (ts < t.lastTs || (t.pending && ts < t.pending.ts)) return;
      t.lastTs = ts;
      const at = clock();
      if (!t.timer && at - t.last >= intervalMs) {
        t.last = at;
        send(message);
        return;
      }
      t.pending = { ts, message };
      if (!t.timer) {
        const th = t;
        th.timer = setTimeout(() => flush(th), Math.max(0, th.last + intervalMs - at));
      }
    },
    /** Drops a key's state and what waits for it. */
    forget(key: string): void {
      const t = throttles.get(key);
      if (t?.timer) clearTimeout(t.timer);
      throttles.delete(key);
    },
    /** Keys with state (for tests and metrics). */
    size: () => throttles.size,
    close(): void {
      for (const t of throttles.values()) if (t.timer) clearTimeout(t.timer);
      throttles.clear();
    },
  };
}
