import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/** Pages of staff (notifications/paging.ts): one per ticket, reason and deadline, with its ack state and escalation step. */
export function pagesMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('pages')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('key', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('ticket_id', 'bigint')
        .addColumn('reason', 'varchar(32)', (c) => c.notNull())
        .addColumn('deadline', 'varchar(32)')
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('step', 'integer', (c) => c.notNull())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('paged_at', 'bigint', (c) => c.notNull())
        .addColumn('escalate_at', 'bigint')
        .addColumn('acked_at', 'bigint')
        .addColumn('acked_by', 'varchar(100)')
        .execute();
      await db.schema.createIndex('pages_open').on('pages').columns(['state', 'escalate_at']).execute();
      await db.schema.createIndex('pages_ticket').on('pages').columns(['ticket_id', 'reason', 'deadline']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('pages').execute();
    },
  };
}
