import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import type { FindingLink, RecordBody } from '../../diagnostics/service-orders/order-records.ts';
import type { ServiceOrder } from '../../diagnostics/service-orders/orders.ts';
import { REPORT_LANGUAGES } from '../../reports/document.ts';
import { FIELD_ROLES, STAFF_ROLES, type Account } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, levelSchema, numericIdSchema, numericParams, text } from '../schemas.ts';
import { orderReportSources } from './order-report-sources.ts';
import { orderTeamInput, recordInput, recordOut, signOffOut, teamOut } from './order-schemas.ts';
import { orderViews } from './order-views.ts';
import { serviceOrderOut } from './service-orders.ts';

const DUTY_DESK = ['admin', 'dispatcher'] as const;

const findingParams = z.object({
  id: numericIdSchema,
  recordId: numericIdSchema,
  index: z
    .string()
    .regex(/^\d{1,2}$/, { error: 'must be the finding’s index, 0–49' })
    .transform(Number)
    .meta({ description: 'the finding’s position in the visit, from 0' }),
});

/**
 * Each service order kind's steps and records (issue 13 items 3–4): the team the duty desk sends,
 * the records staff make (visits with findings, training materials, attendees, sessions and
 * assessments, the daily log of an accompanying support), a finding's ticket or follow-up, the
 * customer side's sign-off (双方确认) and the kind's service report (HTML and PDF).
 */
