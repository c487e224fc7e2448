import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { tokenScopeSchema, TOKEN_SCOPES } from '../auth/api-tokens.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { accountIdSchema, AUTHED, customerIdSchema, errors, text } from '../schemas.ts';

const tokenOut = z
  .object({
    id: z.string(),
    name: z.string(),
    accountId: z.string().meta({ description: 'the account the token acts as: its role and unit apply' }),
    scopes: z.array(z.enum(TOKEN_SCOPES)),
    customerId: z.string().nullable().meta({ description: 'limited to this customer unit (as its customer sees it)' }),
    createdBy: z.string(),
    createdAt: z.number(),
    expiresAt: z.number(),
    revokedAt: z.number().nullable(),
    lastUsedAt: z.number().nullable(),
  })
  .meta({ id: 'ApiToken' });
const tokenParams = z.object({
  tokenId: z.string().regex(/^tok_[0-9a-f]{16}$/, { error: 'must be a token id (tok_…)' }),
});
const DAY = 86_400_000;

/** API tokens for integrations (admin): create (the secret shown once), list, revoke. */
export function apiTokenRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { tokens, audit } = ctx;
  return async (app) => {
    app.get(
      '/api/admin/api-tokens',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['security'],
          summary: 'API tokens (never their secrets), newest first',
          querystring: z.strictObject({ accountId: accountIdSchema.optional() }),
          response: { 200: z.object({ tokens: z.array(tokenOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ tokens: await tokens.list(req.query.accountId ? { accountId: req.query.accountId } : {}) }),
    );

    app.post(
      '/api/admin/api-tokens',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['security'],
          summary: 'Create an API token: the secret (pwt_…) is returned this once',
          description: `Scopes: ${TOKEN_SCOPES.join(', ')}. The token acts as \`accountId\` (its role and unit apply; disabled or removed: the token stops working), only on the routes its scopes open, optionally limited to one customer unit. Send it as \`Authorization: Bearer <token>\`; no CSRF token, no cookie with it.`,
          body: z.strictObject({
            accountId: accountIdSchema,
            name: text('name', 100),
            scopes: z.array(tokenScopeSchema).min(1, { error: 'give at least one scope' }).max(TOKEN_SCOPES.length),
            customerId: customerIdSchema.optional(),
            expiresInDays: z
              .number({ error: 'must be a number of days' })
              .int({ error: 'must be a whole number of days' })
              .min(1, { error: 'must be at least 1' })
              .max(366, { error: 'must be at most 366' })
              .default(90),
          }),
          response: { 201: z.object({ token: z.string(), info: tokenOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const b = req.body;
        const created = await tokens.create({
          accountId: b.accountId,
          name: b.name,
          scopes: b.scopes,
          customerId: b.customerId ?? null,
          expiresAt: ctx.now() + b.expiresInDays * DAY,
          createdBy: me.id,
        });
        await audit.record({
          actor: me.id,
          action: 'api_token.created',
          subject: `token:${created.info.id}`,
          ...auditFrom(req),
          details: {
            accountId: created.info.accountId,
            scopes: created.info.scopes,
            customerId: created.info.customerId,
            expiresAt: created.info.expiresAt,
          },
        });
        return reply.code(201).send(created);
      },
    );

    app.delete(
      '/api/admin/api-tokens/:tokenId',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['security'],
          summary: 'Revoke an API token: it stops working at once',
          params: tokenParams,
          response: { 200: tokenOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tokens.revoke(req.params.tokenId);
        await audit.record({ actor: me.id, action: 'api_token.revoked', subject: `token:${t.id}`, ...auditFrom(req) });
        return t;
      },
    );
  };
}
