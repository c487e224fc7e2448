import type { Contact, Ticket, TimelineEntry } from '../diagnostics/types.ts';
import type { ModeStep, StepDetails, StepMode } from '../diagnostics/tickets/mode-steps.ts';
import type { ServiceMode, TicketLevel } from '../diagnostics/tickets/status.ts';
import type { SessionRecord } from '../remote/record.ts';
import type { Series } from '../telemetry/store.ts';

/**
 * The after-sales service report (《售后服务报告》) of one emergency ticket as a pure model: what the
 * records say, in no language yet (service-report-layout.ts words it). `buildServiceReport` is a
 * pure function of ServiceReportSources, which reports.ts reads (already cut to what the viewer
 * may see: a customer's timeline without internal notes, people by their public names).
 */

/** One part used in the repair. */
export interface ReportPartLine {
  name: string;
  partNo: string | null;
  quantity: number | null;
  unit: string | null;
  note: string | null;
  /** The catalogue's names (a part from the stock ledger); the layout prints the report's language. */
  names?: { en: string; zh: string };
  /** The store it left (a part from the stock ledger; not shown to customers). */
  store?: string | null;
}

/**
 * Where the parts used come from: the ticket's own free lines (ticketPartLines), or, as the
 * platform wires it, the spare-parts ledger's consumptions merged with them (platform/report-parts.ts).
 */
export interface ReportParts {
  partsUsed(ticket: Ticket): Promise<ReportPartLine[]>;
}

/** What the ticket records of the repair's result (cause, work done), when it records it. */
export interface ReportResolution {
  cause: string | null;
  workDone: string | null;
}

/** A person as the report names them, and which side they are on. */
export interface ReportPerson {
  name: string;
  side: 'staff' | 'customer' | 'system';
}

export interface ServiceReportSources {
  ticket: Ticket;
  /** As the viewer may read it (a customer: timelineForCustomer). */
  timeline: TimelineEntry[];
  /** Every actor of the timeline and sessions, as the viewer may see them named. */
  people: Record<string, ReportPerson>;
  vehicle: { id: string; name: string | null; model: string | null } | null;
  unit: { id: string; name: string | null } | null;
  /** The ticket's remote sessions' records (remote/record.ts), oldest first. */
  sessions: SessionRecord[];
  /** The telemetry around the repair (see telemetryWindow), or null without a vehicle. */
  telemetry: Series | null;
  parts: ReportPartLine[];
  resolution: ReportResolution | null;
  /** The service modes' steps (diagnostics/tickets/mode-steps.ts) as the viewer may see them; none: not recorded. */
  modeSteps?: ModeStep[];
  generatedAt: number;
}

/** The steps done in one service mode, in the mode's order as recorded. */
export interface ReportModeSteps {
  mode: StepMode;
  steps: {
    at: number;
    step: string;
    by: string;
    details: StepDetails;
    note: string | null;
    /** The user side's confirmation (双方确认), where the step has one. */
    confirmedBy: string | null;
    confirmedAt: number | null;
  }[];
}

export type MilestoneKind =
  | 'received'
  | 'assigned'
  | 'work_content_determined'
  | 'plan_issued'
  | 'service_mode_set'
  | 'eta_set'
  | 'departed'
  | 'arrived'
  | 'service_started'
  | 'level_raised'
  | 'deadline_breached'
  | 'escalated'
  | 'repaired'
  | 'verified'
  | 'customer_confirmed'
  | 'closed'
  | 'reopened'
  | 'cancelled';

export interface Milestone {
  at: number;
  kind: MilestoneKind;
  by: string;
  /** The entry's note where it says something (a mode, an ETA, a reason). */
  detail: string | null;
}

export interface DeadlineOutcome {
  kind: 'work_content' | 'plan';
  dueAt: number;
  doneAt: number | null;
  /** met: done by the deadline; breached: recorded as missed; open: neither yet. */
  state: 'met' | 'breached' | 'open';
}