export function orderRecordRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, tenancy, audit, reports } = ctx;
  const orders = deps.diagnostics.serviceOrders;
  const views = orderViews(ctx);

  async function own(me: Account, id: number): Promise<ServiceOrder> {
    const o = await orders.get(id);
    // a customer its own unit's only; supply chain (no unit's records are its) none
    const scope = tenancy.scope(me);
    if (scope !== undefined && o.customerId !== scope)
      throw new PlatformError('SERVICE_ORDER_NOT_FOUND', `service order ${id} not found`);
    return o;
  }

  return async (app) => {
    app.put(
      '/api/service-orders/:id/team',
      {
        config: { access: { roles: DUTY_DESK } },
        schema: {
          tags: ['service-orders'],
          summary: 'Set the team sent (应急保障分队): members with role and duty',
          description:
            'The duty desk’s. Replaces the team: leader (组长, one at most), technicians (维修技师), customer service (客服), admin support (行政支持), each with a duty; active staff accounts only. 409 ORDER_STATUS_INVALID once the order is done or cancelled.',
          params: numericParams,
          body: orderTeamInput,
          response: { 200: z.object({ team: teamOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const o = await own(me, req.params.id);
        for (const m of req.body.members) {
          const a = await ctx.accounts.get(m.accountId);
          if (!a || a.disabled || !STAFF_ROLES.includes(a.role))
            throw new PlatformError('ACCOUNT_NOT_FOUND', `no active staff account ${m.accountId}`);
        }
        const members = req.body.members.map((m) => ({
          accountId: m.accountId,
          role: m.role as 'leader',
          duty: m.duty ?? null,
        }));
        await orders.records.setTeam(o.id, members, me.id);
        await audit.record({
          actor: me.id,
          action: 'service_order.team_set',
          subject: `service_order:${o.id}`,
          ...auditFrom(req),
          details: { members },
        });
        return { team: await views.team(me, await orders.records.team(o.id)) };
      },
    );

    app.post(
      '/api/service-orders/:id/records',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['service-orders'],
          summary: 'Record a step of the order’s kind: visit, material, attendee, session, assessment, log',
          description:
            '巡检巡修: `visit` (per vehicle: date, state found, readings, findings with severity, work done, parts used). 技术培训: `material`, `attendee` (from the request on), `session`, `assessment` (per attendee: score, passed). 伴随保障: `log` (daily entries). Visits, sessions, assessments and log entries while the order is in progress. 409 ORDER_KIND_MISMATCH for a record of another kind, 409 ORDER_STATUS_INVALID in the wrong status. `internalNote` is never shown to the customer nor printed.',
          params: numericParams,
          body: recordInput,
          response: { 201: z.object({ record: recordOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const o = await own(me, req.params.id);
        const { internalNote, ...b } = req.body;
        let body: RecordBody;
        switch (b.type) {
          case 'visit': {
            if (b.vehicleId) {
              const v = await deps.vehicles.get(b.vehicleId);
              if (!v || v.customerId !== o.customerId)
                throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${b.vehicleId} is not one of ${o.customerId}’s`);
            } else if (!b.equipment)
              throw new PlatformError(
                'VALIDATION_FAILED',
                'body.vehicleId: name the vehicle or the equipment inspected',
              );
            body = {
              type: 'visit',
              vehicleId: b.vehicleId ?? null,
              equipment: b.equipment ?? '',
              at: b.at,
              stateFound: b.stateFound,
              readings: b.readings ?? '',
              findings: b.findings.map((f) => ({ ...f, link: null })),
              workDone: b.workDone ?? '',
              parts: b.parts.map((p) => ({
                name: p.name,
                partNo: p.partNo ?? null,
                quantity: p.quantity ?? null,
                unit: p.unit ?? null,
              })),
            };
            break;
          }
          case 'material':
            body = { type: 'material', title: b.title, note: b.note ?? null };
            break;
          case 'attendee':
            body = b;
            break;
          case 'session':
            body = { ...b, hours: b.hours ?? null, place: b.place ?? null };
            break;
          case 'assessment':
            body = { ...b, score: b.score ?? null, note: b.note ?? null };
            break;
          case 'log':
            body = b;
            break;
        }
        const r = await orders.records.add(o.id, body, me.id, internalNote ?? null);
        await audit.record({
          actor: me.id,
          action: 'service_order.recorded',
          subject: `service_order:${o.id}`,
          ...auditFrom(req),
          details: { type: body.type, record: r.id },
        });
        return reply.code(201).send({ record: (await views.records(me, [r]))[0]! });
      },
    );

    app.post(
      '/api/service-orders/:id/records/:recordId/findings/:index',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['service-orders'],
          summary:
            'A visit’s finding that needs repair: open an emergency ticket or a follow-up order, or link a ticket',
          description:
            '`open: "ticket"` opens an emergency ticket for the visit’s vehicle (the level is the duty desk’s classification, an engineer’s a proposal); `open: "follow_up"` requests a follow-up patrol inspection and repair order of the unit; `ticketId` links an existing ticket of the same unit. The finding then names it. 409 ORDER_STATUS_INVALID when it is linked already.',
          params: findingParams,
          body: z.strictObject({
            open: z.enum(['ticket', 'follow_up'], { error: 'open must be ticket or follow_up' }).optional(),
            level: levelSchema
              .optional()
              .meta({ description: 'open: ticket — 特急 extra_urgent / 加急 urgent (default)' }),
            ticketId: numericIdSchema.optional().meta({ description: 'link this ticket instead' }),
          }),
          response: {
            200: z.object({ record: recordOut, link: z.object({ kind: z.string(), number: z.string() }) }),
            ...errors(400, ...AUTHED, 404, 409),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const o = await own(me, req.params.id);
        const { recordId, index } = req.params;
        const b = req.body;
        if ((b.open === undefined) === (b.ticketId === undefined))
          throw new PlatformError('VALIDATION_FAILED', 'body: say open (ticket or follow_up) or ticketId, one of them');
        const finding = await orders.records.findingOpenable(o.id, recordId, index);
        const visit = (await orders.records.record(o.id, recordId)).body;
        const vehicleId = visit.type === 'visit' ? visit.vehicleId : null;
        const what = `${o.number}: ${finding.text}`.slice(0, 200);
        let link: FindingLink;
        if (b.ticketId !== undefined) {
          const t = await tenancy.ticket(me, b.ticketId);
          if (t.customerId !== o.customerId)
            throw new PlatformError('INVALID_ARGUMENT', `ticket ${t.number} is not of ${o.customerId}`);
          link = { kind: 'ticket', ticketId: t.id, number: t.number };
        } else if (b.open === 'ticket') {
          const desk = me.role === 'admin' || me.role === 'dispatcher';
          const t = await deps.diagnostics.tickets.open(
            {
              source: 'hotline',
              vehicleId,
              customerId: o.customerId,
              level: b.level ?? 'urgent',
              classified: desk && b.level !== undefined,
              title: what,
              need: `${finding.text}\n(${o.number}, ${finding.severity})`,
              contacts: o.contacts,
              place: o.place,
            },
            me.id,
          );
          link = { kind: 'ticket', ticketId: t.id, number: t.number };
        } else {
          const f = await orders.request(
            {
              kind: 'patrol_inspection',
              customerId: o.customerId,
              vehicleId,
              title: what,
              details: `Follow-up of ${o.number}: ${finding.text}`,
              place: o.place,
              requestedDate: new Date((deps.now ?? Date.now)()).toISOString().slice(0, 10),
              people: 1,
              contacts: o.contacts,
            },
            me.id,
          );
          link = { kind: 'order', orderId: f.id, number: f.number };
        }
        const record = await orders.records.linkFinding(o.id, recordId, index, link, me.id);
        await audit.record({
          actor: me.id,
          action: 'service_order.finding_linked',
          subject: `service_order:${o.id}`,
          ...auditFrom(req),
          details: { record: recordId, index, link },
        });
        return { record: (await views.records(me, [record]))[0]!, link: { kind: link.kind, number: link.number } };
      },
    );

    app.post(
      '/api/service-orders/:id/sign-off',
      {
        config: { access: { roles: ['customer'] } },
        schema: {
          tags: ['service-orders'],
          summary: 'The customer side signs the completed order off (双方确认/签字)',
          description:
            'The customer of the order’s unit, once the order is done: the name written on the signature and a remark. Staff sign by completing it. 409 ORDER_STATUS_INVALID before it is done, 409 ORDER_ALREADY_SIGNED the second time.',
          params: numericParams,
          body: z.strictObject({ name: text('name', 100), note: text('note', 1000).optional() }),
          response: {
            200: z.object({ order: serviceOrderOut, signOff: signOffOut }),
            ...errors(400, ...AUTHED, 404, 409),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const o = await own(me, req.params.id);
        const s = await orders.records.signOff(o.id, me.id, req.body.name, req.body.note ?? null);
        await audit.record({
          actor: me.id,
          action: 'service_order.signed_off',
          subject: `service_order:${o.id}`,
          ...auditFrom(req),
          details: { name: s.name },
        });
        const after = await views.order(me, await orders.get(o.id));
        return { order: after, signOff: after.signOff! };
      },
    );

    for (const format of ['html', 'pdf'] as const) {
      app.get(
        `/api/service-orders/:id/report.${format}`,
        {
          config: { access: { roles: FIELD_ROLES } },
          schema: {
            tags: ['service-orders'],
            summary:
              format === 'pdf'
                ? 'The order’s service report (《巡检巡修服务报告》 / 《技术培训服务报告》 / 《伴随保障服务报告》) as a PDF'
                : 'The order’s service report (《巡检巡修服务报告》 / 《技术培训服务报告》 / 《伴随保障服务报告》) as printable HTML',
            description:
              'Built from the order’s records: the application, the team, the visits and findings, or the training’s materials, attendees, sessions and assessments, or the accompanying support’s daily log, the outcome, the people of both sides and their sign-off. The same document for both sides: people by public names, no internal notes. A customer gets its own unit’s only. PDF: 503 REPORT_FONT_MISSING without the CJK font.',
            params: numericParams,
            querystring: z.strictObject({
              lang: z.enum(REPORT_LANGUAGES, { error: 'lang must be zh or en' }).default('zh'),
            }),
            produces: [format === 'pdf' ? 'application/pdf' : 'text/html'],
            response: { ...errors(400, ...AUTHED, 404, ...(format === 'pdf' ? ([503] as const) : [])) },
          },
        },
        async (req, reply) => {
          const me = who(req);
          const o = await own(me, req.params.id);
          const sources = await orderReportSources(ctx, o);
          const out = await reports.orderReport(sources, req.query.lang, format);
          return reply
            .type(out.type)
            .header('content-disposition', `${format === 'pdf' ? 'attachment' : 'inline'}; filename="${out.fileName}"`)
            .send(out.body as never);
        },
      );
    }
  };
}
