import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { ROLES, type Account } from '../auth/accounts.ts';
import { clearSessionCookie, COOKIE_BASE, sessionOf, who, auditFrom } from '../auth/guard.ts';
import { SESSION_COOKIE, type ActiveSession } from '../auth/sessions.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, passwordSchema, sessionOut } from '../schemas.ts';

/** Every signed-in account, also while it must change its password or enrol a second factor. */
const ANY = { roles: ROLES, duringPasswordChange: true, duringTwoFactorEnrolment: true } as const;

export function sessionBody(s: ActiveSession) {
  return {
    account: s.account,
    csrfToken: s.csrfToken,
    expiresAt: s.expiresAt,
    idleExpiresAt: s.idleExpiresAt,
    authenticatedAt: s.authenticatedAt,
    twoFactorRequired: s.twoFactorRequired,
  };
}

const userAgent = (req: FastifyRequest) => {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua : null;
};

const secondFactorOut = z
  .object({
    secondFactorRequired: z.literal(true),
    challenge: z
      .string()
      .meta({ description: 'send it with a TOTP or recovery code to POST /api/auth/login/second-factor' }),
    expiresAt: z.number(),
  })
  .meta({ id: 'SecondFactorChallenge' });

const codeSchema = z
  .string()
  .trim()
  .regex(/^\d{6}$/, { error: 'must be the 6 digits your authenticator app shows' });
const recoveryCodeSchema = z
  .string()
  .trim()
  .min(10, { error: 'must be one of your recovery codes (xxxxx-xxxxx)' })
  .max(20, { error: 'must be one of your recovery codes (xxxxx-xxxxx)' });
const tokenSchema = z.string().min(1).max(200);

function rateLimited(wait: number, what: string): PlatformError {
  return new PlatformError('RATE_LIMITED', `too many failed ${what}; try again in ${wait} s`, {
    details: { retryAfterS: wait },
  });
}

