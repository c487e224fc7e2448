import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PAGE_STATES, type Page } from '../../notifications/paging.ts';
import { STAFF_ROLES } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericParams } from '../schemas.ts';

export const pageOut = z
  .object({
    id: z.number(),
    ticketId: z.number().nullable(),
    reason: z.string().meta({ description: 'at_risk, breached, or the caller’s own (session)' }),
    deadline: z.string().nullable(),
    message: z.string(),
    step: z.number().meta({ description: 'index in PAGE_CHAIN of the account paged last' }),
    accountId: z.string(),
    state: z.enum(PAGE_STATES),
    createdAt: z.number(),
    pagedAt: z.number(),
    escalateAt: z.number().nullable(),
    ackedAt: z.number().nullable(),
    ackedBy: z.string().nullable(),
  })
  .meta({ id: 'Page' });

const ackOut = z.object({
  page: pageOut,
  alreadyAcknowledged: z.boolean().meta({ description: 'true: it was acknowledged before (nothing changed)' }),
});

/** Pages of staff: the open ones, a ticket's, acknowledging in the console or by the signed link in the message. */
export function pageRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const paging = deps.notifications.paging;
  return async (app) => {
    app.get(
      '/api/pages',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Pages waiting for an acknowledgement, newest first',
          response: { 200: z.object({ pages: z.array(pageOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ pages: await paging.open() }),
    );

    app.get(
      '/api/tickets/:id/pages',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'The pages of a ticket (deadline at risk, breached) with their acknowledgement and escalation',
          params: numericParams,
          response: { 200: z.object({ pages: z.array(pageOut) }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const t = await tenancy.ticket(who(req), req.params.id);
        return { pages: await paging.ofTicket(t.id) };
      },
    );

    app.post(
      '/api/pages/:id/ack',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Acknowledge a page (stops its escalation); idempotent',
          params: numericParams,
          response: { 200: ackOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const r = await paging.acknowledge(req.params.id, me.id);
        if (!r.already)
          await audit.record({
            actor: me.id,
            action: 'page.acknowledged',
            subject: `page:${r.page.id}`,
            ...auditFrom(req),
          });
        return { page: r.page, alreadyAcknowledged: r.already };
      },
    );

    app.get(
      '/api/pages/ack',
      {
        config: { access: 'public' },
        schema: {
          tags: ['notifications'],
          summary: 'Acknowledge a page by the signed link in its message (no login); idempotent',
          description:
            'The token is signed by the server (HMAC, PAGE_SECRET) for one page; the page is acknowledged for the account it paged. A token this server did not sign answers 404 PAGE_TOKEN_INVALID.',
          querystring: z.strictObject({ token: z.string().min(1).max(200) }),
          response: {
            200: z.object({
              acknowledged: z.literal(true),
              alreadyAcknowledged: z.boolean(),
              ticketId: z.number().nullable(),
            }),
            ...errors(400, 404),
          },
        },
      },
      async (req) => {
        // a HEAD (link scanners, previews) only checks the token: only a GET acknowledges
        const head = req.method === 'HEAD';
        const r: { page: Page; already: boolean } = await paging.acknowledgeByToken(req.query.token, head);
        if (!r.already && !head)
          await audit.record({
            actor: r.page.accountId,
            action: 'page.acknowledged_by_link',
            subject: `page:${r.page.id}`,
            ...auditFrom(req),
          });
        return { acknowledged: true as const, alreadyAcknowledged: r.already, ticketId: r.page.ticketId };
      },
    );
  };
}
