import { localDateTime } from '../core/local-time.ts';
import { DETAIL_LABELS, STEP_LABELS, type StepDetails } from '../diagnostics/tickets/mode-steps.ts';
import { LEVEL_LABELS, SERVICE_MODE_LABELS } from '../diagnostics/tickets/status.ts';
import type { NumericFieldPath } from '../protocol/index.ts';
import { PUBLIC_LABELS } from '../web/public-labels.ts';
import type { ChartData, ReportBlock, ReportDocument, ReportKind, ReportLanguage } from './document.ts';
import { MILESTONE_LABELS, OUTCOME_LABELS, SOURCE_LABELS, STATUS_LABELS, label, type LabelKey } from './labels.ts';
import { buildServiceReport, type ServiceReport, type ServiceReportSources } from './service-report.ts';

/** The charts of the report: which measurements, in which colours. */
const CHARTS: {
  title: LabelKey;
  unit: string;
  lines: { field: NumericFieldPath; label: LabelKey | null; color: string }[];
  yMin?: number;
  yMax?: number;
}[] = [
  {
    title: 'chartSoc',
    unit: '%',
    lines: [{ field: 'battery.socPct', label: null, color: '#1f6fb2' }],
    yMin: 0,
    yMax: 100,
  },
  { title: 'chartBatteryV', unit: 'V', lines: [{ field: 'battery.voltageV', label: null, color: '#7a3fb0' }] },
  { title: 'chartLoad', unit: 'kW', lines: [{ field: 'loadKw', label: null, color: '#c0561b' }], yMin: 0 },
  {
    title: 'chartSource',
    unit: 'V',
    lines: [
      { field: 'mains.voltageV', label: 'mains', color: '#2e8b57' },
      { field: 'generator.voltageV', label: 'generator', color: '#b8860b' },
    ],
    yMin: 0,
  },
];

function duration(ms: number, lang: ReportLanguage): string {
  const min = Math.round(ms / 60_000);
  if (min < 120) return `${min} ${label('minutes', lang)}`;
  return `${(min / 60).toFixed(1)} ${label('hours', lang)}`;
}

function charts(r: ServiceReport, lang: ReportLanguage): ChartData[] {
  const s = r.telemetry;
  if (!s || s.ts.length === 0) return [];
  const markers = [{ at: r.receivedAt, label: label('markerOpened', lang) }];
  if (r.repairedAt !== null) markers.push({ at: r.repairedAt, label: label('markerRepaired', lang) });
  return CHARTS.flatMap((c) => {
    const lines = c.lines
      .map((l) => ({
        label: l.label ? label(l.label, lang) : label(c.title, lang),
        color: l.color,
        values: s.fields[l.field]?.avg ?? [],
      }))
      .filter((l) => l.values.some((v) => v !== null));
    if (lines.length === 0) return [];
    return [
      {
        title: `${label(c.title, lang)} (${c.unit})`,
        unit: c.unit,
        from: s.from,
        to: s.to,
        ts: s.ts,
        lines,
        markers,
        ...(c.yMin !== undefined ? { yMin: c.yMin } : {}),
        ...(c.yMax !== undefined ? { yMax: c.yMax } : {}),
      },
    ];
  });
}

/** The words of the details' fixed values (method, kind). */
const VALUE_LABELS: Record<string, Record<ReportLanguage, string>> = {
  in_person: { en: 'delivered in person', zh: '用户送修' },
  shipped: { en: 'shipped', zh: '托运/邮寄' },
  collected: { en: 'collected', zh: '上门提取' },
  whole_unit: { en: 'whole unit', zh: '整机' },
  module: { en: 'module', zh: '模块' },
};

/** A step's details in the report's language ("承运方: 顺丰; 运单号: SF123"). */
function detailsText(d: StepDetails, lang: ReportLanguage, at: (ms: number | null) => string): string {
  return (Object.keys(d) as (keyof StepDetails)[])
    .map((k) => {
      const v = d[k];
      const value = k === 'plannedAt' || k === 'eta' ? at(v as number) : (VALUE_LABELS[String(v)]?.[lang] ?? String(v));
      return `${DETAIL_LABELS[k][lang]}: ${value}`;
    })
    .join('; ');
}

/** A person's public label ("Engineer", "Duty desk": web/public-names.ts sends English) in the report's language. */
const PUBLIC_BY_EN = new Map(Object.values(PUBLIC_LABELS).map((l) => [l.en as string, l]));
export const personIn = (lang: ReportLanguage) => (name: string) => PUBLIC_BY_EN.get(name)?.[lang] ?? name;

