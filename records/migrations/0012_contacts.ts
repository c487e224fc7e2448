import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Who gets what (notifications/contacts.ts, subscriptions.ts): contacts of customer units and of
 * staff accounts, their subscriptions; and the ticket's ETA (when help arrives), set by staff.
 */
export function contactsMigration(dialect: RecordsDialect): Migration {
  const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    t.addColumn('id', idColumn(dialect), (c) =>
      c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
    );
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('tickets').addColumn('eta', 'bigint').execute();
      await db.schema.alterTable('tickets').addColumn('eta_note', 'text').execute();
      await id(db.schema.createTable('notification_contacts'))
        .addColumn('customer_id', 'varchar(64)')
        .addColumn('account_id', 'varchar(64)')
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('role', 'varchar(100)')
        .addColumn('phone', 'varchar(40)')
        .addColumn('email', 'varchar(320)')
        .addColumn('language', 'varchar(8)', (c) => c.notNull())
        .addColumn('channels', 'text', (c) => c.notNull())
        .addColumn('quiet_from', 'varchar(5)')
        .addColumn('quiet_to', 'varchar(5)')
        .addColumn('time_zone', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('notification_contacts_customer')
        .on('notification_contacts')
        .columns(['customer_id', 'id'])
        .execute();
      await db.schema
        .createIndex('notification_contacts_account')
        .on('notification_contacts')
        .column('account_id')
        .unique()
        .execute();
      await id(db.schema.createTable('notification_subscriptions'))
        .addColumn('contact_id', 'bigint', (c) => c.notNull())
        .addColumn('vehicle_id', 'varchar(64)')
        .addColumn('kinds', 'text', (c) => c.notNull())
        .addColumn('min_level', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('notification_subscriptions_contact')
        .on('notification_subscriptions')
        .column('contact_id')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('notification_subscriptions').execute();
      await db.schema.dropTable('notification_contacts').execute();
      await db.schema.alterTable('tickets').dropColumn('eta_note').execute();
      await db.schema.alterTable('tickets').dropColumn('eta').execute();
    },
  };
}
