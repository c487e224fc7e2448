import type { LiveTicket } from '../../live/events.ts';

/**
 * A missed deadline escalated to this account (issue 15, item 3): the live ticket event names every
 * account escalated to (the roster's duty lead on shift, else the accounts of ESCALATION_ROLE).
 * Returns the ticket to alert about, or null when the event is not an escalation to `accountId`.
 */
export function escalationFor(m: LiveTicket, accountId: string): { id: number; number: string; title: string } | null {
  if (m.kind !== 'deadline_breached') return null;
  return m.escalatedAccounts.includes(accountId)
    ? { id: m.ticket.id, number: m.ticket.number, title: m.ticket.title }
    : null;
}
