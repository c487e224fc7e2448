import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { FIELD_ROLES } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import { FILE_MAX_ORDERS, FILE_MAX_REPORTS, FILE_REPORT_KINDS } from '../../service/customer-file.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, customerParams, errors, instant, text, vehicleIdSchema } from '../schemas.ts';

const fileOut = z
  .object({
    unit: z.object({ id: z.string(), name: z.string(), createdAt: z.number() }),
    contacts: z.array(
      z.object({
        id: z.number(),
        name: z.string(),
        role: z.string().nullable(),
        phone: z.string().nullable(),
        email: z.string().nullable(),
      }),
    ),
    vehicles: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        model: z.string(),
        deliveredAt: z.number().nullable(),
        assignedAt: z.number(),
      }),
    ),
    tickets: z.array(
      z.object({
        id: z.number(),
        number: z.string(),
        level: z.string(),
        status: z.string(),
        title: z.string(),
        vehicleId: z.string().nullable(),
        faultCode: z.string().nullable(),
        serviceMode: z.string().nullable(),
        receivedAt: z.number(),
        closedAt: z.number().nullable(),
      }),
    ),
    ticketCount: z.number(),
    surveys: z.array(
      z.object({
        ticketId: z.number(),
        ticketNumber: z.string(),
        sentAt: z.number(),
        answeredAt: z.number().nullable(),
        scores: z.object({ response: z.number(), quality: z.number(), attitude: z.number() }).nullable(),
        comments: z.string().nullable(),
      }),
    ),
    orders: z
      .array(
        z.object({
          id: z.number(),
          number: z.string().meta({ description: 'SO-<unit>-0001' }),
          kind: z.string().meta({ description: 'patrol_inspection | training | accompanying_support' }),
          kindLabel: z.object({ zh: z.string(), en: z.string() }),
          status: z.string(),
          title: z.string(),
          requestedDate: z.string().meta({ description: 'YYYY-MM-DD, the date asked for' }),
          scheduledStart: z.number().nullable(),
          signedOff: z.boolean().meta({ description: 'the customer side signed the done order off (双方确认)' }),
        }),
      )
      .meta({ description: `the unit's service orders, newest first (at most ${FILE_MAX_ORDERS})` }),
    orderCount: z.number(),
    reports: z
      .array(
        z.object({
          kind: z.enum(FILE_REPORT_KINDS),
          title: z.object({ zh: z.string(), en: z.string() }),
          ticketId: z.number().nullable(),
          orderId: z.number().nullable(),
          number: z.string().meta({ description: 'the ticket’s or the service order’s number' }),
          availableAt: z.number().meta({
            description:
              'when it became available: the ticket first reached repaired, the plan was first issued, the order was done',
          }),
          html: z.string().meta({ description: 'the route that renders it as HTML (?lang=zh|en)' }),
          pdf: z.string().meta({ description: 'the route that renders it as PDF (?lang=zh|en)' }),
        }),
      )
      .meta({
        description: `the documents the unit's records make (generated on the fly, not stored), newest first (at most ${FILE_MAX_REPORTS}): each repaired/verified/closed ticket's 《售后服务报告》, each issued support plan's 《专项保障工作计划》/《售后服务工作联系函》/《售后服务发运通知》, each done service order's report`,
      }),
  })
  .meta({ id: 'CustomerFile' });

/**
 * The customer file (客户信息系统/服务记录系统): a unit's contacts, vehicles (model, delivery date),
 * tickets, service orders, surveys and reports, and the search over units. A customer reads only its own unit's
 * file; another unit's answers like one that does not exist.
 */
export function customerFileRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const files = deps.service.files;

  return async (app) => {
    app.get(
      '/api/customer-files',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['service'],
          summary: 'Search customer files by unit name, vehicle (id, name, model), ticket or service order number',
          description: 'A customer finds only its own unit.',
          querystring: z.strictObject({ q: text('q', 100) }),
          response: {
            200: z.object({
              matches: z.array(
                z.object({
                  customerId: z.string(),
                  name: z.string(),
                  matched: z.enum(['unit', 'vehicle', 'ticket', 'order']),
                  detail: z.string(),
                }),
              ),
            }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => ({ matches: await files.search(req.query.q, tenancy.scope(who(req))) }),
    );

    app.get(
      '/api/customers/:id/file',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['service'],
          summary:
            'A customer unit’s file: contacts, vehicles, tickets (newest 500), service orders (newest 500), surveys, reports',
          params: customerParams,
          response: { 200: z.object({ file: fileOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const missing = new PlatformError('CUSTOMER_NOT_FOUND', `customer ${req.params.id} not found`);
        if (me.role === 'customer' && me.customerId !== req.params.id) throw missing;
        const file = await files.file(req.params.id);
        if (!file) throw missing;
        return { file };
      },
    );

    app.put(
      '/api/vehicles/:id/delivery',
      {
        config: { access: { roles: ['admin', 'dispatcher'] } },
        schema: {
          tags: ['service'],
          summary: 'Set (or clear) the date a vehicle was delivered to its unit',
          params: z.object({ id: vehicleIdSchema }),
          body: z.strictObject({
            deliveredAt: z
              .union([z.number().int().min(0), instant])
              .nullable()
              .meta({ description: 'epoch ms or ISO 8601; null clears it' }),
          }),
          response: {
            200: z.object({ vehicleId: z.string(), deliveredAt: z.number().nullable() }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const v = await tenancy.vehicle(me, req.params.id);
        await files.setDeliveredAt(v.id, req.body.deliveredAt);
        await audit.record({
          actor: me.id,
          action: 'vehicle.delivery_set',
          subject: `vehicle:${v.id}`,
          ...auditFrom(req),
          details: { deliveredAt: req.body.deliveredAt },
        });
        return { vehicleId: v.id, deliveredAt: req.body.deliveredAt };
      },
    );
  };
}