export interface ReportStep {
  at: number;
  by: string;
  text: string;
  /** Where it was recorded: the ticket's timeline or a remote session (#id). */
  from: 'ticket' | { session: number };
}

export interface RemoteSummary {
  id: number;
  requestedAt: number;
  answeredAt: number | null;
  endedAt: number | null;
  outcome: string | null;
  staff: string[];
  crew: string[];
  /** Guided steps with their results (done / skipped / checked). */
  steps: { at: number; by: string; text: string }[];
  /** Commands sent and their acknowledgements. */
  commands: { at: number; by: string; text: string }[];
}

export interface SignOff {
  signed: boolean;
  name: string | null;
  at: number | null;
  note: string | null;
}

export interface ServiceReport {
  ticket: {
    id: number;
    number: string;
    title: string;
    need: string;
    level: TicketLevel;
    source: Ticket['source'];
    faultCode: string | null;
    status: Ticket['status'];
    contacts: Contact[];
  };
  vehicle: ServiceReportSources['vehicle'];
  unit: ServiceReportSources['unit'];
  /** Every mode the ticket was served in, in order (a ticket may move from remote to on-site). */
  serviceModes: ServiceMode[];
  milestones: Milestone[];
  deadlines: DeadlineOutcome[];
  receivedAt: number;
  /** Arrival on site as recorded, else null. */
  arrivedAt: number | null;
  repairedAt: number | null;
  /** Received → repaired, when repaired. */
  timeToRepairMs: number | null;
  remote: RemoteSummary[];
  steps: ReportStep[];
  /** The steps of each service mode the ticket went through (on-site repair, return to factory, emergency replacement). */
  modeSteps: ReportModeSteps[];
  parts: ReportPartLine[];
  resolution: ReportResolution | null;
  telemetry: Series | null;
  /** Our side: who verified the repair; the user's side: the customer's confirmation (双方确认/签字). */
  signOff: { staff: SignOff; customer: SignOff };
  /** Staff and customer people who took part, by side. */
  people: { staff: string[]; customer: string[] };
  generatedAt: number;
}

/** The telemetry window of a report: an hour before the ticket was received to an hour after the repair. */
export const REPORT_WINDOW_MS = 3_600_000;

/** [from, to] of the report's charts; `to` is never after `now`. */
export function telemetryWindow(
  t: Pick<Ticket, 'receivedAt'>,
  repairedAt: number | null,
  now: number,
): { from: number; to: number } {
  const from = t.receivedAt - REPORT_WINDOW_MS;
  const to = Math.min(now, (repairedAt ?? now) + REPORT_WINDOW_MS);
  return { from, to: Math.max(from + 1, to) };
}

/** Timeline actions that say the customer confirmed the repair (the both-sides sign-off). */
const CUSTOMER_CONFIRM_ACTIONS = new Set(['customer_confirmed', 'customer_confirm', 'confirm', 'confirmed']);
/** Timeline actions of the service modes' own records that the timeline of the response shows. */
const ARRIVAL_ACTIONS = new Set(['arrived', 'arrival', 'on_site', 'arrived_on_site']);
const DEPARTURE_ACTIONS = new Set(['departed', 'departure']);

const MILESTONE_OF: Record<string, MilestoneKind> = {
  received: 'received',
  assigned: 'assigned',
  determine_work_content: 'work_content_determined',
  issue_plan: 'plan_issued',
  // a new version of the support plan document (diagnostics/support-plans/)
  plan_reissued: 'plan_issued',
  service_mode_set: 'service_mode_set',
  eta_set: 'eta_set',
  start_service: 'service_started',
  level_raised: 'level_raised',
  deadline_breached: 'deadline_breached',
  escalated: 'escalated',
  mark_repaired: 'repaired',
  verify: 'verified',
  close: 'closed',
  reopen: 'reopened',
  cancel: 'cancelled',
};

