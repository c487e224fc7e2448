import { localDateTime } from '../core/local-time.ts';
import type { PlanShipment, PlanTransportMode } from '../diagnostics/support-plans/plans.ts';
import { LEVEL_LABELS } from '../diagnostics/tickets/status.ts';
import { TEAM_ROLE_LABELS, type TeamRole } from '../diagnostics/tickets/team.ts';
import type { Contact, Ticket } from '../diagnostics/types.ts';
import type { ReportBlock, ReportDocument, ReportLanguage } from './document.ts';
import { label } from './labels.ts';

/**
 * The issued forms of the support plan (应急保障工作计划 may take the form of 专项保障工作计划,
 * 售后服务工作联系函 or 售后服务发运通知, plan §6 d): pure layouts into a ReportDocument, drawn by
 * the same HTML and PDF renderers as the service report. They are sent to the customer unit, so
 * they are built from what the unit may see of the plan (no internal note, people by public names).
 */
export const SUPPORT_PLAN_FORMS = ['plan', 'contact-letter', 'shipment-notice'] as const;
export type SupportPlanForm = (typeof SUPPORT_PLAN_FORMS)[number];

export const FORM_TITLES: Record<SupportPlanForm, Record<ReportLanguage, string>> = {
  plan: { zh: '专项保障工作计划', en: 'Special support work plan' },
  'contact-letter': { zh: '售后服务工作联系函', en: 'After-sales service work contact letter' },
  'shipment-notice': { zh: '售后服务发运通知', en: 'After-sales service shipment notice' },
};

/** A plan version as the unit sees it (web/routes/support-plans.ts customerPlan). */
export interface PublicPlan {
  version: number;
  issuedAt: number | null;
  issuedBy: string | null;
  workContent: string;
  people: { name: string; role: TeamRole; duty: string | null }[];
  materials: {
    kind: 'part' | 'tool' | 'free';
    name: { en: string; zh: string };
    ref: string | null;
    qty: number | null;
    unit: string | null;
  }[];
  milestones: { at: number; label: string }[];
  transport: { mode: PlanTransportMode; vehicle: string | null } | null;
  eta: number | null;
  etaNote: string | null;
}

export interface SupportPlanFormSources {
  ticket: Pick<Ticket, 'number' | 'title' | 'need' | 'level' | 'place' | 'contacts'>;
  unit: { id: string; name: string | null } | null;
  vehicle: { id: string; name: string | null; model: string | null } | null;
  plan: PublicPlan;
  /** The reserved parts of the ticket and their state (reserved at the store, sent, used). */
  parts: { partNo: string; name: { en: string; zh: string }; qty: number; reserved: number; sent: number }[];
  shipments: PlanShipment[];
  generatedAt: number;
}

export const TRANSPORT_LABELS: Record<PlanTransportMode, { en: string; zh: string }> = {
  service_vehicle: { en: 'Service vehicle', zh: '服务车' },
  car: { en: 'Car', zh: '汽车' },
  train: { en: 'Train', zh: '火车' },
  air: { en: 'Air', zh: '飞机' },
  courier: { en: 'Courier', zh: '快递' },
  other: { en: 'Other', zh: '其他' },
};

