import type { ReportBlock, ReportDocument, ReportKind, ReportLanguage } from './document.ts';
import { ol } from './order-labels.ts';
import { buildOrderReport, type OrderReport, type OrderReportSources } from './order-report.ts';
import { layoutOrderReport, orderAt } from './order-report-layout.ts';
import { personIn } from './service-report-layout.ts';

/** 《伴随保障服务报告》: the accompanying support report — task source, supported unit, assembly, duration and the daily log. */
export function layoutAccompanyingReport(r: OrderReport, lang: ReportLanguage, timeZone: string): ReportDocument {
  const at = orderAt(timeZone, lang);
  const person = personIn(lang);
  const app = r.order.application?.kind === 'accompanying_support' ? r.order.application : null;
  const records: ReportBlock[] = [
    { kind: 'heading', text: ol('sectionLog', lang) },
    {
      kind: 'table',
      columns: [ol('time', lang), ol('entry', lang), ol('by', lang)],
      widths: [2, 5.4, 1.6],
      rows: r.logs.map((l) => [at(l.at), l.text, person(l.by)]),
      empty: ol('noLog', lang),
    },
  ];
  return layoutOrderReport(r, lang, timeZone, {
    title: 'titleAccompanying',
    application: app
      ? [
          [ol('taskSource', lang), app.taskSource],
          [ol('supportedUnit', lang), app.supportedUnit],
          [ol('equipment', lang), app.equipment],
          [ol('assembly', lang), `${at(app.assemblyAt)} · ${app.assemblyPlace}`],
          [ol('duration', lang), `${at(app.start)} – ${at(app.end)}`],
        ]
      : [],
    records,
  });
}

export const ACCOMPANYING_REPORT: ReportKind<OrderReportSources, OrderReport> = {
  id: 'accompanying',
  title: { zh: '伴随保障服务报告', en: 'Accompanying support service report' },
  build: buildOrderReport,
  layout: layoutAccompanyingReport,
};
