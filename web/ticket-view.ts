import { OPEN_STATUSES } from '../diagnostics/tickets/status.ts';
import type { Ticket } from '../diagnostics/types.ts';

/** A ticket as the console API and the live channel send it: with its next deadline. */
export type TicketView = Ticket & { nextDueAt: number | null };

/** The earliest deadline of an open ticket still to meet. */
export function nextDueAt(t: Ticket): number | null {
  if (!OPEN_STATUSES.includes(t.status)) return null;
  const due = [
    t.workContentDoneAt === null ? t.workContentDueAt : null,
    t.planDueAt !== null && t.planDoneAt === null ? t.planDueAt : null,
  ].filter((x): x is number => x !== null);
  return due.length ? Math.min(...due) : null;
}

export const ticketView = (t: Ticket): TicketView => ({ ...t, nextDueAt: nextDueAt(t) });
