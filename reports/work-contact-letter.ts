import { localDateTime } from '../core/local-time.ts';
import type { ModeStep, StepDetails } from '../diagnostics/tickets/mode-steps.ts';
import type { Contact, Ticket } from '../diagnostics/types.ts';
import type { ReportBlock, ReportDocument, ReportLanguage } from './document.ts';
import { label } from './labels.ts';
import type { ReportPartLine, ReportPerson, ReportResolution } from './service-report.ts';

/**
 * The work-contact letter (《工作联系函》) of a return-to-factory repair (返厂修理, service plan,
 * service modes 2): the equipment goes back to the user with it. A pure layout into a
 * ReportDocument from the ticket's return-to-factory steps (diagnostics/tickets/mode-steps.ts), its
 * resolution and the parts used — read as the customer unit sees them (no internal note, people by
 * public names), since the letter is sent to that unit.
 */

/** The letter exists once the repair at the factory is recorded. */
export const LETTER_AFTER_STEP = 'repaired_at_factory';

/** Whether the ticket's steps record a return-to-factory repair (the letter can be made). */
export const letterAvailable = (steps: Pick<ModeStep, 'mode' | 'step'>[]): boolean =>
  steps.some((s) => s.mode === 'return_to_factory' && s.step === LETTER_AFTER_STEP);

export interface WorkContactLetterSources {
  ticket: Pick<Ticket, 'number' | 'title' | 'contacts'>;
  unit: { id: string; name: string | null } | null;
  vehicle: { id: string; name: string | null; model: string | null } | null;
  /** The ticket's steps as the unit sees them (stepForCustomer); the return-to-factory ones are used. */
  steps: ModeStep[];
  /** The steps' actors and confirmers, by public name and side. */
  people: Record<string, ReportPerson>;
  resolution: ReportResolution | null;
  /** The parts used, as the service report lists them (a customer's copy: no store). */
  parts: ReportPartLine[];
  /** Our contacts: the ticket's assignee and the staff who recorded the steps, by public name. */
  ourContacts: string[];
  generatedAt: number;
}

export const LETTER_TITLE: Record<ReportLanguage, string> = { zh: '工作联系函', en: 'Work contact letter' };

const L = {
  to: { en: 'To', zh: '致' },
  subject: { en: 'Subject', zh: '事由' },
  subjectText: { en: 'Return-to-factory repair', zh: '返厂修理' },
  intro: {
    en: 'The equipment you handed over to us for repair at the factory has been repaired and is returned to you with this letter. The records of the repair follow; please check the equipment on receipt and confirm the receipt.',
    zh: '贵单位交我方返厂修理的装备（部件）已修复，随本函返还。修理情况如下，请贵单位收货时清点检验并确认收货。',
  },
  ticket: { en: 'Task no.', zh: '任务编号' },
  vehicle: { en: 'Vehicle / equipment', zh: '车辆/装备' },
  model: { en: 'Model', zh: '型号' },
  serial: { en: 'Serial no.', zh: '编号' },
  item: { en: 'Equipment (part) handed over', zh: '交接装备（部件）' },
  s1: { en: '1. Handover (交接)', zh: '一、装备（部件）交接' },
  s2: { en: '2. Sent to the factory (送修/托运)', zh: '二、送修/托运' },
  s3: { en: '3. Received at the factory, counted and inspected (清点检验)', zh: '三、提取货物、清点检验' },
  s4: { en: '4. Repair (修理情况)', zh: '四、修理情况' },
  s5: { en: '5. Technical state after repair (修复后技术状态鉴定)', zh: '五、修复后技术状态鉴定' },
  s6: { en: '6. Returned to you (返还发运)', zh: '六、返还发运' },
  s7: { en: '7. Contacts (联系人)', zh: '七、联系人' },
  s8: { en: '8. Receipt confirmation (收货确认)', zh: '八、收货确认' },
  time: { en: 'Time', zh: '时间' },
  by: { en: 'Recorded by', zh: '记录人' },
  state: { en: 'Technical state as assessed', zh: '技术状态' },
  confirmation: { en: 'Your confirmation (双方确认)', zh: '用户确认' },
  notConfirmed: { en: 'Not confirmed yet', zh: '尚未确认' },
  method: { en: 'Method', zh: '方式' },
  carrier: { en: 'Carrier', zh: '承运方' },
  tracking: { en: 'Tracking no.', zh: '运单号' },
  count: { en: 'Pieces counted', zh: '清点数量' },
  inspection: { en: 'Inspection', zh: '检验情况' },
  repairResult: { en: 'Repair', zh: '修理结果' },
  cause: { en: 'Cause of the fault', zh: '故障原因' },
  workDone: { en: 'Work done', zh: '处理措施' },
  parts: { en: 'Parts used', zh: '更换备件' },
  part: { en: 'Part', zh: '备件' },
  partNo: { en: 'Part no.', zh: '备件编号' },
  qty: { en: 'Qty', zh: '数量' },
  note: { en: 'Note', zh: '备注' },
  noParts: { en: 'No parts replaced.', zh: '未更换备件。' },
  assessment: { en: 'Assessment', zh: '鉴定结论' },
  notRecorded: { en: 'Not recorded yet', zh: '尚未记录' },
  ourContacts: { en: 'Our contacts', zh: '我方联系人' },
  yourContacts: { en: 'Your contacts', zh: '贵方联系人' },
  name: { en: 'Name', zh: '姓名' },
  phone: { en: 'Phone', zh: '电话' },
  role: { en: 'Role', zh: '职务' },
  none: { en: 'None', zh: '无' },
  ourSide: { en: 'Our side', zh: '我方' },
  userSide: { en: 'User side', zh: '用户方' },
  shippedBy: { en: 'Returned by', zh: '发运人' },
  receivedBy: { en: 'Received by', zh: '收货人' },
  signed: { en: 'Receipt confirmed', zh: '已确认收货' },
  notSigned: { en: 'Receipt not confirmed yet', zh: '尚未确认收货' },
  shipped: { en: 'Shipped', zh: '已发运' },
  notShipped: { en: 'Not shipped yet', zh: '尚未发运' },
  receiptPending: {
    en: 'Please record the receipt in the console (service-mode steps: “Receipt confirmed by the user”) or sign below and return a copy of this letter.',
    zh: '请在控制台记录收货确认（服务方式步骤“用户收货确认”），或在下方签字后将本函复印件返回我方。',
  },
  date: { en: 'Date', zh: '日期' },
  signature: { en: 'Signature', zh: '签字' },
  generated: { en: 'Generated', zh: '生成于' },
  reference: { en: 'No.', zh: '编号' },
} satisfies Record<string, Record<ReportLanguage, string>>;

