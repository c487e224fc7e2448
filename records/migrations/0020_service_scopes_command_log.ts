import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Service accounts' scopes and the MQTT command log (issue 16, item 1). `service_accounts.scope`:
 * the JSON ServiceScope (registry/service-accounts.ts); null — every account made before — is the
 * default scope, read-only, so an existing account publishes no command until it is given a scope.
 * `mqtt_commands`: every command published on a vehicle's `commands` topic, by a service account or
 * by the platform, with the vehicle's `commands/ack` answer matched to it (commands/command-log.ts).
 */
export function serviceScopesCommandLogMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('service_accounts').addColumn('scope', 'text').execute();
      await db.schema
        .createTable('mqtt_commands')
        .addColumn('seq', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('command_id', 'varchar(64)')
        .addColumn('name', 'varchar(64)')
        .addColumn('publisher', 'varchar(100)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('published_at', 'bigint', (c) => c.notNull())
        .addColumn('acked_at', 'bigint')
        .addColumn('ack_ok', 'integer')
        .addColumn('ack', 'text')
        .execute();
      await db.schema
        .createIndex('mqtt_commands_vehicle_command')
        .on('mqtt_commands')
        .columns(['vehicle_id', 'command_id', 'seq'])
        .execute();
      await db.schema.createIndex('mqtt_commands_published').on('mqtt_commands').columns(['published_at']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('mqtt_commands').execute();
      await db.schema.alterTable('service_accounts').dropColumn('scope').execute();
    },
  };
}
