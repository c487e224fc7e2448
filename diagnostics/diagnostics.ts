import { performance } from 'node:perf_hooks';
import { localDateTime } from '../core/local-time.ts';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { isPlatformError } from '../core/errors.ts';
import type { PowerProfile, TelemetryFrame } from '../protocol/index.ts';
import { fieldLimits, type FieldLimit } from './limits.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import { createAlarms } from './alarms/alarms.ts';
import { createRuleEngine, type RuleTransition } from './engine/engine.ts';
import { createIncidents } from './incidents.ts';
import type { PlanBook } from './plans/plans.ts';
import type { RuleSet } from './rules/load.ts';
import { levelForSeverity } from './tickets/status.ts';
import type { TicketService } from './tickets/service.ts';
import type { Alarm } from './types.ts';
import type { NoteVisibility } from './visibility.ts';

/**
 * A live alarm put into an incident, handed to `onAlarm` inside the transaction that raised it
 * (after its incident's ticket was opened or raised): `ticketId` is the incident's ticket, or null
 * when the incident's severity opens none (minor).
 */
export interface AlarmRaisedEvent {
  alarm: Alarm;
  incidentId: number;
  /** The alarm opened this incident. */
  incidentCreated: boolean;
  ticketId: number | null;
  /** The ticket was opened by this alarm (its own message says everything). */
  ticketOpened: boolean;
  vehicleName: string;
  customerId: string;
}

/** What diagnostics needs to know about a vehicle. */
export interface VehicleFacts {
  model: string;
  profile: PowerProfile;
  customerId: string;
  name: string;
}

export interface DiagnosticsDeps {
  bus: EventBus<PlatformEvents>;
  db: RecordsDb;
  log: Logger;
  counters: Counters;
  /** Looks a vehicle up in the registry. */
  vehicle: (id: string) => Promise<VehicleFacts | undefined>;
  /** Opens and raises the emergency tickets of incidents (the one ticket service). */
  tickets: TicketService;
  /** Stored frames of a vehicle in a time range, and every vehicle id: for recovery at start. */
  frames?: (vehicleId: string, from: number, to: number) => Promise<{ frame: TelemetryFrame; receivedAt: number }[]>;
  vehicleIds?: () => Promise<string[]>;
  rules: RuleSet;
  plans: PlanBook;
  /** Called inside the transaction of every live alarm that joins an incident (notifications/producer.ts). */
  onAlarm?: (tx: RecordsDb, event: AlarmRaisedEvent) => Promise<void>;
  now?: () => number;
  /**
   * Cluster mode: which vehicles this node owns and the fence of their writes (cluster/vehicle-owners.ts).
   * Without it (the embedded default) this process owns every vehicle.
   */
  ownership?: VehicleOwnership;
}

/** The owner lease as diagnostics sees it (docs/architecture.md, "One owner per vehicle"). */
export interface VehicleOwnership {
  /** Whether this node holds the vehicle's lease: at start only owned vehicles are rebuilt. */
  owns(vehicleId: string): boolean;
  /**
   * Called first in the transaction of every alarm write (raise, clear, and the incident and
   * ticket that go with them): throws PlatformError OWNER_LOST when another node holds the lease.
   */
  fence(tx: RecordsDb, vehicleId: string): Promise<void>;
}

export interface DiagnosticsOptions {
  /** Transitions from frames older than this are history, not news (replay after a link loss). */
  staleAfterMs: number;
  /** How often absence rules (no data for T) are evaluated. */
  tickMs: number;
  /** An alarm back within this time after clearing re-activates instead of opening anew. */
  flapWindowMs: number;
  /**
   * At start, the frames stored in this last window are evaluated again, so that a fault whose
   * frames were acknowledged just before a crash still gets its alarm and ticket, and the engine's
   * memory (holds, rates, stuck values) is rebuilt. 0 disables.
   */
  recoveryMs?: number;
  /** The service centre's time zone: the time in an auto-opened ticket's need is its local time. */
  timeZone?: string;
}

