import type { Counters } from '../../core/counters.ts';
import type { Logger } from '../../core/logger.ts';
import type { LiveOptions } from './options.ts';
import { ack, refuse } from './protocol.ts';
import type { LiveModule, LiveSocket } from './sockets.ts';

/** The window in which `floodMaxRefused` refused events end a connection. */
export const FLOOD_WINDOW_MS = 10_000;

/**
 * The per-connection event rate of the live channel (issue 16, item 8: one connection sent 39,000
 * events in 10 s). Every client event takes one from the connection's bucket (`eventBurst` events,
 * refilled at `eventRateHz` a second). An event over the rate is not handled: it is answered
 * `RATE_LIMITED` when it has an acknowledgement callback, and counted (`live.rate_limited`). A
 * connection with `floodMaxRefused` events refused within FLOOD_WINDOW_MS keeps flooding: it is
 * disconnected and counted (`live.flood_disconnects`). A console sends a handful of requests a
 * minute (subscriptions as the operator moves around), far below either.
 *
 * It is socket.io middleware (`socket.use`), run before any module's handler sees the event.
 */
export function createFloodGuard(
  deps: { counters: Counters; log: Logger; now: () => number },
  options: Pick<LiveOptions, 'eventRateHz' | 'eventBurst' | 'floodMaxRefused'>,
): LiveModule {
  const { counters, log, now } = deps;
  const perMs = options.eventRateHz / 1000;
  return {
    connected(socket: LiveSocket) {
      let tokens = options.eventBurst;
      let at = now();
      let windowStart = at;
      let refused = 0;
      socket.use((packet, next) => {
        // packets read before a cut still come through here: dropped, unanswered, uncounted
        if (!socket.connected) return;
        const t = now();
        tokens = Math.min(options.eventBurst, tokens + (t - at) * perMs);
        at = t;
        if (tokens >= 1) {
          tokens -= 1;
          next();
          return;
        }
        // over the rate: not handed on (next is never called), answered, counted
        counters.inc('live.rate_limited');
        ack(
          packet.at(-1),
          refuse(
            'RATE_LIMITED',
            `too many events on this connection (at most ${options.eventRateHz} a second); try again in ${Math.max(1, Math.ceil((1 - tokens) / perMs / 1000))} s`,
          ),
        );
        if (t - windowStart >= FLOOD_WINDOW_MS) {
          windowStart = t;
          refused = 0;
        }
        refused += 1;
        if (refused >= options.floodMaxRefused) {
          counters.inc('live.flood_disconnects');
          log.warn(
            { account: socket.data.account.id, refused, windowMs: FLOOD_WINDOW_MS },
            'live: connection flooding events disconnected',
          );
          socket.disconnect(true);
        }
      });
    },
    close() {},
  };
}
