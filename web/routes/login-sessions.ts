import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { ROLES } from '../auth/accounts.ts';
import { sessionOf, who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { accountParams, accountIdSchema, AUTHED, errors } from '../schemas.ts';

const sessionInfoOut = z
  .object({
    id: z.string().meta({ description: 'a handle of the session (never its token)' }),
    createdAt: z.number(),
    lastSeenAt: z.number(),
    expiresAt: z.number(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    current: z.boolean(),
  })
  .meta({ id: 'SessionInfo' });
const handleSchema = z.string().regex(/^[0-9a-f]{16}$/, { error: 'must be a session id from the session list' });
const listOut = z.object({ sessions: z.array(sessionInfoOut) });

/**
 * Session lists and revocation: one's own (any role), anyone's (admin). Revoking cuts the
 * session's live connections within a second, as logout does (the sessions' `onEnded`).
 */
export function loginSessionRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { sessions, audit, accounts } = ctx;
  return async (app) => {
    app.get(
      '/api/auth/sessions',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['security'],
          summary: 'One’s own live sessions: created, last seen, address, browser; the current one flagged',
          response: { 200: listOut, ...errors(...AUTHED) },
        },
      },
      async (req) => ({ sessions: await sessions.listOf(who(req).id, sessionOf(req).id) }),
    );

    app.delete(
      '/api/auth/sessions/:sessionId',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['security'],
          summary: 'End one of one’s own sessions (another device); its live connections are cut',
          params: z.object({ sessionId: handleSchema }),
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        if (!(await sessions.endOf(me.id, req.params.sessionId)))
          throw new PlatformError('LOGIN_SESSION_NOT_FOUND', `session ${req.params.sessionId} not found`);
        await audit.record({
          actor: me.id,
          action: 'session.revoked',
          subject: `account:${me.id}`,
          ...auditFrom(req),
          details: { session: req.params.sessionId },
        });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/admin/accounts/:id/sessions',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['security'],
          summary: 'An account’s live sessions (admin)',
          params: accountParams,
          response: { 200: listOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const a = await accounts.require(req.params.id);
        return { sessions: await sessions.listOf(a.id, sessionOf(req).id) };
      },
    );

    app.delete(
      '/api/admin/accounts/:id/sessions/:sessionId',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['security'],
          summary: 'End one session of an account (admin); its live connections are cut',
          params: z.object({ id: accountIdSchema, sessionId: handleSchema }),
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        await accounts.require(req.params.id);
        if (!(await sessions.endOf(req.params.id, req.params.sessionId)))
          throw new PlatformError('LOGIN_SESSION_NOT_FOUND', `session ${req.params.sessionId} not found`);
        await audit.record({
          actor: me.id,
          action: 'session.revoked',
          subject: `account:${req.params.id}`,
          ...auditFrom(req),
          details: { session: req.params.sessionId },
        });
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/admin/accounts/:id/sessions',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['security'],
          summary: 'End every session of an account (admin; one’s own current session is kept)',
          params: accountParams,
          response: { 200: z.object({ ended: z.number() }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const a = await accounts.require(req.params.id);
        const ended = await sessions.endAllOf(a.id, a.id === me.id ? sessionOf(req).id : undefined);
        await audit.record({
          actor: me.id,
          action: 'session.revoked_all',
          subject: `account:${a.id}`,
          ...auditFrom(req),
          details: { ended },
        });
        return { ended };
      },
    );
  };
}