/** The after-sales service report laid out in one language (pure). */
export function layoutServiceReport(r: ServiceReport, lang: ReportLanguage, timeZone: string): ReportDocument {
  const at = (ms: number | null) => (ms === null ? label('notRecorded', lang) : localDateTime(ms, timeZone));
  const atS = (ms: number) => localDateTime(ms, timeZone, true);
  const none = label('none', lang);
  const person = personIn(lang);
  const people = (list: string[]) => list.map(person).join(', ') || none;
  const t = r.ticket;
  const blocks: ReportBlock[] = [];

  blocks.push({ kind: 'heading', text: label('sectionTask', lang) });
  blocks.push({
    kind: 'fields',
    rows: [
      [label('unit', lang), r.unit ? (r.unit.name ? `${r.unit.name} (${r.unit.id})` : r.unit.id) : none],
      [
        label('vehicle', lang),
        r.vehicle ? (r.vehicle.name ? `${r.vehicle.name} (${r.vehicle.id})` : r.vehicle.id) : none,
      ],
      ...(r.vehicle?.model ? [[label('model', lang), r.vehicle.model] as [string, string]] : []),
      [label('taskTitle', lang), t.title],
      [label('need', lang), t.need],
      [label('level', lang), `${LEVEL_LABELS[t.level][lang]}${lang === 'en' ? ` (${LEVEL_LABELS[t.level].zh})` : ''}`],
      [label('source', lang), SOURCE_LABELS[t.source]?.[lang] ?? t.source],
      ...(t.faultCode ? [[label('faultCode', lang), t.faultCode] as [string, string]] : []),
      [
        label('contacts', lang),
        t.contacts.length
          ? t.contacts.map((c) => [c.name, c.role, c.phone].filter(Boolean).join(' ')).join('; ')
          : none,
      ],
      [
        label('serviceModes', lang),
        r.serviceModes.length ? r.serviceModes.map((m) => SERVICE_MODE_LABELS[m]?.[lang] ?? m).join(' → ') : none,
      ],
      [label('status', lang), STATUS_LABELS[t.status]?.[lang] ?? t.status],
    ],
  });

  blocks.push({ kind: 'heading', text: label('sectionResponse', lang) });
  blocks.push({
    kind: 'fields',
    rows: [
      [label('received', lang), at(r.receivedAt)],
      [label('arrived', lang), at(r.arrivedAt)],
      [label('repaired', lang), at(r.repairedAt)],
      ...(r.timeToRepairMs !== null
        ? [[label('timeToRepair', lang), duration(r.timeToRepairMs, lang)] as [string, string]]
        : []),
    ],
  });
  blocks.push({
    kind: 'table',
    columns: [label('deadline', lang), label('due', lang), label('done', lang), label('result', lang)],
    widths: [3, 2, 2, 1.4],
    rows: r.deadlines.map((d) => [
      label(d.kind === 'work_content' ? 'dlWorkContent' : 'dlPlan', lang),
      at(d.dueAt),
      d.doneAt === null ? none : at(d.doneAt),
      label(d.state, lang),
    ]),
    empty: none,
  });
  blocks.push({
    kind: 'table',
    columns: [label('time', lang), label('event', lang), label('by', lang), label('detail', lang)],
    widths: [2, 2, 1.6, 3.4],
    rows: r.milestones.map((m) => [
      at(m.at),
      MILESTONE_LABELS[m.kind][lang],
      person(m.by),
      m.kind === 'service_mode_set' && m.detail
        ? (SERVICE_MODE_LABELS[m.detail as keyof typeof SERVICE_MODE_LABELS]?.[lang] ?? m.detail)
        : (m.detail ?? ''),
    ]),
    empty: none,
  });

  blocks.push({ kind: 'heading', text: label('sectionRemote', lang) });
  if (r.remote.length === 0) blocks.push({ kind: 'paragraph', text: label('noRemote', lang), muted: true });
  for (const s of r.remote) {
    blocks.push({
      kind: 'fields',
      rows: [
        [label('session', lang), `#${s.id}`],
        [label('requested', lang), at(s.requestedAt)],
        [label('answered', lang), at(s.answeredAt)],
        [label('ended', lang), at(s.endedAt)],
        [label('outcome', lang), s.outcome ? (OUTCOME_LABELS[s.outcome]?.[lang] ?? s.outcome) : none],
        [label('ourTechnicians', lang), people(s.staff)],
        [label('userTechnicians', lang), people(s.crew)],
      ],
    });
    if (s.commands.length)
      blocks.push({
        kind: 'table',
        columns: [label('time', lang), label('by', lang), label('commands', lang)],
        widths: [2, 1.6, 5.4],
        rows: s.commands.map((c) => [atS(c.at), person(c.by), c.text]),
        empty: none,
      });
  }

  blocks.push({ kind: 'heading', text: label('sectionTelemetry', lang) });
  const cs = charts(r, lang);
  blocks.push({
    kind: 'charts',
    charts: cs,
    empty: label('noTelemetry', lang),
    timeZone,
    ...(r.telemetry
      ? {
          note: `${label('window', lang)}: ${at(r.telemetry.from)} – ${at(r.telemetry.to)} (${timeZone} ${label('timeZone', lang)})`,
        }
      : {}),
  });

  blocks.push({ kind: 'heading', text: label('sectionSteps', lang) });
  if (r.resolution)
    blocks.push({
      kind: 'fields',
      rows: [
        [label('cause', lang), r.resolution.cause ?? none],
        [label('workDone', lang), r.resolution.workDone ?? none],
      ],
    });
  blocks.push({
    kind: 'table',
    columns: [label('time', lang), label('by', lang), label('step', lang), label('recordedIn', lang)],
    widths: [2, 1.6, 4.4, 1],
    rows: r.steps.map((s) => [
      at(s.at),
      person(s.by),
      s.text,
      s.from === 'ticket' ? label('ticketRecord', lang) : `${label('session', lang)} #${s.from.session}`,
    ]),
    empty: label('noSteps', lang),
  });

  blocks.push({ kind: 'heading', text: label('sectionModeSteps', lang) });
  if (r.modeSteps.length === 0) blocks.push({ kind: 'paragraph', text: label('noModeSteps', lang), muted: true });
  for (const g of r.modeSteps) {
    blocks.push({ kind: 'paragraph', text: SERVICE_MODE_LABELS[g.mode][lang] });
    blocks.push({
      kind: 'table',
      columns: [label('time', lang), label('step', lang), label('by', lang), label('detail', lang)],
      widths: [2, 2.4, 1.6, 3],
      rows: g.steps.map((st) => [
        at(st.at),
        STEP_LABELS[st.step]?.[lang] ?? st.step,
        person(st.by),
        [
          detailsText(st.details, lang, at),
          st.note,
          st.confirmedBy
            ? `${label('confirmedByUser', lang)}: ${person(st.confirmedBy)} ${st.confirmedAt === null ? '' : at(st.confirmedAt)}`
            : null,
        ]
          .filter(Boolean)
          .join(' · '),
      ]),
      empty: none,
    });
  }

  blocks.push({ kind: 'heading', text: label('sectionParts', lang) });
  blocks.push({
    kind: 'table',
    columns: [label('part', lang), label('partNo', lang), label('quantity', lang), label('note', lang)],
    widths: [3, 2, 1, 3],
    rows: r.parts.map((p) => [
      p.names ? p.names[lang] : p.name,
      p.partNo ?? '',
      p.quantity === null ? '' : `${p.quantity}${p.unit ? ` ${p.unit}` : ''}`,
      [p.store ? `${label('fromStore', lang)} ${p.store}` : '', p.note ?? ''].filter(Boolean).join(' · '),
    ]),
    empty: label('noParts', lang),
  });

  blocks.push({ kind: 'heading', text: label('sectionPeople', lang) });
  blocks.push({
    kind: 'fields',
    rows: [
      [label('staffPeople', lang), people(r.people.staff)],
      [label('customerPeople', lang), people(r.people.customer)],
    ],
  });
  const party = (side: LabelKey, role: LabelKey, s: ServiceReport['signOff']['staff']) => ({
    side: label(side, lang),
    role: label(role, lang),
    name: s.name === null ? '' : person(s.name),
    at: s.at === null ? '' : at(s.at),
    signed: s.signed,
    status: label(s.signed ? 'signed' : 'notSigned', lang),
    ...(s.note ? { note: s.note } : {}),
  });
  blocks.push({
    kind: 'signatures',
    parties: [party('ourSide', 'verifiedBy', r.signOff.staff), party('userSide', 'confirmedBy', r.signOff.customer)],
    captions: { name: label('name', lang), at: label('date', lang), signature: label('signature', lang) },
  });

  return {
    lang,
    issuer: label('issuer', lang),
    title: label('title', lang),
    reference: `${label('reference', lang)} ${t.number}`,
    blocks,
    footer: `${label('generated', lang)} ${at(r.generatedAt)} (${timeZone}) · ${t.number}`,
  };
}

/** 《售后服务报告》: the after-sales service report of one emergency ticket. */
export const SERVICE_REPORT: ReportKind<ServiceReportSources, ServiceReport> = {
  id: 'service',
  title: { zh: '售后服务报告', en: 'After-sales service report' },
  build: buildServiceReport,
  layout: layoutServiceReport,
};