/** Login (password, then the second factor when enrolled), logout, the current session, own password, re-authentication, reset links. */
export function authRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { accounts, sessions, audit, throttle, deps, twoFactor, challenges, resets } = ctx;

  async function startSession(req: FastifyRequest, reply: FastifyReply, account: Account, via: string) {
    const ip = req.ip;
    throttle.succeeded(account.id, ip);
    const { token, session } = await sessions.create(account.id, { ip, userAgent: userAgent(req) });
    await accounts.markLogin(account.id, ctx.now());
    await audit.record({
      actor: account.id,
      action: 'login.succeeded',
      subject: `account:${account.id}`,
      ip,
      ...(via !== 'password' ? { details: { secondFactor: via } } : {}),
    });
    req.log.info({ account: account.id, role: account.role }, 'logged in');
    void reply.setCookie(SESSION_COOKIE, token, {
      ...COOKIE_BASE,
      maxAge: Math.floor(sessions.options.maxAgeMs / 1000),
    });
    return sessionBody(session);
  }

  return async (app) => {
    app.post(
      '/api/auth/login',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Log in: sets the session cookie and returns the CSRF token, or asks for the second factor',
          description:
            'On success sets the `__Host-pw_session` cookie (Secure, HttpOnly, SameSite=Strict). An account with two-factor authentication gets no cookie yet: the answer is `{secondFactorRequired, challenge}`, to be completed at POST /api/auth/login/second-factor. Failing sources are throttled, never an account for everyone: after LOGIN_MAX_FAILURES failures of one account from one client address, or LOGIN_IP_MAX_FAILURES from one address, that source gets 429 RATE_LIMITED with Retry-After (1 s, doubling with every further failure). The right password from an address that is not itself throttled always logs in.',
          body: z.strictObject({
            username: z
              .string({ error: 'must be text' })
              .trim()
              .toLowerCase()
              .min(1, { error: 'must not be empty' })
              .max(64, { error: 'has at most 64 characters' }),
            password: passwordSchema,
          }),
          response: { 200: z.union([sessionOut, secondFactorOut]), ...errors(400, 401, 403, 429) },
        },
      },
      async (req, reply) => {
        const { username, password } = req.body;
        const ip = req.ip;
        const wait = throttle.check(username, ip);
        if (wait > 0) {
          deps.counters.inc('web.login_blocked');
          throw rateLimited(wait, 'logins');
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
        if (result.account.twoFactor) {
          const { challenge, expiresAt } = challenges.issue(result.account.id);
          await audit.record({
            actor: result.account.id,
            action: 'login.password_ok',
            subject: `account:${result.account.id}`,
            ip,
          });
          return { secondFactorRequired: true as const, challenge, expiresAt };
        }
        return startSession(req, reply, result.account, 'password');
      },
    );

    app.post(
      '/api/auth/login/second-factor',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Second login step: the challenge with a TOTP code or a recovery code; sets the session cookie',
          description:
            'A challenge lasts 5 minutes and takes at most 5 codes. Wrong codes count in the login throttle like wrong passwords (429 RATE_LIMITED with Retry-After). A TOTP code is accepted once; a recovery code once ever.',
          body: z
            .strictObject({
              challenge: tokenSchema,
              code: codeSchema.optional(),
              recoveryCode: recoveryCodeSchema.optional(),
            })
            .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), {
              error: 'send either code or recoveryCode',
            }),
          response: { 200: sessionOut, ...errors(400, 401, 403, 429) },
        },
      },
      async (req, reply) => {
        const ip = req.ip;
        const key = challenges.peek(req.body.challenge) ?? '(second factor)';
        const wait = throttle.check(key, ip);
        if (wait > 0) {
          deps.counters.inc('web.login_blocked');
          throw rateLimited(wait, 'logins');
        }
        const accountId = challenges.attempt(req.body.challenge);
        const account = accountId ? await accounts.get(accountId) : undefined;
        const via =
          account && !account.disabled
            ? await twoFactor.verify(account.id, { code: req.body.code, recoveryCode: req.body.recoveryCode })
            : null;
        if (!account || !via) {
          throttle.fail(key, ip);
          deps.counters.inc('web.login_failed');
          await audit.record({
            actor: accountId ?? 'unknown',
            action: 'login.second_factor_failed',
            subject: accountId ? `account:${accountId}` : null,
            ip,
            details: { reason: accountId ? 'bad_code' : 'unknown_challenge' },
          });
          throw new PlatformError(
            'TWO_FACTOR_FAILED',
            accountId ? 'wrong or already used code' : 'this login has expired; enter your password again',
          );
        }
        challenges.redeem(req.body.challenge);
        if (via === 'recovery')
          await audit.record({
            actor: account.id,
            action: 'two_factor.recovery_code_used',
            subject: `account:${account.id}`,
            ip,
          });
        return startSession(req, reply, account, via);
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
        const s = sessionOf(req);
        await sessions.end(s.id);
        await audit.record({
          actor: s.account.id,
          action: 'logout',
          subject: `account:${s.account.id}`,
          ...auditFrom(req),
        });
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
          summary: 'The current session: account, CSRF token, expiry, last proof of identity',
          response: { 200: sessionOut, ...errors(...AUTHED) },
        },
      },
      async (req) => sessionBody(sessionOf(req)),
    );

    app.get(
      '/api/auth/state',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Whether this browser is signed in: the session as GET /api/auth/session gives it, or null',
          description:
            'For a page that starts signed out: answers 200 either way, so a signed-out start is not an error in the browser. A cookie of an ended session is cleared.',
          response: { 200: z.object({ session: sessionOut.nullable() }) },
        },
      },
      async (req, reply) => {
        const cookie = req.cookies[SESSION_COOKIE];
        const session = cookie ? await sessions.lookup(cookie) : null;
        if (cookie && !session) clearSessionCookie(reply);
        return { session: session ? sessionBody(session) : null };
      },
    );

    app.post(
      '/api/auth/password',
      {
        config: { access: ANY },
        schema: {
          tags: ['auth'],
          summary: 'Change one’s own password (required after a setup or reset password); ends the other sessions',
          description:
            'The new password must pass the password rule: PASSWORD_TOO_SHORT, PASSWORD_TOO_SIMPLE, PASSWORD_COMMON or PASSWORD_PERSONAL say why it did not.',
          body: z.strictObject({ currentPassword: passwordSchema, newPassword: passwordSchema }),
          response: { 200: sessionOut, ...errors(400, 401, 403, 429) },
        },
      },
      async (req) => {
        const me = who(req);
        const session = sessionOf(req);
        const wait = throttle.check(me.id, req.ip);
        if (wait > 0) throw rateLimited(wait, 'attempts');
        const check = await accounts.verifyLogin(me.id, req.body.currentPassword);
        if (!check.ok) {
          throttle.fail(me.id, req.ip);
          await audit.record({
            actor: me.id,
            action: 'password.change_failed',
            subject: `account:${me.id}`,
            ...auditFrom(req),
          });
          throw new PlatformError('LOGIN_FAILED', 'the current password is wrong');
        }
        if (req.body.newPassword === req.body.currentPassword)
          throw new PlatformError('INVALID_ARGUMENT', 'the new password must differ from the current one');
        await accounts.setPassword(me.id, req.body.newPassword, false);
        const ended = await sessions.endAllOf(me.id, session.id);
        await sessions.reauthenticated(session.id);
        await audit.record({
          actor: me.id,
          action: 'account.password_changed',
          subject: `account:${me.id}`,
          ...auditFrom(req),
          details: { otherSessionsEnded: ended },
        });
        const account = await accounts.require(me.id);
        return sessionBody({ ...session, account, authenticatedAt: ctx.now() });
      },
    );

    app.post(
      '/api/auth/reauth',
      {
        config: { access: ANY },
        schema: {
          tags: ['auth'],
          summary: 'Confirm it is you (password or TOTP code): admin actions need this within REAUTH_WINDOW_MS',
          body: z
            .strictObject({ password: passwordSchema.optional(), code: codeSchema.optional() })
            .refine((b) => (b.password === undefined) !== (b.code === undefined), {
              error: 'send either password or code',
            }),
          response: { 200: sessionOut, ...errors(400, 401, 403, 429) },
        },
      },
      async (req) => {
        const me = who(req);
        const session = sessionOf(req);
        const wait = throttle.check(me.id, req.ip);
        if (wait > 0) throw rateLimited(wait, 'attempts');
        const ok =
          req.body.password !== undefined
            ? (await accounts.verifyLogin(me.id, req.body.password)).ok
            : (await twoFactor.verify(me.id, { code: req.body.code })) !== null;
        if (!ok) {
          throttle.fail(me.id, req.ip);
          await audit.record({ actor: me.id, action: 'reauth.failed', subject: `account:${me.id}`, ...auditFrom(req) });
          throw new PlatformError(
            req.body.password !== undefined ? 'LOGIN_FAILED' : 'TWO_FACTOR_FAILED',
            req.body.password !== undefined ? 'wrong password' : 'wrong or already used code',
          );
        }
        throttle.succeeded(me.id, req.ip);
        const at = await sessions.reauthenticated(session.id);
        await audit.record({
          actor: me.id,
          action: 'reauth.succeeded',
          subject: `account:${me.id}`,
          ...auditFrom(req),
          details: { with: req.body.password !== undefined ? 'password' : 'totp' },
        });
        return sessionBody({ ...session, authenticatedAt: at });
      },
    );

    app.post(
      '/api/auth/reset/check',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Whether a password reset link works: the account it is for and when it expires',
          body: z.strictObject({ token: tokenSchema }),
          response: {
            200: z.object({ accountId: z.string(), expiresAt: z.number() }),
            ...errors(400, 403, 404, 429),
          },
        },
      },
      async (req) => {
        const wait = throttle.check('(reset link)', req.ip);
        if (wait > 0) throw rateLimited(wait, 'reset links');
        try {
          return await resets.peek(req.body.token);
        } catch (err) {
          throttle.fail('(reset link)', req.ip);
          throw err;
        }
      },
    );

    app.post(
      '/api/auth/reset',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Set a new password with a one-time reset link; ends every session of the account',
          description:
            'The link works once and until it expires (RESET_LINK_TTL_MS). A refused password (the password rule) does not use it up. Unknown, used or expired links answer 404 RESET_LINK_INVALID; they count in the login throttle of the address.',
          body: z.strictObject({ token: tokenSchema, newPassword: passwordSchema }),
          response: { 204: z.null(), ...errors(400, 403, 404, 429) },
        },
      },
      async (req, reply) => {
        const wait = throttle.check('(reset link)', req.ip);
        if (wait > 0) throw rateLimited(wait, 'reset links');
        let accountId: string;
        try {
          accountId = await resets.redeem(req.body.token, (id) =>
            accounts.setPassword(id, req.body.newPassword, false),
          );
        } catch (err) {
          if (err instanceof PlatformError && err.code === 'RESET_LINK_INVALID') throttle.fail('(reset link)', req.ip);
          throw err;
        }
        const ended = await sessions.endAllOf(accountId);
        await audit.record({
          actor: accountId,
          action: 'account.password_reset_by_link',
          subject: `account:${accountId}`,
          ...auditFrom(req),
          details: { sessionsEnded: ended },
        });
        return reply.code(204).send(null);
      },
    );
  };
}
