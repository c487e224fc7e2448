import { localDateTime } from '../core/local-time.ts';
import { TEAM_ROLE_LABELS } from '../diagnostics/tickets/team.ts';
import type { ReportBlock, ReportDocument, ReportLanguage } from './document.ts';
import { ORDER_STATUS_LABELS, ol, type OrderLabelKey } from './order-labels.ts';
import type { OrderReport } from './order-report.ts';
import { personIn } from './service-report-layout.ts';

/**
 * What the three service order reports share: the application's common fields, the team, the
 * outcome, the people of both sides and their sign-off (双方确认). Each kind adds its own blocks
 * (patrol-report-layout.ts, training-report-layout.ts, accompanying-report-layout.ts).
 */
export interface OrderLayoutParts {
  /** The kind's application rows after the common ones. */
  application: [string, string][];
  /** The kind's records (section 3). */
  records: ReportBlock[];
  title: OrderLabelKey;
}

export function orderAt(timeZone: string, lang: ReportLanguage) {
  return (ms: number | null) => (ms === null ? ol('none', lang) : localDateTime(ms, timeZone));
}

export function layoutOrderReport(
  r: OrderReport,
  lang: ReportLanguage,
  timeZone: string,
  parts: OrderLayoutParts,
): ReportDocument {
  const at = orderAt(timeZone, lang);
  const person = personIn(lang);
  const none = ol('none', lang);
  const o = r.order;
  const blocks: ReportBlock[] = [];
  blocks.push({ kind: 'heading', text: ol('sectionApplication', lang) });
  blocks.push({
    kind: 'fields',
    rows: [
      [ol('unit', lang), r.unit.name ? `${r.unit.name} (${r.unit.id})` : r.unit.id],
      [ol('subject', lang), o.title],
      [ol('details', lang), o.details],
      [ol('place', lang), o.place],
      [ol('requestedDate', lang), o.requestedDate],
      [ol('people', lang), String(o.people)],
      [
        ol('contacts', lang),
        o.contacts.map((c) => [c.name, c.role, c.phone].filter(Boolean).join(' ')).join('; ') || none,
      ],
      ...parts.application,
      [
        ol('scheduled', lang),
        o.scheduledStart === null
          ? none
          : `${at(o.scheduledStart)}${o.scheduledEnd !== null ? ` – ${at(o.scheduledEnd)}` : ''}`,
      ],
      [ol('started', lang), at(r.startedAt)],
      [ol('completed', lang), at(r.completedAt)],
      [ol('status', lang), ORDER_STATUS_LABELS[o.status]?.[lang] ?? o.status],
    ],
  });
  blocks.push({ kind: 'heading', text: ol('sectionTeam', lang) });
  blocks.push({
    kind: 'table',
    columns: [ol('member', lang), ol('teamRole', lang), ol('duty', lang)],
    widths: [2, 2, 4],
    rows: r.team.map((m) => [person(m.name), TEAM_ROLE_LABELS[m.role]?.[lang] ?? m.role, m.duty ?? '']),
    empty: ol('noTeam', lang),
  });
  blocks.push(...parts.records);
  blocks.push({ kind: 'heading', text: ol('sectionOutcome', lang) });
  blocks.push({
    kind: 'paragraph',
    text: o.status === 'done' ? (o.outcome ?? none) : ol('noOutcome', lang),
    ...(o.status === 'done' ? {} : { muted: true }),
  });
  blocks.push({ kind: 'heading', text: ol('sectionPeople', lang) });
  blocks.push({
    kind: 'fields',
    rows: [
      [ol('staffPeople', lang), r.staffPeople.map(person).join(', ') || none],
      [ol('customerPeople', lang), r.customerPeople.join(', ') || none],
    ],
  });
  const staff = r.signOff.staff;
  const customer = r.signOff.customer;
  blocks.push({
    kind: 'signatures',
    parties: [
      {
        side: ol('ourSide', lang),
        role: ol('completedBy', lang),
        name: staff ? person(staff.name) : '',
        at: staff ? at(staff.at) : '',
        signed: staff !== null,
        status: ol(staff ? 'signed' : 'notSigned', lang),
      },
      {
        side: ol('userSide', lang),
        role: ol('signedOffBy', lang),
        name: customer?.name ?? '',
        at: customer ? at(customer.at) : '',
        signed: customer !== null,
        status: ol(customer ? 'signed' : 'notSigned', lang),
        ...(customer?.note ? { note: customer.note } : {}),
      },
    ],
    captions: { name: ol('name', lang), at: ol('signDate', lang), signature: ol('signature', lang) },
  });
  return {
    lang,
    issuer: ol('issuer', lang),
    title: ol(parts.title, lang),
    reference: `${ol('reference', lang)} ${o.number}`,
    blocks,
    footer: `${ol('generated', lang)} ${at(r.generatedAt)} (${timeZone}) · ${o.number}`,
  };
}
