import type { AlarmRaisedEvent } from '../diagnostics/diagnostics.ts';
import type { TicketEvent } from '../diagnostics/tickets/service.ts';
import type { Ticket } from '../diagnostics/types.ts';
import type { RecordsDb } from '../records/db.ts';
import type { Messages } from './messages.ts';
import type { Paging } from './paging.ts';

/** A remote session was requested (remote/): what the producer needs to tell the unit. */
export interface SessionRequested {
  sessionId: number;
  ticket: Ticket;
}

/** A remote session rings these accounts. */
export interface SessionRinging {
  sessionId: number;
  ticket: Ticket;
  step: 'primary' | 'secondary' | 'duty_lead';
  accounts: string[];
  description: string;
}

const RING_REASON: Record<SessionRinging['step'], { en: string; zh: string }> = {
  primary: { en: 'Remote support requested: you are on duty', zh: '远程支援请求：您正在值班' },
  secondary: { en: 'Remote support unanswered: you are the secondary on duty', zh: '远程支援无人应答：您是第二值班人' },
  duty_lead: {
    en: 'Remote support: the duty lead is rung (unanswered, or nobody on shift)',
    zh: '远程支援：呼叫值班负责人（无人应答或无人值班）',
  },
};

/**
 * The producing side of notifications: called inside the transaction of each event (the ticket
 * service's `onChange`, diagnostics' `onAlarm`), it writes the deliveries into the outbox so they
 * commit with the event or not at all. It never sends: the dispatcher does.
 *
 * - ticket opened / level raised / status changed / assigned / ETA given or changed → the unit's
 *   contacts who want it (subscriptions); repaired → `service_done`, closed → `survey_due`;
 *   assigned → also the assignee (`assigned_to_you`, its channels and inbox).
 * - a deadline breached → a page to the duty lead (paging.ts); a ticket opened re-arms the at-risk timer.
 * - an alarm joining an incident that already has a ticket → `incident_update` to the unit,
 *   merged per incident (storm.ts: one message plus a digest). An alarm whose incident opens no
 *   ticket (minor) tells nobody: it is on the console only. The alarm that opens the ticket is told
 *   by the ticket's own message.
 */
export function createProducer(deps: {
  messages: Messages;
  paging: Paging;
  /** A ticket read inside the event's transaction. */
  ticketIn: (tx: RecordsDb, id: number) => Promise<Ticket>;
  now?: () => number;
}) {
  const { messages, paging } = deps;
  const now = deps.now ?? Date.now;
  const key = (t: Ticket, what: string) => `ticket:${t.id}:${what}`;

  return {
    /** The ticket service's hook (TicketServiceDeps.onChange). */
    async ticketChanged(tx: RecordsDb, e: TicketEvent): Promise<void> {
      const t = e.ticket;
      const at = now();
      switch (e.type) {
        case 'opened':
          await messages.toCustomers(tx, t, 'ticket_opened', key(t, 'opened'), at);
          paging.poke();
          return;
        case 'level_raised':
          await messages.toCustomers(tx, t, 'ticket_level_raised', key(t, `level:${t.level}`), at);
          return;
        case 'status': {
          const kind =
            e.action === 'mark_repaired' ? 'service_done' : e.action === 'close' ? 'survey_due' : 'ticket_status';
          // the note staff wrote with the step goes to the customer only when it is for the customer (never an internal one)
          const note = e.visibility === 'customer' ? e.note : null;
          await messages.toCustomers(tx, t, kind, key(t, `${e.action}:${t.updatedAt}`), at, { note });
          if (e.action === 'reopen') paging.poke();
          return;
        }
        case 'assigned':
          await messages.toCustomers(tx, t, 'ticket_assigned', key(t, `assigned:${t.updatedAt}`), at);
          if (t.assignee)
            await messages.toStaff(tx, t.assignee, t, 'assigned_to_you', key(t, `assigned:${t.updatedAt}`), at);
          return;
        case 'eta':
          await messages.toCustomers(tx, t, 'ticket_eta', key(t, `eta:${t.updatedAt}`), at);
          return;
        case 'breached':
          for (const d of e.deadlines)
            await paging.page(tx, {
              ticket: t,
              reason: 'breached',
              deadline: d,
              ...(d === 'plan' && t.planDueAt !== null
                ? { deadlineAt: t.planDueAt }
                : { deadlineAt: t.workContentDueAt }),
            });
          return;
      }
    },

    /** Diagnostics' hook (DiagnosticsDeps.onAlarm). */
    async alarmRaised(tx: RecordsDb, e: AlarmRaisedEvent): Promise<void> {
      if (e.ticketId === null || e.ticketOpened) return;
      const t = await deps.ticketIn(tx, e.ticketId);
      await messages.toCustomers(
        tx,
        t,
        'incident_update',
        `alarm:${e.alarm.id}:${e.alarm.raisedAt}`,
        now(),
        e.alarm.title ? { what: e.alarm.title } : {},
        {
          mergeable: true,
        },
      );
    },

    /**
     * A remote session was requested: tells the unit's contacts, inside the caller's transaction.
     * The seam for remote/ (not called yet): the session service calls it where it records the
     * request; ringing the on-duty engineer is `paging.page(tx, { ticket, reason: 'session', key: … })`.
     */
    async sessionRequested(tx: RecordsDb, s: SessionRequested): Promise<void> {
      await messages.toCustomers(tx, s.ticket, 'session_requested', `session:${s.sessionId}:requested`, now());
    },
    /**
     * A remote support request rings these engineers (remote/: primary, then secondary, then the duty
     * lead): each is told at once over its own channels and console inbox, urgent (never held by quiet
     * hours). Answering the session is the acknowledgement; the session's ring ladder escalates.
     */
    async sessionRinging(tx: RecordsDb, s: SessionRinging): Promise<void> {
      const reason = RING_REASON[s.step];
      for (const account of s.accounts)
        await messages.toStaff(
          tx,
          account,
          s.ticket,
          'session_ring',
          `session:${s.sessionId}:ring:${s.step}:${account}`,
          now(),
          { reason, note: s.description || null },
          { urgent: true },
        );
    },
  };
}

export type Producer = ReturnType<typeof createProducer>;