const METHOD_LABELS: Record<NonNullable<StepDetails['method']>, Record<ReportLanguage, string>> = {
  in_person: { en: 'delivered in person', zh: '用户送修' },
  shipped: { en: 'shipped', zh: '托运/邮寄' },
  collected: { en: 'collected by us', zh: '上门提取' },
};

type Key = keyof typeof L;

/** The letter in one language; times in `timeZone`. */
export function layoutWorkContactLetter(
  src: WorkContactLetterSources,
  lang: ReportLanguage,
  timeZone: string,
): ReportDocument {
  const s = (k: Key) => L[k][lang];
  const none = s('none');
  const at = (ms: number | null | undefined) => (ms == null ? s('notRecorded') : localDateTime(ms, timeZone));
  const person = (id: string | null | undefined) => (id ? (src.people[id]?.name ?? id) : '');
  const steps = new Map(src.steps.filter((x) => x.mode === 'return_to_factory').map((x) => [x.step, x]));
  const step = (name: string) => steps.get(name);
  const t = src.ticket;
  const blocks: ReportBlock[] = [];
  const row = (k: Key, v: string | null | undefined): [string, string] => [s(k), v ?? s('notRecorded')];
  const noted = (x: ModeStep | undefined) => (x?.note ? [[s('note'), x.note] as [string, string]] : []);

  const handed = step('handed_over');
  const unit = src.unit ? (src.unit.name ? `${src.unit.name} (${src.unit.id})` : src.unit.id) : none;
  blocks.push(
    {
      kind: 'fields',
      rows: [
        [s('to'), unit],
        [s('subject'), `${s('subjectText')} · ${t.title}`],
        [s('ticket'), t.number],
        [s('vehicle'), src.vehicle ? (src.vehicle.name ?? src.vehicle.id) : none],
        ...(src.vehicle ? [[s('serial'), src.vehicle.id] as [string, string]] : []),
        ...(src.vehicle?.model ? [[s('model'), src.vehicle.model] as [string, string]] : []),
        row('item', handed?.details.item),
      ],
    },
    { kind: 'paragraph', text: s('intro') },
  );

  blocks.push({ kind: 'heading', text: s('s1') });
  blocks.push({
    kind: 'fields',
    rows: handed
      ? [
          [s('time'), at(handed.at)],
          row('item', handed.details.item),
          row('state', handed.details.result),
          [s('by'), person(handed.actor)],
          [
            s('confirmation'),
            handed.confirmedBy
              ? `${person(handed.confirmedBy)} · ${at(handed.confirmedAt)}${handed.confirmNote ? ` · ${handed.confirmNote}` : ''}`
              : s('notConfirmed'),
          ],
          ...noted(handed),
        ]
      : [[s('time'), s('notRecorded')]],
  });

  const shipping = (x: ModeStep | undefined): [string, string][] =>
    x
      ? [
          [s('time'), at(x.at)],
          [s('method'), x.details.method ? METHOD_LABELS[x.details.method][lang] : s('notRecorded')],
          row('carrier', x.details.carrier),
          row('tracking', x.details.tracking),
          ...noted(x),
        ]
      : [[s('time'), s('notRecorded')]];
  blocks.push({ kind: 'heading', text: s('s2') }, { kind: 'fields', rows: shipping(step('shipped_to_factory')) });

  const received = step('received_at_factory');
  blocks.push(
    { kind: 'heading', text: s('s3') },
    {
      kind: 'fields',
      rows: received
        ? [
            [s('time'), at(received.at)],
            row('count', received.details.count === undefined ? undefined : String(received.details.count)),
            row('inspection', received.details.result),
            ...noted(received),
          ]
        : [[s('time'), s('notRecorded')]],
    },
  );

  const repaired = step('repaired_at_factory');
  blocks.push(
    { kind: 'heading', text: s('s4') },
    {
      kind: 'fields',
      rows: [
        [s('time'), at(repaired?.at)],
        row('repairResult', repaired?.details.result),
        row('cause', src.resolution?.cause),
        row('workDone', src.resolution?.workDone),
        ...noted(repaired),
      ],
    },
    { kind: 'paragraph', text: s('parts') },
    {
      kind: 'table',
      columns: [s('part'), s('partNo'), s('qty'), s('note')],
      widths: [3, 2, 1, 3],
      rows: src.parts.map((p) => [
        p.names ? p.names[lang] : p.name,
        p.partNo ?? '',
        p.quantity === null ? '' : `${p.quantity}${p.unit ? ` ${p.unit}` : ''}`,
        p.note ?? '',
      ]),
      empty: s('noParts'),
    },
  );

  const assessed = step('assessed_after_repair');
  blocks.push(
    { kind: 'heading', text: s('s5') },
    {
      kind: 'fields',
      rows: [[s('time'), at(assessed?.at)], row('assessment', assessed?.details.result), ...noted(assessed)],
    },
  );

  const back = step('shipped_back');
  blocks.push({ kind: 'heading', text: s('s6') }, { kind: 'fields', rows: shipping(back) });

  blocks.push(
    { kind: 'heading', text: s('s7') },
    { kind: 'fields', rows: [[s('ourContacts'), src.ourContacts.join(', ') || none]] },
    { kind: 'paragraph', text: s('yourContacts') },
    {
      kind: 'table',
      columns: [s('name'), s('phone'), s('role')],
      rows: src.ticket.contacts.map((c: Contact) => [c.name, c.phone ?? '', c.role ?? '']),
      empty: none,
    },
  );

  const receipt = step('receipt_confirmed');
  blocks.push({ kind: 'heading', text: s('s8') });
  if (receipt)
    blocks.push({
      kind: 'fields',
      rows: [
        [s('time'), at(receipt.at)],
        ...(receipt.details.count === undefined
          ? []
          : [[s('count'), String(receipt.details.count)] as [string, string]]),
        ...(receipt.details.result ? [[s('inspection'), receipt.details.result] as [string, string]] : []),
        ...noted(receipt),
      ],
    });
  else blocks.push({ kind: 'paragraph', text: s('receiptPending'), muted: true });
  blocks.push({
    kind: 'signatures',
    parties: [
      {
        side: s('ourSide'),
        role: s('shippedBy'),
        name: back ? person(back.actor) : '',
        at: back ? at(back.at) : '',
        signed: !!back,
        status: s(back ? 'shipped' : 'notShipped'),
      },
      {
        side: s('userSide'),
        role: s('receivedBy'),
        name: receipt ? person(receipt.actor) : '',
        at: receipt ? at(receipt.at) : '',
        signed: !!receipt,
        status: s(receipt ? 'signed' : 'notSigned'),
      },
    ],
    captions: { name: s('name'), at: s('date'), signature: s('signature') },
  });

  return {
    lang,
    issuer: label('issuer', lang),
    title: LETTER_TITLE[lang],
    reference: `${s('reference')} ${t.number}`,
    blocks,
    footer: `${s('generated')} ${localDateTime(src.generatedAt, timeZone)} (${timeZone}) · ${t.number}`,
  };
}
