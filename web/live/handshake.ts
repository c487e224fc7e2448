import type { IncomingMessage } from 'node:http';
import type { Counters } from '../../core/counters.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { SessionInvites } from '../../remote/invites.ts';
import { GUEST_COOKIE } from '../auth/guard.ts';
import { SESSION_COOKIE, type SessionEnded, type Sessions } from '../auth/sessions.ts';
import type { ProxyTrust } from '../proxy-trust.ts';
import { guestAccount, type LiveModule, type LiveServer, type LiveSocket } from './sockets.ts';

class LiveError extends Error {
  readonly data: { code: ErrorCode };
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.data = { code };
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v?.split(',')[0]?.trim();
}

/**
 * Why a handshake from a browser page of another site is refused, or null when it is not. The
 * console's own host comes from X-Forwarded-Host / -Proto only when the peer is a trusted proxy
 * (`trustProxy`, the same list as the API's client addresses), else from Host.
 */
export function foreignOrigin(req: IncomingMessage, trustProxy: ProxyTrust): string | null {
  if (req.headers['sec-fetch-site'] === 'cross-site') return 'cross-site connection refused';
  const origin = req.headers.origin;
  if (!origin) return null; // not a browser page: the session cookie alone decides
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'cross-site connection refused (unreadable Origin)';
  }
  const proxied = trustProxy(req.socket.remoteAddress);
  const rawHost = (proxied ? first(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host ?? '';
  const proto =
    (proxied ? first(req.headers['x-forwarded-proto']) : undefined) ??
    ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  let own: string;
  try {
    own = new URL(`${proto}://${rawHost}`).host; // drops a default port, as Origin does
  } catch {
    own = rawHost;
  }
  return host === own ? null : `cross-site connection refused (Origin ${origin})`;
}

/** socket.io's `allowRequest`: refuses (and counts, `live.refused` origin) requests from a page of another site. */
export function refuseForeignOrigins(counters: Counters, trustProxy: ProxyTrust) {
  return (req: IncomingMessage, cb: (err: string | null | undefined, success: boolean) => void): void => {
    const refused = foreignOrigin(req, trustProxy);
    if (refused) counters.inc('live.refused', 'origin');
    cb(refused, refused === null);
  };
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0 || part.slice(0, i).trim() !== name) continue;
    const raw = part.slice(i + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

export interface HandshakeDeps {
  sessions: Pick<Sessions, 'lookup' | 'alive' | 'onEnded'>;
  /** Guests (remote/invites.ts): their cookie opens one remote session; without this it is refused. */
  guests?: Pick<SessionInvites, 'lookup' | 'alive' | 'onEnded'> | undefined;
  counters: Counters;
  log: Logger;
}

/** The key of a guest connection's cookie session in `bySession` (never equal to a console session's id). */
const guestKey = (id: string) => `guest:${id}`;

/**
 * Who may connect, and for how long: a handshake is accepted with a live session cookie from the
 * console's own site (the account and session go on `socket.data`); a connection is cut
 * (`session.ended`, then disconnect) when its session ends — at once on logout or an account
 * change, else when the periodic check (`sessionCheckMs`) finds it expired.
 */
export function createHandshake(
  io: LiveServer,
  deps: HandshakeDeps,
  opts: { sessionCheckMs: number; trustProxy: ProxyTrust },
): LiveModule {
  const { counters, log, sessions } = deps;

  io.use((socket, next) => {
    void (async () => {
      const refused = foreignOrigin(socket.request, opts.trustProxy);
      if (refused) return next(new LiveError('CSRF_INVALID', refused));
      const token = cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE);
      const guestToken = cookieValue(socket.handshake.headers.cookie, GUEST_COOKIE);
      if (!token && guestToken && deps.guests) {
        const guest = await deps.guests.lookup(guestToken);
        if (!guest) {
          counters.inc('live.refused', 'unauthenticated');
          return next(new LiveError('UNAUTHENTICATED', 'your guest access has ended'));
        }
        socket.data = { account: guestAccount(guest.principal), sessionId: guestKey(guest.id), guest: guest.principal };
        return next();
      }
      if (!token) {
        counters.inc('live.refused', 'unauthenticated');
        return next(
          new LiveError(
            'UNAUTHENTICATED',
            `log in first (POST /api/auth/login): the live channel needs the ${SESSION_COOKIE} cookie`,
          ),
        );
      }
      const session = await sessions.lookup(token);
      if (!session) {
        counters.inc('live.refused', 'unauthenticated');
        return next(new LiveError('UNAUTHENTICATED', 'your session has ended; log in again'));
      }
      if (session.account.mustChangePassword)
        return next(new LiveError('PASSWORD_CHANGE_REQUIRED', 'set your own password first (POST /api/auth/password)'));
      if (session.twoFactorRequired)
        return next(
          new LiveError(
            'TWO_FACTOR_REQUIRED',
            'set up two-factor authentication first (POST /api/auth/two-factor/enrol)',
          ),
        );
      socket.data = { account: session.account, sessionId: session.id };
      next();
    })().catch((err: unknown) => {
      log.error({ err }, 'live handshake failed');
      next(new LiveError('INTERNAL', 'the live channel is unavailable; try again'));
    });
  });

  const bySession = new Map<string, Set<LiveSocket>>();

  function endSocket(s: LiveSocket, reason: string): void {
    if (!s.connected) return;
    counters.inc('live.sessions_ended');
    s.emit('session.ended', { reason });
    s.disconnect(true);
  }

  const offEnded = sessions.onEnded((e: SessionEnded) => {
    if ('sessionId' in e) {
      for (const s of bySession.get(e.sessionId) ?? []) endSocket(s, 'logged out');
      return;
    }
    for (const [sid, set] of bySession) {
      if (sid === e.keep) continue;
      for (const s of set)
        if (s.data.account.id === e.accountId) endSocket(s, 'your session was ended (account changed)');
    }
  });

  const offGuests = deps.guests?.onEnded((ids) => {
    for (const id of ids)
      for (const s of bySession.get(guestKey(id)) ?? []) endSocket(s, 'your guest access has ended');
  });
  const alive = (sid: string): Promise<boolean> =>
    sid.startsWith('guest:') ? (deps.guests?.alive(sid.slice(6)) ?? Promise.resolve(false)) : sessions.alive(sid);

  let checking = false;
  const sessionTimer = setInterval(() => {
    if (checking || bySession.size === 0) return;
    checking = true;
    void (async () => {
      for (const [sid, set] of [...bySession]) {
        if (!(await alive(sid))) for (const s of set) endSocket(s, 'your session has ended; log in again');
      }
    })()
      .catch((err: unknown) => log.warn({ err }, 'live session check failed'))
      .finally(() => (checking = false));
  }, opts.sessionCheckMs);
  sessionTimer.unref();

  return {
    connected(socket) {
      const { sessionId } = socket.data;
      let set = bySession.get(sessionId);
      if (!set) bySession.set(sessionId, (set = new Set()));
      set.add(socket);
      counters.inc('live.connections');
      socket.on('disconnect', () => {
        const s = bySession.get(sessionId);
        s?.delete(socket);
        if (s?.size === 0) bySession.delete(sessionId);
      });
      // a session ended while this handshake was in flight was not seen by onEnded
      alive(sessionId).then(
        (ok) => {
          if (!ok) endSocket(socket, 'your session has ended; log in again');
        },
        (err: unknown) => log.warn({ err }, 'live session check failed'),
      );
    },
    close() {
      offEnded();
      offGuests?.();
      clearInterval(sessionTimer);
    },
  };
}
