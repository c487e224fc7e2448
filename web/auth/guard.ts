import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PlatformError } from '../../core/errors.ts';
import type { Account, Role } from './accounts.ts';
import { csrfMatches, CSRF_HEADER, SESSION_COOKIE, type ActiveSession, type Sessions } from './sessions.ts';

/** Who may call a route: nobody signed in needed (`public`), or these roles. API routes without it are admin-only. */
export type Access =
  | 'public'
  | {
      roles: readonly Role[];
      /** allowed while a one-time password must still be changed */ duringPasswordChange?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The signed-in session, set by the guard on API routes. */
    auth: ActiveSession | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const COOKIE_BASE = { path: '/', httpOnly: true, secure: true, sameSite: 'strict' as const };

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, COOKIE_BASE);
}

/** The account of a guarded request. */
export function who(req: FastifyRequest): Account {
  if (!req.auth) throw new PlatformError('UNAUTHENTICATED', 'log in first');
  return req.auth.account;
}

/** Refuses a state-changing request sent from another site (Origin or Fetch-Metadata tell). */
function checkSameOrigin(req: FastifyRequest): void {
  if (req.headers['sec-fetch-site'] === 'cross-site')
    throw new PlatformError('CSRF_INVALID', 'cross-site request refused');
  const origin = req.headers.origin;
  if (!origin) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new PlatformError('CSRF_INVALID', 'cross-site request refused (unreadable Origin)');
  }
  let own: string;
  try {
    own = new URL(`${req.protocol}://${req.host}`).host; // drops a default port, as Origin does
  } catch {
    own = req.host;
  }
  if (host !== own) throw new PlatformError('CSRF_INVALID', `cross-site request refused (Origin ${origin})`);
}

/**
 * The guard, in front of every `/api/` route: session cookie → account (401), CSRF token on
 * state-changing requests (403 CSRF_INVALID), one-time password (403 PASSWORD_CHANGE_REQUIRED),
 * role (403 FORBIDDEN). It runs before the body is parsed or validated, so nobody learns the
 * shape of a route they may not call. Tenant checks (a customer's own unit) are in the handlers.
 */
export function installGuard(app: FastifyInstance, sessions: Sessions): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    if (!url || !url.startsWith('/api/')) return;
    const access = req.routeOptions.config.access;
    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe) checkSameOrigin(req);
    if (access === 'public') return;
    const token = req.cookies[SESSION_COOKIE];
    if (!token) throw new PlatformError('UNAUTHENTICATED', 'log in first (POST /api/auth/login)');
    const session = await sessions.lookup(token);
    if (!session) {
      clearSessionCookie(reply);
      throw new PlatformError('UNAUTHENTICATED', 'your session has ended; log in again');
    }
    req.auth = session;
    if (unsafe && !csrfMatches(session.csrfToken, headerValue(req.headers[CSRF_HEADER]))) {
      throw new PlatformError(
        'CSRF_INVALID',
        `missing or wrong ${CSRF_HEADER} header: send the csrfToken from the login answer or GET /api/auth/session`,
      );
    }
    if (session.account.mustChangePassword && !access?.duringPasswordChange) {
      throw new PlatformError('PASSWORD_CHANGE_REQUIRED', 'set your own password first (POST /api/auth/password)');
    }
    const roles = access?.roles ?? ['admin'];
    if (!roles.includes(session.account.role)) {
      throw new PlatformError(
        'FORBIDDEN',
        `this needs the role ${roles.join(' or ')}; you are ${session.account.role}`,
      );
    }
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
