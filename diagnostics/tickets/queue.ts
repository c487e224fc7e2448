import type { Ticket } from '../types.ts';
import { OPEN_STATUSES, type TicketStatus } from './status.ts';

/**
 * The ticket queue's order: open tickets by their next deadline still to meet, then every other
 * ticket (closed, or open with all its deadlines met) by its first deadline; the id breaks ties.
 * The database keeps the sort key in the row (`is_open`, `queue_due_at`), written with every change
 * of the ticket, so that listing, filtering and paging are one indexed query.
 */

/** `queue_due_at` of a ticket with no deadline left to meet: after every real deadline. */
export const NO_DEADLINE = Number.MAX_SAFE_INTEGER;

export const isOpenStatus = (status: TicketStatus): boolean => OPEN_STATUSES.includes(status);

type DeadlineFields = Pick<Ticket, 'status' | 'workContentDueAt' | 'workContentDoneAt' | 'planDueAt' | 'planDoneAt'> &
  Partial<Pick<Ticket, 'deadlinesApply'>>;

/** The earliest deadline of an open ticket still to meet (none where the 30-minute rule does not apply). */
export function nextDueAt(t: DeadlineFields): number | null {
  if (!isOpenStatus(t.status) || t.deadlinesApply === false) return null;
  const due = [
    t.workContentDoneAt === null ? t.workContentDueAt : null,
    t.planDueAt !== null && t.planDoneAt === null ? t.planDueAt : null,
  ].filter((x): x is number => x !== null);
  return due.length ? Math.min(...due) : null;
}

/** The row's queue columns for a ticket in this state. */
export function queueColumns(t: DeadlineFields): { is_open: 0 | 1; queue_due_at: number } {
  return { is_open: isOpenStatus(t.status) ? 1 : 0, queue_due_at: nextDueAt(t) ?? NO_DEADLINE };
}

/** A position in the queue: the sort key of the last ticket of a page. */
export interface QueuePosition {
  dueAt: number;
  workContentDueAt: number;
  id: number;
}

export const positionOf = (t: Ticket): QueuePosition => ({
  dueAt: nextDueAt(t) ?? NO_DEADLINE,
  workContentDueAt: t.workContentDueAt,
  id: t.id,
});
