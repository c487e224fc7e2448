import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Ticket } from '../../diagnostics/types.ts';
import { REPORT_LANGUAGES } from '../../reports/document.ts';
import type { ReportFormat, ReportViewer } from '../../reports/reports.ts';
import type { ReportPerson } from '../../reports/service-report.ts';
import { ROLES } from '../auth/accounts.ts';
import { who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericParams } from '../schemas.ts';
import { sessionView } from '../session-view.ts';

const reportQuery = z.strictObject({
  lang: z
    .enum(REPORT_LANGUAGES, { error: 'lang must be zh or en' })
    .default('zh')
    .meta({ description: 'the report’s language: zh (简体中文, the default) or en' }),
});

/**
 * Service reports of tickets (《售后服务报告》): the same report as a printable HTML page and as a
 * PDF. Staff get every ticket's; a customer its own unit's only (another unit's answers 404 like a
 * ticket that does not exist). The content is the same for both (viewerFor).
 */
export function reportRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { tenancy, reports } = ctx;

  /**
   * The report is the document both sides sign, so everybody gets the same one: what the ticket's
   * unit may see — no staff-only note, staff by their public names (display name or role label, never a
   * login id), sessions as the crew sees them, telemetry since the vehicle came to the unit.
   */
  async function viewerFor(t: Ticket): Promise<ReportViewer> {
    const naming = await ctx.names.forCustomer(t.customerId ?? '');
    const vehicle = t.vehicleId ? await ctx.deps.vehicles.get(t.vehicleId) : undefined;
    return {
      customer: true,
      async people(actors) {
        const out: Record<string, ReportPerson> = {};
        for (const id of actors) {
          const a = id === 'system' ? undefined : await ctx.accounts.get(id);
          out[id] = {
            name: naming.person(id),
            side: id === 'system' ? 'system' : a?.role === 'customer' ? 'customer' : 'staff',
          };
        }
        return out;
      },
      notes: (entries) => naming.timeline(entries).map((e, i) => ({ ...e, actor: entries[i]!.actor })),
      session: sessionView({ role: 'customer' }, naming).record,
      // none of a vehicle since removed: its id may since belong to another unit
      since: vehicle ? vehicle.assignedAt : Number.MAX_SAFE_INTEGER,
    };
  }

  const route = (format: ReportFormat) =>
    ({
      config: { access: { roles: ROLES, token: 'tickets:read' as const } },
      schema: {
        tags: ['tickets'],
        summary:
          format === 'pdf'
            ? 'The ticket’s after-sales service report (《售后服务报告》) as a PDF (A4, CJK font embedded)'
            : 'The ticket’s after-sales service report (《售后服务报告》) as one printable HTML page',
        description:
          'Built from the ticket’s records: vehicle and unit, need and level, the response timeline with its deadlines, service modes, the remote session records, battery/load/source charts from 1 h before the ticket to 1 h after the repair, the work done, parts used, the people of both sides and their sign-off (双方确认). A customer gets its own unit’s tickets only, without staff-only notes. PDF: 503 REPORT_FONT_MISSING when the server’s CJK font (REPORT_FONT_FILE) is not installed.',
        params: numericParams,
        querystring: reportQuery,
        produces: [format === 'pdf' ? 'application/pdf' : 'text/html'],
        response: { ...errors(400, ...AUTHED, 404, ...(format === 'pdf' ? ([503] as const) : [])) },
      },
    }) as const;

  const letterRoute = (format: ReportFormat) =>
    ({
      config: { access: { roles: ROLES, token: 'tickets:read' as const } },
      schema: {
        tags: ['tickets'],
        summary:
          format === 'pdf'
            ? 'The work-contact letter (《工作联系函》) of the ticket’s return-to-factory repair as a PDF (A4, CJK font embedded)'
            : 'The work-contact letter (《工作联系函》) of the ticket’s return-to-factory repair as one printable HTML page',
        description:
          'The letter the repaired equipment goes back to the user with (返厂修理): the equipment handed over and its state as both sides assessed it, the shipment to the factory, the count and inspection on receipt, the repair (cause, work done, parts), the assessment after repair, the return shipment (carrier, tracking), the contacts of both sides and the user’s receipt confirmation once recorded. The same document for staff and customer: the unit’s view, without staff-only notes. 409 LETTER_NOT_AVAILABLE until the repair at the factory (step repaired_at_factory) is recorded. A customer gets its own unit’s tickets only. PDF: 503 REPORT_FONT_MISSING when the server’s CJK font (REPORT_FONT_FILE) is not installed.',
        params: numericParams,
        querystring: reportQuery,
        produces: [format === 'pdf' ? 'application/pdf' : 'text/html'],
        response: { ...errors(400, ...AUTHED, 404, 409, ...(format === 'pdf' ? ([503] as const) : [])) },
      },
    }) as const;

  return async (app) => {
    for (const format of ['html', 'pdf'] as const) {
      app.get(`/api/tickets/:id/work-contact-letter.${format}`, letterRoute(format), async (req, reply) => {
        const t = await tenancy.ticket(who(req), req.params.id);
        const out = await reports.workContactLetter(t, await viewerFor(t), req.query.lang, format);
        return reply
          .type(out.type)
          .header('content-disposition', `${format === 'pdf' ? 'attachment' : 'inline'}; filename="${out.fileName}"`)
          .send(out.body as never);
      });
      app.get(`/api/tickets/:id/report.${format}`, route(format), async (req, reply) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const out = await reports.serviceReport(t, await viewerFor(t), req.query.lang, format);
        // a body with a non-JSON type is sent as is; the schema's map only types the error answers
        return reply
          .type(out.type)
          .header('content-disposition', `${format === 'pdf' ? 'attachment' : 'inline'}; filename="${out.fileName}"`)
          .send(out.body as never);
      });
    }
  };
}
