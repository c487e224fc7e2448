import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PlatformError } from '../../core/errors.ts';
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

type DeadlineFields = Pick<Ticket, 'status' | 'workContentDueAt' | 'workContentDoneAt' | 'planDueAt' | 'planDoneAt'>;

/** The earliest deadline of an open ticket still to meet. */
export function nextDueAt(t: DeadlineFields): number | null {
  if (!isOpenStatus(t.status)) return null;
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

const CURSOR_VERSION = 'q1';

/**
 * Opaque cursors: the position, and a MAC over it and the list's filters under a key of this
 * process. A cursor edited, built by hand, or used with other filters than the list that gave it
 * is INVALID_CURSOR (so is one from before a restart: the client starts again from the first page).
 */
export function createCursors(key: Buffer = randomBytes(32)) {
  const mac = (payload: string, filters: string) =>
    createHmac('sha256', key).update(payload).update('\u0000').update(filters).digest('base64url').slice(0, 22);
  return {
    /** The cursor of the page after position `p` of the list with these `filters` (any stable string). */
    encode(p: QueuePosition, filters: string): string {
      const payload = Buffer.from(JSON.stringify([CURSOR_VERSION, p.dueAt, p.workContentDueAt, p.id])).toString(
        'base64url',
      );
      return `${payload}.${mac(payload, filters)}`;
    },
    /** The position in a cursor from `encode` with the same filters; anything else is INVALID_CURSOR. */
    decode(cursor: string, filters: string): QueuePosition {
      const bad = () =>
        new PlatformError(
          'INVALID_CURSOR',
          'cursor: not a cursor of this list with these filters; start again without one',
        );
      const [payload, sig, ...rest] = cursor.split('.');
      if (cursor.length > 200 || rest.length || !payload || !sig) throw bad();
      const expected = Buffer.from(mac(payload, filters));
      const given = Buffer.from(sig);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      if (
        !Array.isArray(v) ||
        v.length !== 4 ||
        v[0] !== CURSOR_VERSION ||
        !v.slice(1).every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
      )
        throw bad();
      const [, dueAt, workContentDueAt, id] = v as [string, number, number, number];
      return { dueAt, workContentDueAt, id };
    },
  };
}

export type Cursors = ReturnType<typeof createCursors>;
