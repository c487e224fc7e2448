import type { EmergencyPlan, PlanBook } from '../diagnostics/plans/plans.ts';
import { LEVEL_LABELS, type TicketStatus } from '../diagnostics/tickets/status.ts';
import type { Ticket } from '../diagnostics/types.ts';
import type { RecordsDb } from '../records/db.ts';
import { ROLE_LABELS } from '../web/public-names.ts';
import type { Contacts, NotificationContact } from './contacts.ts';
import type { CustomerKind, MessageKind } from './kinds.ts';
import type { Language } from './outbox.ts';
import type { Message, Recipient, StormControl } from './storm.ts';
import { wants } from './subscriptions.ts';
import type { TemplateBook, Values } from './templates/templates.ts';

/** Status labels in the plan's words (the console's i18n says the same). */
const STATUS_LABELS: Record<TicketStatus, { en: string; zh: string }> = {
  received: { en: 'Received', zh: '已受理' },
  work_content_determined: { en: 'Work content determined', zh: '已确定工作内容' },
  plan_issued: { en: 'Support plan issued', zh: '已下发保障方案' },
  in_service: { en: 'In service', zh: '服务中' },
  repaired: { en: 'Repaired', zh: '已修复' },
  verified: { en: 'Verified by both sides', zh: '双方已确认' },
  closed: { en: 'Closed', zh: '已关闭' },
  cancelled: { en: 'Cancelled', zh: '已撤销' },
  merged: { en: 'Merged into another ticket', zh: '已合并' },
};
/** web/public-names.ts ROLE_LABELS in Chinese: what a customer reads for a staff member without a display name. */
const ROLE_LABELS_ZH: Record<string, string> = {
  admin: '平台团队',
  dispatcher: '值班台',
  engineer: '工程师',
  customer: '客户',
};

export interface MessagesOptions {
  /** The console's address: links are `${publicUrl}/#/tickets/<id>`. */
  publicUrl: string;
  /** Time zone and language of a receiver who set none (a staff account without contact settings). */
  timeZone: string;
  language: Language;
}

type Said = string | { en: string; zh: string } | null;
/** What one message says besides the ticket's own facts; `deadlineAt` is shown as `hearBy`. */
export interface Extra {
  /** What happened, when it is not the ticket's own fault (an alarm joining its incident). */
  what?: Said;
  note?: Said;
  reason?: Said;
  ackLink?: string | null;
  deadlineAt?: number;
}
const said = (v: Said | undefined, language: Language): string | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : v[language];

/**
 * Who receives a message and what it says: the ticket's facts in plain language (vehicle name,
 * what happened from the plan or alarm title, what to do for safety from the emergency plan, level,
 * who handles it by public name, when we call / when help arrives, the link), rendered from the
 * templates per receiver's language and time zone, and written through storm control.
 */
