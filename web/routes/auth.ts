import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { ROLES } from '../auth/accounts.ts';
import { clearSessionCookie, COOKIE_BASE, who } from '../auth/guard.ts';
import { SESSION_COOKIE, type ActiveSession } from '../auth/sessions.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, passwordSchema, sessionOut } from '../schemas.ts';

const ANY = { roles: ROLES, duringPasswordChange: true } as const;

export function sessionBody(s: ActiveSession) {
  return { account: s.account, csrfToken: s.csrfToken, expiresAt: s.expiresAt, idleExpiresAt: s.idleExpiresAt };
}

const userAgent = (req: FastifyRequest) => {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua : null;
};

/** Login, logout, the current session, changing one's own password. */
export function authRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { accounts, sessions, audit, throttle, deps } = ctx;
  return async (app) => {
    app.post(
      '/api/auth/login',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Log in: sets the session cookie and returns the CSRF token',
          description:
            'On success sets the `__Host-pw_session` cookie (Secure, HttpOnly, SameSite=Strict). Failing sources are throttled, never an account for everyone: after LOGIN_MAX_FAILURES failures of one account from one client address, or LOGIN_IP_MAX_FAILURES from one address, that source gets 429 RATE_LIMITED with Retry-After (1 s, doubling with every further failure). The right password from an address that is not itself throttled always logs in.',
          body: z.strictObject({
            username: z
              .string({ error: 'must be text' })
              .trim()
              .toLowerCase()
              .min(1, { error: 'must not be empty' })
              .max(64, { error: 'has at most 64 characters' }),
            password: passwordSchema,
          }),
          response: { 200: sessionOut, ...errors(400, 401, 403, 429) },
        },
      },
      async (req, reply) => {
        const { username, password } = req.body;
        const ip = req.ip;
        const wait = throttle.check(username, ip);
        if (wait > 0) {
          deps.counters.inc('web.login_blocked');
          throw new PlatformError('RATE_LIMITED', `too many failed logins; try again in ${wait} s`, {
            details: { retryAfterS: wait },
          });
        }
        const result = await accounts.verifyLogin(username, password);
        if (!result.ok) {
          const locked = throttle.fail(username, ip);
          // A name that is no account may be a password typed into the wrong field: keep only a fingerprint of it.
          const who =
            result.reason === 'unknown_account'
              ? `unknown:${createHash('sha256').update(username).digest('hex').slice(0, 12)}`
              : username;
          if (locked.source.firstBlock)
            req.log.warn(
              { username: who, ip },
              'too many failed logins for this account from this address: logins from there refused for a while',
            );
          if (locked.address.firstBlock)
            req.log.warn({ ip }, 'too many failed logins from this address: logins from it refused for a while');
          deps.counters.inc('web.login_failed');
          await audit.record({
            actor: who,
            action: 'login.failed',
            subject: `account:${who}`,
            ip,
            details: { reason: result.reason },
          });
          req.log.info({ username: who, ip, reason: result.reason }, 'login failed');
          throw new PlatformError('LOGIN_FAILED', 'wrong username or password');
        }
        throttle.succeeded(username, ip);
        const { token, session } = await sessions.create(result.account.id, { ip, userAgent: userAgent(req) });
        await accounts.markLogin(result.account.id, ctx.now());
        await audit.record({
          actor: result.account.id,
          action: 'login.succeeded',
          subject: `account:${result.account.id}`,
          ip,
        });
        req.log.info({ account: result.account.id, role: result.account.role }, 'logged in');
        void reply.setCookie(SESSION_COOKIE, token, {
          ...COOKIE_BASE,
          maxAge: Math.floor(sessions.options.maxAgeMs / 1000),
        });
        return sessionBody(session);
      },
    );

    app.post(
      '/api/auth/logout',
      {
        config: { access: ANY },
        schema: {
          tags: ['auth'],
          summary: 'Log out: ends the session and clears the cookie',
          response: { 204: z.null(), ...errors(...AUTHED) },
        },
      },
      async (req, reply) => {
        const s = req.auth!;
        await sessions.end(s.id);
        await audit.record({ actor: s.account.id, action: 'logout', subject: `account:${s.account.id}`, ip: req.ip });
        clearSessionCookie(reply);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/auth/session',
      {
        config: { access: ANY },
        schema: {
          tags: ['auth'],
          summary: 'The current session: account, CSRF token, expiry',
          response: { 200: sessionOut, ...errors(...AUTHED) },
        },
      },
      async (req) => sessionBody(req.auth!),
    );

    app.post(
      '/api/auth/password',
      {
        config: { access: ANY },
        schema: {
          tags: ['auth'],
          summary: 'Change one’s own password (required after a setup or reset password); ends the other sessions',
          body: z.strictObject({ currentPassword: passwordSchema, newPassword: passwordSchema }),
          response: { 200: sessionOut, ...errors(400, 401, 403, 429) },
        },
      },
      async (req) => {
        const me = who(req);
        const wait = throttle.check(me.id, req.ip);
        if (wait > 0)
          throw new PlatformError('RATE_LIMITED', `too many failed attempts; try again in ${wait} s`, {
            details: { retryAfterS: wait },
          });
        const check = await accounts.verifyLogin(me.id, req.body.currentPassword);
        if (!check.ok) {
          throttle.fail(me.id, req.ip);
          await audit.record({
            actor: me.id,
            action: 'password.change_failed',
            subject: `account:${me.id}`,
            ip: req.ip,
          });
          throw new PlatformError('LOGIN_FAILED', 'the current password is wrong');
        }
        if (req.body.newPassword === req.body.currentPassword)
          throw new PlatformError('INVALID_ARGUMENT', 'the new password must differ from the current one');
        await accounts.setPassword(me.id, req.body.newPassword, false);
        const ended = await sessions.endAllOf(me.id, req.auth!.id);
        await audit.record({
          actor: me.id,
          action: 'account.password_changed',
          subject: `account:${me.id}`,
          ip: req.ip,
          details: { otherSessionsEnded: ended },
        });
        return sessionBody({ ...req.auth!, account: await accounts.require(me.id) });
      },
    );
  };
}
