import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALARM_SEVERITIES } from '../../diagnostics/rules/schema.ts';
import { FIELD_ROLES, STAFF_ROLES } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import {
  alarmNoteOut,
  alarmOut,
  AUTHED,
  csvOf,
  cursorQuery,
  errors,
  instant,
  intQuery,
  nextCursorOut,
  numericParams,
  text,
  vehicleIdSchema,
  visibilityIn,
} from '../schemas.ts';
import { alarmNotesForCustomer } from '../../diagnostics/visibility.ts';

const alarmWithNotes = z.object({ alarm: alarmOut, notes: z.array(alarmNoteOut) });

/** Alarms: list (newest first), one with its notes, acknowledge, comment. */
export function alarmRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const alarms = deps.diagnostics.alarms;
  return async (app) => {
    app.get(
      '/api/alarms',
      {
        config: { access: { roles: FIELD_ROLES, token: 'alarms:read' } },
        schema: {
          tags: ['alarms'],
          summary: 'Alarms, newest first; a customer sees its own unit’s only',
          description:
            'Paged: when nextCursor is not null, ask again with cursor=nextCursor and the same filters for the next page. A cursor not from this list answers 400 INVALID_CURSOR.',
          querystring: z.strictObject({
            vehicleId: vehicleIdSchema.optional(),
            state: csvOf(['active', 'acknowledged', 'cleared'], 'state').optional(),
            severity: z.enum(ALARM_SEVERITIES, { error: `must be one of ${ALARM_SEVERITIES.join(', ')}` }).optional(),
            since: instant.optional(),
            limit: intQuery('limit', 1, 1000).default(200),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ alarms: z.array(alarmOut), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const q = req.query;
        const scope = tenancy.scope(me);
        // a customer may name only its own vehicles; staff may list alarms of a vehicle since removed
        if (q.vehicleId && scope) await tenancy.vehicle(me, q.vehicleId);
        const naming = await ctx.names.forViewer(me);
        const page = await alarms.page({
          ...(q.vehicleId ? { vehicleIds: [q.vehicleId] } : {}),
          ...(scope ? { customerId: scope } : {}),
          ...(q.state ? { states: q.state as ('active' | 'acknowledged' | 'cleared')[] } : {}),
          ...(q.severity ? { severity: q.severity } : {}),
          ...(q.since !== undefined ? { since: q.since } : {}),
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
        return { ...page, alarms: page.alarms.map((a) => naming.alarm(a)) };
      },
    );

    app.get(
      '/api/alarms/:id',
      {
        config: { access: { roles: FIELD_ROLES, token: 'alarms:read' } },
        schema: {
          tags: ['alarms'],
          summary: 'One alarm with its notes (raised, acknowledged, comments, cleared)',
          params: numericParams,
          response: { 200: alarmWithNotes, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const alarm = await tenancy.alarm(me, req.params.id);
        const naming = await ctx.names.forViewer(me);
        const notes = await alarms.notes(alarm.id);
        // a customer never gets a note for staff only (issue 16, item 6)
        return {
          alarm: naming.alarm(alarm),
          notes: naming.notes(me.role === 'customer' ? alarmNotesForCustomer(notes) : notes),
        };
      },
    );

    app.post(
      '/api/alarms/:id/acknowledge',
      {
        config: { access: { roles: STAFF_ROLES }, rateLimit: 'acks' },
        schema: {
          tags: ['alarms'],
          summary: 'Acknowledge an alarm (once), optionally with a comment',
          params: numericParams,
          body: z
            .strictObject({
              comment: text('comment', 2000).optional(),
              visibility: visibilityIn.optional().meta({
                description: 'who reads the comment: internal (default: staff only) or customer (the unit too)',
              }),
            })
            .nullish()
            .meta({ description: 'optional' }),
          response: { 200: alarmWithNotes, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.alarm(me, req.params.id);
        const alarm = await alarms.acknowledge(
          req.params.id,
          me.id,
          req.body?.comment,
          req.body?.visibility ?? 'internal',
        );
        await audit.record({
          actor: me.id,
          action: 'alarm.acknowledged',
          subject: `alarm:${alarm.id}`,
          ...auditFrom(req),
          details: {
            vehicleId: alarm.vehicleId,
            before: { state: before.state },
            after: { state: alarm.state },
            ...(req.body?.comment ? { comment: req.body.comment, visibility: req.body?.visibility ?? 'internal' } : {}),
          },
        });
        return { alarm, notes: await alarms.notes(alarm.id) };
      },
    );

    app.post(
      '/api/alarms/:id/comments',
      {
        config: { access: { roles: STAFF_ROLES }, rateLimit: 'comments' },
        schema: {
          tags: ['alarms'],
          summary: 'Comment on an alarm',
          description:
            'internal (the default): staff only, never sent to the customer unit; customer: the unit reads it too.',
          params: numericParams,
          body: z.strictObject({ text: text('text', 2000), visibility: visibilityIn.default('internal') }),
          response: { 201: alarmWithNotes, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        await tenancy.alarm(me, req.params.id);
        const alarm = await alarms.comment(req.params.id, me.id, req.body.text, req.body.visibility);
        await audit.record({
          actor: me.id,
          action: 'alarm.commented',
          subject: `alarm:${alarm.id}`,
          ...auditFrom(req),
          details: { vehicleId: alarm.vehicleId, text: req.body.text, visibility: req.body.visibility ?? 'internal' },
        });
        return reply.code(201).send({ alarm, notes: await alarms.notes(alarm.id) });
      },
    );
  };
}