/**
 * What an auto-opened ticket says happened, as a sentence in both languages: "Generator not running
 * after mains loss on Shelter 3 at 2026-12-03 17:37 (GEN-START-FAIL, detected automatically)".
 */
export function automaticNeed(
  rule: { code: string; title: { en: string; zh: string } },
  vehicleName: string,
  at: number,
  timeZone: string,
  joins: string | null,
): string {
  const when = localDateTime(at, timeZone);
  const en = `${rule.title.en} on ${vehicleName} at ${when} (${rule.code}, detected automatically${joins ? `; part of the ${joins} incident` : ''}).`;
  const zh = `${vehicleName}于${when}${rule.title.zh}（${rule.code}，自动检测${joins ? `；属于 ${joins} 事件` : ''}）。`;
  return `${en}\n${zh}`;
}

/**
 * Diagnostics: rules on every stored frame → alarms → incidents → emergency tickets. Listens to
 * `telemetry.stored` on the bus; work for one vehicle is done strictly in order, vehicles in parallel.
 */
export function createDiagnostics(deps: DiagnosticsDeps, options: DiagnosticsOptions) {
  const { bus, db, log, counters } = deps;
  const now = deps.now ?? Date.now;
  const titles = new Map(deps.rules.rules.map((r) => [r.id, r.title]));
  const rulesById = new Map(deps.rules.rules.map((r) => [r.id, r]));
  const alarmsOn = (h: RecordsDb) =>
    createAlarms(
      { db: h, titleOf: (id) => titles.get(id) ?? { en: id, zh: id }, now },
      { flapWindowMs: options.flapWindowMs },
    );
  const incidentsOn = (h: RecordsDb) => createIncidents({ db: h, now });
  const alarms = alarmsOn(db);
  const incidents = incidentsOn(db);
  const tickets = deps.tickets;
  const onAlarm = deps.onAlarm ?? (async () => undefined);
  const facts = new Map<string, VehicleFacts>();
  const queues = new Map<string, Promise<void>>();
  // the engine returns the transitions of each call: they are handled in the vehicle's queue
  const engine = createRuleEngine({ rules: deps.rules, now }, { staleAfterMs: options.staleAfterMs });
  let ticker: NodeJS.Timeout | undefined;
  const unsubscribe: (() => void)[] = [];

  /** Runs work for one vehicle after whatever is queued for it. */
  function failed(vehicleId: string, err: unknown): void {
    if (isPlatformError(err, 'OWNER_LOST')) {
      // another node took the vehicle over: its rule state is that node's now
      counters.inc('diagnostics.fenced');
      engine.forget(vehicleId);
      log.info({ vehicleId }, 'diagnostics write refused: the vehicle has another owner; its state is dropped');
      return;
    }
    counters.inc('diagnostics.failed');
    log.error({ err, vehicleId }, 'diagnostics failed for a vehicle');
  }

  function enqueue(vehicleId: string, work: () => Promise<void>): Promise<void> {
    const prev = queues.get(vehicleId) ?? Promise.resolve();
    const next = prev.then(work).catch((err: unknown) => failed(vehicleId, err));
    queues.set(vehicleId, next);
    void next.finally(() => {
      if (queues.get(vehicleId) === next) queues.delete(vehicleId);
    });
    return next;
  }

  async function factsOf(vehicleId: string): Promise<VehicleFacts | undefined> {
    let f = facts.get(vehicleId);
    if (!f) {
      f = await deps.vehicle(vehicleId);
      if (f) facts.set(vehicleId, f);
    }
    return f;
  }

  async function handle(t: RuleTransition, f: VehicleFacts): Promise<void> {
    if (t.type === 'cleared') {
      const ownership = deps.ownership;
      if (ownership) {
        // cluster mode: the clear and its incident in one transaction behind the owner's fence
        const alarm = await inTransaction(db, async (tx) => {
          await ownership.fence(tx, t.vehicleId);
          const cleared = await alarmsOn(tx).clear(t.vehicleId, t.rule.id, t.at);
          if (cleared?.incidentId != null) await incidentsOn(tx).alarmCleared(cleared.incidentId);
          return cleared;
        });
        if (alarm) bus.emit('alarm.cleared', { alarm });
        return;
      }
      const alarm = await alarms.clear(t.vehicleId, t.rule.id, t.at);
      if (!alarm) return;
      bus.emit('alarm.cleared', { alarm });
      if (alarm.incidentId !== null) await incidents.alarmCleared(alarm.incidentId);
      return;
    }
    const evidence = t.frame ? { frame: t.frame, derived: t.derived } : { noDataSince: t.at };
    // the telemetry window for a possible ticket is read before the transaction, off the lock
    const severity = levelForSeverity(t.rule.severity);
    const snapshot = severity ? await tickets.snapshotAt(t.vehicleId, t.at) : undefined;
    const after: (() => void | Promise<void>)[] = [];
    // alarm, incident and ticket change together, in one transaction (one commit per fault)
    await inTransaction(db, async (tx) => {
      // cluster mode: refused (OWNER_LOST) unless this node still holds the vehicle's lease
      await deps.ownership?.fence(tx, t.vehicleId);
      const txAlarms = alarmsOn(tx);
      const raised = await txAlarms.raise(t.vehicleId, t.rule, t.at, t.live, evidence);
      let alarm = raised.alarm;
      if (!raised.fresh && !raised.promoted) {
        if (alarm.raiseCount > 1) after.push(() => bus.emit('alarm.updated', { alarm }));
        return;
      }
      counters.inc('diagnostics.alarms_raised', t.rule.code);
      if (!alarm.live) {
        // found in replayed history: recorded, shown in history, but nobody is called for it
        after.push(() => bus.emit('alarm.raised', { alarm }));
        return;
      }
      const txIncidents = incidentsOn(tx);
      const c = await txIncidents.correlate(alarm, t.rule);
      alarm = await txAlarms.link(alarm.id, c.incident.id, c.causedByAlarmId);
      const linked = alarm;
      after.push(() => bus.emit(raised.promoted ? 'alarm.updated' : 'alarm.raised', { alarm: linked }));
      const level = levelForSeverity(c.incident.severity);
      // the unit stamped on the alarm (read in this transaction), not the cached facts
      const customerId = linked.customerId ?? f.customerId;
      const told = { alarm: linked, incidentId: c.incident.id, incidentCreated: c.created, vehicleName: f.name };
      if (!level) {
        await onAlarm(tx, { ...told, ticketId: c.incident.ticketId, ticketOpened: false, customerId });
        return;
      }
      if (c.incident.ticketId !== null) {
        if (c.severityRaised)
          after.push(
            (await tickets.raiseLevel(tx, c.incident.ticketId, level, 'system', `${t.rule.code} ${t.rule.title.en}`))
              .announce,
          );
        await onAlarm(tx, { ...told, ticketId: c.incident.ticketId, ticketOpened: false, customerId });
        return;
      }
      const root = c.created ? t.rule : (rulesById.get((await txAlarms.get(c.incident.rootAlarmId)).ruleId) ?? t.rule);
      const opened = await tickets.openForIncident(tx, {
        incidentId: c.incident.id,
        vehicleId: t.vehicleId,
        customerId,
        level,
        title: `${f.name}: ${t.rule.title.en} / ${t.rule.title.zh}`,
        need: automaticNeed(t.rule, f.name, t.at, options.timeZone ?? 'UTC', c.created ? null : root.code),
        faultCode: t.rule.code,
        planFallback: [root.code],
        snapshot,
      });
      if (opened.created) {
        await txIncidents.attachTicket(c.incident.id, opened.ticket.id);
        counters.inc('diagnostics.tickets_opened', level);
        after.push(opened.announce);
      }
      await onAlarm(tx, {
        ...told,
        ticketId: opened.ticket.id,
        ticketOpened: opened.created,
        customerId,
      });
    });
    for (const fn of after) await fn();
  }

  function evaluate(e: PlatformEvents['telemetry.stored'], f: VehicleFacts): RuleTransition[] {
    const found = engine.onFrames(e.vehicleId, f, e.frames, e.receivedAt);
    counters.inc('diagnostics.evaluated', undefined, e.frames.length);
    return found;
  }

  /**
   * Stored frames. The common case — the vehicle's facts known, nothing of it queued — is evaluated
   * at once (the rule engine is synchronous), and only transitions go into the vehicle's queue: no
   * promises nor closures per message, which were a tenth of what ingest allocated. Otherwise the
   * frames wait their turn in the queue (facts to look up, or earlier work still under way).
   */
  function onStored(e: PlatformEvents['telemetry.stored']): Promise<void> | undefined {
    const known = facts.get(e.vehicleId);
    if (!known || queues.has(e.vehicleId)) {
      return enqueue(e.vehicleId, async () => {
        const f = await factsOf(e.vehicleId);
        if (!f) return;
        for (const t of evaluate(e, f)) await handle(t, f);
      });
    }
    let found: RuleTransition[];
    try {
      found = evaluate(e, known);
    } catch (err) {
      failed(e.vehicleId, err);
      return undefined;
    }
    if (found.length === 0) return undefined;
    return enqueue(e.vehicleId, async () => {
      for (const t of found) await handle(t, known);
    });
  }

  /**
   * Evaluates a vehicle's recent frames again (in its queue); transitions already in the records
   * are skipped. Answers how many were.
   */
  async function replay(vehicleId: string, recent: { frame: TelemetryFrame; receivedAt: number }[]): Promise<number> {
    const f = await factsOf(vehicleId);
    if (!f || recent.length === 0) return 0;
    let replayed = 0;
    const recorded = await alarms.lastTransitions(vehicleId);
    const found = engine.onFrames(
      vehicleId,
      { model: f.model, profile: f.profile },
      recent.map((r) => r.frame),
      recent[recent.length - 1]!.receivedAt,
    );
    for (const t of found) {
      const last = recorded.get(t.rule.id);
      if (last !== undefined && t.at <= last) {
        replayed++;
        continue;
      }
      await handle(t, f);
    }
    return replayed;
  }

  /** Puts a vehicle's active alarms back into the engine (not those of its previous unit). */
  function restore(f: VehicleFacts, a: Alarm) {
    // an alarm left active by the vehicle's previous unit is not the current unit's state
    if (a.customerId === f.customerId)
      engine.restoreActive(a.vehicleId, { model: f.model, profile: f.profile }, a.ruleId, a.raisedAt);
  }

  /**
   * Re-evaluates the recent window of every vehicle (see `recoveryMs`). The window was (partly)
   * evaluated before the restart: a transition at or before the last one recorded for its alarm is
   * already in the records and is not applied again, so a fault that came and went in the window
   * is not raised a second time (nor its alarm re-activated, nor anything announced).
   */
  async function recover(): Promise<void> {
    const window = options.recoveryMs ?? 0;
    if (!window || !deps.frames || !deps.vehicleIds) return;
    const to = now();
    const startedAt = performance.now();
    let frames = 0;
    let replayed = 0;
    for (const vehicleId of await deps.vehicleIds()) {
      if (deps.ownership && !deps.ownership.owns(vehicleId)) continue;
      const recent = await deps.frames(vehicleId, to - window, to);
      if (recent.length === 0) continue;
      frames += recent.length;
      await enqueue(vehicleId, async () => {
        replayed += await replay(vehicleId, recent);
      });
    }
    if (frames)
      log.info(
        {
          frames,
          windowMs: window,
          transitionsAlreadyRecorded: replayed,
          ms: Math.round(performance.now() - startedAt),
        },
        'recent telemetry re-evaluated after start',
      );
  }

  return {
    engine,
    /** The alarm store; an acknowledgement by hand is announced (`alarm.updated`) like the engine's own changes. */
    alarms: {
      ...alarms,
      async acknowledge(id: number, actor: string, comment?: string, visibility?: NoteVisibility) {
        const alarm = await alarms.acknowledge(id, actor, comment, visibility);
        bus.emit('alarm.updated', { alarm });
        return alarm;
      },
    },
    tickets,
    incidents,
    plans: deps.plans,
    /** The fault codes the rules raise, with their titles in both languages (the first rule of each code). */
    faultTitles(): Record<string, { en: string; zh: string }> {
      const out: Record<string, { en: string; zh: string }> = {};
      for (const r of deps.rules.rules) out[r.code] ??= r.title;
      return out;
    },
    /** The limits of a vehicle's fields from the rules that apply to its model and profile. */
    limits(model: string, profile: PowerProfile): FieldLimit[] {
      return fieldLimits(deps.rules.forModel(model), profile);
    },
    /**
     * Cluster mode: this node is (perhaps) the vehicle's new owner. In the vehicle's queue, before
     * any frame that arrives after this call: `take` takes the lease and answers whether it changed
     * hands; if so the vehicle's rule state is rebuilt as at start — its active alarms restored, then
     * the stored recent window (`recoveryMs`) evaluated again, transitions already recorded skipped —
     * so a fault continuing across the move is neither lost nor raised twice.
     */
    adopt(vehicleId: string, take: () => Promise<boolean>): Promise<void> {
      return enqueue(vehicleId, async () => {
        if (!(await take())) return;
        engine.forget(vehicleId);
        facts.delete(vehicleId);
        const f = await factsOf(vehicleId);
        if (!f) return;
        for (const a of await alarms.activeOf(vehicleId)) restore(f, a);
        const window = options.recoveryMs ?? 0;
        if (!window || !deps.frames) return;
        const to = now();
        const replayed = await replay(vehicleId, await deps.frames(vehicleId, to - window, to));
        log.debug({ vehicleId, transitionsAlreadyRecorded: replayed }, 'vehicle adopted: rule state rebuilt');
      });
    },
    /** Cluster mode: another node owns the vehicle now; its rule state here is dropped. */
    drop(vehicleId: string): void {
      engine.forget(vehicleId);
      void enqueue(vehicleId, async () => engine.forget(vehicleId));
    },
    async start() {
      for (const a of await alarms.allActive()) {
        if (deps.ownership && !deps.ownership.owns(a.vehicleId)) continue;
        const f = await factsOf(a.vehicleId);
        if (f) restore(f, a);
      }
      unsubscribe.push(
        bus.on('telemetry.stored', onStored),
        bus.on('registry.changed', (e) => {
          if (e.subject !== 'vehicle') return;
          facts.delete(e.id);
          // removed, or transferred to another unit (`updated`): the new unit starts with no alarm state
          if (e.change === 'removed' || e.change === 'updated') engine.forget(e.id);
        }),
      );
      await recover();
      ticker = setInterval(() => {
        const byVehicle = new Map<string, RuleTransition[]>();
        for (const t of engine.tick(now())) byVehicle.set(t.vehicleId, [...(byVehicle.get(t.vehicleId) ?? []), t]);
        for (const [vehicleId, list] of byVehicle) {
          void enqueue(vehicleId, async () => {
            const f = await factsOf(vehicleId);
            if (f) for (const t of list) await handle(t, f);
          });
        }
      }, options.tickMs);
      ticker.unref();
    },
    /** Resolves when all queued work is done (tests, shutdown). */
    async idle() {
      while (queues.size) await Promise.all([...queues.values()]);
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      for (const u of unsubscribe.splice(0)) u();
      await this.idle();
    },
  };
}

export type Diagnostics = ReturnType<typeof createDiagnostics>;
