import { performance } from 'node:perf_hooks';
import type { Counters } from '../../core/counters.ts';
import type { Logger } from '../../core/logger.ts';
import type { ServerToClientEvents } from './events.ts';
import type { LiveServer, LiveSocket } from './sockets.ts';

/** Messages of any kind waiting for a connection, as a multiple of `maxBuffered`, beyond which the connection is closed. */
export const HARD_CAP_FACTOR = 16;

/** Messages waiting in a connection's engine buffer (not yet handed to its transport). */
export function backlog(s: LiveSocket): number {
  const conn = s.conn as unknown as { writeBuffer?: unknown[] };
  return conn.writeBuffer?.length ?? 0;
}

export interface BackpressureDeps {
  counters: Counters;
  log: Logger;
  /** Monotonic milliseconds; performance.now by default. */
  clock?: () => number;
}

type Args<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>;

/**
 * How the live layer sends without ever waiting on a connection. A connection with `maxBuffered`
 * messages waiting is "behind": droppable messages (frames) skip it; one behind without a break for
 * `slowTimeoutMs` has stopped reading and is closed, as is one with `maxBuffered × HARD_CAP_FACTOR`
 * messages of any kind waiting (alarms and tickets are never dropped, so they can grow a backlog).
 */
export function createBackpressure(
  io: LiveServer,
  deps: BackpressureDeps,
  opts: { maxBuffered: number; slowTimeoutMs: number },
) {
  const { counters, log } = deps;
  const clock = deps.clock ?? (() => performance.now());
  const { maxBuffered } = opts;
  const hardCap = maxBuffered * HARD_CAP_FACTOR;
  /** Since when (clock) a connection has been behind without a break. */
  const behindSince = new WeakMap<LiveSocket, number>();

  /**
   * Closes a connection that does not keep up, at once: what waits for it is discarded (a plain
   * disconnect would wait for it to drain, i.e. for ever) and a WebSocket's TCP connection is cut.
   */
  function dropSlow(s: LiveSocket, why: string): void {
    counters.inc('live.slow_disconnected');
    log.warn({ account: s.data.account.id, backlog: backlog(s), why }, 'live connection does not keep up: closed');
    s.disconnect(true);
    s.conn.close(true);
    (s.conn.transport as unknown as { socket?: { terminate?: () => void } }).socket?.terminate?.();
  }

  const slowTimer = setInterval(
    () => {
      const at = clock();
      for (const s of io.sockets.sockets.values()) {
        if (backlog(s) < maxBuffered) {
          behindSince.delete(s);
          continue;
        }
        const since = behindSince.get(s) ?? at;
        behindSince.set(s, since);
        if (at - since >= opts.slowTimeoutMs) dropSlow(s, `behind for ${Math.round(at - since)} ms`);
      }
    },
    Math.min(1000, Math.max(50, Math.floor(opts.slowTimeoutMs / 4))),
  );
  slowTimer.unref();

  // A connection's backlog as it was when this turn of the event loop began sending to it. What one
  // turn queues waits only for the next one (socket.io hands a connection's messages to the socket
  // once the previous write returned): after a pause, one commit can bring frames of hundreds of
  // vehicles in a single turn, and that burst must not make a healthy connection "behind". A
  // connection that does not read keeps its backlog from turn to turn. See docs/benchmarks.md (live).
  const backlogAtTurnStart = new Map<string, number>();
  function settledBacklog(s: LiveSocket): number {
    let b = backlogAtTurnStart.get(s.id);
    if (b === undefined) {
      if (backlogAtTurnStart.size === 0) setImmediate(() => backlogAtTurnStart.clear());
      backlogAtTurnStart.set(s.id, (b = backlog(s)));
    }
    return b;
  }

  /** Members of rooms whose backlog is over `limit`; those over the hard cap are disconnected. */
  function behindIn(roomNames: string[], limit: number): string[] {
    const behind: string[] = [];
    for (const room of roomNames) {
      for (const id of io.sockets.adapter.rooms.get(room) ?? []) {
        const s = io.sockets.sockets.get(id);
        if (!s) continue;
        const b = backlog(s);
        if (b >= hardCap) {
          dropSlow(s, `${b} messages waiting`);
          behind.push(id);
        } else if (settledBacklog(s) >= limit) behind.push(id);
      }
    }
    return behind;
  }

  function members(roomNames: string[]): number {
    let n = 0;
    for (const r of roomNames) n += io.sockets.adapter.rooms.get(r)?.size ?? 0;
    return n;
  }

  return {
    maxBuffered,
    hardCap,
    /** Whether a connection has `maxBuffered` messages or more waiting right now. */
    isBehind: (s: LiveSocket): boolean => backlog(s) >= maxBuffered,
    /** Members of a room that are behind (`maxBuffered`) this turn; those over the hard cap are closed. */
    behind: (room: string): string[] => behindIn([room], maxBuffered),
    /** Never dropped (alarms, tickets): a connection too far behind is closed instead. Counted as `live.<event>_sent`. */
    sendReliable<E extends keyof ServerToClientEvents>(roomNames: string[], event: E, ...args: Args<E>): void {
      const n = members(roomNames);
      if (n === 0) return;
      const cut = behindIn(roomNames, hardCap);
      const target = cut.length ? io.to(roomNames).except(cut) : io.to(roomNames);
      target.emit(event, ...args);
      counters.inc(`live.${event}_sent`, undefined, n - cut.length);
    },
    /**
     * Skips the members of `room` that are behind (frames: the next one supersedes it). Counted as
     * `live.<counter>_sent` and `live.<counter>_dropped` (one per connection).
     */
    sendDroppable<E extends keyof ServerToClientEvents>(
      room: string,
      counter: string,
      event: E,
      ...args: Args<E>
    ): void {
      const n = members([room]);
      if (n === 0) return;
      const behind = behindIn([room], maxBuffered);
      if (behind.length) counters.inc(`live.${counter}_dropped`, undefined, behind.length);
      if (behind.length >= n) return;
      (behind.length ? io.to(room).except(behind) : io.to(room)).emit(event, ...args);
      counters.inc(`live.${counter}_sent`, undefined, n - behind.length);
    },
    close() {
      clearInterval(slowTimer);
    },
  };
}

export type Backpressure = ReturnType<typeof createBackpressure>;
