import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { renderRecordHtml } from '../../remote/record-html.ts';
import { CHAT_MAX_CHARS, CHOSEN_OUTCOMES, DESCRIPTION_MAX_CHARS } from '../../remote/sessions.ts';
import type { SessionPrincipal } from '../../remote/types.ts';
import { FIELD_ROLES, STAFF_ROLES, type Account } from '../auth/accounts.ts';
import { principalOfRequest, viewerOf, who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import {
  AUTHED,
  cursorQuery,
  customerIdSchema,
  errors,
  intQuery,
  nextCursorOut,
  numericIdSchema,
  numericParams,
  queryBool,
  remoteSessionOut,
  sessionEntryOut,
  text,
  vehicleIdSchema,
} from '../schemas.ts';
import { sessionView } from '../session-view.ts';

/** The principal a console account is to the session records. */
export const principalOf = (a: Account): SessionPrincipal => ({ id: a.id, role: a.role, customerId: a.customerId });

const sessionBody = z.object({ session: remoteSessionOut });

/**
 * Remote guidance sessions (远程支援): a crew's request or a session started from a ticket, answering,
 * joining and leaving, chat, the end with its outcome, the timeline and the record. Every route
 * asks `SessionAccess.access` first: staff see every session, a customer its own unit's; anything
 * else answers 404 SESSION_NOT_FOUND exactly like a session that does not exist.
 */
export function sessionRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit } = ctx;
  const remote = deps.remote;

  async function visible(me: SessionPrincipal, id: number) {
    const a = await remote.access(me, id);
    if (!a) throw new PlatformError('SESSION_NOT_FOUND', `session ${id} not found`);
    return a;
  }
  const viewFor = async (me: Pick<Account, 'role' | 'customerId'>) => sessionView(me, await ctx.names.forViewer(me));

  return async (app) => {
    app.post(
      '/api/sessions',
      {
        config: { access: { roles: FIELD_ROLES }, rateLimit: 'sessions' },
        schema: {
          tags: ['sessions'],
          summary:
            'Request remote support (a crew, for a vehicle of its unit) or start a session from a ticket (staff)',
          description:
            'A customer names a vehicle of its own unit and describes the need: the session joins the vehicle’s open ticket (or a ticket opened now, source customer) and rings the engineers on duty. Asked again while that ticket has an open session, the answer is that session (200, existing: true). Staff name a ticket: they lead the session, live at once; a ticket with an open session answers 409 SESSION_ALREADY_OPEN.',
          body: z.strictObject({
            vehicleId: vehicleIdSchema.optional().meta({ description: 'a customer’s request: the vehicle' }),
            ticketId: z
              .number({ error: 'ticketId must be a number' })
              .int({ error: 'ticketId must be a whole number' })
              .min(1, { error: 'ticketId must be a positive number' })
              .max(Number.MAX_SAFE_INTEGER)
              .optional()
              .meta({ description: 'staff: the ticket the session belongs to' }),
            description: text('description', DESCRIPTION_MAX_CHARS)
              .optional()
              .meta({ description: 'the need, described precisely (required from a customer)' }),
          }),
          response: {
            200: sessionBody.extend({ existing: z.literal(true) }),
            201: sessionBody.extend({ existing: z.literal(false) }),
            ...errors(400, ...AUTHED, 404, 409),
          },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const b = req.body;
        if (me.role === 'customer') {
          if (b.ticketId !== undefined) await tenancy.ticket(me, b.ticketId);
          if (!b.vehicleId) throw new PlatformError('VALIDATION_FAILED', 'body.vehicleId: name the vehicle');
          if (!b.description) throw new PlatformError('VALIDATION_FAILED', 'body.description: describe the need');
          await tenancy.vehicle(me, b.vehicleId);
        } else {
          if (b.ticketId === undefined) throw new PlatformError('VALIDATION_FAILED', 'body.ticketId: name the ticket');
          await tenancy.ticket(me, b.ticketId);
        }
        const { session, existing } = await remote.request(principalOf(me), {
          ...(b.vehicleId !== undefined ? { vehicleId: b.vehicleId } : {}),
          ...(b.ticketId !== undefined ? { ticketId: b.ticketId } : {}),
          ...(b.description !== undefined ? { description: b.description } : {}),
        });
        if (!existing)
          await audit.record({
            actor: me.id,
            action: 'session.requested',
            subject: `session:${session.id}`,
            ...auditFrom(req),
            details: { ticketId: session.ticketId, vehicleId: session.vehicleId },
          });
        const view = await viewFor(me);
        if (existing) return reply.code(200).send({ session: view.session(session), existing: true as const });
        return reply.code(201).send({ session: view.session(session), existing: false as const });
      },
    );

    app.get(
      '/api/sessions',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['sessions'],
          summary: 'Sessions, newest first: staff all of them, a customer its own unit’s',
          querystring: z.strictObject({
            ticketId: numericIdSchema.optional(),
            vehicleId: vehicleIdSchema.optional(),
            customerId: customerIdSchema.optional(),
            open: queryBool.optional().meta({ description: 'true: requested, ringing or live; false: ended' }),
            limit: intQuery('limit', 1, 500).default(100),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ sessions: z.array(remoteSessionOut), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const q = req.query;
        const scope = tenancy.scope(me);
        if (q.vehicleId && scope) await tenancy.vehicle(me, q.vehicleId);
        if (q.ticketId !== undefined && scope) await tenancy.ticket(me, q.ticketId);
        if (scope && q.customerId && q.customerId !== scope) return { sessions: [], nextCursor: null };
        const customerId = scope ?? q.customerId;
        const page = await remote.list({
          ...(customerId ? { customerId } : {}),
          ...(q.ticketId !== undefined ? { ticketId: q.ticketId } : {}),
          ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
          ...(q.open !== undefined ? { open: q.open } : {}),
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
        const view = await viewFor(me);
        return { sessions: page.sessions.map(view.session), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/sessions/:id',
      {
        config: { access: { roles: FIELD_ROLES, guest: true } },
        schema: {
          tags: ['sessions'],
          summary: 'One session with its participants and the part the caller plays in it (guests: their own)',
          params: numericParams,
          response: {
            200: sessionBody.extend({ role: z.enum(['lead', 'observer', 'crew', 'guest']) }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const a = await visible(principalOfRequest(req), req.params.id);
        return { session: (await viewFor(viewerOf(req))).session(a.session), role: a.role };
      },
    );

    const action = (
      path: 'answer' | 'join' | 'leave',
      summary: string,
      roles: readonly Account['role'][],
      run: (me: SessionPrincipal, id: number, from: ReturnType<typeof auditFrom>) => Promise<unknown>,
      guest = false,
    ) =>
      app.post(
        `/api/sessions/:id/${path}`,
        {
          config: { access: { roles, guest } },
          schema: {
            tags: ['sessions'],
            summary,
            params: numericParams,
            response: { 200: sessionBody, ...errors(400, ...AUTHED, 404, 409) },
          },
        },
        async (req) => {
          const me = principalOfRequest(req);
          await visible(me, req.params.id);
          await run(me, req.params.id, auditFrom(req));
          return { session: (await viewFor(viewerOf(req))).session(await remote.get(req.params.id)) };
        },
      );

    action(
      'answer',
      'Answer a ringing session: the engineer becomes its lead; it is live',
      STAFF_ROLES,
      async (me, id, from) => {
        const s = await remote.answer(me, id);
        await audit.record({
          actor: me.id,
          action: 'session.answered',
          subject: `session:${id}`,
          ...from,
          details: { timeToAnswerMs: s.answeredAt === null ? null : s.answeredAt - s.requestedAt },
        });
      },
    );
    action(
      'join',
      'Join (or rejoin): staff as observers, the unit’s crew as crew, a guest its own session',
      FIELD_ROLES,
      async (me, id, from) => {
        await remote.join(me, id);
        await audit.record({ actor: me.id, action: 'session.joined', subject: `session:${id}`, ...from });
      },
      true,
    );
    action(
      'leave',
      'Leave the session (a reload or a lost network is not leaving)',
      FIELD_ROLES,
      async (me, id, from) => {
        await remote.leave(me, id);
        await audit.record({ actor: me.id, action: 'session.left', subject: `session:${id}`, ...from });
      },
      true,
    );

    app.post(
      '/api/sessions/:id/chat',
      {
        config: { access: { roles: FIELD_ROLES, guest: true }, rateLimit: 'chat' },
        schema: {
          tags: ['sessions'],
          summary: 'Send a text message to the session (stored and delivered live, in timeline order)',
          params: numericParams,
          body: z.strictObject({ text: text('text', CHAT_MAX_CHARS) }),
          response: { 201: z.object({ entry: sessionEntryOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = principalOfRequest(req);
        await visible(me, req.params.id);
        const entry = await remote.chat(me, req.params.id, req.body.text);
        // the message itself is in the session record; the audit keeps who wrote when, and its size
        await audit.record({
          actor: me.id,
          action: 'session.chat',
          subject: `session:${req.params.id}`,
          ...auditFrom(req),
          details: { chars: req.body.text.length },
        });
        return reply.code(201).send({ entry: (await viewFor(viewerOf(req))).entry(entry) });
      },
    );

    app.post(
      '/api/sessions/:id/end',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['sessions'],
          summary: 'End the session with its outcome',
          description:
            'resolved_remotely, escalated_on_site (the ticket moves on toward dispatch: on-site repair as its service mode, work content determined when it was only received) or crew_unreachable. The ticket’s timeline gets an entry naming the record.',
          params: numericParams,
          body: z.strictObject({
            outcome: z.enum(CHOSEN_OUTCOMES, { error: `must be one of ${CHOSEN_OUTCOMES.join(', ')}` }),
            note: text('note', 2000).optional(),
          }),
          response: { 200: sessionBody, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        await visible(principalOf(me), req.params.id);
        const s = await remote.end(principalOf(me), req.params.id, req.body.outcome, req.body.note ?? null);
        await audit.record({
          actor: me.id,
          action: 'session.ended',
          subject: `session:${s.id}`,
          ...auditFrom(req),
          details: { outcome: s.outcome, ticketId: s.ticketId },
        });
        return { session: s };
      },
    );

    app.get(
      '/api/sessions/:id/timeline',
      {
        config: { access: { roles: FIELD_ROLES, guest: true } },
        schema: {
          tags: ['sessions'],
          summary: 'The session’s timeline after a seq (catching up after a reconnect), in order',
          params: numericParams,
          querystring: z.strictObject({
            since: z
              .string()
              .regex(/^\d{1,15}$/, { error: 'since must be a seq: a whole number, 0 or more' })
              .transform(Number)
              .default(0)
              .meta({ description: 'the last seq already seen; 0 (default) for all' }),
            limit: intQuery('limit', 1, 5000).default(1000),
          }),
          response: { 200: z.object({ entries: z.array(sessionEntryOut) }), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        await visible(principalOfRequest(req), req.params.id);
        const view = await viewFor(viewerOf(req));
        const entries = await remote.timeline(req.params.id, req.query.since, req.query.limit);
        return { entries: entries.map(view.entry) };
      },
    );

    app.get(
      '/api/sessions/:id/record',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['sessions'],
          summary:
            'The session record: participants on both sides, timeline, telemetry from 5 min before the request at full rate',
          params: numericParams,
          response: {
            200: z.object({
              session: remoteSessionOut,
              ticket: z.object({
                id: z.number(),
                number: z.string(),
                title: z.string(),
                status: z.string(),
                serviceMode: z.string().nullable(),
              }),
              timeToAnswerMs: z.number().nullable(),
              participants: z.object({
                staff: z.array(remoteSessionOut.shape.participants.element),
                crew: z.array(remoteSessionOut.shape.participants.element),
                guests: z.array(remoteSessionOut.shape.participants.element),
              }),
              timeline: z.array(sessionEntryOut),
              photos: z.array(
                z.object({
                  id: z.string(),
                  type: z.string(),
                  size: z.number(),
                  caption: z.string().nullable(),
                  at: z.number(),
                  by: z.string(),
                  url: z.string(),
                }),
              ),
              telemetry: z.object({
                from: z.number(),
                to: z.number(),
                frames: z.array(z.object({ receivedAt: z.number(), frame: z.unknown() })),
                truncated: z.boolean(),
              }),
              generatedAt: z.number(),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        await visible(principalOf(me), req.params.id);
        return (await viewFor(me)).record(await remote.record(req.params.id));
      },
    );

    app.get(
      '/api/sessions/:id/record.html',
      {
        config: { access: { roles: FIELD_ROLES } },
        schema: {
          tags: ['sessions'],
          summary: 'The session record as one printable HTML page (self-contained, no scripts)',
          params: numericParams,
          produces: ['text/html'],
          response: { ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        await visible(principalOf(me), req.params.id);
        const record = (await viewFor(me)).record(await remote.record(req.params.id));
        const html = renderRecordHtml(record, { timeZone: remote.roster.timeZone });
        // a string with a non-JSON type is sent as is; the schema's map only types the error answers
        return reply.type('text/html; charset=utf-8').send(html as never);
      },
    );
  };
}