/** The last entry of `actions` after the ticket was last reopened (a reopened repair is signed again). */
function lastSince(timeline: TimelineEntry[], match: (e: TimelineEntry) => boolean): TimelineEntry | undefined {
  let from = 0;
  timeline.forEach((e, i) => {
    if (e.action === 'reopen') from = i + 1;
  });
  return timeline.slice(from).filter(match).at(-1);
}

const STEP_ACTIONS = new Set(['start_service', 'mark_repaired', 'verify', 'comment']);

function summarizeSession(r: SessionRecord): RemoteSummary {
  const line = (e: SessionRecord['timeline'][number]) => ({ at: e.at, by: e.actorName, text: e.text ?? '' });
  return {
    id: r.session.id,
    requestedAt: r.session.requestedAt,
    answeredAt: r.session.answeredAt,
    endedAt: r.session.endedAt,
    outcome: r.session.outcome,
    staff: [...new Set(r.participants.staff.map((p) => p.name))],
    crew: [...new Set(r.participants.crew.map((p) => p.name))],
    steps: r.timeline.filter((e) => e.kind === 'step').map(line),
    commands: r.timeline.filter((e) => e.kind === 'command' || e.kind === 'ack').map(line),
  };
}

export function buildServiceReport(s: ServiceReportSources): ServiceReport {
  const t = s.ticket;
  const name = (actor: string) => s.people[actor]?.name ?? actor;
  const sideOf = (actor: string) => s.people[actor]?.side ?? 'staff';
  const milestones: Milestone[] = [];
  for (const e of s.timeline) {
    let kind: MilestoneKind | undefined = MILESTONE_OF[e.action];
    if (ARRIVAL_ACTIONS.has(e.action)) kind = 'arrived';
    else if (DEPARTURE_ACTIONS.has(e.action)) kind = 'departed';
    else if (CUSTOMER_CONFIRM_ACTIONS.has(e.action)) kind = 'customer_confirmed';
    else if (e.action === 'verify' && sideOf(e.actor) === 'customer') kind = 'customer_confirmed';
    if (!kind) continue;
    milestones.push({ at: e.at, kind, by: name(e.actor), detail: kind === 'received' ? null : e.note });
  }
  // departure and arrival at the times they happened (the step's), not when they were recorded
  const recorded = s.modeSteps ?? [];
  for (const st of recorded)
    if (st.step === 'departed' || st.step === 'arrived')
      milestones.push({ at: st.at, kind: st.step, by: name(st.actor), detail: null });
  milestones.sort((a, b) => a.at - b.at);
  const modeSteps: ReportModeSteps[] = [];
  for (const st of recorded) {
    let group = modeSteps.find((g) => g.mode === st.mode);
    if (!group) modeSteps.push((group = { mode: st.mode, steps: [] }));
    group.steps.push({
      at: st.at,
      step: st.step,
      by: name(st.actor),
      details: st.details,
      note: st.note,
      confirmedBy: st.confirmedBy === null ? null : name(st.confirmedBy),
      confirmedAt: st.confirmedAt,
    });
  }

  const modes: ServiceMode[] = [];
  const addMode = (m: string | null) => {
    if (m && !modes.includes(m as ServiceMode)) modes.push(m as ServiceMode);
  };
  for (const e of s.timeline) if (e.action === 'service_mode_set') addMode(e.note);
  if (s.sessions.length && !modes.includes('remote_support')) modes.unshift('remote_support');
  addMode(t.serviceMode);

  const deadlines: DeadlineOutcome[] = [];
  const outcome = (kind: 'work_content' | 'plan', dueAt: number, doneAt: number | null): DeadlineOutcome => ({
    kind,
    dueAt,
    doneAt,
    state: t.breaches.includes(kind) ? 'breached' : doneAt !== null && doneAt <= dueAt ? 'met' : 'open',
  });
  deadlines.push(outcome('work_content', t.workContentDueAt, t.workContentDoneAt));
  if (t.planDueAt !== null) deadlines.push(outcome('plan', t.planDueAt, t.planDoneAt));

  const repaired = lastSince(s.timeline, (e) => e.action === 'mark_repaired');
  const arrived = recorded.find((st) => st.step === 'arrived') ?? s.timeline.find((e) => ARRIVAL_ACTIONS.has(e.action));
  const staffVerify = lastSince(s.timeline, (e) => e.action === 'verify' && sideOf(e.actor) !== 'customer');
  const customerConfirm = lastSince(
    s.timeline,
    (e) => CUSTOMER_CONFIRM_ACTIONS.has(e.action) || (e.action === 'verify' && sideOf(e.actor) === 'customer'),
  );
  const signOff = (e: TimelineEntry | undefined): SignOff =>
    e
      ? { signed: true, name: name(e.actor), at: e.at, note: e.note }
      : { signed: false, name: null, at: null, note: null };

  const remote = s.sessions.map(summarizeSession);
  const steps: ReportStep[] = [
    ...s.timeline
      .filter((e) => STEP_ACTIONS.has(e.action) && e.note)
      .map((e) => ({ at: e.at, by: name(e.actor), text: e.note!, from: 'ticket' as const })),
    ...remote.flatMap((r) => r.steps.map((st) => ({ ...st, from: { session: r.id } }))),
  ].sort((a, b) => a.at - b.at);

  const staff = new Set<string>();
  const customer = new Set<string>();
  for (const st of recorded) (st.side === 'customer' ? customer : staff).add(name(st.actor));
  for (const e of s.timeline) {
    const side = sideOf(e.actor);
    if (side === 'staff') staff.add(name(e.actor));
    else if (side === 'customer') customer.add(name(e.actor));
  }
  for (const r of remote) {
    r.staff.forEach((p) => staff.add(p));
    r.crew.forEach((p) => customer.add(p));
  }

  return {
    ticket: {
      id: t.id,
      number: t.number,
      title: t.title,
      need: t.need,
      level: t.level,
      source: t.source,
      faultCode: t.faultCode,
      status: t.status,
      contacts: t.contacts,
    },
    vehicle: s.vehicle,
    unit: s.unit,
    serviceModes: modes,
    milestones,
    deadlines,
    receivedAt: t.receivedAt,
    arrivedAt: arrived?.at ?? null,
    repairedAt: repaired?.at ?? null,
    timeToRepairMs: repaired ? repaired.at - t.receivedAt : null,
    remote,
    steps,
    modeSteps,
    parts: s.parts,
    resolution: s.resolution,
    telemetry: s.telemetry,
    signOff: { staff: signOff(staffVerify), customer: signOff(customerConfirm) },
    people: { staff: [...staff], customer: [...customer] },
    generatedAt: s.generatedAt,
  };
}

/**
 * The ticket's resolution and free part lines, read from whatever the ticket records carry:
 * `resolution: { cause?, workDone?, parts?: [{ name, partNo?, quantity?, unit?, note? } | string] }`.
 * Tickets without them give null and no parts. (The resolution fields are being added beside this
 * module; this reader is the one place that knows their shape.)
 */
export function resolutionOf(t: Ticket): { resolution: ReportResolution | null; parts: ReportPartLine[] } {
  const r = t.resolution;
  if (!r) return { resolution: null, parts: [] };
  const parts = r.partsUsed
    .filter((p) => p.trim())
    .map((p): ReportPartLine => ({ name: p, partNo: null, quantity: null, unit: null, note: null }));
  const cause = r.rootCause.trim() || null;
  const workDone = r.workDone.trim() || null;
  return { resolution: cause || workDone ? { cause, workDone } : null, parts };
}

/** The parts used as the ticket itself records them (free lines): the fallback of the ledger-backed ReportParts. */
export const ticketPartLines: ReportParts = {
  partsUsed: async (t) => resolutionOf(t).parts,
};