export function createMessages(
  deps: { templates: TemplateBook; plans: PlanBook; contacts: Contacts; storm: StormControl },
  options: MessagesOptions,
) {
  const { templates } = deps;
  const link = (ticketId: number | null) => `${options.publicUrl.replace(/\/+$/, '')}/#/tickets/${ticketId ?? ''}`;

  const time = (at: number, language: Language, timeZone: string) =>
    new Intl.DateTimeFormat(language === 'zh' ? 'zh-CN' : 'en-GB', {
      timeZone,
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).format(new Date(at));

  /** The ticket's facts, read in the event's transaction. */
  async function factsOf(tx: RecordsDb, ticket: Ticket) {
    const vehicle = ticket.vehicleId
      ? await tx.selectFrom('vehicles').select('name').where('id', '=', ticket.vehicleId).executeTakeFirst()
      : undefined;
    const unit = ticket.customerId
      ? await tx.selectFrom('customers').select('name').where('id', '=', ticket.customerId).executeTakeFirst()
      : undefined;
    const assignee = ticket.assignee
      ? await tx
          .selectFrom('accounts')
          .select(['display_name', 'role'])
          .where('id', '=', ticket.assignee)
          .executeTakeFirst()
      : undefined;
    const codes = [ticket.planRef?.code, ticket.faultCode];
    let plan: EmergencyPlan | undefined;
    for (const c of codes) plan ??= c ? deps.plans.get(c) : undefined;
    return {
      ticket,
      vehicleName: vehicle?.name ?? ticket.vehicleId ?? unit?.name ?? '',
      unitName: unit?.name ?? ticket.customerId ?? '',
      plan,
      assignee: ticket.assignee ? { id: ticket.assignee, ...assignee } : undefined,
    };
  }
  type Facts = Awaited<ReturnType<typeof factsOf>>;

  function values(f: Facts, language: Language, r: Recipient, staff: boolean, extra: Extra): Values {
    const t = f.ticket;
    const handler = !f.assignee
      ? templates.phrase('dutyDesk', language)
      : staff
        ? f.assignee.id
        : (f.assignee.display_name ??
          (language === 'zh' ? ROLE_LABELS_ZH[f.assignee.role ?? ''] : ROLE_LABELS[f.assignee.role ?? 'engineer']) ??
          (language === 'zh' ? '工作人员' : 'Staff'));
    return {
      vehicle: f.vehicleName,
      unit: f.unitName,
      ticketNumber: t.number,
      level: LEVEL_LABELS[t.level][language],
      what: said(extra.what, language) ?? f.plan?.title[language] ?? t.title,
      safety: f.plan?.safety?.[language] ?? templates.phrase('safetyDefault', language),
      status: STATUS_LABELS[t.status][language],
      handler,
      eta: t.eta !== null ? time(t.eta, language, r.timeZone) : templates.phrase('etaNotGiven', language),
      etaNote: t.eta !== null ? t.etaNote : null,
      hearBy:
        extra.deadlineAt !== undefined
          ? time(extra.deadlineAt, language, r.timeZone)
          : t.workContentDoneAt === null && t.status === 'received'
            ? time(t.workContentDueAt, language, r.timeZone)
            : null,
      link: link(t.id),
      note: said(extra.note, language),
      reason: said(extra.reason, language),
      ackLink: extra.ackLink ?? null,
    };
  }

  function message(
    f: Facts,
    kind: MessageKind,
    eventKey: string,
    staff: boolean,
    extra: Extra,
    opts: { urgent?: boolean; mergeable?: boolean } = {},
  ): Message {
    const t = f.ticket;
    return {
      kind,
      eventKey,
      thread: t.incidentId !== null ? `incident:${t.incidentId}` : `ticket:${t.id}`,
      urgent: opts.urgent ?? t.level === 'extra_urgent',
      mergeable: opts.mergeable ?? false,
      vehicleId: t.vehicleId,
      ticketId: t.id,
      incidentId: t.incidentId,
      customerId: t.customerId,
      render: (language, r) => templates.render(kind, language, values(f, language, r, staff, extra)),
      digest: (language, count, updates, r) =>
        templates.render('digest', language, {
          ...values(f, language, r, staff, extra),
          count,
          updates: updates.map((u) => `- ${u}`).join('\n'),
        }),
      payload: {
        kind,
        ticket: { id: t.id, number: t.number, level: t.level, status: t.status, eta: t.eta },
        vehicleId: t.vehicleId,
        customerId: t.customerId,
        ...(extra.reason ? { reason: said(extra.reason, 'en') } : {}),
      },
    };
  }

  const customerRecipient = (c: NotificationContact): Recipient => ({
    key: `contact:${c.id}`,
    language: c.language,
    channels: c.channels,
    quietHours: c.quietHours,
    timeZone: c.timeZone,
    customerId: c.customerId,
    accountId: null,
  });

  async function staffRecipient(tx: RecordsDb, accountId: string): Promise<Recipient> {
    const c = await deps.contacts.ofAccount(accountId, tx);
    return {
      key: `account:${accountId}`,
      language: c?.language ?? options.language,
      channels: [...(c?.channels ?? []), { channel: 'inbox', target: accountId }],
      quietHours: c?.quietHours ?? null,
      timeZone: c?.timeZone ?? options.timeZone,
      customerId: null,
      accountId,
    };
  }

  return {
    link,
    /** Tells the ticket's unit's contacts who want it (subscriptions.ts). */
    async toCustomers(
      tx: RecordsDb,
      ticket: Ticket,
      kind: CustomerKind,
      eventKey: string,
      at: number,
      extra: Extra = {},
      opts: { mergeable?: boolean } = {},
    ): Promise<number> {
      if (!ticket.customerId) return 0;
      const contacts = (await deps.contacts.ofCustomer(ticket.customerId, tx)).filter(
        (c) => c.channels.length > 0 && wants(c, { kind, vehicleId: ticket.vehicleId, level: ticket.level }),
      );
      if (contacts.length === 0) return 0;
      const m = message(await factsOf(tx, ticket), kind, eventKey, false, extra, opts);
      for (const c of contacts) await deps.storm.send(tx, m, customerRecipient(c), at);
      return contacts.length;
    },
    /**
     * Puts a message in the console inbox of every enabled customer account of the ticket's unit
     * (the survey invitation, service/surveys.ts); what they read is the customer's wording.
     */
    async toUnitInboxes(
      tx: RecordsDb,
      ticket: Ticket,
      kind: CustomerKind,
      eventKey: string,
      at: number,
    ): Promise<number> {
      if (!ticket.customerId) return 0;
      const accounts = await tx
        .selectFrom('accounts')
        .select('id')
        .where('customer_id', '=', ticket.customerId)
        .where('role', '=', 'customer')
        .where('disabled', '=', 0)
        .orderBy('id')
        .execute();
      if (accounts.length === 0) return 0;
      const m = message(await factsOf(tx, ticket), kind, eventKey, false, {}, { urgent: false });
      for (const a of accounts)
        await deps.storm.send(
          tx,
          m,
          {
            key: `account:${a.id}`,
            language: options.language,
            channels: [{ channel: 'inbox', target: a.id }],
            quietHours: null,
            timeZone: options.timeZone,
            customerId: ticket.customerId,
            accountId: a.id,
          },
          at,
        );
      return accounts.length;
    },
    /** Tells a staff account (its channels and the console inbox). */
    async toStaff(
      tx: RecordsDb,
      accountId: string,
      ticket: Ticket,
      kind: MessageKind,
      eventKey: string,
      at: number,
      extra: Extra = {},
      opts: { urgent?: boolean } = {},
    ): Promise<void> {
      const m = message(await factsOf(tx, ticket), kind, eventKey, true, extra, opts);
      await deps.storm.send(tx, m, await staffRecipient(tx, accountId), at);
    },
  };
}

export type Messages = ReturnType<typeof createMessages>;
