import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { STAFF_ROLES } from '../auth/accounts.ts';
import { COOKIE_BASE, GUEST_COOKIE, who, auditFrom } from '../auth/guard.ts';
import { csrfTokenFor } from '../auth/sessions.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericIdSchema } from '../schemas.ts';

const inviteOut = z.object({
  id: z.string(),
  sessionId: z.number(),
  createdBy: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  usedAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
  status: z.enum(['open', 'used', 'expired', 'revoked']),
});
const inviteParams = z.object({
  id: numericIdSchema,
  inviteId: z.string().regex(/^inv_[A-Za-z0-9_-]{1,40}$/, { error: 'must be an invitation id (inv_…)' }),
});
const guestOut = z.object({
  guestId: z.string(),
  sessionId: z.number(),
  csrfToken: z.string(),
  expiresAt: z.number(),
});

/**
 * Guests without an account (an invited crew member): staff make a one-time link for a session
 * (shown once), list and revoke them; the guest signs in with the link's token (public,
 * throttled per client address like logins) and gets a cookie for that one session only.
 */
export function guestRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { invites, remote, counters } = ctx.deps;
  const { audit, guestThrottle } = ctx;

  async function staffSession(id: number) {
    // every staff member may see (and so invite to) every session; a missing one is 404
    return remote.get(id);
  }

  return async (app) => {
    app.post(
      '/api/sessions/:id/invites',
      {
        config: { access: { roles: STAFF_ROLES }, rateLimit: 'invites' },
        schema: {
          tags: ['sessions'],
          summary: 'Invite a guest (a crew member without an account): a one-time link, shown once',
          description:
            'Any staff member may invite. The link carries a 32-byte random token (stored only as its SHA-256); it works once, for at most SESSION_INVITE_TTL_MS (≤ 2 h), and only for this session. The answer is the only time the token is shown.',
          params: z.object({ id: numericIdSchema }),
          response: {
            201: z.object({ inviteId: z.string(), token: z.string(), url: z.string(), expiresAt: z.number() }),
            ...errors(400, ...AUTHED, 404, 409),
          },
        },
      },
      async (req, reply) => {
        const me = who(req);
        await staffSession(req.params.id);
        const { invite, token } = await invites.create(req.params.id, me.id);
        await audit.record({
          actor: me.id,
          action: 'session.invite_created',
          subject: `session:${req.params.id}`,
          ...auditFrom(req),
          details: { inviteId: invite.id, expiresAt: invite.expiresAt },
        });
        // the token goes in the fragment: browsers never send it to a server or in a Referer
        return reply
          .code(201)
          .send({ inviteId: invite.id, token, url: `/guest#token=${token}`, expiresAt: invite.expiresAt });
      },
    );

    app.get(
      '/api/sessions/:id/invites',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['sessions'],
          summary: 'The session’s guest invitations (never their tokens)',
          params: z.object({ id: numericIdSchema }),
          response: { 200: z.object({ invites: z.array(inviteOut) }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        await staffSession(req.params.id);
        return { invites: await invites.list(req.params.id) };
      },
    );

    app.delete(
      '/api/sessions/:id/invites/:inviteId',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['sessions'],
          summary: 'Revoke an invitation: the link stops working; a guest who used it is out at once (also live)',
          params: inviteParams,
          response: { 200: z.object({ invite: inviteOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        await staffSession(req.params.id);
        const invite = await invites.revoke(req.params.id, req.params.inviteId, me.id);
        await audit.record({
          actor: me.id,
          action: 'session.invite_revoked',
          subject: `session:${req.params.id}`,
          ...auditFrom(req),
          details: { inviteId: invite.id },
        });
        return { invite };
      },
    );

    app.post(
      '/api/guest/login',
      {
        config: { access: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'A guest signs in with an invitation link’s token: a cookie for that one session',
          description:
            'Sets the `__Host-pw_guest` cookie (Secure, HttpOnly, SameSite=Strict) and returns the CSRF token. A token that is unknown, used, expired or revoked, or whose session has ended, is 401 GUEST_LINK_INVALID. Failures are throttled per client address like logins: 429 RATE_LIMITED with Retry-After.',
          body: z.strictObject({
            token: z
              .string({ error: 'must be text' })
              .min(1, { error: 'must not be empty' })
              .max(200, { error: 'has at most 200 characters' }),
          }),
          response: { 200: guestOut, ...errors(400, 401, 429) },
        },
      },
      async (req, reply) => {
        const ip = req.ip;
        const wait = guestThrottle.check('guest-link', ip);
        if (wait > 0) {
          counters.inc('web.guest_login_limited');
          throw new PlatformError('RATE_LIMITED', `too many failed guest links; try again in ${wait} s`, {
            details: { retryAfterS: wait },
          });
        }
        let result;
        try {
          result = await invites.login(req.body.token);
        } catch (err) {
          if (err instanceof PlatformError && err.code === 'GUEST_LINK_INVALID') {
            counters.inc('web.guest_login_failed');
            const { address } = guestThrottle.fail('guest-link', ip);
            if (address.firstBlock) req.log.warn({ ip }, 'guest link guessing: source throttled');
            await audit.record({ actor: 'guest', action: 'guest.login_failed', subject: 'guest', ip });
          }
          throw err;
        }
        const { guestToken, guest, inviteId } = result;
        await audit.record({
          actor: guest.principal.id,
          action: 'guest.login',
          subject: `session:${guest.principal.sessionId}`,
          ip,
          details: { inviteId },
        });
        void reply.setCookie(GUEST_COOKIE, guestToken, {
          ...COOKIE_BASE,
          maxAge: Math.floor((guest.expiresAt - ctx.now()) / 1000),
        });
        return {
          guestId: guest.principal.id,
          sessionId: guest.principal.sessionId,
          csrfToken: csrfTokenFor(guestToken),
          expiresAt: guest.expiresAt,
        };
      },
    );

    app.get(
      '/api/guest/session',
      {
        config: { access: { roles: [], guest: true } },
        schema: {
          tags: ['auth'],
          summary: 'The signed-in guest: its session and CSRF token',
          response: { 200: guestOut, ...errors(...AUTHED) },
        },
      },
      async (req) => {
        const g = req.guest;
        if (!g) throw new PlatformError('FORBIDDEN', 'for guests only');
        return {
          guestId: g.principal.id,
          sessionId: g.principal.sessionId,
          csrfToken: csrfTokenFor(req.cookies[GUEST_COOKIE] ?? ''),
          expiresAt: g.expiresAt,
        };
      },
    );

    app.post(
      '/api/guest/logout',
      {
        config: { access: { roles: [], guest: true } },
        schema: {
          tags: ['auth'],
          summary: 'The guest signs out (the link was single use: it cannot sign in again)',
          response: { 204: z.null(), ...errors(...AUTHED) },
        },
      },
      async (req, reply) => {
        const g = req.guest;
        if (!g) throw new PlatformError('FORBIDDEN', 'for guests only');
        await invites.logout(g.id);
        await audit.record({
          actor: g.principal.id,
          action: 'guest.logout',
          subject: `session:${g.principal.sessionId}`,
          ...auditFrom(req),
        });
        void reply.clearCookie(GUEST_COOKIE, COOKIE_BASE);
        return reply.code(204).send(null);
      },
    );
  };
}
