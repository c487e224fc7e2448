import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { loadChannelsFile, NO_CHANNELS, type ChannelSettings } from '../notifications/channel-config.ts';
import type { Channel } from '../notifications/channels/channel.ts';
import { createDingtalkChannel } from '../notifications/channels/dingtalk.ts';
import { createEmailChannel } from '../notifications/channels/email.ts';
import { createInboxChannel } from '../notifications/channels/inbox.ts';
import { createWebhookChannel } from '../notifications/channels/webhook.ts';
import { createWecomChannel } from '../notifications/channels/wecom.ts';
import { createDeliveries } from '../notifications/deliveries.ts';
import { createDispatcher } from '../notifications/dispatcher.ts';
import type { Channel as ChannelName } from '../notifications/outbox.ts';
import type { RecordsDb } from '../records/db.ts';
import type { PlatformConfig } from './config.ts';

export interface NotificationDeliveryDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on' | 'emit'>;
  records: RecordsDb;
  log: Logger;
  counters: Counters;
  now: () => number;
  random?: () => number;
  /** The channels file as read (loadChannelsFile); default: read NOTIFY_CHANNELS_FILE here. */
  channels?: ChannelSettings;
  /** Cluster mode: only the leader delivers (cluster/leader.ts). */
  gate?: () => boolean;
}

type NotifySettings = Pick<
  PlatformConfig,
  | 'NOTIFY_CHANNELS_FILE'
  | 'NOTIFY_MAX_TRIES'
  | 'NOTIFY_BACKOFF_BASE_MS'
  | 'NOTIFY_BACKOFF_MAX_MS'
  | 'NOTIFY_POLL_MS'
  | 'NOTIFY_CONCURRENCY'
  | 'NOTIFY_SEND_TIMEOUT_MS'
  | 'NOTIFY_STOP_TIMEOUT_MS'
  | 'PUBLIC_URL'
>;

/**
 * Notification delivery as the platform runs it: the channels of the deployment's channels file
 * (none: only the console inbox), the dispatcher over the outbox, and the deliveries/inbox store the
 * console uses. The channels file is read and validated here, at start-up.
 */
export function createNotificationDelivery(deps: NotificationDeliveryDeps, config: NotifySettings) {
  const settings =
    deps.channels ?? (config.NOTIFY_CHANNELS_FILE ? loadChannelsFile(config.NOTIFY_CHANNELS_FILE) : NO_CHANNELS);
  const timeoutMs = config.NOTIFY_SEND_TIMEOUT_MS;
  const publicUrl = config.PUBLIC_URL ? { publicUrl: config.PUBLIC_URL } : {};
  const channels: Partial<Record<ChannelName, Channel>> = { inbox: createInboxChannel() };
  if (settings.smtp)
    channels.email = createEmailChannel({ smtp: settings.smtp, timeoutMs, maxConnections: config.NOTIFY_CONCURRENCY });
  if (settings.webhooks.length)
    channels.webhook = createWebhookChannel({ endpoints: settings.webhooks, timeoutMs, now: deps.now, ...publicUrl });
  if (settings.robots.some((r) => r.kind === 'dingtalk'))
    channels.dingtalk = createDingtalkChannel({ robots: settings.robots, timeoutMs, now: deps.now, ...publicUrl });
  if (settings.robots.some((r) => r.kind === 'wecom'))
    channels.wecom = createWecomChannel({ robots: settings.robots, timeoutMs, ...publicUrl });

  const log = deps.log.child({ module: 'notifications' });
  log.info(
    {
      channels: Object.keys(channels),
      webhooks: settings.webhooks.map((w) => w.id),
      robots: settings.robots.map((r) => `${r.kind}:${r.id}`),
    },
    'notification channels',
  );
  const dispatcher = createDispatcher(
    {
      db: deps.records,
      channels,
      bus: deps.bus,
      log,
      counters: deps.counters,
      now: deps.now,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.gate ? { gate: deps.gate } : {}),
    },
    {
      maxTries: config.NOTIFY_MAX_TRIES,
      backoffBaseMs: config.NOTIFY_BACKOFF_BASE_MS,
      backoffMaxMs: config.NOTIFY_BACKOFF_MAX_MS,
      pollMs: config.NOTIFY_POLL_MS,
      concurrency: config.NOTIFY_CONCURRENCY,
      stopTimeoutMs: config.NOTIFY_STOP_TIMEOUT_MS,
    },
  );
  const deliveries = createDeliveries({
    db: deps.records,
    now: deps.now,
    queued: () => deps.bus.emit('notification.enqueued', { count: 1 }),
  });
  return {
    dispatcher,
    deliveries,
    start: () => dispatcher.start(),
    stop: () => dispatcher.stop(),
  };
}

export type NotificationDelivery = ReturnType<typeof createNotificationDelivery>;