const L = {
  unit: { en: 'Customer unit', zh: '用户单位' },
  vehicle: { en: 'Vehicle', zh: '车辆' },
  ticket: { en: 'Task', zh: '任务' },
  level: { en: 'Task level', zh: '任务等级' },
  place: { en: 'Place', zh: '地点' },
  version: { en: 'Version', zh: '版本' },
  issued: { en: 'Issued', zh: '下达时间' },
  issuedBy: { en: 'Issued by', zh: '下达人' },
  workContent: { en: 'Work content', zh: '保障工作内容' },
  people: { en: 'People', zh: '人员要求' },
  materials: { en: 'Materials (spare parts and tools)', zh: '物资要求（备件及工具）' },
  schedule: { en: 'Schedule', zh: '工作进度要求' },
  transport: { en: 'Transport', zh: '交通方式' },
  eta: { en: 'Expected arrival (ETA)', zh: '预计到达时间' },
  role: { en: 'Role', zh: '职责' },
  name: { en: 'Name', zh: '姓名' },
  duty: { en: 'Duty', zh: '分工' },
  kind: { en: 'Kind', zh: '类别' },
  item: { en: 'Item', zh: '名称' },
  ref: { en: 'Part / tool no.', zh: '编号' },
  qty: { en: 'Qty', zh: '数量' },
  time: { en: 'Time', zh: '时间' },
  milestone: { en: 'Milestone', zh: '节点' },
  none: { en: 'None', zh: '无' },
  notSet: { en: 'Not set', zh: '未定' },
  to: { en: 'To', zh: '致' },
  subject: { en: 'Subject', zh: '事由' },
  need: { en: 'Support need', zh: '保障需求' },
  yourContacts: { en: 'Your contacts', zh: '贵方联系人' },
  ourContacts: { en: 'Our contacts', zh: '我方联系人' },
  phone: { en: 'Phone', zh: '电话' },
  letterIntro: {
    en: 'In answer to your support request, we will carry out the following work. Please arrange access to the site and the equipment, and a contact person on site.',
    zh: '根据贵单位提出的保障需求，我方将开展以下工作。请贵单位协助安排现场及装备的进入，并指定现场联系人。',
  },
  part: { en: 'Spare part', zh: '备件' },
  tool: { en: 'Tool', zh: '工具' },
  free: { en: 'Other', zh: '其他' },
  partsReserved: { en: 'Parts for this task', zh: '本任务备件' },
  reserved: { en: 'Reserved', zh: '已预留' },
  sent: { en: 'Sent', zh: '已发运' },
  shipments: { en: 'Shipments', zh: '发运记录' },
  noticeNo: { en: 'Notice no.', zh: '通知单号' },
  carrier: { en: 'Carrier', zh: '承运方' },
  trackingNo: { en: 'Tracking no.', zh: '运单号' },
  consignee: { en: 'Consignee', zh: '收货人' },
  address: { en: 'Address', zh: '收货地址' },
  shippedAt: { en: 'Shipped', zh: '发运时间' },
  lines: { en: 'Parts', zh: '备件明细' },
  notShipped: {
    en: 'Not shipped yet: the parts are reserved at the store; the tracking number follows with the shipment.',
    zh: '尚未发运：备件已在库预留，发运后告知运单号。',
  },
  noParts: { en: 'No spare parts in this plan.', zh: '本计划无备件。' },
} satisfies Record<string, { en: string; zh: string }>;

const s = (k: keyof typeof L, lang: ReportLanguage) => L[k][lang];
const loc = (x: { en: string; zh: string }, lang: ReportLanguage) => x[lang];

