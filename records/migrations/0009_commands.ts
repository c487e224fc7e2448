import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/** Operator commands to vehicles and their outcome (commands/records.ts). */
export function commandsMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('commands')
        .addColumn('seq', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('id', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('actor', 'varchar(100)', (c) => c.notNull())
        .addColumn('session_id', 'bigint')
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('ttl_s', 'integer', (c) => c.notNull())
        .addColumn('state', 'varchar(16)', (c) => c.notNull())
        .addColumn('settled_at', 'bigint')
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .addColumn('late_ack', 'text')
        .execute();
      await db.schema.createIndex('commands_vehicle').on('commands').columns(['vehicle_id', 'seq']).execute();
      await db.schema.createIndex('commands_state').on('commands').columns(['state', 'seq']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('commands').execute();
    },
  };
}
