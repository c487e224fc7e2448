import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Ticket, TimelineEntry } from '../diagnostics/types.ts';
import { timelineForCustomer } from '../diagnostics/visibility.ts';
import type { ModeSteps } from '../diagnostics/tickets/mode-steps.ts';
import { stepForCustomer } from '../diagnostics/tickets/mode-steps.ts';
import type { TicketService } from '../diagnostics/tickets/service.ts';
import { buildRecord, type SessionRecord } from '../remote/record.ts';
import type { RemoteSessions } from '../remote/sessions.ts';
import type { Customers } from '../registry/customers.ts';
import type { VehicleRegistry } from '../registry/vehicles.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import type { ReportDocument, ReportLanguage } from './document.ts';
import { renderReportHtml } from './html.ts';
import { DEFAULT_REPORT_FONT, fontReadable, type ReportFont } from './font.ts';
import { createPdfThread } from './pdf-thread.ts';
import { SERVICE_REPORT } from './service-report-layout.ts';
import { ACCOMPANYING_REPORT } from './accompanying-report-layout.ts';
import type { OrderReportSources } from './order-report.ts';
import { PATROL_REPORT } from './patrol-report-layout.ts';
import { TRAINING_REPORT } from './training-report-layout.ts';
import {
  resolutionOf,
  telemetryWindow,
  ticketPartLines,
  type ReportParts,
  type ReportPerson,
  type ServiceReportSources,
} from './service-report.ts';
import { layoutWorkContactLetter, letterAvailable, type WorkContactLetterSources } from './work-contact-letter.ts';

/** Points of each report chart: a 2–3 h window in ≤ 240 buckets is answered from the store's 10 s rollups. */
export const REPORT_CHART_POINTS = 240;

export interface ReportsDeps {
  log: Logger;
  now?: () => number;
  tickets: Pick<TicketService, 'timeline'>;
  sessions: Pick<RemoteSessions, 'list' | 'timeline'>;
  telemetry: Pick<TelemetryStore, 'series'>;
  vehicles: Pick<VehicleRegistry, 'get'>;
  customers: Pick<Customers, 'get'>;
  /** The parts used (default: the ticket's own free lines); the platform passes the ledger-backed one (platform/report-parts.ts). */
  parts?: ReportParts;
  /** The service modes' steps of a ticket (diagnostics/tickets/mode-steps.ts); none: the report has no steps section rows. */
  modeSteps?: Pick<ModeSteps, 'list'>;
}

export interface ReportsOptions {
  font?: ReportFont;
  /** Times in the reports: the service centre's zone (SERVICE_TIME_ZONE). */
  timeZone: string;
}

/**
 * What one viewer may see of the records, from the web layer: staff everything, a customer its
 * unit's ticket without internal notes, people by public names, telemetry since the vehicle came to
 * the unit.
 */
export interface ReportViewer {
  customer: boolean;
  /** The people of the actors named, as this viewer is shown them, and their side. */
  people(actors: string[]): Promise<Record<string, ReportPerson>>;
  /** The timeline as this viewer is sent it: notes that name people renamed (web/public-names.ts); actors kept as ids. */
  notes(entries: TimelineEntry[]): TimelineEntry[];
  /** A session record as this viewer is sent it (web/session-view.ts). */
  session(r: SessionRecord): SessionRecord;
  /** The earliest telemetry the viewer may see of the vehicle (undefined: all). */
  since?: number | undefined;
}

export type ReportFormat = 'html' | 'pdf';

/** The report of each kind of service order (《巡检巡修服务报告》, 《技术培训服务报告》, 《伴随保障服务报告》). */
export const ORDER_REPORTS = {
  patrol_inspection: PATROL_REPORT,
  training: TRAINING_REPORT,
  accompanying_support: ACCOMPANYING_REPORT,
} as const;

/**
 * Service reports (《售后服务报告》 today; the other kinds of the plan over service orders later, see
 * document.ts ReportKind): reads a ticket's records as one viewer may see them, builds the model
 * once, and renders it as HTML or PDF.
 */
