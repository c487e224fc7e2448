import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_ROLES } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { accountIdSchema, AUTHED, dutyShiftOut, errors, numericParams } from '../schemas.ts';

const hhmm = (name: string) =>
  z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: `${name} must be HH:MM (00:00–23:59), local time` });
const shiftFields = {
  weekday: z
    .number()
    .int()
    .min(0, { error: 'weekday must be 0 (Sunday) … 6 (Saturday)' })
    .max(6, { error: 'weekday must be 0 (Sunday) … 6 (Saturday)' })
    .nullable(),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'date must be YYYY-MM-DD' })
    .nullable(),
  start: hhmm('start'),
  end: hhmm('end'),
  primary: accountIdSchema,
  secondary: accountIdSchema.nullable(),
  dutyLead: accountIdSchema,
};
const shiftBody = z.object({ shift: dutyShiftOut });
const DESK = ['admin', 'dispatcher'] as const;

/** The duty roster (7×24 answering): shifts in the service time zone; kept by admin and dispatcher. */
export function rosterRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const roster = ctx.deps.remote.roster;
  const { audit } = ctx;
  return async (app) => {
    app.get(
      '/api/roster',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['sessions'],
          summary: 'The duty roster, its time zone and the shift on duty now',
          response: {
            200: z.object({
              timeZone: z.string(),
              shifts: z.array(dutyShiftOut),
              onDuty: dutyShiftOut.nullable().meta({ description: 'none: requests ring the configured duty lead' }),
            }),
            ...errors(...AUTHED),
          },
        },
      },
      async () => ({
        timeZone: roster.timeZone,
        shifts: await roster.list(),
        onDuty: (await roster.onDuty(ctx.now())) ?? null,
      }),
    );

    app.post(
      '/api/roster/shifts',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['sessions'],
          summary: 'Add a duty shift (per weekday or per date; an end at or before the start runs past midnight)',
          body: z.strictObject({
            ...shiftFields,
            weekday: shiftFields.weekday.default(null),
            date: shiftFields.date.default(null),
            secondary: shiftFields.secondary.default(null),
          }),
          response: { 201: shiftBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const shift = await roster.add(req.body);
        await audit.record({
          actor: me.id,
          action: 'roster.added',
          subject: `shift:${shift.id}`,
          ...auditFrom(req),
          details: shift,
        });
        return reply.code(201).send({ shift });
      },
    );

    app.patch(
      '/api/roster/shifts/:id',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['sessions'],
          summary: 'Change a duty shift',
          params: numericParams,
          body: z.strictObject(shiftFields).partial(),
          response: { 200: shiftBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const shift = await roster.update(req.params.id, req.body);
        await audit.record({
          actor: me.id,
          action: 'roster.changed',
          subject: `shift:${shift.id}`,
          ...auditFrom(req),
          details: shift,
        });
        return { shift };
      },
    );

    app.delete(
      '/api/roster/shifts/:id',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['sessions'],
          summary: 'Remove a duty shift',
          params: numericParams,
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        await roster.remove(req.params.id);
        await audit.record({
          actor: me.id,
          action: 'roster.removed',
          subject: `shift:${req.params.id}`,
          ...auditFrom(req),
          details: null,
        });
        return reply.code(204).send(null);
      },
    );
  };
}
