import type { Generated } from 'kysely';
import { PlatformError } from '../core/errors.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import type { TicketLevel } from '../diagnostics/tickets/status.ts';
import type { Channel, Language } from './outbox.ts';
import type { CustomerKind } from './kinds.ts';
import './errors.ts';

/**
 * Who can be told: contacts of a customer unit (people of the unit: name, role, phone, email,
 * language, channels, quiet hours), managed by staff for any unit and by the unit's own customer
 * accounts for their unit; and one contact per staff account (its language, channels and quiet
 * hours; the console inbox always). Subscriptions narrow what a customer contact gets
 * (subscriptions.ts); without any, a contact gets everything of its unit at every level.
 */
export interface NotificationContactsTable {
  id: Generated<number>;
  /** The unit (customer contacts); null for a staff account's contact. */
  customer_id: string | null;
  /** The staff account (staff contacts); null for customer contacts. */
  account_id: string | null;
  name: string;
  role: string | null;
  phone: string | null;
  email: string | null;
  language: Language;
  /** JSON: ContactChannel[]. */
  channels: string;
  /** Quiet hours, local "HH:MM" in `time_zone`; both null: none. */
  quiet_from: string | null;
  quiet_to: string | null;
  time_zone: string;
  created_at: number;
  updated_at: number;
}

export interface NotificationSubscriptionsTable {
  id: Generated<number>;
  contact_id: number;
  vehicle_id: string | null;
  /** JSON: CustomerKind[]; empty: every kind. */
  kinds: string;
  min_level: TicketLevel;
  created_at: number;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    notification_contacts: NotificationContactsTable;
    notification_subscriptions: NotificationSubscriptionsTable;
  }
}

/** Channels a contact can be reached on besides the console inbox: the target is an address or a configured id. */
export const CONTACT_CHANNELS = ['email', 'webhook', 'dingtalk', 'wecom'] as const satisfies readonly Channel[];
export interface ContactChannel {
  channel: (typeof CONTACT_CHANNELS)[number];
  /** Email address, webhook endpoint id, robot id (the delivery side's channel configuration). */
  target: string;
}

export interface QuietHours {
  /** Local "HH:MM". */
  from: string;
  to: string;
}

export interface Subscription {
  id: number;
  vehicleId: string | null;
  /** Empty: every kind. */
  kinds: CustomerKind[];
  minLevel: TicketLevel;
}

export interface NotificationContact {
  id: number;
  customerId: string | null;
  accountId: string | null;
  name: string;
  role: string | null;
  phone: string | null;
  email: string | null;
  language: Language;
  channels: ContactChannel[];
  quietHours: QuietHours | null;
  timeZone: string;
  subscriptions: Subscription[];
  updatedAt: number;
}

export interface ContactInput {
  name: string;
  role?: string | null;
  phone?: string | null;
  email?: string | null;
  language: Language;
  channels: ContactChannel[];
  quietHours?: QuietHours | null;
  timeZone?: string;
}

export interface SubscriptionInput {
  vehicleId?: string | null;
  kinds?: CustomerKind[];
  minLevel: TicketLevel;
}

type Row = {
  id: number;
  customer_id: string | null;
  account_id: string | null;
  name: string;
  role: string | null;
  phone: string | null;
  email: string | null;
  language: Language;
  channels: string;
  quiet_from: string | null;
  quiet_to: string | null;
  time_zone: string;
  updated_at: number;
};

