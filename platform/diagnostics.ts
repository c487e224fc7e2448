import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { createDiagnostics, type VehicleFacts, type VehicleOwnership } from '../diagnostics/diagnostics.ts';
import { loadPlanFile, type PlanBook } from '../diagnostics/plans/plans.ts';
import { loadRuleFile, type RuleSet } from '../diagnostics/rules/load.ts';
import { createTicketService, type SnapshotWindow } from '../diagnostics/tickets/service.ts';
import { createServiceOrders } from '../diagnostics/service-orders/orders.ts';
import { createModeSteps } from '../diagnostics/tickets/mode-steps.ts';
import type { RecordsDb } from '../records/db.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import type { PlatformConfig } from './config.ts';
import { createRoster } from '../remote/roster.ts';
import { createAccounts } from '../web/auth/accounts.ts';
import { createNotificationsStage, type NotificationsConfig } from './notifications.ts';
import type { TemplateBook } from '../notifications/templates/templates.ts';

const DEFAULT_RULES = new URL('../diagnostics/rules/default-rules.yaml', import.meta.url).pathname;
const DEFAULT_PLANS = new URL('../diagnostics/plans/default-plans.yaml', import.meta.url).pathname;

/** The settings diagnostics and the ticket service are built from. */
export type DiagnosticsConfig = NotificationsConfig &
  Pick<
    PlatformConfig,
    | 'RULES_FILE'
    | 'PLANS_FILE'
    | 'DUTY_LEAD'
    | 'ESCALATION_ROLE'
    | 'THIRTY_MINUTE_RULE'
    | 'DIAGNOSTICS_TICK_MS'
    | 'DIAGNOSTICS_STALE_AFTER_MS'
    | 'DIAGNOSTICS_RECOVERY_MS'
    | 'ALARM_FLAP_WINDOW_MS'
    | 'SERVICE_TIME_ZONE'
  >;

export interface DiagnosticsStageDeps {
  bus: EventBus<PlatformEvents>;
  records: RecordsDb;
  log: Logger;
  counters: Counters;
  now?: () => number;
  /** The registry, or anything that answers the same for the vehicles diagnostics sees. */
  vehicles: {
    get(id: string): Promise<VehicleFacts | undefined>;
    ids(): Promise<string[]>;
  };
  telemetry: Pick<TelemetryStore, 'series' | 'frames'>;
  /** Cluster mode: the vehicles this node owns and the fence of their alarm writes (cluster/vehicle-owners.ts). */
  ownership?: VehicleOwnership;
  /** Already loaded rules and plans (tests); else read from RULES_FILE / PLANS_FILE or the defaults. */
  rules?: RuleSet;
  plans?: PlanBook;
  /** Already loaded message templates (tests); else TEMPLATES_FILE or the defaults. */
  templates?: TemplateBook;
  /** Cluster mode: the ticket deadlines and paging's escalations fire on the leader only (cluster/leader.ts). */
  gate?: () => boolean;
  /** Cluster mode: how often the leader looks at the due times other nodes wrote. */
  gatePollMs?: number;
  /** Cluster mode: the fence of a breach's transaction (cluster/leader.ts). */
  fence?: (tx: RecordsDb) => Promise<boolean>;
}

/**
 * Diagnostics and the ticket service, wired from the configuration and the stores: the one way
 * they are built, by the platform (platform.ts) and by the tests. `start` and `stop` run both.
 */
