import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { TICKET_STATUSES, type TicketAction } from '../../diagnostics/tickets/status.ts';
import { TEAM_ROLES } from '../../diagnostics/tickets/team.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { timelineForCustomer, type NoteVisibility } from '../../diagnostics/visibility.ts';
import { FIELD_ROLES, ROLES, STAFF_ROLES, type Role } from '../auth/accounts.ts';
import { who, auditFrom } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import {
  accountIdSchema,
  AUTHED,
  contactInput,
  csvOf,
  cursorQuery,
  customerIdSchema,
  errors,
  intQuery,
  levelSchema,
  nextCursorOut,
  numericParams,
  provinceSchema,
  planOut,
  queryBool,
  remoteSessionOut,
  resolutionIn,
  serviceModeSchema,
  text,
  ticketActionSchema,
  ticketAlarmOut,
  ticketOut,
  timelineOut,
  vehicleIdSchema,
  visibilityIn,
} from '../schemas.ts';
import { sessionView } from '../session-view.ts';
import { ticketView } from '../ticket-view.ts';
import { planView } from './plans.ts';

/** The duty desk (市场部): classifies, determines the work content and issues the support plan. */
export const DUTY_DESK: readonly Role[] = ['admin', 'dispatcher'];

/**
 * Who may move a ticket along which step. Determining the work content and issuing the support plan
 * are the market department's (市场部: the duty desk), as are closing, cancelling and reopening; the
 * repair is confirmed by both sides (双方确认): staff, and the customer unit on its own tickets.
 */
export const ACTION_ROLES: Record<TicketAction, readonly Role[]> = {
  determine_work_content: DUTY_DESK,
  issue_plan: DUTY_DESK,
  start_service: STAFF_ROLES,
  mark_repaired: STAFF_ROLES,
  verify: [...STAFF_ROLES, 'customer'],
  close: ['admin', 'dispatcher'],
  cancel: ['admin', 'dispatcher'],
  reopen: ['admin', 'dispatcher'],
};

const ticketBody = z.object({ ticket: ticketOut });
const teamMemberOut = z.object({
  accountId: z.string().meta({ description: 'a staff account (for a customer: the public name)' }),
  role: z.enum(TEAM_ROLES),
  duty: z.string().nullable(),
});

