import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { FIELD_ROLES, generatePassword, STAFF_ROLES, type Account } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUDIT_EXPORT_FORMATS, auditExportLines } from '../audit-export.ts';
import {
  accountIdSchema,
  accountOut,
  accountParams,
  auditOut,
  AUTHED,
  customerIdSchema,
  customerOut,
  customerParams,
  errors,
  instant,
  intQuery,
  passwordSchema,
  roleSchema,
  staffMemberOut,
  text,
} from '../schemas.ts';

const withPassword = z.object({
  account: accountOut,
  password: z.string().optional().meta({ description: 'the generated one-time password, shown this once' }),
});

/** The name customers see for a staff member; null: a role label. */
const displayNameSchema = text('displayName', 100).nullable().meta({
  description: 'what customers see for a staff member; null or absent: a role label ("Duty desk", "Engineer")',
});

/** What an account change did, for the audit log (never a password). */
function diff(before: Account, after: Account) {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of ['name', 'displayName', 'role', 'customerId', 'disabled'] as const)
    if (before[k] !== after[k]) out[k] = { from: before[k], to: after[k] };
  return out;
}

/** Accounts (admin), customer units (admin writes; staff read; a customer reads its own), the audit log (admin). */
export function adminRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { accounts, sessions, audit, deps } = ctx;
  return async (app) => {
    app.get(
      '/api/accounts',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['accounts'],
          summary: 'Every console account',
          querystring: z.strictObject({ role: roleSchema.optional(), customerId: customerIdSchema.optional() }),
          response: { 200: z.object({ accounts: z.array(accountOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ accounts: await accounts.list(req.query) }),
    );

    app.get(
      '/api/staff',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['accounts'],
          summary: 'Active staff accounts (id, name, role): whom a ticket can be assigned to',
          response: {
            200: z.object({ staff: z.array(staffMemberOut) }),
            ...errors(...AUTHED),
          },
        },
      },
      async () => ({
        staff: (await accounts.list())
          .filter((a) => !a.disabled && STAFF_ROLES.includes(a.role))
          .map((a) => ({ id: a.id, name: a.name, role: a.role })),
      }),
    );

    app.get(
      '/api/accounts/:id',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['accounts'],
          summary: 'One account',
          params: accountParams,
          response: { 200: accountOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => accounts.require(req.params.id),
    );

    app.post(
      '/api/accounts',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['accounts'],
          summary: 'Create an account; without a password, a one-time password is generated and returned once',
          body: z.strictObject({
            id: accountIdSchema,
            name: text('name', 200),
            displayName: displayNameSchema.optional(),
            role: roleSchema,
            customerId: customerIdSchema
              .optional()
              .meta({ description: 'required for (and only for) the customer role' }),
            password: passwordSchema.optional().meta({
              description:
                'the password rule applies (PASSWORD_TOO_SHORT, PASSWORD_TOO_SIMPLE, PASSWORD_COMMON, PASSWORD_PERSONAL); the account must change it at first login',
            }),
          }),
          response: { 201: withPassword, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const generated = req.body.password ? undefined : generatePassword();
        const account = await accounts.add({
          ...req.body,
          password: req.body.password ?? generated!,
          mustChangePassword: true,
        });
        await audit.record({
          actor: me.id,
          action: 'account.created',
          subject: `account:${account.id}`,
          ...auditFrom(req),
          details: { role: account.role, customerId: account.customerId },
        });
        return reply.code(201).send({ account, ...(generated ? { password: generated } : {}) });
      },
    );

    app.patch(
      '/api/accounts/:id',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['accounts'],
          summary:
            'Change name, display name, role, customer unit or disable; a role, unit or disable change ends the account’s sessions',
          params: accountParams,
          body: z
            .strictObject({
              name: text('name', 200).optional(),
              displayName: displayNameSchema.optional(),
              role: roleSchema.optional(),
              customerId: customerIdSchema.nullable().optional(),
              disabled: z.boolean().optional(),
            })
            .refine((b) => Object.keys(b).length > 0, {
              error: 'change at least one of name, displayName, role, customerId, disabled',
            }),
          response: { 200: accountOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        // disabling oneself locks oneself out at once (stepping down from admin stays possible while
        // another admin is there: LAST_ADMIN guards the last one)
        if (req.body.disabled === true && req.params.id === me.id)
          throw new PlatformError('ADMIN_LOCKOUT', 'you cannot disable your own account; another admin can');
        const { before, after } = await accounts.update(req.params.id, req.body);
        const changes = diff(before, after);
        if (changes.role || changes.customerId || (changes.disabled && after.disabled))
          await sessions.endAllOf(after.id);
        await audit.record({
          actor: me.id,
          action: 'account.updated',
          subject: `account:${after.id}`,
          ...auditFrom(req),
          details: changes,
        });
        return after;
      },
    );

    app.post(
      '/api/accounts/:id/reset-password',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['accounts'],
          summary: 'Reset a password: returns a one-time password once and ends the account’s sessions',
          params: accountParams,
          response: { 200: withPassword, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const password = generatePassword();
        await accounts.setPassword(req.params.id, password, true);
        await sessions.endAllOf(req.params.id);
        await audit.record({
          actor: me.id,
          action: 'account.password_reset',
          subject: `account:${req.params.id}`,
          ...auditFrom(req),
        });
        return { account: await accounts.require(req.params.id), password };
      },
    );

    app.post(
      '/api/accounts/:id/reset-link',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['accounts'],
          summary:
            'Issue a one-time password reset link (shown once; expires after RESET_LINK_TTL_MS; a new one cancels the old)',
          description:
            'Hand the link to the person over a channel you trust; opening it lets them set a new password (the password rule applies) and ends every session of the account. The current password keeps working until then. Email delivery will call the same issuer (web/auth/password-resets.ts) once notifications send email.',
          params: accountParams,
          response: {
            200: z.object({
              accountId: z.string(),
              token: z.string().meta({ description: 'the one-time token; shown this once' }),
              path: z
                .string()
                .meta({ description: 'the console path of the link: prefix it with the console’s address' }),
              expiresAt: z.number(),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const issued = await ctx.resets.issue(req.params.id, me.id);
        await audit.record({
          actor: me.id,
          action: 'account.reset_link_issued',
          subject: `account:${req.params.id}`,
          ...auditFrom(req),
          details: { expiresAt: issued.expiresAt },
        });
        return { accountId: req.params.id, ...issued };
      },
    );

    app.delete(
      '/api/accounts/:id',
      {
        config: { access: { roles: ['admin'], recentAuth: true } },
        schema: {
          tags: ['accounts'],
          summary: 'Remove an account (not the last enabled admin)',
          params: accountParams,
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const removed = await accounts.remove(req.params.id);
        await sessions.endAllOf(removed.id); // already gone with the account; tells live connections
        await audit.record({
          actor: me.id,
          action: 'account.removed',
          subject: `account:${removed.id}`,
          ...auditFrom(req),
          details: { role: removed.role },
        });
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/customers',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['customers'],
          summary: 'Customer units with their vehicle counts',
          response: { 200: z.object({ customers: z.array(customerOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ customers: await deps.customers.list() }),
    );

    app.get(
      '/api/customers/:id',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['customers'],
          summary: 'One customer unit (a customer account: its own only)',
          params: customerParams,
          response: { 200: customerOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const c =
          me.role === 'customer' && me.customerId !== req.params.id
            ? undefined
            : await deps.customers.get(req.params.id);
        if (!c) throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${req.params.id} not found`);
        return c;
      },
    );

    app.post(
      '/api/customers',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['customers'],
          summary: 'Add a customer unit',
          body: z.strictObject({ id: customerIdSchema, name: text('name', 200) }),
          response: { 201: customerOut, ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const c = await deps.customers.add(req.body);
        await audit.record({
          actor: me.id,
          action: 'customer.created',
          subject: `customer:${c.id}`,
          ...auditFrom(req),
          details: { name: c.name },
        });
        return reply.code(201).send(c);
      },
    );

    app.patch(
      '/api/customers/:id',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['customers'],
          summary: 'Rename a customer unit',
          params: customerParams,
          body: z.strictObject({ name: text('name', 200) }),
          response: { 200: customerOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const c = await deps.customers.rename(req.params.id, req.body.name);
        await audit.record({
          actor: me.id,
          action: 'customer.renamed',
          subject: `customer:${c.id}`,
          ...auditFrom(req),
          details: { name: c.name },
        });
        return c;
      },
    );

    app.get(
      '/api/audit',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['accounts'],
          summary: 'The audit log, newest first',
          querystring: z.strictObject({
            actor: z.string().max(100).optional(),
            action: z.string().max(64).optional(),
            subject: z.string().max(200).optional(),
            since: instant.optional(),
            until: instant.optional(),
            limit: intQuery('limit', 1, 1000).default(200),
          }),
          response: { 200: z.object({ entries: z.array(auditOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ entries: await audit.list(req.query) }),
    );

    app.get(
      '/api/admin/audit/verify',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['accounts'],
          summary: 'Checks the audit log’s hash chain: ok, or the first row that was changed or removed',
          description:
            'Walks every row in id order: each must name the hash of the row before it and carry the SHA-256 of its own content. brokenId is the first row that does not (an edited row, or the row after a removed one); reason link or hash. headHash, kept elsewhere, lets a later check notice rows cut off the end.',
          response: {
            200: z.object({
              ok: z.boolean(),
              rows: z.number(),
              headHash: z.string().optional(),
              brokenId: z.number().optional(),
              reason: z.enum(['link', 'hash']).optional(),
            }),
            ...errors(...AUTHED),
          },
        },
      },
      async () => audit.verify(),
    );

    app.get(
      '/api/admin/audit/export',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['accounts'],
          summary: 'The audit log as CSV or JSON Lines, oldest first (the export is itself audited)',
          description:
            'format=csv (a header row; a cell starting with = + - @ gets a leading apostrophe so spreadsheets do not run it) or jsonl (one row per line, details as stored, to verify a copy outside). from and to bound the rows’ time (epoch ms or ISO 8601, inclusive). Streamed as the rows are read.',
          querystring: z.strictObject({
            format: z.enum(AUDIT_EXPORT_FORMATS, { error: 'must be csv or jsonl' }).default('csv'),
            from: instant.optional(),
            to: instant.optional(),
          }),
          produces: ['text/csv', 'application/x-ndjson'],
          response: { ...errors(400, ...AUTHED) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const { format, from, to } = req.query;
        await audit.record({
          actor: me.id,
          action: 'audit.exported',
          subject: 'audit_log',
          ...auditFrom(req),
          details: { format, from: from ?? null, to: to ?? null },
        });
        const range = { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
        const stamp = new Date(ctx.now()).toISOString().slice(0, 10);
        return reply
          .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="audit-${stamp}.${format}"`)
          .send(Readable.from(auditExportLines(audit.entries(range), format)) as never);
      },
    );
  };
}
