import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DISPATCH_OUTCOMES, PARTNER_KINDS } from '../../resources/partners/partners.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericIdSchema, numericParams, text } from '../schemas.ts';
import { epochMs, PARTNERS_EDIT, rating, REGISTER_READ } from './resource-schemas.ts';
import { noteOnTicket } from '../ticket-notes.ts';

const performanceOut = z
  .object({
    arrived: z.number(),
    onTime: z.number(),
    onTimePct: z.number().nullable(),
    completed: z.number(),
    rework: z.number(),
    reworkPct: z.number().nullable(),
    meanLateMin: z.number().nullable(),
  })
  .meta({ id: 'PartnerPerformance' });

const contactOut = z.object({ name: z.string(), phone: z.string(), role: z.string().optional() });

export const partnerOut = z
  .object({
    id: z.number(),
    kind: z.enum(PARTNER_KINDS),
    name: z.string(),
    nameZh: z.string().nullable(),
    regions: z.array(z.string()),
    capabilities: z.array(z.string()),
    reputation: z.number(),
    technicalStrength: z.number(),
    contacts: z.array(contactOut),
    contractTerms: z.string().nullable(),
    contractUntil: z.number().nullable(),
    active: z.boolean(),
    performance: performanceOut,
    updatedAt: z.number(),
  })
  .meta({ id: 'Partner' });

export const dispatchOut = z
  .object({
    id: z.number(),
    partnerId: z.number(),
    ticketId: z.number(),
    task: z.string(),
    dispatchedAt: z.number(),
    dispatchedBy: z.string(),
    eta: z.number(),
    arrivedAt: z.number().nullable(),
    outcome: z.enum(DISPATCH_OUTCOMES),
    rework: z.boolean(),
    note: z.string().nullable(),
    closedAt: z.number().nullable(),
    onTime: z.boolean().nullable().meta({ description: 'arrived by the ETA given at dispatch; null before arrival' }),
  })
  .meta({ id: 'PartnerDispatch' });

const kind = z.enum(PARTNER_KINDS, { error: `kind must be one of ${PARTNER_KINDS.join(', ')}` });
const words = (name: string) => z.array(text(name, 100)).max(50);
const partnerFields = {
  kind,
  name: text('name', 200),
  nameZh: text('nameZh', 200).nullable().optional(),
  regions: words('region').meta({ description: 'regions covered (city, province, highway section …)' }),
  capabilities: words('capability').meta({ description: 'e.g. generator_set, chassis, heavy_towing' }),
  reputation: rating('reputation'),
  technicalStrength: rating('technicalStrength'),
  contacts: z
    .array(
      z.strictObject({
        name: text('name', 100),
        phone: z
          .string()
          .trim()
          .regex(/^[0-9+()\- ]{3,40}$/, { error: 'phone must be 3–40 digits, spaces, + - ( )' }),
        role: text('role', 100).optional(),
      }),
    )
    .max(20),
  contractTerms: z.string().trim().max(5000).nullable().optional(),
  contractUntil: epochMs.nullable().optional(),
  active: z.boolean().optional(),
};

const iso = (ms: number) => new Date(ms).toISOString();

