import type { EventBus } from '../../core/bus.ts';
import { PlatformError } from '../../core/errors.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { Series } from '../../telemetry/store.ts';
import type { EmergencyPlan, PlanBook } from '../plans/plans.ts';
import type { Contact, Ticket, TimelineEntry } from '../types.ts';
import type { NoteVisibility } from '../visibility.ts';
import { createDeadlineTimer } from './deadlines.ts';
import { isOpenStatus } from './queue.ts';
import { COMMAND_POST_ROLES, teamOf, withLeader, writeTeam, type TeamMember } from './team.ts';
import {
  addTimeline,
  alarmsOfTicket,
  changeTicket,
  earliestUnbreachedDeadline,
  getTicket,
  insertTicket,
  listTickets,
  openTicketsOfVehicle,
  ticketsMergedInto,
  snapshotOf,
  ticketOfIncident,
  ticketsDueBy,
  timelineOf,
  type TicketChange,
  type TicketPage,
  type TicketQuery,
  type TicketRow,
  type TicketAlarm,
  type TimelineInput,
} from './records.ts';
import { checkResolution, resolutionNote, type Resolution } from './resolution.ts';
import {
  deadlinesApply,
  deadlinesFor,
  higherLevel,
  modeChosenAtRequestOnly,
  nextStatus,
  planDueAtFor,
  type DeadlineScope,
  type Province,
  type ServiceMode,
  type TicketAction,
  type TicketLevel,
} from './status.ts';

/**
 * A change of a ticket, handed to `onChange` inside the change's own transaction (before it commits),
 * so that what follows from it (notifications in the outbox, pages) commits with it or not at all.
 */
export type TicketEvent =
  | { type: 'opened'; ticket: Ticket }
  | { type: 'level_raised'; ticket: Ticket; from: TicketLevel }
  | {
      type: 'status';
      ticket: Ticket;
      action: TicketAction;
      from: Ticket['status'];
      note: string | null;
      /** Who may read `note`: an internal one is never told to the customer unit. */
      visibility: NoteVisibility;
    }
  | { type: 'assigned'; ticket: Ticket; from: string | null }
  | { type: 'eta'; ticket: Ticket; from: number | null }
  | { type: 'breached'; ticket: Ticket; deadlines: ('work_content' | 'plan')[]; escalatedTo: string }
  /** `ticket` was merged into `into` (both changed in this transaction). */
  | { type: 'merged'; ticket: Ticket; into: Ticket };

/** What verifying or closing may need beside the action (issue 15, item 2). */
export interface TransitionExtra {
  /** Required by mark_repaired: the root cause, what was done, the parts used. */
  resolution?: Partial<Resolution>;
  /** Verify or close although the ticket's alarms are still active: why (recorded on the timeline). */
  alarmOverride?: string;
}

/** The hook called inside each change's transaction (a plain hook, like aedes' authorizers): throwing rolls the change back. */
export type TicketChangeHook = (tx: RecordsDb, event: TicketEvent) => Promise<void>;

/** The telemetry attached to a ticket: this window before the fault (or the call), at most this many points. */
export interface SnapshotWindow {
  beforeMs: number;
  maxPoints: number;
}

/** The one default of the ticket snapshot window. */
export const TICKET_SNAPSHOT: SnapshotWindow = { beforeMs: 15 * 60_000, maxPoints: 300 };

export interface TicketServiceDeps {
  db: RecordsDb;
  bus: EventBus<PlatformEvents>;
  log: Logger;
  /** The emergency plans: a ticket with a fault code gets the plan's reference and recommended service mode. */
  plans: PlanBook;
  /** The telemetry window of a vehicle, for a ticket's snapshot. */
  series: (vehicleId: string, from: number, to: number, maxPoints: number) => Promise<Series>;
  /** Called inside every change's transaction (notifications/producer.ts): see TicketEvent. */
  onChange?: TicketChangeHook;
  /**
   * Who a missed deadline escalates to at `at`: the roster's duty lead on shift, else the active
   * accounts of the escalation role (platform/diagnostics.ts). Empty or absent: `options.dutyLead`.
   */
  escalation?: (at: number) => Promise<string[]>;
  now?: () => number;
  /** Cluster mode: whether this node may fire its timer's jobs now (the leader); default always. */
  gate?: () => boolean;
  /** Cluster mode: the longest wait between two looks at the due times (another node writes them too). */
  gatePollMs?: number;
  /**
   * Cluster mode: called first in each breach's transaction; false (no longer the leader) → that
   * breach is not recorded here (cluster/leader.ts `fence`). Default: none.
   */
  fence?: (tx: RecordsDb) => Promise<boolean>;
}

