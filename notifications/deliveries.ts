import { PlatformError } from '../core/errors.ts';
import { cursors as processCursors, type Cursors } from '../core/cursor.ts';
import type { RecordsDb } from '../records/db.ts';
import type { Channel, DeliveryStatus, Language, NotificationsTable } from './outbox.ts';
import { createDisabledTargets } from './targets.ts';
import './errors.ts';

/** One delivery as the admin's Deliveries view shows it. */
export interface DeliveryView {
  id: number;
  key: string;
  channel: Channel;
  target: string;
  kind: string;
  language: Language;
  customerId: string | null;
  vehicleId: string | null;
  ticketId: number | null;
  urgent: boolean;
  subject: string;
  status: DeliveryStatus;
  tries: number;
  nextAt: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

/** One item of an account's console inbox. */
export interface InboxItem {
  id: number;
  kind: string;
  subject: string;
  text: string;
  urgent: boolean;
  vehicleId: string | null;
  ticketId: number | null;
  createdAt: number;
  deliveredAt: number | null;
  readAt: number | null;
}

type Row = Omit<NotificationsTable, 'id'> & { id: number };

export function deliveryView(r: Row): DeliveryView {
  return {
    id: Number(r.id),
    key: r.key,
    channel: r.channel,
    target: r.target,
    kind: r.kind,
    language: r.language,
    customerId: r.customer_id,
    vehicleId: r.vehicle_id,
    ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
    urgent: r.urgent === 1,
    subject: r.subject,
    status: r.status,
    tries: r.tries,
    nextAt: Number(r.next_at),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}

export function inboxItem(r: Row): InboxItem {
  return {
    id: Number(r.id),
    kind: r.kind,
    subject: r.subject,
    text: r.body,
    urgent: r.urgent === 1,
    vehicleId: r.vehicle_id,
    ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
    createdAt: Number(r.created_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
    readAt: r.read_at === null ? null : Number(r.read_at),
  };
}

export interface DeliveryFilter {
  status?: DeliveryStatus[];
  channel?: Channel[];
  ticketId?: number;
  limit: number;
  cursor?: string;
}

/**
 * The outbox as people see it: the admin's list of deliveries (newest first, keyset paged), a
 * manual re-send of a failed delivery, enabling a disabled target, and each account's inbox.
 * `queued()` is called after a re-send commits, so the dispatcher delivers it at once.
 */
export function createDeliveries(deps: { db: RecordsDb; now: () => number; queued?: () => void; cursors?: Cursors }) {
  const { db, now } = deps;
  const cursors = deps.cursors ?? processCursors;
  const targets = createDisabledTargets({ db, now });
  /** An account's delivered inbox rows. */
  const inboxOf = (accountId: string) =>
    db
      .selectFrom('notifications')
      .where('channel', '=', 'inbox')
      .where('target', '=', accountId)
      .where('status', '=', 'delivered');

  return {
    async get(id: number): Promise<DeliveryView> {
      const row = await db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new PlatformError('NOTIFICATION_NOT_FOUND', `notification ${id} not found`);
      return deliveryView(row);
    },

    async page(f: DeliveryFilter): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
      const list = `notifications|${(f.status ?? []).join(',')}|${(f.channel ?? []).join(',')}|${f.ticketId ?? ''}`;
      let q = db.selectFrom('notifications').selectAll();
      if (f.status?.length) q = q.where('status', 'in', f.status);
      if (f.channel?.length) q = q.where('channel', 'in', f.channel);
      if (f.ticketId !== undefined) q = q.where('ticket_id', '=', f.ticketId);
      if (f.cursor !== undefined) {
        const [before] = cursors.decode(f.cursor, list, 1);
        q = q.where('id', '<', before!);
      }
      const rows = await q
        .orderBy('id', 'desc')
        .limit(f.limit + 1)
        .execute();
      const more = rows.length > f.limit;
      const page = rows.slice(0, f.limit).map(deliveryView);
      return { deliveries: page, nextCursor: more ? cursors.encode([page.at(-1)!.id], list) : null };
    },

    /** A failed delivery back to `pending`, due now, its tries counted from 0 (the key stays: receivers still deduplicate). */
    async resend(id: number): Promise<DeliveryView> {
      const at = now();
      const result = await db
        .updateTable('notifications')
        .set({ status: 'pending', tries: 0, next_at: at, updated_at: at })
        .where('id', '=', id)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        const current = await this.get(id);
        throw new PlatformError(
          'NOTIFICATION_NOT_FAILED',
          `notification ${id} is ${current.status}; only a failed delivery can be sent again`,
        );
      }
      deps.queued?.();
      return this.get(id);
    },

    disabledTargets: () => targets.list(),
    enableTarget: (id: string) => targets.enable(id),

    async inbox(
      accountId: string,
      f: { unread?: boolean; limit: number; cursor?: string },
    ): Promise<{ items: InboxItem[]; unread: number; nextCursor: string | null }> {
      const list = `inbox|${accountId}|${f.unread ? 'unread' : 'all'}`;
      let q = inboxOf(accountId).selectAll();
      if (f.unread) q = q.where('read_at', 'is', null);
      if (f.cursor !== undefined) {
        const [before] = cursors.decode(f.cursor, list, 1);
        q = q.where('id', '<', before!);
      }
      const rows = await q
        .orderBy('id', 'desc')
        .limit(f.limit + 1)
        .execute();
      const more = rows.length > f.limit;
      const items = rows.slice(0, f.limit).map(inboxItem);
      return {
        items,
        unread: await this.unread(accountId),
        nextCursor: more ? cursors.encode([items.at(-1)!.id], list) : null,
      };
    },

    async unread(accountId: string): Promise<number> {
      const row = await inboxOf(accountId)
        .where('read_at', 'is', null)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Marks one of the account's items read (again: no change); another account's item is NOTIFICATION_NOT_FOUND. */
    async markRead(accountId: string, id: number): Promise<InboxItem> {
      const row = await inboxOf(accountId).selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new PlatformError('NOTIFICATION_NOT_FOUND', `notification ${id} not found`);
      if (row.read_at !== null) return inboxItem(row);
      const at = now();
      await db
        .updateTable('notifications')
        .set({ read_at: at })
        .where('id', '=', id)
        .where('read_at', 'is', null)
        .execute();
      return inboxItem({ ...row, read_at: at });
    },

    async markAllRead(accountId: string): Promise<number> {
      const result = await db
        .updateTable('notifications')
        .set({ read_at: now() })
        .where('channel', '=', 'inbox')
        .where('target', '=', accountId)
        .where('status', '=', 'delivered')
        .where('read_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type Deliveries = ReturnType<typeof createDeliveries>;
