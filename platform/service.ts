import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { Messages } from '../notifications/messages.ts';
import type { RecordsDb } from '../records/db.ts';
import { createServiceRecords } from '../service/stage.ts';
import type { PlatformConfig } from './config.ts';

type ServiceConfig = Pick<
  PlatformConfig,
  'SURVEY_LOW_SCORE' | 'SERVICE_MANAGER' | 'FIRST_FIX_DAYS' | 'SERVICE_TIME_ZONE'
>;

/**
 * The service records (surveys, outcomes, statistics, customer file) wired from the configuration:
 * the survey invitation goes through the notification messages (the unit's inboxes; the contacts get
 * `survey_due` from the producer when the ticket closes). Used by the platform and the tests.
 */
export function createServiceStage(
  deps: { bus: EventBus<PlatformEvents>; records: RecordsDb; log: Logger; now?: () => number; messages: Messages },
  config: ServiceConfig,
) {
  const now = deps.now ?? Date.now;
  return createServiceRecords(
    {
      db: deps.records,
      bus: deps.bus,
      log: deps.log,
      now,
      invite: (tx, ticket) =>
        deps.messages.toUnitInboxes(tx, ticket, 'survey_due', `ticket:${ticket.id}:survey`, now()),
      written: () => deps.bus.emit('notification.enqueued', { count: 1 }),
    },
    {
      lowScore: config.SURVEY_LOW_SCORE,
      serviceManager: config.SERVICE_MANAGER,
      repeatWindowMs: config.FIRST_FIX_DAYS * 86_400_000,
      timeZone: config.SERVICE_TIME_ZONE,
    },
  );
}