export interface TicketServiceOptions {
  /** Who breached tickets escalate to when `deps.escalation` names nobody (DUTY_LEAD). */
  dutyLead: string;
  /** Default: TICKET_SNAPSHOT. */
  snapshot?: SnapshotWindow;
  /** Where the 30-minute rule applies (config THIRTY_MINUTE_RULE); default `all`. */
  deadlineScope?: DeadlineScope;
}

/** The need's contacts and place as the duty desk confirmed or edited them (准确记录需求信息及联络方式). */
export interface TicketSite {
  contacts?: Contact[];
  place?: string | null;
  province?: Province | null;
}

/** A ticket opened by hand: a hotline call taken by the duty desk, or a customer's own request. */
export interface TicketRequest {
  source: Ticket['source'];
  vehicleId?: string | null;
  customerId: string | null;
  /** The duty desk's classification, or (`classified: false`) the customer's proposal. */
  level: TicketLevel;
  /** True when the duty desk (市场部) opened it and so classified it; a customer only proposes. Default: a hotline ticket is. */
  classified?: boolean;
  title: string;
  need: string;
  contacts?: Contact[];
  place?: string | null;
  province?: Province | null;
  faultCode?: string | null;
  /** As chosen; else the plan's recommended mode (emergency mode excepted: only at the user's request). */
  serviceMode?: ServiceMode | null;
}

/** A ticket for an incident, opened by the rules. */
export interface IncidentTicket {
  incidentId: number;
  vehicleId: string;
  customerId: string;
  level: TicketLevel;
  title: string;
  need: string;
  faultCode: string;
  /** Fault codes whose plan applies when the fault's own code has none (the incident's root). */
  planFallback?: string[];
  /** From `snapshotAt`, read before the caller's transaction. */
  snapshot: Series | undefined;
}

/**
 * A change made inside a caller's transaction: `announce()` (bus event, deadline timer) is to be
 * called once that transaction has committed.
 */
export interface Uncommitted {
  ticket: Ticket;
  announce: () => Promise<void>;
}

/**
 * Emergency tickets: the one place where ticket state changes. Opening (from an incident, or by
 * hand with the plan lookup and telemetry snapshot), the status machine, assignment, service mode,
 * comments and level, each written with its timeline entry in one transaction and announced on the
 * bus only after that transaction commits; the 30-minute deadlines (a breach is recorded once,
 * escalated to the duty lead and announced); the queue, filtered, ordered and paged by the database.
 */