/** Partner repair shops and towing companies (修理厂/拖车公司) and their dispatches onto tickets: staff only. */
export function partnerRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const partners = deps.resourceRegister.partners;
  return async (app) => {
    app.get(
      '/api/partners',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'Partners, best first (reputation, technical strength), with their performance (on time, rework)',
          querystring: z.strictObject({
            kind: kind.optional(),
            region: text('region', 100).optional(),
            capability: text('capability', 100).optional(),
          }),
          response: { 200: z.object({ partners: z.array(partnerOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({
        partners: await partners.list({
          ...(req.query.kind ? { kind: req.query.kind } : {}),
          ...(req.query.region ? { region: req.query.region } : {}),
          ...(req.query.capability ? { capability: req.query.capability } : {}),
        }),
      }),
    );

    app.post(
      '/api/partners',
      {
        config: { access: { roles: PARTNERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Add a repair shop or towing company',
          body: z.strictObject(partnerFields),
          response: { 201: z.object({ partner: partnerOut }), ...errors(400, ...AUTHED) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const partner = await partners.add(req.body);
        await audit.record({
          actor: me.id,
          action: 'partner.added',
          subject: `partner:${partner.id}`,
          ...auditFrom(req),
        });
        return reply.code(201).send({ partner });
      },
    );

    app.patch(
      '/api/partners/:id',
      {
        config: { access: { roles: PARTNERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Change a partner: ratings, regions, contacts, contract, active',
          params: numericParams,
          body: z
            .strictObject(partnerFields)
            .partial()
            .refine((b) => Object.keys(b).length > 0, { error: 'change at least one field' }),
          response: { 200: z.object({ partner: partnerOut }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const partner = await partners.update(req.params.id, req.body);
        await audit.record({
          actor: me.id,
          action: 'partner.changed',
          subject: `partner:${partner.id}`,
          ...auditFrom(req),
          details: { fields: Object.keys(req.body) },
        });
        return { partner };
      },
    );

    app.post(
      '/api/tickets/:id/partner-dispatches',
      {
        config: { access: { roles: PARTNERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Dispatch a partner onto a ticket with its task and ETA',
          params: numericParams,
          body: z.strictObject({ partnerId: numericIdSchema, task: text('task', 2000), eta: epochMs }),
          response: { 201: z.object({ dispatch: dispatchOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const dispatch = await partners.dispatch({ ...req.body, ticketId: t.id, by: me.id });
        const partner = await partners.get(dispatch.partnerId);
        await noteOnTicket(ctx, t.id, {
          actor: me.id,
          action: 'partner_dispatched',
          note: `${partner.name} (${partner.kind}) dispatched: ${dispatch.task}; ETA ${iso(dispatch.eta)}`,
        });
        await audit.record({
          actor: me.id,
          action: 'partner.dispatched',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { partnerId: dispatch.partnerId, dispatchId: dispatch.id, eta: dispatch.eta },
        });
        return reply.code(201).send({ dispatch });
      },
    );

    app.get(
      '/api/partner-dispatches',
      {
        config: { access: { roles: REGISTER_READ } },
        schema: {
          tags: ['resources'],
          summary: 'Partner dispatches, newest first (of a ticket, of a partner)',
          querystring: z.strictObject({
            ticketId: numericIdSchema.optional(),
            partnerId: numericIdSchema.optional(),
          }),
          response: { 200: z.object({ dispatches: z.array(dispatchOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({
        dispatches: await partners.dispatches({
          ...(req.query.ticketId !== undefined ? { ticketId: req.query.ticketId } : {}),
          ...(req.query.partnerId !== undefined ? { partnerId: req.query.partnerId } : {}),
        }),
      }),
    );

    app.patch(
      '/api/partner-dispatches/:id',
      {
        config: { access: { roles: PARTNERS_EDIT } },
        schema: {
          tags: ['resources'],
          summary: 'Record a dispatch’s arrival, outcome and rework (closed once the outcome is not pending)',
          params: numericParams,
          body: z
            .strictObject({
              arrivedAt: epochMs.nullable().optional(),
              outcome: z
                .enum(DISPATCH_OUTCOMES, { error: `outcome must be one of ${DISPATCH_OUTCOMES.join(', ')}` })
                .optional(),
              rework: z.boolean().optional(),
              note: z.string().trim().max(2000).nullable().optional(),
            })
            .refine((b) => Object.keys(b).length > 0, { error: 'change at least one field' }),
          response: { 200: z.object({ dispatch: dispatchOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await partners.getDispatch(req.params.id);
        const dispatch = await partners.record(req.params.id, { ...req.body, by: me.id });
        // the arrival and the outcome as they are first recorded, on the ticket's timeline
        const said: string[] = [];
        if (dispatch.arrivedAt !== null && before.arrivedAt !== dispatch.arrivedAt)
          said.push(`arrived ${iso(dispatch.arrivedAt)} (${dispatch.onTime ? 'on time' : 'late'})`);
        if (dispatch.outcome !== 'pending' && before.outcome !== dispatch.outcome)
          said.push(`outcome ${dispatch.outcome}${dispatch.rework ? ', rework' : ''}`);
        if (said.length) {
          const partner = await partners.get(dispatch.partnerId);
          await noteOnTicket(ctx, dispatch.ticketId, {
            actor: me.id,
            action: 'partner_outcome',
            note: `${partner.name}: ${said.join('; ')}`,
          });
        }
        await audit.record({
          actor: me.id,
          action: 'partner.dispatch_recorded',
          subject: `ticket:${dispatch.ticketId}`,
          ...auditFrom(req),
          details: { dispatchId: dispatch.id, outcome: dispatch.outcome, onTime: dispatch.onTime },
        });
        return { dispatch };
      },
    );
  };
}
