import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import {
  SERVICE_ORDER_ACTIONS,
  SERVICE_ORDER_KINDS,
  SERVICE_ORDER_STATUSES,
  type ServiceOrder,
  type ServiceOrderAction,
} from '../../diagnostics/service-orders/orders.ts';
import { ROLES, STAFF_ROLES, type Account, type Role } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { applicationCheck } from '../../diagnostics/service-orders/order-records.ts';
import { applicationInput, applicationOut, recordOut, signOffOut, teamOut } from './order-schemas.ts';
import { orderViews } from './order-views.ts';
import {
  AUTHED,
  contactInput,
  csvOf,
  cursorQuery,
  customerIdSchema,
  errors,
  intQuery,
  nextCursorOut,
  numericParams,
  text,
  vehicleIdSchema,
} from '../schemas.ts';

const kindSchema = z.enum(SERVICE_ORDER_KINDS, { error: `must be one of ${SERVICE_ORDER_KINDS.join(', ')}` });

export const serviceOrderOut = z
  .object({
    id: z.number(),
    number: z.string().meta({ description: 'SO-<unit>-0001, counted per customer unit' }),
    kind: z.enum(SERVICE_ORDER_KINDS),
    status: z.enum(SERVICE_ORDER_STATUSES),
    customerId: z.string(),
    vehicleId: z.string().nullable(),
    title: z.string(),
    details: z.string(),
    place: z.string(),
    requestedDate: z.string(),
    people: z.number(),
    contacts: z.array(z.object({ name: z.string(), phone: z.string().optional(), role: z.string().optional() })),
    requestedBy: z.string(),
    scheduledStart: z.number().nullable(),
    scheduledEnd: z.number().nullable(),
    team: z.string().nullable(),
    fromTicketId: z.number().nullable().meta({ description: 'the former 常规 ticket it was moved from' }),
    application: applicationOut.nullable().meta({ description: 'the kind’s application (申请内容)' }),
    outcome: z.string().nullable().meta({ description: 'the outcome written at completion (结论)' }),
    signOff: signOffOut.nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'ServiceOrder' });

const eventOut = z.object({
  at: z.number(),
  actor: z.string(),
  action: z.string(),
  fromStatus: z.string().nullable(),
  toStatus: z.string().nullable(),
  note: z.string().nullable(),
});

/** Who may take which step: scheduling, starting and completing are staff's; the unit may withdraw its own request. */
export const ORDER_ACTION_ROLES: Record<ServiceOrderAction, readonly Role[]> = {
  schedule: ['admin', 'dispatcher'],
  start: STAFF_ROLES,
  complete: STAFF_ROLES,
  cancel: ['admin', 'dispatcher', 'customer'],
};

const epoch = (name: string) =>
  z
    .number({ error: `${name} must be epoch milliseconds` })
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .meta({ description: 'epoch milliseconds' });

