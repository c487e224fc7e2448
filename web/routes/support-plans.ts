import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import {
  PLAN_TRANSPORT_MODES,
  type SupportPlanVersion,
  type DraftInput,
} from '../../diagnostics/support-plans/plans.ts';
import { TEAM_ROLES } from '../../diagnostics/tickets/team.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { REPORT_LANGUAGES } from '../../reports/document.ts';
import { SUPPORT_PLAN_FORMS, type PublicPlan, type SupportPlanForm } from '../../reports/support-plan-forms.ts';
import { layoutSupportPlanForm } from '../../reports/support-plan-forms.ts';
import { FIELD_ROLES } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import type { Naming } from '../public-names.ts';
import { AUTHED, errors, numericIdSchema, numericParams, text, ticketOut } from '../schemas.ts';
import { ticketView } from '../ticket-view.ts';
import { partNoSchema, storeIdSchema } from './stock-schemas.ts';
import { DUTY_DESK } from './tickets.ts';

const epochMs = z
  .number({ error: 'must be epoch milliseconds' })
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .meta({ description: 'epoch milliseconds' });
const names = z.object({ en: z.string(), zh: z.string() });
const qty = z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(100_000);

const materialIn = z.union(
  [
    z.strictObject({ kind: z.literal('part'), reservationId: numericIdSchema }),
    z.strictObject({ kind: z.literal('part'), partNo: partNoSchema, storeId: storeIdSchema, qty }),
    z.strictObject({ kind: z.literal('tool'), toolId: numericIdSchema }),
    z.strictObject({
      kind: z.literal('free'),
      name: text('name', 200),
      qty: qty.nullable().optional(),
      unit: text('unit', 20).nullable().optional(),
      note: text('note', 300).nullable().optional(),
    }),
  ],
  {
    error:
      'a material line is {kind: part, partNo, storeId, qty}, {kind: part, reservationId}, {kind: tool, toolId} or {kind: free, name, qty?, unit?, note?}',
  },
);

const draftIn = z.strictObject({
  workContent: text('workContent', 8000).meta({ description: '保障工作内容' }),
  materials: z.array(materialIn).max(50),
  milestones: z.array(z.strictObject({ at: epochMs, label: text('label', 200) })).max(30),
  transport: z
    .strictObject({
      mode: z.enum(PLAN_TRANSPORT_MODES, { error: `must be one of ${PLAN_TRANSPORT_MODES.join(', ')}` }),
      vehicle: text('vehicle', 200)
        .nullable()
        .optional()
        .meta({ description: 'the vehicle, flight, train or carrier' }),
    })
    .nullable(),
  eta: epochMs.nullable(),
  etaNote: text('etaNote', 500).nullable().optional(),
  internalNote: text('internalNote', 2000)
    .nullable()
    .optional()
    .meta({ description: 'staff only: never shown to the customer nor printed' }),
});

