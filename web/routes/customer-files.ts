import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { ROLES } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
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
    reports: z
      .array(z.object({ ticketId: z.number(), kind: z.string(), createdAt: z.number() }))
      .meta({ description: 'service reports: a seam, empty until reports are recorded' }),
  })
  .meta({ id: 'CustomerFile' });

/**
 * The customer file (客户信息系统/服务记录系统): a unit's contacts, vehicles (model, delivery date),
 * tickets, surveys and reports, and the search over units. A customer reads only its own unit's
 * file; another unit's answers like one that does not exist.
 */
export function customerFileRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const files = deps.service.files;

  return async (app) => {
    app.get(
      '/api/customer-files',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['service'],
          summary: 'Search customer files by unit name, vehicle (id, name, model) or ticket number',
          description: 'A customer finds only its own unit.',
          querystring: z.strictObject({ q: text('q', 100) }),
          response: {
            200: z.object({
              matches: z.array(
                z.object({
                  customerId: z.string(),
                  name: z.string(),
                  matched: z.enum(['unit', 'vehicle', 'ticket']),
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
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['service'],
          summary: 'A customer unit’s file: contacts, vehicles, tickets (newest 500), surveys, reports',
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
