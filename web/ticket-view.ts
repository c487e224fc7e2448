import { nextDueAt } from '../diagnostics/tickets/queue.ts';
import type { Ticket } from '../diagnostics/types.ts';

/** A ticket as the console API and the live channel send it: with its next deadline. */
export type TicketView = Ticket & { nextDueAt: number | null };

export const ticketView = (t: Ticket): TicketView => ({ ...t, nextDueAt: nextDueAt(t) });