/** The contacts (and their subscriptions) over a records handle: the database or a transaction. */
export function createContacts(deps: { db: RecordsDb; now?: () => number }, options: { timeZone: string }) {
  const now = deps.now ?? Date.now;

  async function withSubscriptions(h: RecordsDb, rows: Row[]): Promise<NotificationContact[]> {
    if (rows.length === 0) return [];
    const subs = await h
      .selectFrom('notification_subscriptions')
      .selectAll()
      .where(
        'contact_id',
        'in',
        rows.map((r) => Number(r.id)),
      )
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      customerId: r.customer_id,
      accountId: r.account_id,
      name: r.name,
      role: r.role,
      phone: r.phone,
      email: r.email,
      language: r.language,
      channels: JSON.parse(r.channels) as ContactChannel[],
      quietHours: r.quiet_from && r.quiet_to ? { from: r.quiet_from, to: r.quiet_to } : null,
      timeZone: r.time_zone,
      updatedAt: Number(r.updated_at),
      subscriptions: subs
        .filter((s) => Number(s.contact_id) === Number(r.id))
        .map((s) => ({
          id: Number(s.id),
          vehicleId: s.vehicle_id,
          kinds: JSON.parse(s.kinds) as CustomerKind[],
          minLevel: s.min_level,
        })),
    }));
  }

  const values = (input: ContactInput, at: number) => ({
    name: input.name,
    role: input.role ?? null,
    phone: input.phone ?? null,
    email: input.email ?? null,
    language: input.language,
    channels: JSON.stringify(input.channels),
    quiet_from: input.quietHours?.from ?? null,
    quiet_to: input.quietHours?.to ?? null,
    time_zone: input.timeZone ?? options.timeZone,
    updated_at: at,
  });

  async function get(id: number, h: RecordsDb = deps.db): Promise<NotificationContact> {
    const row = await h.selectFrom('notification_contacts').selectAll().where('id', '=', id).executeTakeFirst();
    const [c] = row ? await withSubscriptions(h, [row]) : [];
    if (!c) throw new PlatformError('CONTACT_NOT_FOUND', `contact ${id} not found`);
    return c;
  }

  return {
    get,
    /** The contacts of a customer unit. */
    async ofCustomer(customerId: string, h: RecordsDb = deps.db): Promise<NotificationContact[]> {
      const rows = await h
        .selectFrom('notification_contacts')
        .selectAll()
        .where('customer_id', '=', customerId)
        .orderBy('id')
        .execute();
      return withSubscriptions(h, rows);
    },
    /** A staff account's own contact, or undefined (then: inbox only, default language and zone). */
    async ofAccount(accountId: string, h: RecordsDb = deps.db): Promise<NotificationContact | undefined> {
      const row = await h
        .selectFrom('notification_contacts')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row ? (await withSubscriptions(h, [row]))[0] : undefined;
    },
    async addToCustomer(customerId: string, input: ContactInput): Promise<NotificationContact> {
      const at = now();
      const res = await deps.db
        .insertInto('notification_contacts')
        .values({ ...values(input, at), customer_id: customerId, account_id: null, created_at: at })
        .returning('id')
        .executeTakeFirstOrThrow();
      return get(Number(res.id));
    },
    async update(id: number, input: ContactInput): Promise<NotificationContact> {
      const res = await deps.db
        .updateTable('notification_contacts')
        .set(values(input, now()))
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new PlatformError('CONTACT_NOT_FOUND', `contact ${id} not found`);
      return get(id);
    },
    /** Sets a staff account's own contact (created on first use). */
    async setForAccount(accountId: string, input: ContactInput): Promise<NotificationContact> {
      const at = now();
      return inTransaction(deps.db, async (tx) => {
        const existing = await tx
          .selectFrom('notification_contacts')
          .select('id')
          .where('account_id', '=', accountId)
          .executeTakeFirst();
        if (existing) {
          await tx.updateTable('notification_contacts').set(values(input, at)).where('id', '=', existing.id).execute();
          return get(Number(existing.id), tx);
        }
        const res = await tx
          .insertInto('notification_contacts')
          .values({ ...values(input, at), customer_id: null, account_id: accountId, created_at: at })
          .returning('id')
          .executeTakeFirstOrThrow();
        return get(Number(res.id), tx);
      });
    },
    async remove(id: number): Promise<void> {
      await inTransaction(deps.db, async (tx) => {
        await tx.deleteFrom('notification_subscriptions').where('contact_id', '=', id).execute();
        const res = await tx.deleteFrom('notification_contacts').where('id', '=', id).executeTakeFirst();
        if (Number(res.numDeletedRows) !== 1) throw new PlatformError('CONTACT_NOT_FOUND', `contact ${id} not found`);
      });
    },
    /** Replaces a contact's subscriptions; an empty list: everything of its unit at every level. */
    async setSubscriptions(id: number, subs: SubscriptionInput[]): Promise<NotificationContact> {
      const at = now();
      return inTransaction(deps.db, async (tx) => {
        await get(id, tx);
        await tx.deleteFrom('notification_subscriptions').where('contact_id', '=', id).execute();
        if (subs.length)
          await tx
            .insertInto('notification_subscriptions')
            .values(
              subs.map((s) => ({
                contact_id: id,
                vehicle_id: s.vehicleId ?? null,
                kinds: JSON.stringify(s.kinds ?? []),
                min_level: s.minLevel,
                created_at: at,
              })),
            )
            .execute();
        return get(id, tx);
      });
    },
  };
}

export type Contacts = ReturnType<typeof createContacts>;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight of `at` in `timeZone`. */
function localMinutes(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(at))
    .reduce<Record<string, string>>((o, p) => ({ ...o, [p.type]: p.value }), {});
  return Number(parts.hour) * 60 + Number(parts.minute);
}

/**
 * When the quiet hours that `at` falls in end (epoch ms), or null when `at` is not in them. The range
 * may span midnight ("22:00"–"07:00").
 */
export function quietUntil(quiet: QuietHours | null, timeZone: string, at: number): number | null {
  if (!quiet) return null;
  const m = localMinutes(at, timeZone);
  const from = minutes(quiet.from);
  const to = minutes(quiet.to);
  if (from === to) return null;
  const inside = from < to ? m >= from && m < to : m >= from || m < to;
  if (!inside) return null;
  const wait = (to - m + 1440) % 1440;
  return at - (at % 60_000) + wait * 60_000;
}
