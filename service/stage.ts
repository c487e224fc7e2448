import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { Ticket } from '../diagnostics/types.ts';
import type { RecordsDb } from '../records/db.ts';
import { createCustomerFiles } from './customer-file.ts';
import { createOutcomes } from './outcomes.ts';
import { createStats } from './stats.ts';
import { createSurveys } from './surveys.ts';

export interface ServiceRecordsOptions {
  /** SURVEY_LOW_SCORE. */
  lowScore: number;
  /** SERVICE_MANAGER: who a follow-up is assigned to. */
  serviceManager: string | null;
  /** FIRST_FIX_DAYS in ms. */
  repeatWindowMs: number;
  /** SERVICE_TIME_ZONE: the statistics' calendar periods. */
  timeZone: string;
}

/**
 * The service records after a ticket (issue 13 items 5–7): the satisfaction survey and follow-up,
 * the outcome of closed tickets and the statistics over them, the customer file. Hears the ticket
 * service only through the bus (`ticket.updated`).
 */
export function createServiceRecords(
  deps: {
    db: RecordsDb;
    bus: EventBus<PlatformEvents>;
    log: Logger;
    now?: () => number;
    /** Tells the unit that a survey waits, inside the survey's transaction (notifications). */
    invite?: (tx: RecordsDb, ticket: Ticket) => Promise<number>;
    written?: () => void;
  },
  options: ServiceRecordsOptions,
) {
  const log = deps.log.child({ module: 'service' });
  const surveys = createSurveys(
    {
      db: deps.db,
      bus: deps.bus,
      log,
      ...(deps.now ? { now: deps.now } : {}),
      ...(deps.invite ? { invite: deps.invite } : {}),
      ...(deps.written ? { written: deps.written } : {}),
    },
    { lowScore: options.lowScore, serviceManager: options.serviceManager },
  );
  const outcomes = createOutcomes({ db: deps.db, bus: deps.bus, log });
  const stats = createStats(
    { db: deps.db },
    { repeatWindowMs: options.repeatWindowMs, timeZone: options.timeZone, lowScore: options.lowScore },
  );
  const files = createCustomerFiles({ db: deps.db });
  return {
    surveys,
    outcomes,
    stats,
    files,
    lowScore: options.lowScore,
    start() {
      outcomes.start();
      surveys.start();
    },
    /** Stops listening; what was heard is finished first. */
    async stop() {
      surveys.stop();
      outcomes.stop();
      await this.idle();
    },
    /** Resolves once everything heard on the bus is written (tests). */
    async idle() {
      await outcomes.idle();
      await surveys.idle();
    },
  };
}

export type ServiceRecords = ReturnType<typeof createServiceRecords>;