const materialOut = z.union([
  z.object({
    kind: z.literal('part'),
    partNo: z.string(),
    name: names,
    qty: z.number(),
    storeId: z.string(),
    reservationId: z.number(),
  }),
  z.object({ kind: z.literal('tool'), toolId: z.number(), code: z.string(), name: names }),
  z.object({
    kind: z.literal('free'),
    name: z.string(),
    qty: z.number().nullable(),
    unit: z.string().nullable(),
    note: z.string().nullable(),
  }),
]);
const contentOut = z.object({
  workContent: z.string(),
  people: z.array(z.object({ accountId: z.string(), role: z.enum(TEAM_ROLES), duty: z.string().nullable() })),
  materials: z.array(materialOut),
  milestones: z.array(z.object({ at: z.number(), label: z.string() })),
  transport: z.object({ mode: z.enum(PLAN_TRANSPORT_MODES), vehicle: z.string().nullable() }).nullable(),
  eta: z.number().nullable(),
  etaNote: z.string().nullable(),
  internalNote: z.string().nullable(),
});
const versionOut = z.object({
  version: z.number(),
  status: z.enum(['draft', 'issued']),
  content: contentOut,
  draftedBy: z.string(),
  draftedAt: z.number(),
  issuedBy: z.string().nullable(),
  issuedAt: z.number().nullable(),
  reason: z.string().nullable().meta({ description: 'why this version was issued (from the second on)' }),
  changes: z.array(z.string()).meta({ description: 'what changed against the version before' }),
});
const publicPlanOut = z
  .object({
    version: z.number(),
    issuedAt: z.number().nullable(),
    issuedBy: z.string().nullable().meta({ description: 'a public name' }),
    workContent: z.string(),
    people: z.array(z.object({ name: z.string(), role: z.enum(TEAM_ROLES), duty: z.string().nullable() })),
    materials: z.array(
      z.object({
        kind: z.enum(['part', 'tool', 'free']),
        name: names,
        ref: z.string().nullable(),
        qty: z.number().nullable(),
        unit: z.string().nullable(),
      }),
    ),
    milestones: z.array(z.object({ at: z.number(), label: z.string() })),
    transport: z.object({ mode: z.enum(PLAN_TRANSPORT_MODES), vehicle: z.string().nullable() }).nullable(),
    eta: z.number().nullable(),
    etaNote: z.string().nullable(),
  })
  .meta({ description: 'the issued plan as the customer unit sees it: no internal note, people by public names' });
const reservationOut = z.object({
  id: z.number(),
  partNo: z.string(),
  name: names,
  storeId: z.string(),
  qty: z.number(),
  reserved: z.number(),
  inField: z.number(),
  consumed: z.number(),
});

/** A version as the customer unit (and every printed form) sees it: schedule, ETA, people by public names. */
export function publicPlan(v: SupportPlanVersion, naming: Naming, live?: Pick<Ticket, 'eta' | 'etaNote'>): PublicPlan {
  const c = v.content;
  return {
    version: v.version,
    issuedAt: v.issuedAt,
    issuedBy: v.issuedBy === null ? null : naming.person(v.issuedBy),
    workContent: c.workContent,
    people: c.people.map((m) => ({ name: naming.person(m.accountId), role: m.role, duty: m.duty })),
    materials: c.materials.map((m) =>
      m.kind === 'part'
        ? { kind: 'part' as const, name: m.name, ref: m.partNo, qty: m.qty, unit: null }
        : m.kind === 'tool'
          ? { kind: 'tool' as const, name: m.name, ref: m.code, qty: null, unit: null }
          : { kind: 'free' as const, name: { en: m.name, zh: m.name }, ref: null, qty: m.qty, unit: m.unit },
    ),
    milestones: c.milestones,
    transport: c.transport,
    // the latest version shows the ticket's ETA (one source of truth: changed since by POST /eta); older ones their own
    eta: live && live.eta !== null ? live.eta : c.eta,
    etaNote: live && live.eta !== null ? live.etaNote : c.etaNote,
  };
}

/**
 * The support plan document of a ticket (应急保障工作计划): the duty desk (市场部) drafts and issues
 * it in versions; engineers read it; the customer unit sees the issued version without internal
 * fields. The issued forms (专项保障工作计划, 售后服务工作联系函, 售后服务发运通知) as HTML and PDF.
 */
