import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * Migrations are written with Kysely's schema builder only, so the same list runs on SQLite and
 * PostgreSQL. `bigint` holds epoch milliseconds on both; auto-increment ids differ by dialect.
 */
export type RecordsDialect = 'sqlite' | 'postgres';

function idColumn(dialect: RecordsDialect) {
  return dialect === 'postgres' ? ('bigserial' as const) : ('integer' as const);
}

function migrations(dialect: RecordsDialect): Record<string, Migration> {
  return {
    '0001_registry': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('customers')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(200)', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('vehicles')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(200)', (c) => c.notNull())
          .addColumn('model', 'varchar(100)', (c) => c.notNull())
          .addColumn('customer_id', 'varchar(64)', (c) => c.notNull().references('customers.id'))
          .addColumn('profile', 'text', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('vehicles_customer').on('vehicles').column('customer_id').execute();
        await db.schema
          .createTable('service_accounts')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('description', 'varchar(200)', (c) => c.notNull())
          .addColumn('secret_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('registry_changes')
          .addColumn('id', idColumn(dialect), (c) => c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)))
          .addColumn('subject', 'varchar(16)', (c) => c.notNull())
          .addColumn('subject_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('change', 'varchar(16)', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('vehicle_presence')
          .addColumn('vehicle_id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('online', 'integer', (c) => c.notNull())
          .addColumn('changed_at', 'bigint', (c) => c.notNull())
          .addColumn('last_connect_at', 'bigint')
          .addColumn('last_disconnect_at', 'bigint')
          .addColumn('last_address', 'varchar(100)')
          .addColumn('disconnect_reason', 'varchar(200)')
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ['vehicle_presence', 'registry_changes', 'service_accounts', 'vehicles', 'customers']) {
          await db.schema.dropTable(t).execute();
        }
      },
    },
    '0002_ingest_records': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('vehicle_events')
          .addColumn('id', idColumn(dialect), (c) => c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)))
          .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('code', 'varchar(64)', (c) => c.notNull())
          .addColumn('severity', 'varchar(16)', (c) => c.notNull())
          .addColumn('message', 'text')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('vehicle_events_vehicle_ts').on('vehicle_events').columns(['vehicle_id', 'ts']).execute();
        await db.schema
          .createTable('dead_letters')
          .addColumn('id', idColumn(dialect), (c) => c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)))
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('vehicle_id', 'varchar(64)')
          .addColumn('topic', 'text', (c) => c.notNull())
          .addColumn('code', 'varchar(32)', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('excerpt', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('dead_letters_vehicle').on('dead_letters').columns(['vehicle_id', 'id']).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('dead_letters').execute();
        await db.schema.dropTable('vehicle_events').execute();
      },
    },
  };
}

export function migrationProvider(dialect: RecordsDialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}

/** Used by tests to prove a database is reachable. */
export async function ping(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
