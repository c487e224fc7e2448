import type { ReportBlock, ReportDocument, ReportKind, ReportLanguage } from './document.ts';
import { ol } from './order-labels.ts';
import { buildOrderReport, type OrderReport, type OrderReportSources } from './order-report.ts';
import { layoutOrderReport, orderAt } from './order-report-layout.ts';

/** 《技术培训服务报告》: the technical training report — materials, sessions held, attendees and their assessment. */
export function layoutTrainingReport(r: OrderReport, lang: ReportLanguage, timeZone: string): ReportDocument {
  const at = orderAt(timeZone, lang);
  const app = r.order.application?.kind === 'training' ? r.order.application : null;
  const records: ReportBlock[] = [
    { kind: 'heading', text: ol('sectionTraining', lang) },
    {
      kind: 'table',
      columns: [ol('time', lang), ol('topic', lang), ol('trainer', lang), ol('hours', lang), ol('place', lang)],
      widths: [2, 3.4, 1.6, 0.8, 2],
      rows: r.sessions.map((s) => [
        at(s.at),
        s.topic,
        s.trainer,
        s.hours === null ? '' : String(s.hours),
        s.place ?? '',
      ]),
      empty: ol('noSessions', lang),
    },
    {
      kind: 'table',
      columns: [ol('materials', lang), ol('details', lang)],
      widths: [3, 5],
      rows: r.materials.map((m) => [m.title, m.note ?? '']),
      empty: ol('noMaterials', lang),
    },
    { kind: 'paragraph', text: ol('attendees', lang) },
    {
      kind: 'table',
      columns: [
        ol('member', lang),
        ol('attendeeUnit', lang),
        ol('attendeeRole', lang),
        ol('score', lang),
        ol('result', lang),
      ],
      widths: [1.6, 2.4, 1.6, 1, 1.4],
      rows: r.attendees.map((a) => [
        a.name,
        a.unit,
        a.role,
        a.assessment?.score === null || a.assessment === null ? '' : String(a.assessment.score),
        a.assessment === null ? ol('notAssessed', lang) : ol(a.assessment.passed ? 'passed' : 'failed', lang),
      ]),
      empty: ol('noAttendees', lang),
    },
  ];
  return layoutOrderReport(r, lang, timeZone, {
    title: 'titleTraining',
    application: app
      ? [
          [ol('teachingUnit', lang), app.teachingUnit],
          [ol('topics', lang), app.topics.join('; ')],
          [ol('materialsAsked', lang), app.materials],
        ]
      : [],
    records,
  });
}

export const TRAINING_REPORT: ReportKind<OrderReportSources, OrderReport> = {
  id: 'training',
  title: { zh: '技术培训服务报告', en: 'Technical training service report' },
  build: buildOrderReport,
  layout: layoutTrainingReport,
};
