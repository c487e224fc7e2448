import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import type { Channel } from './outbox.ts';
import './errors.ts';

export interface DisabledTargetsTable {
  /** The webhook endpoint's or robot's id (one space for both, see channel-config.ts). */
  id: string;
  channel: Channel;
  reason: string;
  disabled_at: number;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    notification_targets_disabled: DisabledTargetsTable;
  }
}

export interface DisabledTarget {
  id: string;
  channel: Channel;
  reason: string;
  disabledAt: number;
}

/**
 * Webhook endpoints and robots their receiver asked to stop (HTTP 410 Gone). A disabled target gets
 * nothing: its waiting deliveries failed when it was disabled, later ones fail at once, until an admin
 * enables it again (`POST /api/notifications/targets/:id/enable`); failed ones can then be re-sent.
 */
export function createDisabledTargets(deps: { db: RecordsDb; now: () => number }) {
  const { db, now } = deps;
  return {
    async list(): Promise<DisabledTarget[]> {
      const rows = await db.selectFrom('notification_targets_disabled').selectAll().orderBy('id').execute();
      return rows.map((r) => ({ id: r.id, channel: r.channel, reason: r.reason, disabledAt: Number(r.disabled_at) }));
    },
    async ids(): Promise<Set<string>> {
      const rows = await db.selectFrom('notification_targets_disabled').select('id').execute();
      return new Set(rows.map((r) => r.id));
    },
    /** Disables the target and fails its pending and held deliveries, in `tx`'s transaction. */
    async disable(tx: RecordsDb, channel: Channel, id: string, reason: string): Promise<number> {
      const at = now();
      await tx
        .insertInto('notification_targets_disabled')
        .values({ id, channel, reason, disabled_at: at })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const failed = await tx
        .updateTable('notifications')
        .set({ status: 'failed', last_error: `target disabled: ${reason}`, updated_at: at })
        .where('channel', '=', channel)
        .where('target', '=', id)
        .where('status', 'in', ['pending', 'held'])
        .executeTakeFirst();
      return Number(failed.numUpdatedRows);
    },
    /** Enables a disabled target again; NOTIFY_TARGET_NOT_FOUND when it is not disabled. */
    async enable(id: string): Promise<DisabledTarget> {
      const row = await db
        .selectFrom('notification_targets_disabled')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row) throw new PlatformError('NOTIFY_TARGET_NOT_FOUND', `no disabled webhook endpoint or robot "${id}"`);
      await db.deleteFrom('notification_targets_disabled').where('id', '=', id).execute();
      return { id: row.id, channel: row.channel, reason: row.reason, disabledAt: Number(row.disabled_at) };
    },
  };
}

export type DisabledTargets = ReturnType<typeof createDisabledTargets>;