export function supportPlanRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { tenancy, audit, deps } = ctx;
  const plans = deps.supportPlans;
  const timeZone = deps.remote.roster.timeZone;

  async function issuedVersion(t: Ticket, version: number | undefined): Promise<SupportPlanVersion> {
    const issued = (await plans.versions(t.id)).filter((v) => v.status === 'issued');
    const v = version === undefined ? issued.at(-1) : issued.find((x) => x.version === version);
    if (!v)
      throw new PlatformError(
        'SUPPORT_PLAN_NOT_FOUND',
        version === undefined
          ? `ticket ${t.number} has no issued support plan`
          : `ticket ${t.number} has no issued support plan v${version}`,
      );
    return v;
  }

  return async (app) => {
    app.get(
      '/api/tickets/:id/support-plan',
      {
        config: { access: { roles: FIELD_ROLES, token: 'tickets:read' } },
        schema: {
          tags: ['tickets'],
          summary:
            'The ticket’s support plan (应急保障工作计划): the issued version, and for staff every version and the draft',
          description:
            'Staff get every version (who issued it, when, what changed and why), the draft, what a new draft starts from (the latest issued version, else the ticket’s diagnosis and emergency plan; the plan’s parts still to reserve with the nearest store) and the ticket’s reservations. A customer gets only the issued version of its own unit’s ticket, without internal fields: people by public names, no internal note, no store or reservation ids.',
          params: numericParams,
          response: {
            200: z.object({
              current: publicPlanOut.nullable(),
              versions: z.array(versionOut).optional(),
              draft: versionOut.nullable().optional(),
              template: contentOut.optional(),
              proposedParts: z
                .array(z.object({ partNo: z.string(), name: names, qty: z.number(), storeId: z.string().nullable() }))
                .optional(),
              reservations: z.array(reservationOut).optional(),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const naming = await ctx.names.forViewer(me);
        const all = await plans.versions(t.id);
        const issued = all.filter((v) => v.status === 'issued');
        const current = issued.at(-1);
        if (me.role === 'customer') return { current: current ? publicPlan(current, naming, t) : null };
        const tpl = await plans.template(t.id);
        return {
          current: current ? publicPlan(current, naming, t) : null,
          versions: issued,
          draft: all.find((v) => v.status === 'draft') ?? null,
          template: tpl.content,
          proposedParts: tpl.proposedParts,
          reservations: await plans.reservations(t.id),
        };
      },
    );

    app.put(
      '/api/tickets/:id/support-plan',
      {
        config: { access: { roles: DUTY_DESK } },
        schema: {
          tags: ['tickets'],
          summary: 'Write the draft of the next version of the support plan (duty desk)',
          description:
            'Work content, materials, milestones (in time order), transport and ETA; the people are the ticket’s response team (PUT /api/tickets/{id}/team). A part line with partNo, storeId and qty is reserved now in the stock ledger (all new lines or none: 409 INSUFFICIENT_STOCK naming what is available where); a line with reservationId names a reservation the ticket already holds. A tool line checks the tool out to the ticket’s team (409 TOOL_NOT_AVAILABLE). Free lines for what is in neither register.',
          params: numericParams,
          body: draftIn,
          response: { 200: z.object({ draft: versionOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const draft = await plans.saveDraft(t.id, req.body as DraftInput, me.id);
        await audit.record({
          actor: me.id,
          action: 'support_plan.drafted',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { version: draft.version, materials: draft.content.materials.length },
        });
        return { draft };
      },
    );

    app.post(
      '/api/tickets/:id/support-plan/issue',
      {
        config: { access: { roles: DUTY_DESK } },
        schema: {
          tags: ['tickets'],
          summary: 'Issue the draft support plan (下达保障计划): the first version is the ticket’s issue_plan step',
          description:
            'The first version moves the ticket from work_content_determined to plan_issued and meets the 加急 plan deadline; issuing again (a new version) needs the reason and keeps the old versions. The plan’s ETA becomes the ticket’s. 404 SUPPORT_PLAN_NOT_FOUND without a draft; 409 INVALID_TRANSITION before the work content is determined; 409 TICKET_CLOSED on a closed ticket.',
          params: numericParams,
          body: z.strictObject({
            reason: text('reason', 1000)
              .optional()
              .meta({ description: 'why the plan is issued again (required from the second version on)' }),
          }),
          response: {
            200: z.object({ ticket: ticketOut, version: versionOut }),
            ...errors(400, ...AUTHED, 404, 409),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const before = await tenancy.ticket(me, req.params.id);
        const r = await plans.issue(before.id, me.id, req.body.reason ?? null);
        await audit.record({
          actor: me.id,
          action: 'support_plan.issued',
          subject: `ticket:${before.id}`,
          ...auditFrom(req),
          details: {
            version: r.version.version,
            from: before.status,
            to: r.ticket.status,
            reason: r.version.reason,
            changes: r.version.changes,
          },
        });
        return { ticket: ticketView(r.ticket), version: r.version };
      },
    );

    for (const form of SUPPORT_PLAN_FORMS)
      for (const format of ['html', 'pdf'] as const)
        app.get(
          `/api/tickets/:id/support-plan/${form}.${format}`,
          {
            config: { access: { roles: FIELD_ROLES, token: 'tickets:read' } },
            schema: {
              tags: ['tickets'],
              summary: `${FORM_SUMMARY[form]} of the issued support plan, as ${format === 'pdf' ? 'a PDF (A4, CJK font embedded)' : 'one printable HTML page'}`,
              description:
                'Built from what the ticket’s unit may see of the issued plan (no internal note, people by public names), the same for staff and the customer; `version` picks an older issued version (default the latest). 404 SUPPORT_PLAN_NOT_FOUND when none is issued. PDF: 503 REPORT_FONT_MISSING without the CJK font.',
              params: numericParams,
              querystring: z.strictObject({
                lang: z.enum(REPORT_LANGUAGES, { error: 'lang must be zh or en' }).default('zh'),
                version: z.coerce.number({ error: 'version must be a number' }).int().min(1).max(10_000).optional(),
              }),
              produces: [format === 'pdf' ? 'application/pdf' : 'text/html'],
              response: { ...errors(400, ...AUTHED, 404, ...(format === 'pdf' ? ([503] as const) : [])) },
            },
          },
          async (req, reply) => {
            const me = who(req);
            const t = await tenancy.ticket(me, req.params.id);
            const v = await issuedVersion(t, req.query.version);
            const latest = (await plans.current(t.id))?.version;
            // the form goes to the customer unit: everybody gets what the unit may see
            const naming = await ctx.names.forCustomer(t.customerId ?? '');
            const vehicle = t.vehicleId ? await deps.vehicles.get(t.vehicleId) : undefined;
            const unit = t.customerId ? await deps.customers.get(t.customerId) : undefined;
            const reservations = await plans.reservations(t.id);
            const doc = layoutSupportPlanForm(
              form as SupportPlanForm,
              {
                ticket: t,
                unit: t.customerId ? { id: t.customerId, name: unit?.name || null } : null,
                vehicle: t.vehicleId
                  ? { id: t.vehicleId, name: vehicle?.name || null, model: vehicle?.model || null }
                  : null,
                plan: publicPlan(v, naming, v.version === latest ? t : undefined),
                parts: reservations.map((r) => ({
                  partNo: r.partNo,
                  name: r.name,
                  qty: r.qty,
                  reserved: r.reserved,
                  sent: r.inField + r.consumed,
                })),
                shipments: await plans.shipments(t.id),
                generatedAt: ctx.now(),
              },
              req.query.lang,
              timeZone,
            );
            const out = await ctx.reports.render(doc, `${form}-${t.number}-v${v.version}-${req.query.lang}`, format);
            return reply
              .type(out.type)
              .header(
                'content-disposition',
                `${format === 'pdf' ? 'attachment' : 'inline'}; filename="${out.fileName}"`,
              )
              .send(out.body as never);
          },
        );
  };
}

const FORM_SUMMARY: Record<SupportPlanForm, string> = {
  plan: 'The special support work plan (《专项保障工作计划》)',
  'contact-letter': 'The after-sales service work contact letter (《售后服务工作联系函》) to the customer unit',
  'shipment-notice':
    'The after-sales service shipment notice (《售后服务发运通知》): reserved and shipped parts with tracking numbers',
};