/** Emergency tickets: the queue, one with timeline/snapshot/plan, creation, the status machine, assignment, service mode, comments. */
export function ticketRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit, accounts } = ctx;
  const tickets = deps.diagnostics.tickets;
  return async (app) => {
    app.get(
      '/api/tickets',
      {
        config: { access: { roles: FIELD_ROLES, token: 'tickets:read' } },
        schema: {
          tags: ['tickets'],
          summary: 'The ticket queue ordered by deadline (the most urgent first); a customer sees its own unit’s only',
          description:
            'Open tickets by their next deadline still to meet, then every other ticket by its first deadline, then by id. Paged: when nextCursor is not null, ask again with cursor=nextCursor and the same filters for the next page. A cursor not from this list answers 400 INVALID_CURSOR.',
          querystring: z.strictObject({
            status: csvOf(TICKET_STATUSES, 'status').optional(),
            open: queryBool
              .optional()
              .meta({ description: 'true: only tickets still open; false: only closed or cancelled ones' }),
            level: levelSchema.optional(),
            vehicleId: vehicleIdSchema.optional(),
            customerId: customerIdSchema.optional(),
            assignee: accountIdSchema.optional(),
            breached: queryBool.optional().meta({ description: 'only tickets with a missed deadline' }),
            limit: intQuery('limit', 1, 1000).default(500),
            cursor: cursorQuery.optional(),
          }),
          response: {
            200: z.object({ tickets: z.array(ticketOut), nextCursor: nextCursorOut }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const q = req.query;
        const scope = tenancy.scope(me);
        // a customer may name only its own vehicles; staff may list tickets of a vehicle since removed
        if (q.vehicleId && scope) await tenancy.vehicle(me, q.vehicleId);
        if (scope && q.customerId && q.customerId !== scope) return { tickets: [], nextCursor: null };
        const customerId = scope ?? q.customerId;
        const page = await tickets.page({
          ...(q.status ? { status: q.status as Ticket['status'][] } : {}),
          ...(q.open !== undefined ? { open: q.open } : {}),
          ...(q.level ? { level: q.level } : {}),
          ...(customerId ? { customerId } : {}),
          ...(q.vehicleId ? { vehicleId: q.vehicleId } : {}),
          // staff only: a customer filtering by assignee could probe staff login ids
          ...(q.assignee && !scope ? { assignee: q.assignee } : {}),
          ...(q.breached !== undefined ? { breached: q.breached } : {}),
          limit: q.limit,
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        });
        const naming = await ctx.names.forViewer(me);
        return { tickets: page.tickets.map((t) => naming.ticket(ticketView(t))), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/tickets/:id',
      {
        config: { access: { roles: FIELD_ROLES, token: 'tickets:read' } },
        schema: {
          tags: ['tickets'],
          summary: 'One ticket with its timeline, the telemetry snapshot around the fault and the emergency plan',
          params: numericParams,
          response: {
            200: z.object({
              ticket: ticketOut,
              timeline: z.array(timelineOut),
              snapshot: z.unknown().meta({ description: 'a Series (see GET /api/vehicles/{id}/telemetry) or null' }),
              plan: planOut.nullable(),
              team: z.array(teamMemberOut).meta({
                description:
                  'the response team (应急响应小组: leader 组长 = the assignee, technicians, customer service, admin support) with each duty, and for 特急 the command post (应急指挥部: commander, deputy commanders)',
              }),
              sessions: z
                .array(remoteSessionOut)
                .meta({ description: 'its remote sessions, newest first (records: GET /api/sessions/{id}/record)' }),
              alarms: z.array(ticketAlarmOut).meta({
                description:
                  'its alarms (its incident’s and those of the tickets merged into it), newest first; verifying or closing needs the active ones cleared',
              }),
              sameVehicle: z
                .array(ticketOut)
                .meta({ description: 'the other open tickets of the same vehicle (side by side; mergeable)' }),
              mergedFrom: z
                .array(z.object({ id: z.number(), number: z.string() }))
                .meta({ description: 'the tickets merged into this one' }),
              mergedIntoNumber: z
                .string()
                .nullable()
                .meta({ description: 'the number of the ticket this one was merged into, else null' }),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const plan = tickets.planOf(t);
        const naming = await ctx.names.forViewer(me);
        const actorName = await ctx.names.actorNames(me);
        const related = await tickets.related(t);
        return {
          ticket: naming.ticket(ticketView(t)),
          // a customer never gets a note for staff only (issue 16, item 6)
          timeline: naming
            .timeline(
              me.role === 'customer' ? timelineForCustomer(await tickets.timeline(t.id)) : await tickets.timeline(t.id),
            )
            .map((e) => ({ ...e, actorName: actorName(e.actor) })),
          snapshot: (await tickets.snapshot(t.id)) ?? null,
          plan: plan ? planView(plan, ctx.now()) : null,
          team: (await tickets.team(t.id)).map((m) => ({ ...m, accountId: naming.person(m.accountId) })),
          sessions: (await deps.remote.list({ ticketId: t.id, limit: 100 })).sessions.map(
            sessionView(me, naming).session,
          ),
          alarms: await tickets.alarms(t.id),
          // tenancy: the same vehicle's tickets of another unit (a vehicle since transferred) are not shown
          sameVehicle: related.sameVehicle
            .filter((x) => x.customerId === t.customerId)
            .map((x) => naming.ticket(ticketView(x))),
          mergedFrom: related.mergedFrom,
          mergedIntoNumber: t.mergedInto === null ? null : (await tickets.get(t.mergedInto)).number,
        };
      },
    );

    app.post(
      '/api/tickets',
      {
        config: {
          access: { roles: ['admin', 'dispatcher', 'customer'], token: 'tickets:create' },
          rateLimit: 'tickets',
        },
        schema: {
          tags: ['tickets'],
          summary:
            'Open a ticket by hand: a hotline call taken by the duty desk, or a request from a customer for its own unit',
          description:
            'Record the support need and the contact details, as the service plan asks. The duty desk (市场部) classifies the level (extra_urgent 特急 / urgent 加急); a customer only proposes one (urgent unless it says extra_urgent) and the duty desk confirms or reclassifies it (POST /api/tickets/{id}/classify). Training, patrol inspection and accompanying support are service orders (POST /api/service-orders), not tickets. The 30-minute deadlines start now (as configured by THIRTY_MINUTE_RULE).',
          body: z.strictObject({
            vehicleId: vehicleIdSchema.optional(),
            customerId: customerIdSchema
              .optional()
              .meta({ description: 'the unit, when no vehicle is named (duty desk only)' }),
            level: levelSchema
              .optional()
              .meta({ description: 'required from the duty desk; from a customer a proposal the duty desk confirms' }),
            title: text('title', 200),
            need: text('need', 4000).meta({ description: 'the support need, described precisely' }),
            contacts: z.array(contactInput).min(1, { error: 'give at least one contact with a phone number' }).max(10),
            faultCode: z
              .string()
              .regex(/^[A-Z][A-Z0-9-]{2,31}$/, { error: 'must be a fault code like GEN-START-FAIL' })
              .optional(),
            serviceMode: serviceModeSchema.optional(),
            place: text('place', 300).optional().meta({ description: 'where help is needed' }),
            province: provinceSchema.optional(),
          }),
          response: { 201: ticketBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const b = req.body;
        const vehicle = b.vehicleId ? await tenancy.vehicle(me, b.vehicleId) : undefined;
        let customerId: string;
        if (me.role === 'customer') {
          customerId = me.customerId!;
          if (b.customerId && b.customerId !== customerId)
            throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${b.customerId} not found`);
          if (b.faultCode)
            throw new PlatformError(
              'INVALID_ARGUMENT',
              'the fault code is set by the service desk; describe the fault in need',
            );
        } else {
          if (!b.level)
            throw new PlatformError(
              'VALIDATION_FAILED',
              'body.level: classify the task: extra_urgent (特急) or urgent (加急)',
            );
          if (vehicle && b.customerId && b.customerId !== vehicle.customerId) {
            throw new PlatformError(
              'INVALID_ARGUMENT',
              `vehicle ${vehicle.id} belongs to customer ${vehicle.customerId}, not ${b.customerId}`,
            );
          }
          const c = vehicle?.customerId ?? b.customerId;
          if (!c)
            throw new PlatformError(
              'VALIDATION_FAILED',
              'body: name the vehicle (vehicleId) or the customer unit (customerId)',
            );
          if (!(await deps.customers.get(c))) throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${c} not found`);
          customerId = c;
        }
        // the plan, its service mode and the telemetry snapshot are the ticket service's
        const ticket = await tickets.open(
          {
            source: me.role === 'customer' ? 'customer' : 'hotline',
            vehicleId: vehicle?.id ?? null,
            customerId,
            // a customer proposes; the duty desk classifies
            level: b.level ?? 'urgent',
            classified: me.role !== 'customer',
            title: b.title,
            need: b.need,
            contacts: b.contacts,
            ...(b.place !== undefined ? { place: b.place } : {}),
            ...(b.province !== undefined ? { province: b.province } : {}),
            faultCode: b.faultCode ?? null,
            serviceMode: b.serviceMode ?? null,
          },
          me.id,
        );
        await audit.record({
          actor: me.id,
          action: 'ticket.created',
          subject: `ticket:${ticket.id}`,
          ...auditFrom(req),
          details: { number: ticket.number, level: ticket.level, source: ticket.source },
        });
        return reply.code(201).send({ ticket: (await ctx.names.forViewer(me)).ticket(ticketView(ticket)) });
      },
    );

    app.post(
      '/api/tickets/:id/transitions',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['tickets'],
          summary: 'Move the ticket along the status machine',
          description:
            'received → work_content_determined → plan_issued → in_service → repaired → verified → closed; cancel from any open status; reopen a closed, cancelled or verified ticket. An urgent ticket needs its plan issued before service starts. Determining the work content (which confirms a level not yet classified) and issuing the plan, closing, cancelling and reopening are the duty desk’s (admin, dispatcher). A customer may only verify (双方确认: the customer side confirms the repair) its own unit’s tickets; its note is always visible to its unit. ' +
            'Closing only what is fixed: mark_repaired needs `resolution` (400 RESOLUTION_REQUIRED); verify must come from someone other than who marked it repaired (403 SAME_PERSON_VERIFY); verify and close need the ticket’s alarms cleared (409 ALARMS_ACTIVE) unless `alarmOverride` gives the reason, which goes to the timeline and the audit log.',
          params: numericParams,
          body: z.strictObject({
            action: ticketActionSchema,
            note: text('note', 2000).optional(),
            visibility: visibilityIn
              .optional()
              .meta({ description: 'staff default: internal; a customer’s: customer' }),
            resolution: resolutionIn
              .optional()
              .meta({ description: 'required by mark_repaired: root cause, what was done, the parts used' }),
            alarmOverride: text('alarmOverride', 1000)
              .optional()
              .meta({ description: 'verify or close although alarms are still active: why' }),
          }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        const roles = ACTION_ROLES[req.body.action];
        if (!roles.includes(me.role))
          throw new PlatformError(
            'FORBIDDEN',
            `${req.body.action} needs the role ${roles.join(' or ')}; you are ${me.role}`,
          );
        const b = req.body;
        // the support plan is a document now: issuing it is the issue_plan step (web/routes/support-plans.ts)
        if (b.action === 'issue_plan')
          throw new PlatformError(
            'PLAN_DOCUMENT_REQUIRED',
            'the support plan is issued as a document: write it (PUT /api/tickets/:id/support-plan) and issue it (POST /api/tickets/:id/support-plan/issue)',
          );
        let visibility: NoteVisibility = b.visibility ?? 'internal';
        if (me.role === 'customer') {
          if (b.visibility === 'internal')
            throw new PlatformError('FORBIDDEN', 'a customer’s notes are always visible to its unit');
          visibility = 'customer';
        }
        // the alarms an override passes over, for the audit record (read before the change)
        const overridden =
          b.alarmOverride !== undefined && (b.action === 'verify' || b.action === 'close')
            ? (await tickets.alarms(before.id, true)).map((a) => a.id)
            : [];
        const t = await tickets.transition(before.id, b.action, me.id, b.note, visibility, {
          ...(b.resolution ? { resolution: b.resolution } : {}),
          ...(b.alarmOverride !== undefined ? { alarmOverride: b.alarmOverride } : {}),
        });
        await audit.record({
          actor: me.id,
          action: 'ticket.transition',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: {
            action: req.body.action,
            from: before.status,
            to: t.status,
            ...(req.body.note !== undefined ? { noteVisibility: visibility } : {}),
            ...(b.resolution && t.resolution ? { resolution: t.resolution } : {}),
            ...(overridden.length ? { alarmOverride: { reason: b.alarmOverride, alarms: overridden } } : {}),
          },
        });
        return { ticket: (await ctx.names.forViewer(me)).ticket(ticketView(t)) };
      },
    );

    app.post(
      '/api/tickets/:id/classify',
      {
        config: { access: { roles: DUTY_DESK } },
        schema: {
          tags: ['tickets'],
          summary: 'The duty desk (市场部) confirms the proposed level or reclassifies it, with the reason',
          description:
            'A customer or a rule proposes a level; the duty desk confirms it (same level, reason optional) or reclassifies it (reason required, on the timeline). Raising 加急 → 特急 drops the plan deadline (特急 has none); lowering to 加急 adds it (30 min from receipt).',
          params: numericParams,
          body: z.strictObject({
            level: levelSchema,
            reason: text('reason', 500).optional().meta({ description: 'required when the level changes' }),
          }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        if (req.body.level !== before.level && !req.body.reason)
          throw new PlatformError('VALIDATION_FAILED', 'body.reason: give the reason for reclassifying');
        const t = await tickets.classify(before.id, req.body.level, me.id, req.body.reason ?? null);
        await audit.record({
          actor: me.id,
          action: 'ticket.classified',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { from: before.level, to: t.level, proposed: before.proposedLevel, reason: req.body.reason ?? null },
        });
        return { ticket: ticketView(t) };
      },
    );

    app.post(
      '/api/tickets/:id/site',
      {
        config: { access: { roles: DUTY_DESK } },
        schema: {
          tags: ['tickets'],
          summary: 'The duty desk confirms or edits the contacts, the place and 省内/省外 (准确记录需求信息及联络方式)',
          description:
            'A rule-opened ticket starts with the unit’s registered contacts. With THIRTY_MINUTE_RULE=in_province, an out-of-province (省外) task has no 30-minute deadlines.',
          params: numericParams,
          body: z.strictObject({
            contacts: z
              .array(contactInput)
              .min(1, { error: 'give at least one contact with a phone number' })
              .max(10)
              .optional(),
            place: text('place', 300).nullable().optional(),
            province: provinceSchema.nullable().optional(),
          }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        const b = req.body;
        const t = await tickets.setSite(
          before.id,
          {
            ...(b.contacts ? { contacts: b.contacts } : {}),
            ...(b.place !== undefined ? { place: b.place } : {}),
            ...(b.province !== undefined ? { province: b.province } : {}),
          },
          me.id,
        );
        await audit.record({
          actor: me.id,
          action: 'ticket.site_confirmed',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { place: t.place, province: t.province, contacts: t.contacts.length },
        });
        return { ticket: ticketView(t) };
      },
    );

    app.put(
      '/api/tickets/:id/team',
      {
        config: { access: { roles: DUTY_DESK } },
        schema: {
          tags: ['tickets'],
          summary:
            'Set the response team (应急响应小组) with each member’s duty, and for 特急 the command post (应急指挥部)',
          description:
            'Replaces the team. One leader (组长) at most: the leader becomes the assignee. Commander (总指挥) and deputy commanders (副总指挥) only on extra_urgent tickets. Members are active staff accounts.',
          params: numericParams,
          body: z.strictObject({
            members: z
              .array(
                z.strictObject({
                  accountId: accountIdSchema,
                  role: z.enum(TEAM_ROLES, { error: `must be one of ${TEAM_ROLES.join(', ')}` }),
                  duty: text('duty', 300).optional(),
                }),
              )
              .max(20),
          }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        for (const m of req.body.members) {
          const a = await accounts.get(m.accountId);
          if (!a || a.disabled || a.role === 'customer')
            throw new PlatformError('ACCOUNT_NOT_FOUND', `no active staff account ${m.accountId}`);
        }
        const members = req.body.members.map((m) => ({ accountId: m.accountId, role: m.role, duty: m.duty ?? null }));
        const t = await tickets.setTeam(before.id, members, me.id);
        await audit.record({
          actor: me.id,
          action: 'ticket.team_set',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { members },
        });
        return { ticket: ticketView(t) };
      },
    );

    app.post(
      '/api/tickets/:id/merge',
      {
        config: { access: { roles: ['admin', 'dispatcher'] } },
        schema: {
          tags: ['tickets'],
          summary: 'Merge this ticket into another open ticket of the same vehicle',
          description:
            'The duty desk’s (who classifies tickets). This ticket becomes merged (terminal; mergedInto names the target), keeps its timeline and alarms, and its alarms count for the target’s closing; the target’s timeline records the merge and it takes the higher level. 409 TICKET_CLOSED when either is no longer open, 409 MERGE_VEHICLE_MISMATCH when they are not of one vehicle.',
          params: numericParams,
          body: z.strictObject({
            into: z.number({ error: 'into must be a ticket id' }).int().min(1).max(Number.MAX_SAFE_INTEGER),
            note: text('note', 1000).optional(),
          }),
          response: { 200: z.object({ ticket: ticketOut, target: ticketOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const source = await tenancy.ticket(me, req.params.id);
        const target = await tenancy.ticket(me, req.body.into);
        const r = await tickets.merge(source.id, target.id, me.id, req.body.note);
        await audit.record({
          actor: me.id,
          action: 'ticket.merged',
          subject: `ticket:${r.merged.id}`,
          ...auditFrom(req),
          details: { number: r.merged.number, from: source.status, into: r.target.id, intoNumber: r.target.number },
        });
        return { ticket: ticketView(r.merged), target: ticketView(r.target) };
      },
    );

    app.post(
      '/api/tickets/:id/assign',
      {
        config: { access: { roles: ['admin', 'dispatcher'] } },
        schema: {
          tags: ['tickets'],
          summary: 'Assign the ticket to a staff account: the leader (组长) of its response team',
          params: numericParams,
          body: z.strictObject({ assignee: accountIdSchema }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        const a = await accounts.get(req.body.assignee);
        if (!a || a.disabled || a.role === 'customer')
          throw new PlatformError('ACCOUNT_NOT_FOUND', `no active staff account ${req.body.assignee}`);
        const t = await tickets.assign(before.id, a.id, me.id);
        await audit.record({
          actor: me.id,
          action: 'ticket.assigned',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { from: before.assignee, to: a.id },
        });
        return { ticket: ticketView(t) };
      },
    );

    app.post(
      '/api/tickets/:id/eta',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['tickets'],
          summary: 'Say when help arrives (ETA) or change it; the customer sees it and is told',
          params: numericParams,
          body: z.strictObject({
            eta: z
              .number({ error: 'eta must be epoch milliseconds' })
              .int()
              .min(0)
              .max(Number.MAX_SAFE_INTEGER)
              .meta({ description: 'epoch milliseconds' }),
            note: text('note', 500).optional().meta({ description: 'e.g. “engineer on the way by car from Yueyang”' }),
          }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        if (req.body.eta < ctx.now() - 3_600_000)
          throw new PlatformError('INVALID_ARGUMENT', 'eta is more than an hour in the past');
        const t = await tickets.setEta(before.id, req.body.eta, req.body.note ?? null, me.id);
        await audit.record({
          actor: me.id,
          action: 'ticket.eta_set',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { from: before.eta, to: t.eta },
        });
        return { ticket: ticketView(t) };
      },
    );

    app.post(
      '/api/tickets/:id/service-mode',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['tickets'],
          summary: 'Set the service mode (remote support, on-site repair, return to factory, …)',
          description:
            'Emergency mode (紧急模式: a temporary whole unit or module swaps) is chosen at the user’s request: name who asked in userRequest. The platform only recommends it (the plan’s recommendedMode).',
          params: numericParams,
          body: z.strictObject({
            mode: serviceModeSchema,
            userRequest: text('userRequest', 300).optional().meta({
              description: 'who of the user asked for emergency mode, and how (required for emergency_replacement)',
            }),
          }),
          response: { 200: ticketBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        if (req.body.mode === 'emergency_replacement' && !req.body.userRequest)
          throw new PlatformError(
            'VALIDATION_FAILED',
            'body.userRequest: emergency mode (紧急模式) is chosen at the user’s request: say who asked',
          );
        const t = await tickets.setServiceMode(before.id, req.body.mode, me.id, req.body.userRequest ?? null);
        await audit.record({
          actor: me.id,
          action: 'ticket.service_mode_set',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { from: before.serviceMode, to: t.serviceMode },
        });
        return { ticket: ticketView(t) };
      },
    );

    app.post(
      '/api/tickets/:id/comments',
      {
        config: { access: { roles: FIELD_ROLES }, rateLimit: 'comments' },
        schema: {
          tags: ['tickets'],
          summary: 'Add a note to the timeline (progress, a call with the customer, the customer’s own remarks)',
          description:
            'Staff choose who reads it: internal (the default) for staff only — never sent to the customer unit, not even as a live update — or customer. A customer’s own comments are always customer; a customer asking for internal gets 403.',
          params: numericParams,
          body: z.strictObject({ text: text('text', 4000), visibility: visibilityIn.optional() }),
          response: { 201: ticketBody, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        let visibility: NoteVisibility;
        if (me.role === 'customer') {
          if (req.body.visibility === 'internal')
            throw new PlatformError('FORBIDDEN', 'a customer’s comments are always visible to its unit');
          visibility = 'customer';
        } else visibility = req.body.visibility ?? 'internal';
        const t = await tickets.comment(before.id, me.id, req.body.text, visibility);
        await audit.record({
          actor: me.id,
          action: 'ticket.commented',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { number: t.number, text: req.body.text, visibility },
        });
        return reply.code(201).send({ ticket: (await ctx.names.forViewer(me)).ticket(ticketView(t)) });
      },
    );
  };
}
