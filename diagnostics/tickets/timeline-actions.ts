import type { TicketAction } from './status.ts';

/**
 * Every action a ticket's timeline records, besides a service-mode step's (`step_<step>`, named by
 * the step) and a page's (`paged_<reason>`). The console names each in both languages
 * (web/console/src/timeline.ts; test/console/i18n.test.ts fails on one without its words), so a
 * new action is added here first.
 */
export const TIMELINE_ACTIONS = [
  'received',
  // the status changes (TRANSITIONS); an entry of one usually shows its new status instead
  'determine_work_content',
  'issue_plan',
  'start_service',
  'mark_repaired',
  'verify',
  'close',
  'cancel',
  'reopen',
  'plan_reissued',
  'alarms_override',
  'assigned',
  'comment',
  'deadline_breached',
  'escalated',
  'eta_set',
  'level_raised',
  'level_confirmed',
  'level_reclassified',
  'site_confirmed',
  'team_set',
  'service_mode_set',
  'merged',
  'merged_in',
  'step_confirmed',
  'page_escalated',
  'page_acknowledged',
  'page_acknowledged_by_link',
  'partner_dispatched',
  'partner_outcome',
  'quality_attributed',
  // written by migration 0023 to the tickets it moved to service orders
  'moved_to_service_order',
] as const satisfies readonly (string | TicketAction)[];

export type TimelineAction = (typeof TIMELINE_ACTIONS)[number] | `step_${string}` | `paged_${string}`;
