import type { Kysely, Migration } from 'kysely';

/** Webhook endpoints and robots disabled by their receiver (HTTP 410) until an admin enables them (notifications/targets.ts). */
export function notificationTargetsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('notification_targets_disabled')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint', (c) => c.notNull())
        .execute();
      // the inbox: one account's delivered items, newest first
      await db.schema
        .createIndex('notifications_channel_target_id')
        .on('notifications')
        .columns(['channel', 'target', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('notifications_channel_target_id').execute();
      await db.schema.dropTable('notification_targets_disabled').execute();
    },
  };
}
