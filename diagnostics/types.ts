import type { AlarmSeverity } from './rules/schema.ts';
import type { Resolution } from './tickets/resolution.ts';
import type { Province, ServiceMode, TicketLevel, TicketStatus } from './tickets/status.ts';
import type { NoteVisibility } from './visibility.ts';

export type AlarmState = 'active' | 'acknowledged' | 'cleared';

export interface Alarm {
  id: number;
  vehicleId: string;
  /** The unit the vehicle belonged to when the alarm was raised (null: before that was recorded). */
  customerId: string | null;
  ruleId: string;
  code: string;
  severity: AlarmSeverity;
  title: { en: string; zh: string };
  state: AlarmState;
  raisedAt: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  raiseCount: number;
  /** False for an alarm found only in frames replayed long after the fact. */
  live: boolean;
  incidentId: number | null;
  causedByAlarmId: number | null;
}

export interface AlarmNote {
  at: number;
  actor: string;
  kind: 'raised' | 'reraised' | 'acknowledged' | 'cleared' | 'comment';
  text: string | null;
  /** Who may read `text` (visibility.ts). */
  visibility: NoteVisibility;
}

export interface Contact {
  name: string;
  phone?: string | undefined;
  role?: string | undefined;
}

export interface Ticket {
  id: number;
  number: string;
  source: 'rule' | 'hotline' | 'customer';
  vehicleId: string | null;
  customerId: string | null;
  level: TicketLevel;
  status: TicketStatus;
  title: string;
  need: string;
  contacts: Contact[];
  faultCode: string | null;
  incidentId: number | null;
  serviceMode: ServiceMode | null;
  assignee: string | null;
  escalatedTo: string | null;
  receivedAt: number;
  workContentDueAt: number;
  workContentDoneAt: number | null;
  planDueAt: number | null;
  planDoneAt: number | null;
  breaches: ('work_content' | 'plan')[];
  planRef: { code: string; version: number } | null;
  /** When help is expected to arrive or the work to be done (epoch ms), as staff last said; null: not given. */
  eta: number | null;
  etaNote: string | null;
  updatedAt: number;
  /** The ticket this one was merged into (status `merged`), else null. */
  mergedInto: number | null;
  /** Who marked it repaired (the verifier must be someone else), else null. */
  repairedBy: string | null;
  /** What was found and done, given when marked repaired (tickets/resolution.ts), else null. */
  resolution: Resolution | null;
  /** Every account the last missed deadline escalated to (`escalatedTo` is the first of them). */
  escalatedAccounts: string[];
  /** The level the customer or the rule proposed; the duty desk (市场部) confirms or reclassifies it. */
  proposedLevel: TicketLevel | null;
  /** When and by whom the duty desk confirmed the level; null: not classified yet. */
  levelConfirmedAt: number | null;
  levelConfirmedBy: string | null;
  /** Where help is needed, as the duty desk confirmed it. */
  place: string | null;
  /** 省内 (in) / 省外 (out); null: not recorded yet. */
  province: Province | null;
  /** False when the 30-minute rule is configured for in-province tasks and this one is out of province. */
  deadlinesApply: boolean;
  /** A former 常规 ticket: the service order it became. */
  serviceOrderId: number | null;
}

export interface TimelineEntry {
  at: number;
  actor: string;
  action: string;
  fromStatus: string | null;
  toStatus: string | null;
  note: string | null;
  /** Who may read the entry's note (visibility.ts). */
  visibility: NoteVisibility;
}

export interface DiagnosticsEvents {
  'alarm.raised': { alarm: Alarm };
  'alarm.updated': { alarm: Alarm };
  'alarm.cleared': { alarm: Alarm };
  'ticket.opened': { ticket: Ticket };
  /** `internal`: a change only staff may hear of (an internal comment): the customer unit is not told. */
  'ticket.updated': { ticket: Ticket; action: string; internal?: boolean };
  'ticket.deadline_breached': {
    ticket: Ticket;
    deadline: 'work_content' | 'plan';
    escalatedTo: string;
    /** Every account escalated to (the roster's duty lead, or the accounts of the escalation role). */
    escalatedAccounts: string[];
  };
}
