import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/** The notification outbox (notifications/outbox.ts): one row per delivery to one receiver over one channel. */
export function notificationsMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('notifications')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('key', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('channel', 'varchar(16)', (c) => c.notNull())
        .addColumn('target', 'varchar(320)', (c) => c.notNull())
        .addColumn('kind', 'varchar(48)', (c) => c.notNull())
        .addColumn('language', 'varchar(8)', (c) => c.notNull())
        .addColumn('customer_id', 'varchar(64)')
        .addColumn('account_id', 'varchar(64)')
        .addColumn('vehicle_id', 'varchar(64)')
        .addColumn('ticket_id', 'bigint')
        .addColumn('incident_id', 'bigint')
        .addColumn('urgent', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('thread', 'varchar(200)')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('html', 'text')
        .addColumn('payload', 'text')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('tries', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .addColumn('read_at', 'bigint')
        .execute();
      await db.schema.createIndex('notifications_due').on('notifications').columns(['status', 'next_at']).execute();
      await db.schema
        .createIndex('notifications_target')
        .on('notifications')
        .columns(['channel', 'target', 'created_at'])
        .execute();
      await db.schema.createIndex('notifications_ticket').on('notifications').columns(['ticket_id', 'id']).execute();
      await db.schema
        .createIndex('notifications_inbox')
        .on('notifications')
        .columns(['account_id', 'channel', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('notifications').execute();
    },
  };
}
