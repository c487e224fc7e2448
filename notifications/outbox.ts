import { inTransaction, insertInChunks, type RecordsDb } from '../records/db.ts';

/**
 * The notification outbox. A notification is written as rows here **in the same transaction as the
 * event that causes it** (a ticket opened, a deadline breached, …), one row per delivery: one receiver
 * over one channel. The dispatcher delivers from these rows; nothing is sent that was not committed
 * and nothing committed is forgotten, whatever stops the process.
 *
 * `key` is the delivery's idempotency key: unique in the table (enqueueing the same key again is a
 * no-op, so replays and re-evaluation cannot send twice) and shown to the receiver (webhook header,
 * message id) so that a receiver can drop the repeats at-least-once delivery may bring.
 */
export const CHANNELS = ['email', 'webhook', 'dingtalk', 'wecom', 'inbox'] as const;
export type Channel = (typeof CHANNELS)[number];

export const LANGUAGES = ['en', 'zh'] as const;
export type Language = (typeof LANGUAGES)[number];

/**
 * `pending`: to be delivered at `next_at`; `held`: kept back (quiet hours, a rate limit) until
 * `next_at`, possibly merged into a digest; `delivered`; `failed`: gave up after the last try (a
 * person may re-send); `merged`: folded into another delivery (a digest), not sent on its own.
 */
/*
 * Digests (the producing side, notifications/storm.ts): updates folded into a digest are written
 * `merged` at once and never delivered; the digest itself is one `held` row (kind `digest`) per
 * receiver and thread, whose subject/body/html/payload the producer rewrites ("N more updates")
 * while it is held and its next_at is still in the future. The dispatcher therefore reads a held
 * row's content when it delivers it (after next_at), and delivers it like any held row.
 */
export const DELIVERY_STATUSES = ['pending', 'held', 'delivered', 'failed', 'merged'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface NotificationsTable {
  id: import('kysely').Generated<number>;
  key: string;
  channel: Channel;
  /** Email address, webhook endpoint id, robot id, or account id (inbox). */
  target: string;
  kind: string;
  language: Language;
  customer_id: string | null;
  account_id: string | null;
  vehicle_id: string | null;
  ticket_id: number | null;
  incident_id: number | null;
  urgent: number;
  /** Deliveries of one story (an incident, a ticket) share a thread: updates merge, digests count. */
  thread: string | null;
  subject: string;
  /** Plain text. */
  body: string;
  html: string | null;
  /** JSON: the structured event for webhooks (and robots' extra fields). */
  payload: string | null;
  status: DeliveryStatus;
  tries: number;
  next_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  read_at: number | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    notifications: NotificationsTable;
  }
}

/** One delivery to put in the outbox. */
export interface NewNotification {
  key: string;
  channel: Channel;
  target: string;
  kind: string;
  language: Language;
  customerId?: string | null;
  accountId?: string | null;
  vehicleId?: string | null;
  ticketId?: number | null;
  incidentId?: number | null;
  /** 特急 and pages: never held by quiet hours. */
  urgent: boolean;
  thread?: string | null;
  subject: string;
  text: string;
  html?: string | null;
  payload?: unknown;
  /** `held` until `notBefore` (quiet hours, rate limit); default: `pending`, due now. */
  holdUntil?: number;
}

/**
 * Writes deliveries into the outbox inside `db`'s transaction (or its own). A key already there is
 * skipped. Returns how many rows were new.
 */
export async function enqueue(db: RecordsDb, items: readonly NewNotification[], at: number): Promise<number> {
  if (items.length === 0) return 0;
  return inTransaction(db, async (tx) => {
    let added = 0;
    await insertInChunks(items, async (chunk) => {
      const result = await tx
        .insertInto('notifications')
        .values(
          chunk.map((n) => ({
            key: n.key,
            channel: n.channel,
            target: n.target,
            kind: n.kind,
            language: n.language,
            customer_id: n.customerId ?? null,
            account_id: n.accountId ?? null,
            vehicle_id: n.vehicleId ?? null,
            ticket_id: n.ticketId ?? null,
            incident_id: n.incidentId ?? null,
            urgent: n.urgent ? 1 : 0,
            thread: n.thread ?? null,
            subject: n.subject,
            body: n.text,
            html: n.html ?? null,
            payload: n.payload === undefined ? null : JSON.stringify(n.payload),
            status: n.holdUntil !== undefined && n.holdUntil > at ? ('held' as const) : ('pending' as const),
            tries: 0,
            next_at: n.holdUntil !== undefined && n.holdUntil > at ? n.holdUntil : at,
            last_error: null,
            created_at: at,
            updated_at: at,
            delivered_at: null,
            read_at: null,
          })),
        )
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0n);
    });
    return added;
  });
}
