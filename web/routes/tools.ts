import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DUE_STATES, TOOL_KINDS, TOOL_STATUSES } from '../../resources/tools/tools.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericIdSchema, numericParams, queryBool, text } from '../schemas.ts';
import { epochMs, REGISTER_READ, registerId, TOOLS_EDIT } from './resource-schemas.ts';

const checkoutOut = z
  .object({
    id: z.number(),
    toolId: z.number(),
    ticketId: z.number().nullable(),
    team: z.array(z.string()),
    outAt: z.number(),
    outBy: z.string(),
    dueBackAt: z.number().nullable(),
    returnedAt: z.number().nullable(),
    returnedBy: z.string().nullable(),
    returnNote: z.string().nullable(),
  })
  .meta({ id: 'ToolCheckout' });

export const toolOut = z
  .object({
    id: z.number(),
    code: z.string(),
    name: z.string(),
    nameZh: z.string().nullable(),
    kind: z.enum(TOOL_KINDS),
    location: z.string(),
    keeper: z.string().nullable(),
    status: z.enum(TOOL_STATUSES),
    calibrationDueAt: z.number().nullable(),
    maintenanceDueAt: z.number().nullable(),
    calibration: z.enum(DUE_STATES).meta({ description: 'none, ok, due_soon (within 14 days), overdue' }),
    maintenance: z.enum(DUE_STATES),
    notes: z.string().nullable(),
    checkout: checkoutOut.nullable(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Tool' });

const kind = z.enum(TOOL_KINDS, { error: `kind must be one of ${TOOL_KINDS.join(', ')}` });
const toolFields = {
  name: text('name', 200),
  nameZh: text('nameZh', 200).nullable().optional(),
  kind,
  location: text('location', 200),
  keeper: text('keeper', 100).nullable().optional(),
  calibrationDueAt: epochMs.nullable().optional(),
  maintenanceDueAt: epochMs.nullable().optional(),
  notes: z.string().trim().max(2000).nullable().optional(),
};
const toolInput = z.strictObject({ code: registerId('code'), ...toolFields });
const toolChange = z
  .strictObject({
    ...toolFields,
    name: toolFields.name.optional(),
    kind: kind.optional(),
    location: toolFields.location.optional(),
    status: z
      .enum(['available', 'maintenance', 'retired'], { error: 'status must be available, maintenance or retired' })
      .optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { error: 'change at least one field' });

/** The tools and equipment register (工具设备台账): staff only. */
export function toolRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const tools = deps.resourceRegister.tools;
  return async (app) => {
    app.get(
      '/api/tools',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'The tools and equipment register (工具设备台账) with calibration and maintenance flags',
          querystring: z.strictObject({
            due: queryBool.optional().meta({ description: 'true: only items due soon or overdue' }),
            ticketId: numericIdSchema.optional().meta({ description: 'only items checked out to this ticket' }),
          }),
          response: { 200: z.object({ tools: z.array(toolOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({
        tools: await tools.list({
          ...(req.query.due !== undefined ? { due: req.query.due } : {}),
          ...(req.query.ticketId !== undefined ? { ticketId: req.query.ticketId } : {}),
        }),
      }),
    );

    app.post(
      '/api/tools',
      {
        config: { access: { roles: TOOLS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Add an item to the register',
          body: toolInput,
          response: { 201: z.object({ tool: toolOut }), ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const tool = await tools.add(req.body);
        await audit.record({ actor: me.id, action: 'tool.added', subject: `tool:${tool.id}`, ...auditFrom(req) });
        return reply.code(201).send({ tool });
      },
    );

    app.patch(
      '/api/tools/:id',
      {
        config: { access: { roles: TOOLS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Change an item: location, keeper, due dates (a calibration done is its next due date), status',
          params: numericParams,
          body: toolChange,
          response: { 200: z.object({ tool: toolOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const tool = await tools.update(req.params.id, req.body);
        await audit.record({
          actor: me.id,
          action: 'tool.changed',
          subject: `tool:${tool.id}`,
          ...auditFrom(req),
          details: { fields: Object.keys(req.body) },
        });
        return { tool };
      },
    );

    app.get(
      '/api/tools/:id/checkouts',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'An item’s check-outs, newest first',
          params: numericParams,
          response: { 200: z.object({ checkouts: z.array(checkoutOut) }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => ({ checkouts: await tools.history(req.params.id) }),
    );

    app.post(
      '/api/tools/:id/checkout',
      {
        config: { access: { roles: TOOLS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Check an available item out to a ticket’s team',
          params: numericParams,
          body: z.strictObject({
            ticketId: numericIdSchema.nullable(),
            team: z.array(text('team member', 100)).min(1, { error: 'name at least one team member' }).max(20),
            dueBackAt: epochMs.nullable().optional(),
          }),
          response: { 200: z.object({ tool: toolOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        if (req.body.ticketId !== null) await tenancy.ticket(me, req.body.ticketId);
        const tool = await tools.checkOut(req.params.id, {
          ticketId: req.body.ticketId,
          team: req.body.team,
          dueBackAt: req.body.dueBackAt ?? null,
          by: me.id,
        });
        await audit.record({
          actor: me.id,
          action: 'tool.checked_out',
          subject: `tool:${tool.id}`,
          ...auditFrom(req),
          details: { ticketId: req.body.ticketId, team: req.body.team },
        });
        return { tool };
      },
    );

    app.post(
      '/api/tools/:id/return',
      {
        config: { access: { roles: TOOLS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Take a checked-out item back into store',
          params: numericParams,
          body: z
            .strictObject({
              note: z.string().trim().max(2000).nullable().optional(),
              location: text('location', 200).optional(),
            })
            .nullish(),
          response: { 200: z.object({ tool: toolOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const tool = await tools.giveBack(req.params.id, {
          by: me.id,
          note: req.body?.note ?? null,
          ...(req.body?.location ? { location: req.body.location } : {}),
        });
        await audit.record({ actor: me.id, action: 'tool.returned', subject: `tool:${tool.id}`, ...auditFrom(req) });
        return { tool };
      },
    );
  };
}