/** One form of the plan in one language. */
export function layoutSupportPlanForm(
  form: SupportPlanForm,
  src: SupportPlanFormSources,
  lang: ReportLanguage,
  timeZone: string,
): ReportDocument {
  const at = (ms: number | null) => (ms === null ? s('notSet', lang) : localDateTime(ms, timeZone));
  const p = src.plan;
  const t = src.ticket;
  const unit = src.unit ? (src.unit.name ?? src.unit.id) : '—';
  const vehicle = src.vehicle
    ? [src.vehicle.name ?? src.vehicle.id, src.vehicle.model].filter(Boolean).join(' · ')
    : '—';
  const transport = p.transport
    ? `${loc(TRANSPORT_LABELS[p.transport.mode], lang)}${p.transport.vehicle ? ` · ${p.transport.vehicle}` : ''}`
    : s('notSet', lang);
  const eta = `${at(p.eta)}${p.etaNote ? ` · ${p.etaNote}` : ''}`;
  const peopleTable: ReportBlock = {
    kind: 'table',
    columns: [s('role', lang), s('name', lang), s('duty', lang)],
    widths: [1, 1.4, 2],
    rows: p.people.map((m) => [loc(TEAM_ROLE_LABELS[m.role], lang), m.name, m.duty ?? '']),
    empty: s('none', lang),
  };
  const schedule: ReportBlock = {
    kind: 'table',
    columns: [s('time', lang), s('milestone', lang)],
    widths: [1, 3],
    rows: p.milestones.map((m) => [at(m.at), m.label]),
    empty: s('none', lang),
  };
  const contacts = (list: Contact[]) => list.map((c) => [c.name, c.phone ?? '', c.role ?? '']);
  const blocks: ReportBlock[] = [];
  if (form === 'plan') {
    blocks.push(
      {
        kind: 'fields',
        rows: [
          [s('unit', lang), unit],
          [s('vehicle', lang), vehicle],
          [s('ticket', lang), `${t.number} · ${t.title}`],
          [s('level', lang), loc(LEVEL_LABELS[t.level], lang)],
          [s('place', lang), t.place ?? '—'],
          [s('version', lang), `v${p.version}`],
          [s('issued', lang), at(p.issuedAt)],
          [s('issuedBy', lang), p.issuedBy ?? '—'],
        ],
      },
      { kind: 'heading', text: s('workContent', lang) },
      { kind: 'paragraph', text: p.workContent },
      { kind: 'heading', text: s('people', lang) },
      peopleTable,
      { kind: 'heading', text: s('materials', lang) },
      {
        kind: 'table',
        columns: [s('kind', lang), s('item', lang), s('ref', lang), s('qty', lang)],
        widths: [0.8, 2.2, 1.2, 0.6],
        rows: p.materials.map((m) => [
          s(m.kind, lang),
          loc(m.name, lang),
          m.ref ?? '',
          m.qty === null ? '' : `${m.qty}${m.unit ? ` ${m.unit}` : ''}`,
        ]),
        empty: s('none', lang),
      },
      { kind: 'heading', text: s('schedule', lang) },
      schedule,
      {
        kind: 'fields',
        rows: [
          [s('transport', lang), transport],
          [s('eta', lang), eta],
        ],
      },
    );
  } else if (form === 'contact-letter') {
    blocks.push(
      {
        kind: 'fields',
        rows: [
          [s('to', lang), unit],
          [s('subject', lang), `${t.number} · ${t.title}`],
          [s('vehicle', lang), vehicle],
          [s('place', lang), t.place ?? '—'],
        ],
      },
      { kind: 'paragraph', text: s('letterIntro', lang) },
      { kind: 'heading', text: s('workContent', lang) },
      { kind: 'paragraph', text: p.workContent },
      { kind: 'heading', text: s('ourContacts', lang) },
      peopleTable,
      { kind: 'heading', text: s('schedule', lang) },
      schedule,
      {
        kind: 'fields',
        rows: [
          [s('transport', lang), transport],
          [s('eta', lang), eta],
        ],
      },
      { kind: 'heading', text: s('yourContacts', lang) },
      {
        kind: 'table',
        columns: [s('name', lang), s('phone', lang), s('role', lang)],
        rows: contacts(t.contacts),
        empty: s('none', lang),
      },
    );
  } else {
    blocks.push(
      {
        kind: 'fields',
        rows: [
          [s('to', lang), unit],
          [s('ticket', lang), `${t.number} · ${t.title}`],
          [s('vehicle', lang), vehicle],
          [s('eta', lang), eta],
        ],
      },
      { kind: 'heading', text: s('partsReserved', lang) },
      {
        kind: 'table',
        columns: [s('item', lang), s('ref', lang), s('qty', lang), s('reserved', lang), s('sent', lang)],
        widths: [2.2, 1.2, 0.6, 0.7, 0.7],
        rows: src.parts.map((x) => [loc(x.name, lang), x.partNo, String(x.qty), String(x.reserved), String(x.sent)]),
        empty: s('noParts', lang),
      },
      { kind: 'heading', text: s('shipments', lang) },
    );
    if (src.shipments.length === 0) blocks.push({ kind: 'paragraph', text: s('notShipped', lang), muted: true });
    for (const sh of src.shipments)
      blocks.push(
        {
          kind: 'fields',
          rows: [
            [s('noticeNo', lang), sh.noticeNo],
            [s('carrier', lang), sh.carrier],
            [s('trackingNo', lang), sh.trackingNo],
            [s('consignee', lang), sh.consignee],
            [s('address', lang), sh.address],
            [s('shippedAt', lang), at(sh.shippedAt)],
          ],
        },
        {
          kind: 'table',
          columns: [s('item', lang), s('ref', lang), s('qty', lang)],
          widths: [2.5, 1.2, 0.6],
          rows: sh.lines.map((l) => [loc(l.name, lang), l.partNo, String(l.qty)]),
          empty: s('none', lang),
        },
      );
  }
  return {
    lang,
    issuer: label('issuer', lang),
    title: FORM_TITLES[form][lang],
    reference: `${t.number} · v${p.version}`,
    blocks,
    footer: `${label('generated', lang)} ${localDateTime(src.generatedAt, timeZone)} (${timeZone}) · ${t.number} · v${p.version}`,
  };
}
