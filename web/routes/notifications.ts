import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CHANNELS, DELIVERY_STATUSES, type Channel, type DeliveryStatus } from '../../notifications/outbox.ts';
import { ROLES, type Role } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import {
  AUTHED,
  csvOf,
  cursorQuery,
  errors,
  intQuery,
  nextCursorOut,
  numericIdSchema,
  numericParams,
  queryBool,
} from '../schemas.ts';

/** Who sees and re-sends deliveries: the admin and the dispatchers (who answer customers' "did we tell you?"). */
const DELIVERY_ROLES: readonly Role[] = ['admin', 'dispatcher'];

const deliveryOut = z
  .object({
    id: z.number(),
    key: z.string(),
    channel: z.enum(CHANNELS),
    target: z.string(),
    kind: z.string(),
    language: z.enum(['en', 'zh']),
    customerId: z.string().nullable(),
    vehicleId: z.string().nullable(),
    ticketId: z.number().nullable(),
    urgent: z.boolean(),
    subject: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    tries: z.number(),
    nextAt: z.number(),
    lastError: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
    deliveredAt: z.number().nullable(),
  })
  .meta({ id: 'Delivery' });

const inboxItemOut = z
  .object({
    id: z.number(),
    kind: z.string(),
    subject: z.string(),
    text: z.string(),
    urgent: z.boolean(),
    vehicleId: z.string().nullable(),
    ticketId: z.number().nullable(),
    createdAt: z.number(),
    deliveredAt: z.number().nullable(),
    readAt: z.number().nullable(),
  })
  .meta({ id: 'InboxItem' });

const disabledTargetOut = z.object({
  id: z.string(),
  channel: z.enum(CHANNELS),
  reason: z.string(),
  disabledAt: z.number(),
});

const targetParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'must be a webhook endpoint or robot id' }),
});

/**
 * Notification deliveries (admin, dispatcher): the outbox's rows with status, tries and last error,
 * a manual re-send of a failed one, the targets their receivers disabled; and every account's own
 * console inbox.
 */
export function notificationRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { audit } = ctx;
  const store = ctx.deps.deliveries;
  return async (app) => {
    app.get(
      '/api/notifications',
      {
        config: { access: { roles: DELIVERY_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Deliveries of notifications, newest first (admin, dispatcher)',
          description:
            'Paged: when nextCursor is not null, ask again with cursor=nextCursor and the same filters. A cursor not from this list answers 400 INVALID_CURSOR.',
          querystring: z.strictObject({
            status: csvOf(DELIVERY_STATUSES, 'status').optional(),
            channel: csvOf(CHANNELS, 'channel').optional(),
            ticketId: numericIdSchema.optional(),
            limit: intQuery('limit', 1, 500).default(100),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ deliveries: z.array(deliveryOut), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const q = req.query;
        return store.page({
          ...(q.status ? { status: q.status as DeliveryStatus[] } : {}),
          ...(q.channel ? { channel: q.channel as Channel[] } : {}),
          ...(q.ticketId !== undefined ? { ticketId: q.ticketId } : {}),
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
      },
    );

    app.post(
      '/api/notifications/:id/resend',
      {
        config: { access: { roles: DELIVERY_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Send a failed delivery again: pending now, tries from 0, the same idempotency key',
          params: numericParams,
          response: { 200: z.object({ delivery: deliveryOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const delivery = await store.resend(req.params.id);
        await audit.record({
          actor: me.id,
          action: 'notification.resend',
          subject: `notification:${delivery.id}`,
          ...auditFrom(req),
          details: { channel: delivery.channel, target: delivery.target, key: delivery.key },
        });
        return { delivery };
      },
    );

    app.get(
      '/api/notifications/targets',
      {
        config: { access: { roles: DELIVERY_ROLES } },
        schema: {
          tags: ['notifications'],
          summary: 'Webhook endpoints and robots disabled by their receiver (HTTP 410)',
          response: { 200: z.object({ targets: z.array(disabledTargetOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ targets: await store.disabledTargets() }),
    );

    app.post(
      '/api/notifications/targets/:id/enable',
      {
        config: { access: { roles: ['admin'] } },
        schema: {
          tags: ['notifications'],
          summary:
            'Enable a disabled webhook endpoint or robot again (admin); its failed deliveries can then be re-sent',
          params: targetParams,
          response: { 200: z.object({ target: disabledTargetOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const target = await store.enableTarget(req.params.id);
        await audit.record({
          actor: me.id,
          action: 'notification.target_enabled',
          subject: `notify-target:${target.id}`,
          ...auditFrom(req),
          details: { channel: target.channel, reason: target.reason },
        });
        return { target };
      },
    );

    app.get(
      '/api/inbox',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['inbox'],
          summary: 'Your own console inbox, newest first, with the unread count',
          querystring: z.strictObject({
            unread: queryBool.optional(),
            limit: intQuery('limit', 1, 200).default(50),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ items: z.array(inboxItemOut), unread: z.number(), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const q = req.query;
        return store.inbox(who(req).id, {
          ...(q.unread ? { unread: true } : {}),
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
      },
    );

    app.get(
      '/api/inbox/unread-count',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['inbox'],
          summary: 'How many of your inbox items are unread',
          response: { 200: z.object({ unread: z.number() }), ...errors(...AUTHED) },
        },
      },
      async (req) => ({ unread: await store.unread(who(req).id) }),
    );

    app.post(
      '/api/inbox/:id/read',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['inbox'],
          summary: 'Mark one of your inbox items read (another account’s answers 404)',
          params: numericParams,
          response: { 200: z.object({ item: inboxItemOut, unread: z.number() }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const item = await store.markRead(me.id, req.params.id);
        return { item, unread: await store.unread(me.id) };
      },
    );

    app.post(
      '/api/inbox/read-all',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['inbox'],
          summary: 'Mark all your inbox items read',
          response: { 200: z.object({ marked: z.number(), unread: z.number() }), ...errors(...AUTHED) },
        },
      },
      async (req) => {
        const me = who(req);
        const marked = await store.markAllRead(me.id);
        return { marked, unread: await store.unread(me.id) };
      },
    );
  };
}