export function createTicketService(deps: TicketServiceDeps, options: TicketServiceOptions) {
  const { db, bus, log } = deps;
  const now = deps.now ?? Date.now;
  const window = options.snapshot ?? TICKET_SNAPSHOT;
  const hook: TicketChangeHook = deps.onChange ?? (async () => undefined);
  const scope: DeadlineScope = options.deadlineScope ?? 'all';
  const deadlines = createDeadlineTimer({
    nextDue: () => earliestUnbreachedDeadline(db),
    check: breachOverdue,
    now,
    log,
    ...(deps.gate ? { gate: deps.gate } : {}),
    ...(deps.gatePollMs ? { pollMs: deps.gatePollMs } : {}),
  });

  const opened = (ticket: Ticket) => async () => {
    bus.emit('ticket.opened', { ticket });
    await deadlines.reschedule();
  };
  const updated =
    (ticket: Ticket, action: string, deadlinesMoved: boolean, internal = false) =>
    async () => {
      bus.emit('ticket.updated', { ticket, action, ...(internal ? { internal } : {}) });
      if (deadlinesMoved) await deadlines.reschedule();
    };

  function planFor(codes: (string | null | undefined)[]): EmergencyPlan | undefined {
    for (const c of codes) {
      const plan = c ? deps.plans.get(c) : undefined;
      if (plan) return plan;
    }
    return undefined;
  }

  interface Decision {
    change: TicketChange;
    entry: Omit<TimelineInput, 'at'>;
    /** Timeline entries written before the change's own (an alarm override's reason). */
    before?: Omit<TimelineInput, 'at'>[];
    deadlinesMoved?: boolean;
    event?: (after: Ticket) => TicketEvent;
    /** Only staff may hear of this change (an internal comment). */
    internal?: boolean;
    /** More writes of the same change, in its transaction (the response team). */
    also?: (tx: RecordsDb) => Promise<void>;
  }

  /** Runs one change of one ticket in its own transaction, then announces it. */
  async function change(
    id: number,
    decide: (before: Ticket, tx: RecordsDb) => Decision | Promise<Decision>,
  ): Promise<Ticket> {
    const at = now();
    let announce: () => Promise<void> = async () => undefined;
    const ticket = await inTransaction(db, async (tx) => {
      const before = await getTicket(tx, id);
      const d = await decide(before, tx);
      for (const e of d.before ?? []) await addTimeline(tx, before.id, { ...e, at });
      const after = await changeTicket(tx, before, d.change, { ...d.entry, at });
      if (d.also) await d.also(tx);
      if (d.event) await hook(tx, d.event(after));
      announce = updated(after, d.entry.action, d.deadlinesMoved ?? false, d.internal ?? false);
      return after;
    });
    await announce();
    return ticket;
  }

  /** Records the deadlines missed by now, escalates and announces them. */
  async function breachOverdue(): Promise<void> {
    const at = now();
    const overdue = await ticketsDueBy(db, at);
    if (overdue.length === 0) return;
    const people = await escalationTargets(at);
    const lead = people[0]!;
    for (const due of overdue) {
      const result = await inTransaction(db, async (tx) => {
        if (deps.fence && !(await deps.fence(tx))) return undefined;
        const t = await getTicket(tx, due.id);
        const missed: ('work_content' | 'plan')[] = [];
        if (t.workContentDoneAt === null && t.workContentDueAt <= at && !t.breaches.includes('work_content'))
          missed.push('work_content');
        if (t.planDueAt !== null && t.planDoneAt === null && t.planDueAt <= at && !t.breaches.includes('plan'))
          missed.push('plan');
        if (missed.length === 0) return undefined;
        for (const m of missed) {
          await addTimeline(tx, t.id, {
            at,
            actor: 'system',
            action: 'deadline_breached',
            note:
              m === 'work_content'
                ? 'work content not determined within 30 min'
                : 'support plan not issued within 30 min',
          });
        }
        const ticket = await changeTicket(
          tx,
          t,
          { breaches: [...t.breaches, ...missed], escalatedTo: lead, escalatedAccounts: people },
          { at, actor: 'system', action: 'escalated', note: `escalated to ${people.join(', ')}` },
        );
        await hook(tx, { type: 'breached', ticket, deadlines: missed, escalatedTo: lead });
        return { ticket, missed };
      });
      if (!result) continue;
      log.warn({ ticket: result.ticket.number, missed: result.missed }, 'ticket deadline breached; escalated');
      for (const m of result.missed)
        bus.emit('ticket.deadline_breached', {
          ticket: result.ticket,
          deadline: m,
          escalatedTo: lead,
          escalatedAccounts: people,
        });
    }
  }

  /** The real accounts a breach at `at` escalates to; DUTY_LEAD only when none can be found. */
  async function escalationTargets(at: number): Promise<string[]> {
    const found = deps.escalation
      ? await deps.escalation(at).catch((err: unknown) => {
          log.error({ err }, 'escalation targets unavailable; escalating to DUTY_LEAD');
          return [];
        })
      : [];
    if (found.length) return [...new Set(found)];
    if (deps.escalation) log.warn({ dutyLead: options.dutyLead }, 'nobody on the roster nor of the escalation role');
    return [options.dutyLead];
  }

  /** Refuses a change of a ticket no longer open (closed, cancelled, verified, merged). */
  function assertOpen(t: Ticket, what: string): void {
    if (!isOpenStatus(t.status))
      throw new PlatformError(
        'TICKET_CLOSED',
        `cannot ${what} ticket ${t.number}: it is ${t.status.replace(/_/g, ' ')}`,
      );
  }

  /** The checks of verifying and closing: alarms cleared (or an override with a reason), four-eyes. */
  async function closeChecks(
    tx: RecordsDb,
    t: Ticket,
    action: TicketAction,
    actor: string,
    extra: TransitionExtra,
  ): Promise<Omit<TimelineInput, 'at'>[]> {
    if (action === 'verify' && t.repairedBy !== null && t.repairedBy === actor)
      throw new PlatformError(
        'SAME_PERSON_VERIFY',
        `ticket ${t.number} was marked repaired by ${actor}; someone else must verify it`,
      );
    const active = await alarmsOfTicket(tx, t.id, true);
    if (active.length === 0) return [];
    const reason = extra.alarmOverride?.trim();
    if (!reason)
      throw new PlatformError(
        'ALARMS_ACTIVE',
        `ticket ${t.number} still has ${active.length} active alarm${active.length > 1 ? 's' : ''} (${active
          .map((a) => a.code)
          .join(', ')}); clear ${active.length > 1 ? 'them' : 'it'} first or give an override reason`,
        { details: { alarms: active.map((a) => a.id) } },
      );
    return [
      {
        actor,
        action: 'alarms_override',
        note: `${action} with active alarms ${active.map((a) => `${a.code} (#${a.id})`).join(', ')}: ${reason}`,
        visibility: 'internal',
      },
    ];
  }

  /** The unit's registered contacts (notification contacts of the unit), for a rule-opened ticket. */
  async function unitContacts(h: RecordsDb, customerId: string): Promise<Contact[]> {
    const rows = await h
      .selectFrom('notification_contacts')
      .select(['name', 'phone', 'role'])
      .where('customer_id', '=', customerId)
      .orderBy('id')
      .limit(10)
      .execute();
    return rows.map((r) => ({
      name: r.name,
      ...(r.phone ? { phone: r.phone } : {}),
      ...(r.role ? { role: r.role } : {}),
    }));
  }

  /** The telemetry snapshot for a ticket about a fault at `at` (undefined when the store cannot answer). */
  function snapshotAt(vehicleId: string, at: number): Promise<Series | undefined> {
    return deps.series(vehicleId, at - window.beforeMs, Math.max(at, now()), window.maxPoints).catch((err: unknown) => {
      log.warn({ err }, 'ticket snapshot unavailable');
      return undefined;
    });
  }

  return {
    plans: deps.plans,
    snapshotAt,

    /** Opens a ticket by hand (hotline, customer request), with the fault's plan and the vehicle's recent telemetry. */
    async open(request: TicketRequest, actor: string): Promise<Ticket> {
      const plan = planFor([request.faultCode]);
      const snapshot = request.vehicleId ? await snapshotAt(request.vehicleId, now()) : undefined;
      const row: TicketRow = {
        source: request.source,
        vehicleId: request.vehicleId ?? null,
        customerId: request.customerId,
        level: request.level,
        title: request.title,
        need: request.need,
        contacts: request.contacts ?? [],
        faultCode: request.faultCode ?? null,
        incidentId: null,
        serviceMode: request.serviceMode ?? modeChosenAtRequestOnly(plan?.recommendedMode),
        planRef: plan ? { code: plan.code, version: plan.version } : null,
        // a window without data is no snapshot
        snapshot: snapshot?.ts.length ? snapshot : undefined,
        proposedLevel: request.level,
        confirmedBy: (request.classified ?? request.source === 'hotline') ? actor : null,
        place: request.place ?? null,
        province: request.province ?? null,
        deadlinesApply: deadlinesApply(scope, request.province ?? null),
      };
      const at = now();
      const ticket = await inTransaction(db, async (tx) => {
        const t = await insertTicket(tx, row, deadlinesFor(row.level, at), actor, at);
        await hook(tx, { type: 'opened', ticket: t });
        return t;
      });
      await opened(ticket)();
      return ticket;
    },

    /**
     * Opens the ticket of an incident inside the caller's transaction (alarm, incident and ticket
     * commit together), unless the incident has one already.
     */
    async openForIncident(
      tx: RecordsDb,
      input: IncidentTicket,
      actor = 'system',
    ): Promise<Uncommitted & { created: boolean }> {
      const existing = await ticketOfIncident(tx, input.incidentId);
      if (existing) return { ticket: existing, created: false, announce: async () => undefined };
      const plan = planFor([input.faultCode, ...(input.planFallback ?? [])]);
      const at = now();
      const ticket = await inTransaction(tx, async (t) => {
        const inserted = await insertTicket(
          t,
          {
            source: 'rule',
            vehicleId: input.vehicleId,
            customerId: input.customerId,
            level: input.level,
            title: input.title,
            need: input.need,
            // the unit's registered contacts; the duty desk confirms or edits them (setSite)
            contacts: await unitContacts(t, input.customerId),
            faultCode: input.faultCode,
            incidentId: input.incidentId,
            serviceMode: modeChosenAtRequestOnly(plan?.recommendedMode),
            proposedLevel: input.level,
            planRef: plan ? { code: plan.code, version: plan.version } : null,
            snapshot: input.snapshot,
          },
          deadlinesFor(input.level, at),
          actor,
          at,
        );
        await hook(t, { type: 'opened', ticket: inserted });
        return inserted;
      });
      return { ticket, created: true, announce: opened(ticket) };
    },

    /** Raises the level (never lowers it) inside the caller's transaction; a higher level can tighten the plan deadline. */
    async raiseLevel(
      tx: RecordsDb,
      id: number,
      level: TicketLevel,
      actor: string,
      reason: string,
    ): Promise<Uncommitted> {
      const t = await getTicket(tx, id);
      const to = higherLevel(t.level, level);
      if (to === t.level) return { ticket: t, announce: async () => undefined };
      // 加急 → 特急 drops the plan deadline 特急 does not have
      const planDueAt = planDueAtFor(to, t.receivedAt, t.planDueAt);
      const plan = planDueAt !== t.planDueAt ? { planDueAt } : {};
      const ticket = await changeTicket(
        tx,
        t,
        { level: to, ...plan },
        { at: now(), actor, action: 'level_raised', note: `${t.level} → ${to}: ${reason}` },
      );
      await hook(tx, { type: 'level_raised', ticket, from: t.level });
      return { ticket, announce: updated(ticket, 'level_raised', 'planDueAt' in plan) };
    },

    /**
     * Moves the ticket along the status machine (status.ts), with an optional note for staff only
     * (`internal`) or for the customer unit too (`customer`, the default of the platform's own notes;
     * the web API's default for staff is `internal`).
     */
    transition(
      id: number,
      action: TicketAction,
      actor: string,
      note?: string,
      visibility: NoteVisibility = 'customer',
      extra: TransitionExtra = {},
    ): Promise<Ticket> {
      return change(id, async (t, tx) => {
        const next = nextStatus(t.level, t.status, action);
        if (!next.ok) throw new PlatformError('INVALID_TRANSITION', next.reason);
        const at = now();
        // closing only what is fixed (issue 15, item 2)
        const resolution = action === 'mark_repaired' ? checkResolution(extra.resolution) : undefined;
        const before = action === 'verify' || action === 'close' ? await closeChecks(tx, t, action, actor, extra) : [];
        const text = resolution ? [note, resolutionNote(resolution)].filter(Boolean).join('\n') : (note ?? null);
        // determining the work content confirms a level not yet classified (the duty desk's own step; its entry says so)
        const confirms = action === 'determine_work_content' && t.levelConfirmedAt === null;
        return {
          change: {
            status: next.to,
            ...(action === 'determine_work_content' ? { workContentDoneAt: at } : {}),
            ...(action === 'issue_plan' ? { planDoneAt: at } : {}),
            ...(resolution ? { resolution, repairedBy: actor } : {}),
            ...(confirms ? { levelConfirmedAt: at, levelConfirmedBy: actor } : {}),
          },
          before,
          entry: { actor, action, from: t.status, to: next.to, note: text, visibility },
          deadlinesMoved: true,
          event: (after) => ({ type: 'status', ticket: after, action, from: t.status, note: note ?? null, visibility }),
        };
      });
    },
    /**
     * The duty desk (市场部) confirms the proposed level or reclassifies it, with the reason on the
     * timeline. Deadlines follow the level: 特急 has no plan deadline, 加急 has one (30 min from receipt).
     */
    classify(id: number, level: TicketLevel, actor: string, reason: string | null): Promise<Ticket> {
      return change(id, (t) => {
        const at = now();
        const planDueAt = planDueAtFor(level, t.receivedAt, t.planDueAt);
        const same = level === t.level;
        return {
          change: {
            level,
            levelConfirmedAt: at,
            levelConfirmedBy: actor,
            ...(planDueAt !== t.planDueAt ? { planDueAt } : {}),
          },
          entry: {
            actor,
            action: same ? 'level_confirmed' : 'level_reclassified',
            from: null,
            note: same ? `${level}${reason ? `: ${reason}` : ''}` : `${t.level} → ${level}: ${reason ?? ''}`,
          },
          deadlinesMoved: planDueAt !== t.planDueAt,
          ...(higherLevel(t.level, level) !== t.level
            ? { event: (after: Ticket): TicketEvent => ({ type: 'level_raised', ticket: after, from: t.level }) }
            : {}),
        };
      });
    },
    /** The duty desk confirms or edits the contacts, the place and 省内/省外; the 30-minute rule follows the province as configured. */
    setSite(id: number, site: TicketSite, actor: string): Promise<Ticket> {
      return change(id, (t) => {
        const province = site.province !== undefined ? site.province : t.province;
        const apply = deadlinesApply(scope, province);
        const parts = [
          site.contacts ? `contacts: ${site.contacts.map((c) => c.name).join(', ')}` : null,
          site.place !== undefined ? `place: ${site.place ?? '—'}` : null,
          site.province !== undefined ? `province: ${site.province ?? '—'}` : null,
          apply !== t.deadlinesApply ? (apply ? '30-minute rule applies' : '30-minute rule does not apply') : null,
        ].filter(Boolean);
        return {
          change: {
            ...(site.contacts ? { contacts: site.contacts } : {}),
            ...(site.place !== undefined ? { place: site.place } : {}),
            ...(site.province !== undefined ? { province: site.province } : {}),
            ...(apply !== t.deadlinesApply ? { deadlinesApply: apply } : {}),
          },
          entry: { actor, action: 'site_confirmed', note: parts.join('; ') },
          deadlinesMoved: apply !== t.deadlinesApply,
        };
      });
    },
    /** Assigns the ticket: the assignee is its response team's leader (组长); the other members stay. */
    assign(id: number, assignee: string, actor: string): Promise<Ticket> {
      return change(id, (t) => {
        assertOpen(t, 'assign');
        return {
          change: { assignee },
          entry: { actor, action: 'assigned', note: `assigned to ${assignee}` },
          event: (after) => ({ type: 'assigned', ticket: after, from: t.assignee }),
          also: async (tx) => writeTeam(tx, id, withLeader(await teamOf(tx, id), assignee)),
        };
      });
    },
    /**
     * Sets the response team (应急响应小组) with each member's duty, and for 特急 the command post
     * (应急指挥部); the leader becomes the assignee (paged and filtered as before).
     */
    setTeam(id: number, members: TeamMember[], actor: string): Promise<Ticket> {
      return change(id, (t) => {
        const leaders = members.filter((m) => m.role === 'leader');
        if (leaders.length > 1) throw new PlatformError('INVALID_ARGUMENT', 'a response team has one leader (组长)');
        if (t.level !== 'extra_urgent' && members.some((m) => COMMAND_POST_ROLES.includes(m.role)))
          throw new PlatformError('INVALID_ARGUMENT', 'the command post (应急指挥部) is for extra-urgent (特急) tasks');
        const assignee = leaders[0]?.accountId ?? t.assignee;
        return {
          change: assignee !== t.assignee ? { assignee } : {},
          entry: {
            actor,
            action: 'team_set',
            note: members.map((m) => `${m.role}: ${m.accountId}${m.duty ? ` (${m.duty})` : ''}`).join('; '),
            // login ids: staff only (the customer sees the team by public names on the ticket)
            visibility: 'internal',
          },
          ...(assignee !== t.assignee
            ? { event: (after: Ticket): TicketEvent => ({ type: 'assigned', ticket: after, from: t.assignee }) }
            : {}),
          also: (tx) => writeTeam(tx, id, members),
        };
      });
    },
    team: (id: number): Promise<TeamMember[]> => teamOf(db, id),
    /** Sets or changes when help is expected (ETA, epoch ms) with a note; the customer sees it and is told. */
    setEta(id: number, eta: number, note: string | null, actor: string): Promise<Ticket> {
      return change(id, (t) => {
        assertOpen(t, 'set the ETA of');
        return {
          change: { eta, etaNote: note },
          entry: { actor, action: 'eta_set', note: `${new Date(eta).toISOString()}${note ? ` ${note}` : ''}` },
          event: (after) => ({ type: 'eta', ticket: after, from: t.eta }),
        };
      });
    },
    /**
     * Issues a version of the support plan document (diagnostics/support-plans/): the one way a plan
     * is issued. The first version performs `issue_plan` (work content determined → plan issued; the
     * 加急 plan deadline is met now); a later one (re-issue) is recorded as `plan_reissued`. The
     * plan's ETA becomes the ticket's (one source of truth). `write` stores the version in the same transaction.
     */
    issuePlan(
      id: number,
      actor: string,
      issue: {
        version: number;
        note: string;
        eta: number | null;
        etaNote: string | null;
        write: (tx: RecordsDb, ticket: Ticket) => Promise<void>;
      },
    ): Promise<Ticket> {
      return change(id, (t) => {
        assertOpen(t, 'issue a support plan for');
        if (t.status === 'received')
          throw new PlatformError(
            'INVALID_TRANSITION',
            `ticket ${t.number}: determine the work content before issuing the support plan`,
          );
        const at = now();
        const moves = t.status === 'work_content_determined';
        const action = issue.version === 1 ? 'issue_plan' : 'plan_reissued';
        const etaMoves = issue.eta !== null && (issue.eta !== t.eta || issue.etaNote !== t.etaNote);
        return {
          change: {
            ...(moves ? { status: 'plan_issued' as const } : {}),
            ...(t.planDoneAt === null ? { planDoneAt: at } : {}),
            ...(etaMoves ? { eta: issue.eta, etaNote: issue.etaNote } : {}),
          },
          entry: {
            actor,
            action,
            ...(moves ? { from: t.status, to: 'plan_issued' as const } : {}),
            note: issue.note,
            visibility: 'customer',
          },
          deadlinesMoved: true,
          ...(moves
            ? {
                event: (after: Ticket): TicketEvent => ({
                  type: 'status',
                  ticket: after,
                  action: 'issue_plan',
                  from: t.status,
                  note: issue.note,
                  visibility: 'customer',
                }),
              }
            : etaMoves
              ? { event: (after: Ticket): TicketEvent => ({ type: 'eta', ticket: after, from: t.eta }) }
              : {}),
          also: async (tx) => issue.write(tx, await getTicket(tx, id)),
        };
      });
    },
    /**
     * Adds an entry to a ticket's timeline inside the caller's transaction (pages, escalations and
     * acknowledgements: notifications/paging.ts; partner dispatches and cause attributions:
     * web/ticket-notes.ts), so that the timeline stays the one place of its history.
     */
    async note(tx: RecordsDb, id: number, entry: Omit<TimelineInput, 'at'>): Promise<Uncommitted> {
      const at = now();
      await addTimeline(tx, id, { ...entry, at });
      const ticket = await getTicket(tx, id);
      // a staff-only entry is announced as internal: the unit is not even told of it (as a comment)
      return { ticket, announce: updated(ticket, entry.action, false, entry.visibility === 'internal') };
    },
    /** Sets the service mode; emergency mode (紧急模式) names the user's request that chose it (`userRequest`). */
    setServiceMode(id: number, mode: ServiceMode, actor: string, userRequest: string | null = null): Promise<Ticket> {
      return change(id, (t) => {
        assertOpen(t, 'set the service mode of');
        return {
          change: { serviceMode: mode },
          entry: {
            actor,
            action: 'service_mode_set',
            note: userRequest ? `${mode} at the user’s request: ${userRequest}` : mode,
          },
        };
      });
    },
    /** A comment on the timeline: for staff only (`internal`: the unit is not even told of it) or for the customer unit too. */
    comment(id: number, actor: string, text: string, visibility: NoteVisibility = 'customer'): Promise<Ticket> {
      return change(id, () => ({
        change: {},
        entry: { actor, action: 'comment', note: text, visibility },
        internal: visibility === 'internal',
      }));
    },

    /**
     * Merges ticket `id` into ticket `into` of the same vehicle (issue 15, item 1): the merged one
     * becomes `merged` (terminal, `mergedInto` names the target; its timeline and alarms stay), the
     * target records it on its timeline, takes the higher level and, from now on, the merged
     * ticket's alarms count for its closing. Both must be open; TICKET_CLOSED, MERGE_VEHICLE_MISMATCH.
     */
    async merge(id: number, into: number, actor: string, note?: string): Promise<{ merged: Ticket; target: Ticket }> {
      if (id === into) throw new PlatformError('INVALID_ARGUMENT', 'a ticket cannot be merged into itself');
      const at = now();
      const result = await inTransaction(db, async (tx) => {
        const source = await getTicket(tx, id);
        const target = await getTicket(tx, into);
        assertOpen(source, 'merge');
        assertOpen(target, 'merge into');
        if (source.vehicleId === null || source.vehicleId !== target.vehicleId)
          throw new PlatformError(
            'MERGE_VEHICLE_MISMATCH',
            `tickets ${source.number} and ${target.number} are not of the same vehicle; only tickets of one vehicle can be merged`,
          );
        const extra = note?.trim() ? `: ${note.trim()}` : '';
        const merged = await changeTicket(
          tx,
          source,
          { status: 'merged', mergedInto: target.id },
          {
            at,
            actor,
            action: 'merged',
            from: source.status,
            to: 'merged',
            note: `merged into ${target.number}${extra}`,
            visibility: 'customer',
          },
        );
        const level = higherLevel(target.level, source.level);
        const planDueAt = planDueAtFor(level, target.receivedAt, target.planDueAt);
        const plan = planDueAt !== target.planDueAt ? { planDueAt } : {};
        const after = await changeTicket(tx, target, level !== target.level ? { level, ...plan } : {}, {
          at,
          actor,
          action: 'merged_in',
          note: `${source.number} merged into this ticket${extra}`,
          visibility: 'customer',
        });
        await hook(tx, { type: 'merged', ticket: merged, into: after });
        return { merged, target: after };
      });
      await updated(result.merged, 'merged', true)();
      await updated(result.target, 'merged_in', true)();
      return result;
    },
    /** The alarms of a ticket (its incident's and those of the tickets merged into it), newest first. */
    alarms: (id: number, activeOnly = false): Promise<TicketAlarm[]> => alarmsOfTicket(db, id, activeOnly),
    /** The other open tickets of the ticket's vehicle, and the tickets merged into it. */
    async related(t: Ticket): Promise<{ sameVehicle: Ticket[]; mergedFrom: { id: number; number: string }[] }> {
      return {
        sameVehicle: t.vehicleId ? (await openTicketsOfVehicle(db, t.vehicleId)).filter((x) => x.id !== t.id) : [],
        mergedFrom: await ticketsMergedInto(db, t.id),
      };
    },

    get: (id: number): Promise<Ticket> => getTicket(db, id),
    /** One ticket read inside a caller's transaction (hooks: notifications, paging). */
    getIn: (tx: RecordsDb, id: number): Promise<Ticket> => getTicket(tx, id),
    /** One page of the queue: open tickets by next deadline, then the rest (queue.ts). */
    page: (query: TicketQuery = {}): Promise<TicketPage> => listTickets(db, query),
    /** The first page's tickets. */
    list: async (query: Omit<TicketQuery, 'cursor'> = {}): Promise<Ticket[]> => (await listTickets(db, query)).tickets,
    timeline: (id: number): Promise<TimelineEntry[]> => timelineOf(db, id),
    snapshot: (id: number): Promise<unknown> => snapshotOf(db, id),
    /** The emergency plan of a ticket: the one it was opened with, else its fault code's. */
    planOf(t: Ticket): EmergencyPlan | undefined {
      return planFor([t.planRef ? t.planRef.code : t.faultCode]);
    },

    /** Arms the deadline timer from the database, recording any deadline missed while stopped. */
    start: () => deadlines.start(),
    stop: () => deadlines.stop(),
  };
}

export type TicketService = ReturnType<typeof createTicketService>;
