import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counters } from '../../core/counters.ts';
import { PlatformError } from '../../core/errors.ts';
import type { Account, Role } from './accounts.ts';
import type { ApiTokens, TokenPrincipal, TokenRateLimit, TokenScope } from './api-tokens.ts';
import type { GuestSession, SessionInvites } from '../../remote/invites.ts';
import type { SessionPrincipal } from '../../remote/types.ts';
import {
  csrfMatches,
  csrfTokenFor,
  CSRF_HEADER,
  SESSION_COOKIE,
  type ActiveSession,
  type Sessions,
} from './sessions.ts';

/** The cookie of a guest (an invited crew member without an account): one remote session only. */
export const GUEST_COOKIE = '__Host-pw_guest';

/** Who may call a route: nobody signed in needed (`public`), or these roles. API routes without it are admin-only. */
export type Access =
  | 'public'
  | {
      roles: readonly Role[];
      /** allowed while a one-time password must still be changed */ duringPasswordChange?: boolean;
      /** allowed while the account must still enrol a second factor (REQUIRE_2FA_ROLES) */
      duringTwoFactorEnrolment?: boolean;
      /** an API token with this scope may call it (as its account, within the roles); no token otherwise */
      token?: TokenScope;
      /** the session must have proven its password or TOTP code within the re-authentication window */
      recentAuth?: boolean;
      /** a guest (invite link) may call it too; the handler must ask SessionAccess about the one session */
      guest?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The signed-in session, set by the guard on API routes (null for a bearer token). */
    auth: ActiveSession | null;
    /** The API token of a bearer request, set by the guard (null for a session). */
    apiToken: TokenPrincipal | null;
    /** The guest of a request with the guest cookie, set by the guard on routes open to guests. */
    guest: GuestSession | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const COOKIE_BASE = { path: '/', httpOnly: true, secure: true, sameSite: 'strict' as const };

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, COOKIE_BASE);
}

/** The account of a guarded request: the session's, or the one an API token acts as (narrowed to its unit). */
export function who(req: FastifyRequest): Account {
  if (req.apiToken) return req.apiToken.account;
  if (!req.auth) throw new PlatformError('UNAUTHENTICATED', 'log in first');
  return req.auth.account;
}

/** Where an audited change came from: an API token's request, else the console (a session, a guest, a login). */
export function auditFrom(req: FastifyRequest): { ip: string; source: 'api_token' | 'console' } {
  return { ip: req.ip, source: req.apiToken ? 'api_token' : 'console' };
}

/** Who a request is to the session records: a guest, or the account of the session or token. */
export function principalOfRequest(req: FastifyRequest): SessionPrincipal {
  if (req.guest) return req.guest.principal;
  const a = who(req);
  return { id: a.id, role: a.role, customerId: a.customerId };
}

/** How a request's viewer is named to: a guest sees people as the unit's customers do. */
export function viewerOf(req: FastifyRequest): Pick<Account, 'role' | 'customerId'> {
  if (req.guest) return { role: 'customer', customerId: req.guest.principal.customerId };
  return who(req);
}

/** The session of a guarded route that tokens cannot call. */
export function sessionOf(req: FastifyRequest): ActiveSession {
  if (!req.auth) throw new PlatformError('UNAUTHENTICATED', 'log in first');
  return req.auth;
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

export interface GuardDeps {
  sessions: Sessions;
  tokens: Pick<ApiTokens, 'lookup'>;
  tokenRate: TokenRateLimit;
  counters: Counters;
  now: () => number;
  /** Guest sessions (remote/invites.ts); without them the guest cookie is ignored. */
  guests?: Pick<SessionInvites, 'lookup'>;
}

export interface GuardOptions {
  /** How recent the password or TOTP proof must be for `recentAuth` routes. */
  reauthWindowMs: number;
}

function roleCheck(access: Access | undefined, account: Account): void {
  const roles = access === 'public' ? [] : (access?.roles ?? ['admin']);
  if (!roles.includes(account.role))
    throw new PlatformError('FORBIDDEN', `this needs the role ${roles.join(' or ')}; you are ${account.role}`);
}

/** `Authorization: Bearer <token>` → the token, else undefined. */
function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S*)\s*$/i.exec(h);
  if (!m) throw new PlatformError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <API token>"');
  return m[1]!;
}

