import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.ts';
import type { PlanBook } from '../diagnostics/plans/plans.ts';
import type { TicketService } from '../diagnostics/tickets/service.ts';
import { createContacts } from '../notifications/contacts.ts';
import { createMessages } from '../notifications/messages.ts';
import { createPaging } from '../notifications/paging.ts';
import { createProducer } from '../notifications/producer.ts';
import { createStormControl } from '../notifications/storm.ts';
import { DEFAULT_TEMPLATES, loadTemplateFile, type TemplateBook } from '../notifications/templates/templates.ts';
import type { RecordsDb } from '../records/db.ts';
import type { PlatformConfig } from './config.ts';

/** The settings notifications are built from. */
export type NotificationsConfig = Pick<
  PlatformConfig,
  | 'PUBLIC_URL'
  | 'TEMPLATES_FILE'
  | 'NOTIFY_TIME_ZONE'
  | 'NOTIFY_LANGUAGE'
  | 'NOTIFY_MERGE_WINDOW_MS'
  | 'NOTIFY_RATE_MAX'
  | 'NOTIFY_RATE_WINDOW_MS'
  | 'PAGE_AT_RISK_MS'
  | 'PAGE_CHAIN'
  | 'SERVICE_MANAGER'
  | 'PAGE_SECRET'
  | 'DUTY_LEAD'
>;

/**
 * The producing side of notifications, wired from the configuration: contacts and subscriptions,
 * the templates (loaded and checked now: a bad file stops the start), storm control, paging and the
 * producer whose hooks the ticket service and diagnostics call inside their transactions.
 */
export function createNotificationsStage(
  deps: {
    records: RecordsDb;
    log: Logger;
    plans: PlanBook;
    /** The ticket service: its timeline (pages) and its reads inside a transaction. */
    tickets: () => Pick<TicketService, 'note' | 'getIn'>;
    templates?: TemplateBook;
    now?: () => number;
    /** Called after paging committed outbox rows of its own (escalations, at-risk pages). */
    written?: () => void;
    /** Cluster mode: paging's escalations fire on the leader only (cluster/leader.ts). */
    gate?: () => boolean;
    gatePollMs?: number;
  },
  config: NotificationsConfig,
) {
  const { records, log } = deps;
  const now = deps.now ?? Date.now;
  const templates = deps.templates ?? loadTemplateFile(config.TEMPLATES_FILE ?? DEFAULT_TEMPLATES);
  const contacts = createContacts({ db: records, now }, { timeZone: config.NOTIFY_TIME_ZONE });
  const storm = createStormControl({
    mergeWindowMs: config.NOTIFY_MERGE_WINDOW_MS,
    rateMax: config.NOTIFY_RATE_MAX,
    rateWindowMs: config.NOTIFY_RATE_WINDOW_MS,
  });
  const messages = createMessages(
    { templates, plans: deps.plans, contacts, storm },
    { publicUrl: config.PUBLIC_URL, timeZone: config.NOTIFY_TIME_ZONE, language: config.NOTIFY_LANGUAGE },
  );
  if (!config.PAGE_SECRET)
    log.warn('PAGE_SECRET is not set: page acknowledgement links are signed with a key of this run only');
  const paging = createPaging(
    {
      db: records,
      log: log.child({ module: 'paging' }),
      messages,
      tickets: {
        note: (tx, id, entry) => deps.tickets().note(tx, id, entry),
        getIn: (tx, id) => deps.tickets().getIn(tx, id),
      },
      now,
      ...(deps.written ? { written: deps.written } : {}),
      ...(deps.gate ? { gate: deps.gate } : {}),
      ...(deps.gatePollMs ? { gatePollMs: deps.gatePollMs } : {}),
    },
    {
      atRiskMs: config.PAGE_AT_RISK_MS,
      chain: config.PAGE_CHAIN,
      dutyLead: config.DUTY_LEAD,
      serviceManager: config.SERVICE_MANAGER,
      secret: config.PAGE_SECRET ?? randomBytes(32).toString('base64url'),
      publicUrl: config.PUBLIC_URL,
    },
  );
  const producer = createProducer({ messages, paging, ticketIn: (tx, id) => deps.tickets().getIn(tx, id), now });
  return {
    contacts,
    paging,
    producer,
    messages,
    templates,
    /** What the web console asks of notifications (web/context.ts `notifications`). */
    forWeb: { contacts, paging },
    start: () => paging.start(),
    stop: () => paging.stop(),
  };
}

export type NotificationsStage = ReturnType<typeof createNotificationsStage>;
