import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { TicketService } from '../diagnostics/tickets/service.ts';
import type { RecordsDb } from '../records/db.ts';
import type { VehicleRegistry } from '../registry/vehicles.ts';
import { createRemoteSessions } from '../remote/sessions.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import { createAccounts } from '../web/auth/accounts.ts';
import { sessionPeople } from '../web/public-names.ts';
import type { PlatformConfig } from './config.ts';

export type RemoteConfig = Pick<
  PlatformConfig,
  'SESSION_RING_MS' | 'SESSION_ABANDON_MS' | 'SERVICE_TIME_ZONE' | 'DUTY_LEAD'
>;

/**
 * The remote session records (remote/sessions.ts) wired from the configuration and the platform's
 * parts: the ticket service, the registry, the console accounts (who is staff, how people are
 * named) and the telemetry store's raw frames. The one way they are built, by the platform and the tests.
 */
export function createRemoteStage(
  deps: {
    bus: EventBus<PlatformEvents>;
    records: RecordsDb;
    log: Logger;
    now?: () => number;
    tickets: TicketService;
    vehicles: Pick<VehicleRegistry, 'get'>;
    telemetry: Pick<TelemetryStore, 'frames'>;
  },
  config: RemoteConfig,
) {
  const now = deps.now ?? Date.now;
  const accounts = createAccounts({ db: deps.records, now });
  return createRemoteSessions(
    {
      db: deps.records,
      bus: deps.bus,
      log: deps.log.child({ module: 'remote' }),
      now,
      tickets: {
        get: (id) => deps.tickets.get(id),
        list: (q) => deps.tickets.list(q),
        open: (request, actor) => deps.tickets.open(request, actor),
        transition: (id, action, actor, note) => deps.tickets.transition(id, action, actor, note),
        setServiceMode: (id, mode, actor) => deps.tickets.setServiceMode(id, mode, actor),
        comment: (id, actor, text) => deps.tickets.comment(id, actor, text),
      },
      vehicles: deps.vehicles,
      people: sessionPeople(accounts),
      frames: (vehicleId, from, to, limit) => deps.telemetry.frames(vehicleId, from, to, limit),
    },
    {
      ringMs: config.SESSION_RING_MS,
      abandonMs: config.SESSION_ABANDON_MS,
      timeZone: config.SERVICE_TIME_ZONE,
      dutyLead: config.DUTY_LEAD,
    },
  );
}