/**
 * The guard, in front of every `/api/` route. A request is either a **session** (cookie) or an
 * **API token** (`Authorization: Bearer`), never both (401).
 *
 * Session: cookie → account (401), CSRF token on state-changing requests (403 CSRF_INVALID),
 * one-time password (403 PASSWORD_CHANGE_REQUIRED), required second factor not enrolled (403
 * TWO_FACTOR_REQUIRED), role (403 FORBIDDEN), re-authentication for admin actions (403
 * REAUTH_REQUIRED).
 *
 * Token: known, unexpired, unrevoked, its account enabled (401), its own rate (429), the route open
 * to tokens with a scope the token has (403), the role of the account it acts as (403). No CSRF
 * token (a bearer header is not sent by browsers on their own). A token limited to a customer unit
 * acts as that unit's customer, so the handlers' tenant checks treat it exactly like one.
 *
 * It runs before the body is parsed or validated, so nobody learns the shape of a route they may
 * not call. Tenant checks (a customer's own unit) are in the handlers.
 */
export function installGuard(app: FastifyInstance, deps: GuardDeps, options: GuardOptions): void {
  const { sessions } = deps;
  app.decorateRequest('auth', null);
  app.decorateRequest('apiToken', null);
  app.decorateRequest('guest', null);
  app.addHook('onRequest', async (req, reply) => {
    const url = req.routeOptions.url;
    if (!url || !url.startsWith('/api/')) return;
    const access = req.routeOptions.config.access;
    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe) checkSameOrigin(req);
    if (access === 'public') return;
    const cookie = req.cookies[SESSION_COOKIE];
    const bearer = bearerOf(req);
    if (bearer !== undefined) {
      if (cookie)
        throw new PlatformError(
          'UNAUTHENTICATED',
          'send either an API token (Authorization: Bearer) or a session cookie, not both',
        );
      const principal = await deps.tokens.lookup(bearer);
      if (!principal) throw new PlatformError('UNAUTHENTICATED', 'unknown, expired or revoked API token');
      const wait = deps.tokenRate.take(principal.token.id);
      if (wait > 0) {
        deps.counters.inc('web.api_token_limited', principal.token.id);
        throw new PlatformError('RATE_LIMITED', `this API token is over its request rate; try again in ${wait} s`, {
          details: { retryAfterS: wait },
        });
      }
      req.apiToken = principal;
      const scope = access?.token;
      if (!scope) throw new PlatformError('FORBIDDEN', 'this route is for console sessions, not API tokens');
      if (!principal.token.scopes.includes(scope))
        throw new PlatformError('FORBIDDEN', `this needs an API token with the scope ${scope}`);
      roleCheck(access, principal.account);
      return;
    }
    const guestCookie = req.cookies[GUEST_COOKIE];
    if (!cookie && guestCookie && deps.guests) {
      const guest = await deps.guests.lookup(guestCookie);
      if (!guest) {
        void reply.clearCookie(GUEST_COOKIE, COOKIE_BASE);
        throw new PlatformError(
          'UNAUTHENTICATED',
          'your guest access has ended (revoked, expired or the session ended)',
        );
      }
      // a guest sees its session and nothing else of the unit
      if (!access?.guest) {
        deps.counters.inc('web.guest_refused');
        throw new PlatformError('FORBIDDEN', 'a guest may only use the remote session it was invited to');
      }
      if (unsafe && !csrfMatches(csrfTokenFor(guestCookie), headerValue(req.headers[CSRF_HEADER])))
        throw new PlatformError(
          'CSRF_INVALID',
          `missing or wrong ${CSRF_HEADER} header: send the csrfToken from the guest login answer or GET /api/guest/session`,
        );
      req.guest = guest;
      return;
    }
    if (!cookie) throw new PlatformError('UNAUTHENTICATED', 'log in first (POST /api/auth/login)');
    const session = await sessions.lookup(cookie);
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
    if (session.twoFactorRequired && !access?.duringTwoFactorEnrolment) {
      throw new PlatformError(
        'TWO_FACTOR_REQUIRED',
        'this deployment requires two-factor authentication for your role: set it up first (POST /api/auth/two-factor/enrol)',
      );
    }
    roleCheck(access, session.account);
    if (access?.recentAuth && deps.now() - session.authenticatedAt > options.reauthWindowMs) {
      throw new PlatformError(
        'REAUTH_REQUIRED',
        'confirm it is you: enter your password or a two-factor code again (POST /api/auth/reauth)',
      );
    }
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
