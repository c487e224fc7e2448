import type { Counters } from '../../core/counters.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { LiveAck } from './events.ts';
import type { LiveModule, LiveSocket } from './sockets.ts';

/** Answers a request when the client sent an acknowledgement callback. */
export function ack<T extends object>(cb: unknown, res: LiveAck<T>): void {
  if (typeof cb === 'function') (cb as (r: LiveAck<T>) => void)(res);
}

export function refuse(code: ErrorCode, message: string) {
  return { ok: false as const, error: { code, message } };
}

/**
 * A request's payload (read by `read`) and its acknowledgement callback, or undefined when it is
 * invalid: counted (`live.invalid`), answered with VALIDATION_FAILED when there is a callback to
 * answer (`expected` says what to send), else ignored.
 */
export function readRequest<P, A extends object>(
  counters: Counters,
  args: unknown[],
  read: (payload: unknown) => P | undefined,
  expected: string,
): { payload: P; cb: (res: LiveAck<A>) => void } | undefined {
  const cb = args.at(-1);
  if (typeof cb !== 'function') {
    counters.inc('live.invalid', 'no_ack');
    return undefined;
  }
  const payload = args.length === 2 ? read(args[0]) : undefined;
  if (payload === undefined) {
    counters.inc('live.invalid', 'bad_payload');
    ack(cb, refuse('VALIDATION_FAILED', expected));
    return undefined;
  }
  return { payload, cb: cb as (res: LiveAck<A>) => void };
}

/**
 * Invalid input never ends a connection: unknown events are counted and refused (or ignored without
 * a callback); packets socket.io cannot decode, and transport errors, close the connection and are counted.
 * `requests` are the events the other modules answer.
 */
export function createProtocolGuard(deps: { counters: Counters; log: Logger }, requests: Iterable<string>): LiveModule {
  const { counters, log } = deps;
  const known = new Set(requests);
  const hint = [...known].join(' or ');
  return {
    connected(socket: LiveSocket) {
      const account = socket.data.account.id;
      socket.onAny((event: unknown, ...args: unknown[]) => {
        if (typeof event === 'string' && known.has(event)) return;
        counters.inc('live.invalid', 'unknown_event');
        log.debug({ account, event: String(event).slice(0, 64) }, 'live: unknown event refused');
        ack(
          args.at(-1),
          refuse(
            'NOT_FOUND',
            `no event ${JSON.stringify(String(event).slice(0, 64))} on the live channel; send ${hint}`,
          ),
        );
      });
      socket.on('error', (err: unknown) => {
        if (!(err instanceof Error)) return; // an "error" event sent by the client: counted above
        counters.inc('live.invalid', 'malformed_packet');
        log.debug({ account, err: err.message }, 'live: malformed packet');
      });
      socket.on('disconnect', (reason) => {
        // the transport refused what the client sent (a message over maxHttpBufferSize, a broken frame)
        if (reason === 'transport error') counters.inc('live.invalid', 'transport_error');
      });
    },
    close() {},
  };
}
