import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  MODE_STEPS,
  STEP_MODES,
  STEP_NAMES,
  stepDetailsSchema,
  stepForCustomer,
  type ModeStep,
} from '../../diagnostics/tickets/mode-steps.ts';
import { FIELD_ROLES, type Account } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericIdSchema, numericParams, text, visibilityIn, visibilityOut } from '../schemas.ts';

const stepModeSchema = z.enum(STEP_MODES, { error: `must be one of ${STEP_MODES.join(', ')}` });
const stepNameSchema = z.enum(STEP_NAMES as [string, ...string[]], {
  error: `must be one of ${STEP_NAMES.join(', ')}`,
});

const modeStepOut = z
  .object({
    id: z.number(),
    ticketId: z.number(),
    mode: z.enum(STEP_MODES),
    step: z.string(),
    at: z.number().meta({ description: 'when it was done (epoch ms)' }),
    recordedAt: z.number(),
    actor: z.string().meta({ description: 'who recorded it (for a customer: the public name of staff)' }),
    side: z.enum(['staff', 'customer']),
    note: z.string().nullable(),
    visibility: visibilityOut,
    details: stepDetailsSchema,
    confirmedAt: z.number().nullable(),
    confirmedBy: z.string().nullable(),
    confirmNote: z.string().nullable(),
  })
  .meta({ id: 'ModeStep' });

const definitionOut = z.object({
  mode: z.enum(STEP_MODES),
  steps: z.array(
    z.object({
      step: z.string(),
      side: z.enum(['staff', 'customer']),
      optional: z.boolean(),
      confirm: z.boolean(),
      fields: z.array(z.string()),
      required: z.array(z.string()),
    }),
  ),
});

const DEFINITIONS = STEP_MODES.map((mode) => ({
  mode,
  steps: MODE_STEPS[mode].map((d) => ({
    step: d.step,
    side: d.side,
    optional: d.optional ?? false,
    confirm: d.confirm ?? false,
    fields: [...d.fields],
    required: [...d.required],
  })),
}));

const stepsBody = z.object({ steps: z.array(modeStepOut), modes: z.array(definitionOut) });

/**
 * The service modes' own steps of a ticket (issue 13 item 3; diagnostics/tickets/mode-steps.ts):
 * on-site repair, return to factory, emergency replacement. Staff record staff steps; the ticket's
 * customer unit records its receipt of returned equipment and confirms the joint assessment and
 * the handover (双方确认), and reads its unit's steps without internal notes.
 */
export function ticketStepRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const steps = deps.diagnostics.modeSteps;
  /** The steps as this viewer is sent them: a customer without internal notes, staff by public names. */
  async function shown(me: Account, list: ModeStep[]): Promise<ModeStep[]> {
    const naming = await ctx.names.forViewer(me);
    return list
      .map((s) => (me.role === 'customer' ? stepForCustomer(s) : s))
      .map((s) => ({
        ...s,
        actor: naming.person(s.actor),
        confirmedBy: s.confirmedBy && naming.person(s.confirmedBy),
      }));
  }

  return async (app) => {
    app.get(
      '/api/tickets/:id/mode-steps',
      {
        config: { access: { roles: FIELD_ROLES, token: 'tickets:read' } },
        schema: {
          tags: ['tickets'],
          summary:
            'The ticket’s service-mode steps (on-site repair, return to factory, emergency replacement) and each mode’s steps in order',
          description:
            'Every step recorded in every mode the ticket was in, oldest first. A customer sees its own unit’s tickets only, without internal notes. Remote technical support has no steps here: its records are the remote sessions (GET /api/tickets/:id).',
          params: numericParams,
          response: { 200: stepsBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        return { steps: await shown(me, await steps.list(t.id)), modes: DEFINITIONS };
      },
    );

    app.post(
      '/api/tickets/:id/mode-steps',
      {
        config: { access: { roles: FIELD_ROLES }, rateLimit: 'comments' },
        schema: {
          tags: ['tickets'],
          summary: 'Record a step of the ticket’s current service mode',
          description:
            'Staff record the staff steps; the customer unit records its receipt of returned equipment (receipt_confirmed). `at`: when it was done (default now). Steps go in their mode’s order: 409 STEP_OUT_OF_ORDER (an earlier step missing, or a time before the previous step’s), 409 STEP_ALREADY_RECORDED, 409 MODE_NOT_CURRENT (the ticket is in another mode), 409 TICKET_CLOSED, 400 STEP_NOT_IN_MODE, 400 STEP_DETAILS_REQUIRED, 403 FORBIDDEN (the other side’s step).',
          params: numericParams,
          body: z.strictObject({
            mode: stepModeSchema,
            step: stepNameSchema,
            at: z
              .number({ error: 'at must be epoch milliseconds' })
              .int()
              .min(0)
              .max(Number.MAX_SAFE_INTEGER)
              .optional()
              .meta({ description: 'when the step was done (epoch ms); default now' }),
            note: text('note', 2000).optional(),
            visibility: visibilityIn.optional(),
            details: stepDetailsSchema.optional(),
          }),
          response: { 201: z.object({ step: modeStepOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const b = req.body;
        const side = me.role === 'customer' ? 'customer' : 'staff';
        const step = await steps.record(
          t.id,
          {
            mode: b.mode,
            step: b.step,
            ...(b.at !== undefined ? { at: b.at } : {}),
            note: b.note ?? null,
            ...(b.visibility ? { visibility: b.visibility } : {}),
            ...(b.details ? { details: b.details } : {}),
          },
          me.id,
          side,
        );
        await audit.record({
          actor: me.id,
          action: 'ticket.mode_step',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { number: t.number, mode: step.mode, step: step.step, at: step.at },
        });
        return reply.code(201).send({ step: (await shown(me, [step]))[0]! });
      },
    );

    app.post(
      '/api/tickets/:id/mode-steps/:stepId/confirm',
      {
        config: { access: { roles: ['customer'] } },
        schema: {
          tags: ['tickets'],
          summary:
            'The customer side confirms a step (the joint assessment of the technical state, the handover: 双方确认)',
          params: z.object({ id: numericIdSchema, stepId: numericIdSchema }),
          body: z.strictObject({ note: text('note', 2000).optional() }),
          response: { 200: z.object({ step: modeStepOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const step = await steps.confirm(t.id, req.params.stepId, me.id, req.body.note ?? null);
        await audit.record({
          actor: me.id,
          action: 'ticket.mode_step_confirmed',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { number: t.number, step: step.step },
        });
        return { step: (await shown(me, [step]))[0]! };
      },
    );
  };
}