export function createDiagnosticsStage(
  deps: DiagnosticsStageDeps,
  config: DiagnosticsConfig,
  options: { snapshot?: SnapshotWindow } = {},
) {
  const { bus, records, log, counters, vehicles, telemetry } = deps;
  const now = deps.now ?? Date.now;
  const rules = deps.rules ?? loadRuleFile(config.RULES_FILE ?? DEFAULT_RULES);
  const plans = deps.plans ?? loadPlanFile(config.PLANS_FILE ?? DEFAULT_PLANS);
  const gated = {
    ...(deps.gate ? { gate: deps.gate } : {}),
    ...(deps.gatePollMs ? { gatePollMs: deps.gatePollMs } : {}),
  };
  // notifications are produced inside the ticket's and the alarm's transactions (hooks below)
  const notifications = createNotificationsStage(
    {
      records,
      log: log.child({ module: 'notifications' }),
      plans,
      tickets: () => tickets,
      ...(deps.templates ? { templates: deps.templates } : {}),
      now,
      // pages committed by paging's own timer: the dispatcher delivers them at once
      written: () => bus.emit('notification.enqueued', { count: 1 }),
      ...gated,
    },
    config,
  );
  const tickets = createTicketService(
    {
      db: records,
      bus,
      log: log.child({ module: 'tickets' }),
      plans,
      series: (vehicleId, from, to, maxPoints) => telemetry.series({ vehicleId, from, to, maxPoints }),
      onChange: notifications.producer.ticketChanged,
      escalation: escalationTargets(records, now, config),
      now,
      ...gated,
      ...(deps.fence ? { fence: deps.fence } : {}),
    },
    {
      dutyLead: config.DUTY_LEAD,
      deadlineScope: config.THIRTY_MINUTE_RULE,
      ...(options.snapshot ? { snapshot: options.snapshot } : {}),
    },
  );
  // the service modes' own steps (on-site repair, return to factory, emergency replacement)
  const modeSteps = createModeSteps({ db: records, bus, log: log.child({ module: 'mode-steps' }), tickets, now });
  const serviceOrders = createServiceOrders({ db: records, log: log.child({ module: 'service-orders' }), now });
  const diagnostics = createDiagnostics(
    {
      bus,
      db: records,
      log: log.child({ module: 'diagnostics' }),
      counters,
      now,
      rules,
      plans,
      tickets,
      onAlarm: notifications.producer.alarmRaised,
      vehicle: async (id) => {
        const v = await vehicles.get(id);
        return v && { model: v.model, profile: v.profile, customerId: v.customerId, name: v.name };
      },
      frames: (vehicleId, from, to) => telemetry.frames(vehicleId, from, to),
      // ids only: the recovery at start does not make the registry keep the whole fleet in memory
      vehicleIds: () => vehicles.ids(),
      ...(deps.ownership ? { ownership: deps.ownership } : {}),
    },
    {
      staleAfterMs: config.DIAGNOSTICS_STALE_AFTER_MS,
      tickMs: config.DIAGNOSTICS_TICK_MS,
      flapWindowMs: config.ALARM_FLAP_WINDOW_MS,
      recoveryMs: config.DIAGNOSTICS_RECOVERY_MS,
      timeZone: config.SERVICE_TIME_ZONE,
    },
  );
  return {
    diagnostics,
    tickets,
    plans,
    notifications,
    /** What the web console asks of diagnostics (web/context.ts `diagnostics`). */
    forWeb: {
      alarms: diagnostics.alarms,
      tickets,
      serviceOrders,
      modeSteps,
      plans: diagnostics.plans,
      faultTitles: diagnostics.faultTitles,
      limits: diagnostics.limits,
    },
    async start() {
      await diagnostics.start();
      await tickets.start();
      await notifications.start();
    },
    async stop() {
      await diagnostics.stop();
      tickets.stop();
      notifications.stop();
    },
  };
}

export type DiagnosticsStage = ReturnType<typeof createDiagnosticsStage>;

/**
 * Who a missed deadline escalates to (issue 15, item 3): the duty lead of the shift on duty (the
 * roster, remote/roster.ts), else every active account of ESCALATION_ROLE; the ticket service falls
 * back to DUTY_LEAD only when this names nobody.
 */
export function escalationTargets(
  records: RecordsDb,
  now: () => number,
  config: Pick<PlatformConfig, 'ESCALATION_ROLE' | 'SERVICE_TIME_ZONE'>,
): (at: number) => Promise<string[]> {
  const accounts = createAccounts({ db: records, now });
  // read only: the roster's own checks of who may be named are the roster routes'
  const roster = createRoster({
    db: records,
    now,
    checkStaff: async () => undefined,
    timeZone: config.SERVICE_TIME_ZONE,
  });
  return async (at) => {
    const shift = await roster.onDuty(at);
    if (shift) {
      const lead = await accounts.get(shift.dutyLead);
      if (lead && !lead.disabled) return [lead.id];
    }
    return (await accounts.list({ role: config.ESCALATION_ROLE })).filter((a) => !a.disabled).map((a) => a.id);
  };
}
