import { FINDING_SEVERITY_LABELS } from '../diagnostics/service-orders/order-records.ts';
import type { ReportBlock, ReportDocument, ReportKind, ReportLanguage } from './document.ts';
import { ol } from './order-labels.ts';
import { buildOrderReport, type OrderReport, type OrderReportSources } from './order-report.ts';
import { layoutOrderReport, orderAt } from './order-report-layout.ts';
import { personIn } from './service-report-layout.ts';

/** 《巡检巡修服务报告》: the patrol inspection and repair report — per visit the state found, readings, findings, work done and parts. */
export function layoutPatrolReport(r: OrderReport, lang: ReportLanguage, timeZone: string): ReportDocument {
  const at = orderAt(timeZone, lang);
  const person = personIn(lang);
  const none = ol('none', lang);
  const app = r.order.application?.kind === 'patrol_inspection' ? r.order.application : null;
  const records: ReportBlock[] = [{ kind: 'heading', text: ol('sectionVisits', lang) }];
  if (r.visits.length === 0) records.push({ kind: 'paragraph', text: ol('noVisits', lang), muted: true });
  r.visits.forEach((v, i) => {
    records.push({
      kind: 'fields',
      rows: [
        [`${ol('visit', lang)} ${i + 1}`, `${at(v.at)} · ${v.what}${v.model ? ` (${v.model})` : ''}`],
        [ol('stateFound', lang), v.stateFound],
        [ol('readings', lang), v.readings || none],
        [ol('workDone', lang), v.workDone || none],
        [ol('by', lang), person(v.by)],
      ],
    });
    records.push({
      kind: 'table',
      columns: [ol('finding', lang), ol('severity', lang), ol('repair', lang)],
      widths: [5, 1.4, 2.2],
      rows: v.findings.map((f) => [
        f.text,
        FINDING_SEVERITY_LABELS[f.severity][lang],
        f.link ? `${ol('linked', lang)} ${f.link.number}` : f.needsRepair ? ol('needsRepair', lang) : none,
      ]),
      empty: ol('noFindings', lang),
    });
    if (v.parts.length)
      records.push({
        kind: 'table',
        columns: [ol('part', lang), ol('partNo', lang), ol('quantity', lang)],
        widths: [4, 2, 1.4],
        rows: v.parts.map((p) => [
          p.name,
          p.partNo ?? '',
          p.quantity === null ? '' : `${p.quantity}${p.unit ? ` ${p.unit}` : ''}`,
        ]),
        empty: ol('noParts', lang),
      });
  });
  return layoutOrderReport(r, lang, timeZone, {
    title: 'titlePatrol',
    application: app
      ? [
          [ol('equipment', lang), app.equipment.join(', ')],
          [ol('tools', lang), app.tools],
        ]
      : [],
    records,
  });
}

export const PATROL_REPORT: ReportKind<OrderReportSources, OrderReport> = {
  id: 'patrol',
  title: { zh: '巡检巡修服务报告', en: 'Patrol inspection and repair service report' },
  build: buildOrderReport,
  layout: layoutPatrolReport,
};