export function createReports(deps: ReportsDeps, options: ReportsOptions) {
  const log = deps.log;
  const now = deps.now ?? Date.now;
  const font = options.font ?? DEFAULT_REPORT_FONT;
  const parts = deps.parts ?? ticketPartLines;
  const pdfThread = createPdfThread();

  async function sessionRecords(t: Ticket, viewer: ReportViewer): Promise<SessionRecord[]> {
    const page = await deps.sessions.list({ ticketId: t.id, limit: 100 });
    const records: SessionRecord[] = [];
    for (const s of [...page.sessions].reverse()) {
      // the record without its frames: the report charts the window from the rollups instead
      const r = buildRecord({
        session: s,
        ticket: t,
        timeline: await deps.sessions.timeline(s.id, 0, Number.MAX_SAFE_INTEGER),
        frames: [],
        truncated: false,
        from: s.requestedAt,
        to: s.endedAt ?? now(),
        generatedAt: now(),
      });
      records.push(viewer.session(r));
    }
    return records;
  }

  /** The service report's sources for a ticket the viewer may see (the caller checked the tenancy). */
  async function serviceSources(t: Ticket, viewer: ReportViewer): Promise<ServiceReportSources> {
    const all: TimelineEntry[] = await deps.tickets.timeline(t.id);
    const timeline = viewer.notes(viewer.customer ? timelineForCustomer(all) : all);
    const vehicle = t.vehicleId ? await deps.vehicles.get(t.vehicleId) : undefined;
    const unit = t.customerId ? await deps.customers.get(t.customerId) : undefined;
    const sessions = await sessionRecords(t, viewer);
    const repaired = timeline.filter((e) => e.action === 'mark_repaired').at(-1)?.at ?? null;
    let telemetry: ServiceReportSources['telemetry'] = null;
    if (t.vehicleId) {
      const w = telemetryWindow(t, repaired, now());
      const from = viewer.since === undefined ? w.from : Math.max(w.from, viewer.since);
      if (from < w.to)
        telemetry = await deps.telemetry.series({
          vehicleId: t.vehicleId,
          from,
          to: w.to,
          maxPoints: REPORT_CHART_POINTS,
          fields: ['battery.socPct', 'battery.voltageV', 'loadKw', 'mains.voltageV', 'generator.voltageV'],
        });
    }
    const { resolution } = resolutionOf(t);
    const modeSteps = (deps.modeSteps ? await deps.modeSteps.list(t.id) : []).map((st) =>
      viewer.customer ? stepForCustomer(st) : st,
    );
    const actors = [
      ...timeline.map((e) => e.actor),
      ...modeSteps.flatMap((st) => (st.confirmedBy ? [st.actor, st.confirmedBy] : [st.actor])),
    ];
    return {
      ticket: t,
      timeline,
      modeSteps,
      people: await viewer.people([...new Set(actors)]),
      vehicle: vehicle
        ? { id: vehicle.id, name: vehicle.name || null, model: vehicle.model || null }
        : t.vehicleId
          ? { id: t.vehicleId, name: null, model: null }
          : null,
      unit: unit ? { id: unit.id, name: unit.name || null } : t.customerId ? { id: t.customerId, name: null } : null,
      sessions,
      telemetry,
      // the store a part left is the supply chain's business: a customer's copy does not name it
      parts: (await parts.partsUsed(t)).map((p) => (viewer.customer && p.store ? { ...p, store: null } : p)),
      resolution,
      generatedAt: now(),
    };
  }

  /**
   * The work-contact letter's sources (《工作联系函》, reports/work-contact-letter.ts): the ticket's
   * steps as the viewer may see them; 409 LETTER_NOT_AVAILABLE until a return-to-factory repair is
   * recorded (its `repaired_at_factory` step).
   */
  async function letterSources(t: Ticket, viewer: ReportViewer): Promise<WorkContactLetterSources> {
    const steps = (deps.modeSteps ? await deps.modeSteps.list(t.id) : []).map((st) =>
      viewer.customer ? stepForCustomer(st) : st,
    );
    if (!letterAvailable(steps))
      throw new PlatformError(
        'LETTER_NOT_AVAILABLE',
        `ticket ${t.number} has no return-to-factory repair recorded (the repaired_at_factory step): no work-contact letter yet`,
      );
    const rtf = steps.filter((st) => st.mode === 'return_to_factory');
    const actors = [
      ...(t.assignee ? [t.assignee] : []),
      ...rtf.flatMap((st) => (st.confirmedBy ? [st.actor, st.confirmedBy] : [st.actor])),
    ];
    const people = await viewer.people([...new Set(actors)]);
    const vehicle = t.vehicleId ? await deps.vehicles.get(t.vehicleId) : undefined;
    const unit = t.customerId ? await deps.customers.get(t.customerId) : undefined;
    return {
      ticket: t,
      unit: unit ? { id: unit.id, name: unit.name || null } : t.customerId ? { id: t.customerId, name: null } : null,
      vehicle: vehicle
        ? { id: vehicle.id, name: vehicle.name || null, model: vehicle.model || null }
        : t.vehicleId
          ? { id: t.vehicleId, name: null, model: null }
          : null,
      steps: rtf,
      people,
      resolution: resolutionOf(t).resolution,
      // as the service report lists them; the store a part left is not the unit's business
      parts: (await parts.partsUsed(t)).map((p) => (viewer.customer && p.store ? { ...p, store: null } : p)),
      ourContacts: [
        ...new Set(
          Object.values(people)
            .filter((p) => p.side === 'staff')
            .map((p) => p.name),
        ),
      ],
      generatedAt: now(),
    };
  }

  async function serviceDocument(t: Ticket, viewer: ReportViewer, lang: ReportLanguage): Promise<ReportDocument> {
    const model = SERVICE_REPORT.build(await serviceSources(t, viewer));
    return SERVICE_REPORT.layout(model, lang, options.timeZone);
  }

  /** One document as HTML or PDF (every report kind). */
  async function render(
    doc: ReportDocument,
    fileName: string,
    format: ReportFormat,
  ): Promise<{ type: string; body: string | Buffer; fileName: string }> {
    if (format === 'html')
      return { type: 'text/html; charset=utf-8', body: renderReportHtml(doc), fileName: `${fileName}.html` };
    if (!(await fontReadable(font)))
      throw new PlatformError(
        'REPORT_FONT_MISSING',
        `the report font ${font.file} cannot be read; install fonts-wqy-microhei or set REPORT_FONT_FILE`,
      );
    return { type: 'application/pdf', body: await pdfThread.render(doc, font), fileName: `${fileName}.pdf` };
  }

  return {
    font,
    /** Logs a warning when the font cannot be read: PDFs would answer REPORT_FONT_MISSING (HTML still works). */
    async start(): Promise<void> {
      if (!(await fontReadable(font)))
        log.warn(
          { fontFile: font.file },
          'the report font cannot be read: PDF service reports will answer REPORT_FONT_MISSING until it is installed (fonts-wqy-microhei) or REPORT_FONT_FILE names another CJK font',
        );
    },
    /** Ends the PDF thread (a PDF being made fails). */
    stop: (): Promise<void> => pdfThread.close(),
    serviceSources,
    serviceDocument,
    /** Any report document (the support plan's forms, reports/support-plan-forms.ts) as HTML or PDF. */
    async render(
      doc: ReportDocument,
      fileName: string,
      format: ReportFormat,
    ): Promise<{ type: string; body: string | Buffer; fileName: string }> {
      if (format === 'html')
        return { type: 'text/html; charset=utf-8', body: renderReportHtml(doc), fileName: `${fileName}.html` };
      if (!(await fontReadable(font)))
        throw new PlatformError(
          'REPORT_FONT_MISSING',
          `the report font ${font.file} cannot be read; install fonts-wqy-microhei or set REPORT_FONT_FILE`,
        );
      return { type: 'application/pdf', body: await pdfThread.render(doc, font), fileName: `${fileName}.pdf` };
    },
    /** The after-sales service report of a ticket as HTML or PDF. */
    async serviceReport(
      t: Ticket,
      viewer: ReportViewer,
      lang: ReportLanguage,
      format: ReportFormat,
    ): Promise<{ type: string; body: string | Buffer; fileName: string }> {
      const doc = await serviceDocument(t, viewer, lang);
      return render(doc, `service-report-${t.number}-${lang}`, format);
    },
    letterSources,
    /** The work-contact letter (《工作联系函》) of a return-to-factory repair as HTML or PDF; 409 LETTER_NOT_AVAILABLE before the repair. */
    async workContactLetter(
      t: Ticket,
      viewer: ReportViewer,
      lang: ReportLanguage,
      format: ReportFormat,
    ): Promise<{ type: string; body: string | Buffer; fileName: string }> {
      const doc = layoutWorkContactLetter(await letterSources(t, viewer), lang, options.timeZone);
      return render(doc, `work-contact-letter-${t.number}-${lang}`, format);
    },
    /** A service order's report (its kind's layout) as HTML or PDF, from the sources the caller read as the customer side sees them. */
    async orderReport(
      sources: OrderReportSources,
      lang: ReportLanguage,
      format: ReportFormat,
    ): Promise<{ type: string; body: string | Buffer; fileName: string }> {
      const kind = ORDER_REPORTS[sources.order.kind];
      const doc = kind.layout(kind.build(sources), lang, options.timeZone);
      return render(doc, `${kind.id}-report-${sources.order.number}-${lang}`, format);
    },
  };
}

export type Reports = ReturnType<typeof createReports>;
