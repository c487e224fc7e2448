import { createHash } from 'node:crypto';
import type { RecordsDb } from '../records/db.ts';
import { enqueue, type Channel, type Language, type NewNotification } from './outbox.ts';
import { quietUntil, type QuietHours } from './contacts.ts';
import type { MessageKind } from './kinds.ts';
import type { Rendered } from './templates/templates.ts';

/**
 * Storm control, applied to every delivery as it is written into the outbox (in the event's own
 * transaction, so that what was decided commits with it):
 *
 * - **One message per incident.** An update of a story (`mergeable`: another alarm of an incident
 *   already told) that reaches a receiver within `mergeWindowMs` of a message of the same thread is
 *   not sent on its own: it is written `merged` and counted into that receiver's digest of the thread.
 * - **Rate limit.** A receiver (one channel target) who got `rateMax` messages in the last
 *   `rateWindowMs` gets further non-特急 messages folded into its digest the same way.
 * - **Quiet hours** hold non-特急 messages until they end (`held`, next_at = the end); 特急
 *   (extra urgent) messages and pages are never held by them.
 *
 * A digest is one `held` row per receiver and thread, due `mergeWindowMs` after its first update
 * (or when the quiet hours end, if later), rewritten ("N more updates") with every update merged
 * into it while it is still held; the dispatcher delivers it when its next_at passes like any held
 * row. An update that arrives after the digest went out starts a new digest.
 */
export interface StormOptions {
  mergeWindowMs: number;
  rateMax: number;
  rateWindowMs: number;
}

/** One receiver: a customer contact or a staff account, with where it is reached. */
export interface Recipient {
  /** `contact:7`, `account:li.wei`: part of the idempotency key. */
  key: string;
  language: Language;
  channels: { channel: Channel; target: string }[];
  quietHours: QuietHours | null;
  timeZone: string;
  customerId: string | null;
  accountId: string | null;
}

/** One message of one event, rendered per language. */
export interface Message {
  kind: MessageKind;
  /** The event, deterministic (e.g. `ticket:42:opened`): with the receiver it is the delivery's key. */
  eventKey: string;
  thread: string | null;
  /** 特急 and pages: never held by quiet hours nor by the rate limit. */
  urgent: boolean;
  /** An update of a story already told: merged into a digest within the merge window. */
  mergeable: boolean;
  vehicleId: string | null;
  ticketId: number | null;
  incidentId: number | null;
  customerId: string | null;
  render: (language: Language, recipient: Recipient) => Rendered;
  /** The digest's text for this receiver (vehicle name, link). */
  digest: (language: Language, count: number, updates: string[], recipient: Recipient) => Rendered;
  payload?: unknown;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 10);
const DIGEST_LINES = 20;

export function createStormControl(options: StormOptions) {
  async function recentCount(tx: RecordsDb, channel: Channel, target: string, since: number, thread?: string) {
    let q = tx
      .selectFrom('notifications')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('channel', '=', channel)
      .where('target', '=', target)
      .where('created_at', '>', since)
      .where('status', '<>', 'merged');
    if (thread !== undefined) q = q.where('thread', '=', thread);
    return Number((await q.executeTakeFirst())?.n ?? 0);
  }

  async function toDigest(
    tx: RecordsDb,
    row: NewNotification,
    message: Message,
    recipient: Recipient,
    digestThread: string,
    quietEnd: number | null,
    at: number,
  ): Promise<void> {
    // the update itself, kept as merged (its key makes a replay a no-op)
    const added = await enqueue(tx, [row], at);
    if (added === 0) return;
    await tx
      .updateTable('notifications')
      .set({ status: 'merged', updated_at: at })
      .where('key', '=', row.key)
      .execute();
    const open = await tx
      .selectFrom('notifications')
      .select(['id', 'payload'])
      .where('kind', '=', 'digest')
      .where('channel', '=', row.channel)
      .where('target', '=', row.target)
      .where('thread', '=', digestThread)
      .where('status', '=', 'held')
      .where('next_at', '>', at)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    const before = open?.payload ? (JSON.parse(open.payload) as { count: number; updates: string[] }) : undefined;
    const count = (before?.count ?? 0) + 1;
    const updates = [...(before?.updates ?? []), row.subject].slice(-DIGEST_LINES);
    const text = message.digest(recipient.language, count, updates, recipient);
    const payload = JSON.stringify({ kind: 'digest', count, updates, thread: message.thread });
    if (open) {
      await tx
        .updateTable('notifications')
        .set({
          subject: text.subject,
          body: text.text,
          html: text.html,
          payload,
          urgent: message.urgent ? 1 : 0,
          updated_at: at,
        })
        .where('id', '=', open.id)
        .execute();
      return;
    }
    const due = Math.max(at + options.mergeWindowMs, message.urgent ? 0 : (quietEnd ?? 0));
    await enqueue(
      tx,
      [
        {
          ...row,
          key: `digest:${digestThread}:${row.channel}:${short(row.target)}:${at}`,
          kind: 'digest',
          thread: digestThread,
          subject: text.subject,
          text: text.text,
          html: text.html,
          payload: { kind: 'digest', count, updates, thread: message.thread },
          holdUntil: due,
        },
      ],
      at,
    );
  }

  return {
    /** Writes one message to one receiver over each of its channels, as storm control decides. */
    async send(tx: RecordsDb, message: Message, recipient: Recipient, at: number): Promise<void> {
      const rendered = message.render(recipient.language, recipient);
      const quietEnd = message.urgent ? null : quietUntil(recipient.quietHours, recipient.timeZone, at);
      for (const { channel, target } of recipient.channels) {
        const row: NewNotification = {
          key: `${message.eventKey}:${recipient.key}:${channel}:${short(target)}`,
          channel,
          target,
          kind: message.kind,
          language: recipient.language,
          // the receiver's unit only: a staff member's row (a page about a unit's ticket) is no customer's
          customerId: recipient.customerId,
          accountId: recipient.accountId,
          vehicleId: message.vehicleId,
          ticketId: message.ticketId,
          incidentId: message.incidentId,
          urgent: message.urgent,
          thread: message.thread,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          payload: message.payload ?? { kind: message.kind, ticketId: message.ticketId, vehicleId: message.vehicleId },
          ...(quietEnd !== null ? { holdUntil: quietEnd } : {}),
        };
        if (
          message.mergeable &&
          message.thread &&
          (await recentCount(tx, channel, target, at - options.mergeWindowMs, message.thread)) > 0
        ) {
          await toDigest(tx, row, message, recipient, message.thread, quietEnd, at);
          continue;
        }
        if (!message.urgent && (await recentCount(tx, channel, target, at - options.rateWindowMs)) >= options.rateMax) {
          await toDigest(tx, row, message, recipient, `rate:${recipient.key}`, quietEnd, at);
          continue;
        }
        await enqueue(tx, [row], at);
      }
    },
  };
}

export type StormControl = ReturnType<typeof createStormControl>;
