/**
 * The emergency ticket's status machine, after the service plan's response flow:
 * received → work content determined → plan issued → in service → repaired → verified by both
 * sides → closed; cancelled from any open status; a closed or cancelled ticket can be reopened.
 */
export const TICKET_STATUSES = [
  'received',
  'work_content_determined',
  'plan_issued',
  'in_service',
  'repaired',
  'verified',
  'closed',
  'cancelled',
  // merged into another ticket of the same vehicle (terminal; `mergedInto` names it)
  'merged',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/**
 * The plan's two task levels (任务等级), and no other: training, patrol inspection and accompanying
 * support are planned services (service orders, diagnostics/service-orders/), not emergencies.
 */
export const TICKET_LEVELS = ['extra_urgent', 'urgent'] as const;
export type TicketLevel = (typeof TICKET_LEVELS)[number];

export const SERVICE_MODES = [
  'remote_support',
  'on_site_repair',
  'return_to_factory',
  'patrol_inspection',
  'training',
  'accompanying_support',
  'emergency_replacement',
] as const;
export type ServiceMode = (typeof SERVICE_MODES)[number];

/** Labels in the service plan's own words. */
export const LEVEL_LABELS: Record<TicketLevel, { en: string; zh: string }> = {
  extra_urgent: { en: 'Extra urgent', zh: '特急' },
  urgent: { en: 'Urgent', zh: '加急' },
};
export const SERVICE_MODE_LABELS: Record<ServiceMode, { en: string; zh: string }> = {
  remote_support: { en: 'Remote technical support', zh: '远程技术支援' },
  on_site_repair: { en: 'On-site repair', zh: '现场修理' },
  return_to_factory: { en: 'Return-to-factory repair', zh: '返厂修理' },
  patrol_inspection: { en: 'Patrol inspection and repair', zh: '巡检巡修' },
  training: { en: 'Technical training', zh: '技术培训' },
  accompanying_support: { en: 'Accompanying support', zh: '伴随保障' },
  emergency_replacement: { en: 'Emergency mode (replacement)', zh: '紧急模式' },
};

export type TicketAction =
  | 'determine_work_content'
  | 'issue_plan'
  | 'start_service'
  | 'mark_repaired'
  | 'verify'
  | 'close'
  | 'cancel'
  | 'reopen';

/** Which action moves a ticket from which statuses to where. */
export const TRANSITIONS: Record<TicketAction, { from: readonly TicketStatus[]; to: TicketStatus }> = {
  determine_work_content: { from: ['received'], to: 'work_content_determined' },
  issue_plan: { from: ['work_content_determined'], to: 'plan_issued' },
  // an extra-urgent task may go to the site before a written plan; an urgent one needs the plan first
  start_service: { from: ['work_content_determined', 'plan_issued'], to: 'in_service' },
  mark_repaired: { from: ['in_service'], to: 'repaired' },
  verify: { from: ['repaired'], to: 'verified' },
  close: { from: ['verified'], to: 'closed' },
  cancel: { from: ['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired'], to: 'cancelled' },
  reopen: { from: ['closed', 'cancelled', 'verified'], to: 'in_service' },
};

export const OPEN_STATUSES: readonly TicketStatus[] = [
  'received',
  'work_content_determined',
  'plan_issued',
  'in_service',
  'repaired',
];

/** Returns the target status, or a reason why the action is not allowed now. */
export function nextStatus(
  level: TicketLevel,
  status: TicketStatus,
  action: TicketAction,
): { ok: true; to: TicketStatus } | { ok: false; reason: string } {
  const t = TRANSITIONS[action];
  if (!t.from.includes(status))
    return { ok: false, reason: `cannot ${action.replace(/_/g, ' ')} a ticket that is ${status.replace(/_/g, ' ')}` };
  if (action === 'start_service' && level !== 'extra_urgent' && status !== 'plan_issued') {
    return { ok: false, reason: 'an urgent ticket needs its support plan issued before service starts' };
  }
  return { ok: true, to: t.to };
}

/** The deadline rule from the plan: work content within 30 min of receipt; for urgent tasks, the plan too. */
export const DEADLINE_MS = 30 * 60_000;
export function deadlinesFor(
  level: TicketLevel,
  receivedAt: number,
): { workContentDueAt: number; planDueAt: number | null } {
  return {
    workContentDueAt: receivedAt + DEADLINE_MS,
    planDueAt: level === 'urgent' ? receivedAt + DEADLINE_MS : null,
  };
}

/** The plan deadline of a ticket moved to `level`: 特急 has none (a written plan may follow the team); 加急 has it. */
export function planDueAtFor(level: TicketLevel, receivedAt: number, current: number | null): number | null {
  return level === 'extra_urgent' ? null : (current ?? receivedAt + DEADLINE_MS);
}

/**
 * Where the 30-minute rule applies (config THIRTY_MINUTE_RULE): `all` tasks, or `in_province` ones
 * only (the plan states its response times for 省内 tasks); a task not yet placed counts as in province.
 */
export type DeadlineScope = 'all' | 'in_province';
export type Province = 'in' | 'out';
export const PROVINCE_LABELS: Record<Province, { en: string; zh: string }> = {
  in: { en: 'In province', zh: '省内' },
  out: { en: 'Out of province', zh: '省外' },
};
export const deadlinesApply = (scope: DeadlineScope, province: Province | null): boolean =>
  scope === 'all' || province !== 'out';

/**
 * Emergency mode (紧急模式) is chosen at the user's request, never set by the platform: a plan that
 * recommends it leaves the ticket's mode unset (the console shows the recommendation).
 */
export const modeChosenAtRequestOnly = (mode: ServiceMode | null | undefined): ServiceMode | null =>
  mode && mode !== 'emergency_replacement' ? mode : null;

/** Alarm severity → ticket level; minor alarms open no ticket by themselves. */
export function levelForSeverity(severity: string): TicketLevel | null {
  return severity === 'critical' ? 'extra_urgent' : severity === 'major' ? 'urgent' : null;
}

const LEVEL_RANK: Record<TicketLevel, number> = { urgent: 1, extra_urgent: 2 };
export function higherLevel(a: TicketLevel, b: TicketLevel): TicketLevel {
  return LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b;
}
