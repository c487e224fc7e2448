import { TICKET_LEVELS, type TicketLevel } from '../diagnostics/tickets/status.ts';

/**
 * The kinds of message, each with a template in both languages (templates/default-templates.yaml).
 * Customer kinds can be subscribed to; staff kinds go to staff accounts (pages, assignments, digests
 * go to whoever gets the messages they stand for).
 */
export const CUSTOMER_KINDS = [
  'ticket_opened',
  'ticket_level_raised',
  'ticket_status',
  'ticket_assigned',
  'ticket_eta',
  'service_done',
  'survey_due',
  'incident_update',
  'session_requested',
] as const;
export type CustomerKind = (typeof CUSTOMER_KINDS)[number];

export const STAFF_KINDS = ['assigned_to_you', 'page', 'session_ring'] as const;
export const MESSAGE_KINDS = [...CUSTOMER_KINDS, ...STAFF_KINDS, 'digest'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

const RANK: Record<TicketLevel, number> = { urgent: 1, extra_urgent: 2 };
/** Whether `level` is at least `min` (加急 urgent < 特急 extra_urgent). */
export const atLeast = (level: TicketLevel, min: TicketLevel): boolean => RANK[level] >= RANK[min];
export { TICKET_LEVELS };