/** Service orders (服务申请): planned services requested by application; a customer sees and requests its own unit's only. */
export function serviceOrderRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const orders = deps.diagnostics.serviceOrders;

  async function own(me: Account, id: number): Promise<ServiceOrder> {
    const o = await orders.get(id);
    // a customer its own unit's only; supply chain (no unit's records are its) none
    const scope = tenancy.scope(me);
    if (scope !== undefined && o.customerId !== scope)
      throw new PlatformError('SERVICE_ORDER_NOT_FOUND', `service order ${id} not found`);
    return o;
  }
  const views = orderViews(ctx);
  const named = views.order;

  return async (app) => {
    app.get(
      '/api/service-orders',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['service-orders'],
          summary: 'Service orders, newest first; a customer sees its own unit’s only',
          querystring: z.strictObject({
            status: csvOf(SERVICE_ORDER_STATUSES, 'status').optional(),
            kind: kindSchema.optional(),
            customerId: customerIdSchema.optional(),
            limit: intQuery('limit', 1, 500).default(100),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ orders: z.array(serviceOrderOut), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const q = req.query;
        const scope = tenancy.scope(me);
        if (scope && q.customerId && q.customerId !== scope) return { orders: [], nextCursor: null };
        const customerId = scope ?? q.customerId;
        const page = await orders.page({
          ...(customerId ? { customerId } : {}),
          ...(q.status ? { status: q.status as ServiceOrder['status'][] } : {}),
          ...(q.kind ? { kind: q.kind } : {}),
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
        const out: ServiceOrder[] = [];
        for (const o of page.orders) out.push(await named(me, o));
        return { orders: out, nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/service-orders/:id',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['service-orders'],
          summary: 'One service order with its events, its team and its records',
          description:
            'The team (members with role and duty) and the records of its kind: visits with findings (巡检巡修), materials, attendees, sessions and assessments (技术培训), the daily log (伴随保障). A customer gets people by public names and no internal notes.',
          params: numericParams,
          response: {
            200: z.object({
              order: serviceOrderOut,
              events: z.array(eventOut),
              team: teamOut,
              records: z.array(recordOut),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const o = await own(me, req.params.id);
        const naming = await ctx.names.forViewer(me);
        const events = (await orders.events(o.id)).map((e) => ({ ...e, actor: naming.person(e.actor) }));
        return {
          order: await named(me, o),
          events,
          team: await views.team(me, await orders.records.team(o.id)),
          records: await views.records(me, await orders.records.list(o.id)),
        };
      },
    );

    app.post(
      '/api/service-orders',
      {
        config: { access: { roles: ['admin', 'dispatcher', 'customer'] }, rateLimit: 'tickets' },
        schema: {
          tags: ['service-orders'],
          summary:
            'Request a planned service (巡检巡修 patrol inspection, 技术培训 training, 伴随保障 accompanying support) by application',
          description:
            'With the place, the date asked for and the people needed. A customer requests for its own unit; the duty desk may file one on a unit’s behalf (as 商务部 does in the plan). No 30-minute clock: the duty desk schedules it.',
          body: z.strictObject({
            kind: kindSchema,
            customerId: customerIdSchema.optional().meta({ description: 'the unit (duty desk only)' }),
            vehicleId: vehicleIdSchema.optional(),
            title: text('title', 200),
            details: text('details', 4000).meta({
              description: 'equipment types, subjects, task source, tools and materials asked for',
            }),
            place: text('place', 300),
            requestedDate: z
              .string({ error: 'requestedDate must be a date' })
              .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'requestedDate must be YYYY-MM-DD' })
              .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), { error: 'requestedDate is no date' }),
            people: z
              .number({ error: 'people must be a number' })
              .int({ error: 'people must be a whole number' })
              .min(1, { error: 'people is at least 1' })
              .max(500, { error: 'people is at most 500' }),
            contacts: z.array(contactInput).min(1, { error: 'give at least one contact with a phone number' }).max(10),
            application: applicationInput.optional(),
          }),
          response: { 201: z.object({ order: serviceOrderOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const b = req.body;
        const vehicle = b.vehicleId ? await tenancy.vehicle(me, b.vehicleId) : undefined;
        applicationCheck(b.kind, b.application ?? null);
        let customerId: string;
        if (me.role === 'customer') {
          customerId = me.customerId!;
          if (b.customerId && b.customerId !== customerId)
            throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${b.customerId} not found`);
        } else {
          const c = vehicle?.customerId ?? b.customerId;
          if (!c)
            throw new PlatformError('VALIDATION_FAILED', 'body: name the vehicle (vehicleId) or the unit (customerId)');
          if (vehicle && b.customerId && b.customerId !== vehicle.customerId)
            throw new PlatformError(
              'INVALID_ARGUMENT',
              `vehicle ${vehicle.id} belongs to customer ${vehicle.customerId}, not ${b.customerId}`,
            );
          if (!(await deps.customers.get(c))) throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${c} not found`);
          customerId = c;
        }
        const order = await orders.request(
          {
            kind: b.kind,
            customerId,
            vehicleId: vehicle?.id ?? null,
            title: b.title,
            details: b.details,
            place: b.place,
            requestedDate: b.requestedDate,
            people: b.people,
            contacts: b.contacts,
            application: b.application ?? null,
          },
          me.id,
        );
        await audit.record({
          actor: me.id,
          action: 'service_order.requested',
          subject: `service_order:${order.id}`,
          ...auditFrom(req),
          details: { number: order.number, kind: order.kind },
        });
        return reply.code(201).send({ order: await named(me, order) });
      },
    );

    app.post(
      '/api/service-orders/:id/actions',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['service-orders'],
          summary: 'Move a service order along: schedule, start, complete, cancel',
          description:
            'requested → scheduled (the duty desk sets the start, end and team; may re-schedule) → in_progress → done; cancel from requested or scheduled (the duty desk, or the customer its own unit’s request).',
          params: numericParams,
          body: z.strictObject({
            action: z.enum(SERVICE_ORDER_ACTIONS, { error: `must be one of ${SERVICE_ORDER_ACTIONS.join(', ')}` }),
            note: text('note', 2000).optional(),
            scheduledStart: epoch('scheduledStart').optional().meta({ description: 'schedule: when it starts' }),
            scheduledEnd: epoch('scheduledEnd').optional(),
            team: text('team', 500).optional().meta({ description: 'schedule: who is sent (the support team)' }),
          }),
          response: { 200: z.object({ order: serviceOrderOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await own(me, req.params.id);
        const b = req.body;
        const roles = ORDER_ACTION_ROLES[b.action];
        if (!roles.includes(me.role))
          throw new PlatformError('FORBIDDEN', `${b.action} needs the role ${roles.join(' or ')}; you are ${me.role}`);
        if (b.action === 'schedule') {
          if (b.scheduledStart === undefined)
            throw new PlatformError('VALIDATION_FAILED', 'body.scheduledStart: say when the service starts');
          if (b.scheduledEnd !== undefined && b.scheduledEnd < b.scheduledStart)
            throw new PlatformError('VALIDATION_FAILED', 'body.scheduledEnd: the end is before the start');
        }
        const order = await orders.act(before.id, b.action, me.id, {
          note: b.note ?? null,
          ...(b.action === 'schedule'
            ? {
                schedule: {
                  scheduledStart: b.scheduledStart!,
                  scheduledEnd: b.scheduledEnd ?? null,
                  team: b.team ?? null,
                },
              }
            : {}),
        });
        await audit.record({
          actor: me.id,
          action: 'service_order.transition',
          subject: `service_order:${order.id}`,
          ...auditFrom(req),
          details: { action: b.action, from: before.status, to: order.status },
        });
        return { order: await named(me, order) };
      },
    );
  };
}
