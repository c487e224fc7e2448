import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely';
import { notificationsMigration } from './migrations/0008_notifications.ts';
import { commandsMigration } from './migrations/0009_commands.ts';
import { remoteSessionsMigration } from './migrations/0010_remote_sessions.ts';
import { sessionStepsMigration } from './migrations/0011_session_steps.ts';
import { contactsMigration } from './migrations/0012_contacts.ts';
import { pagesMigration } from './migrations/0013_pages.ts';
import { notificationTargetsMigration } from './migrations/0014_notification_targets.ts';
import { accountSecurityMigration } from './migrations/0015_account_security.ts';
import { sessionGuestsPhotosMigration } from './migrations/0016_session_guests_photos.ts';
import { noteVisibilityMigration } from './migrations/0017_note_visibility.ts';
import { auditChainMigration } from './migrations/0018_audit_chain.ts';
import { ticketUnitNumbersMigration } from './migrations/0019_ticket_unit_numbers.ts';
import { serviceScopesCommandLogMigration } from './migrations/0020_service_scopes_command_log.ts';
import { vehicleUnitsMigration } from './migrations/0021_vehicle_units.ts';
import { ticketCloseMergeMigration } from './migrations/0022_ticket_close_merge.ts';
import { serviceOrdersLevelsMigration } from './migrations/0023_service_orders_levels.ts';
import { stockMigration } from './migrations/0024_stock.ts';
import { resourcesRegisterMigration } from './migrations/0025_resources_register.ts';
import { serviceRecordsMigration } from './migrations/0026_service_records.ts';
import { supportPlansMigration } from './migrations/0027_support_plans.ts';
import { ticketModeStepsMigration } from './migrations/0028_ticket_mode_steps.ts';
import { serviceOrderRecordsMigration } from './migrations/0029_service_order_records.ts';
import { stockShortageOutcomeMigration } from './migrations/0030_stock_shortage_outcome.ts';
import { stockTransfersMigration } from './migrations/0031_stock_transfers.ts';
import { ticketStatDaysMigration } from './migrations/0032_ticket_stat_days.ts';
import { stockShortageAutoMigration } from './migrations/0033_stock_shortage_auto.ts';
import { vehicleOwnersMigration } from './migrations/0034_vehicle_owners.ts';

/**
 * Migrations are written with Kysely's schema builder only, so the same list runs on SQLite and
 * PostgreSQL. `bigint` holds epoch milliseconds on both; auto-increment ids differ by dialect.
 */
export type RecordsDialect = 'sqlite' | 'postgres';

/** The auto-increment id column type of a dialect. */
export function idColumn(dialect: RecordsDialect) {
  return dialect === 'postgres' ? ('bigserial' as const) : ('integer' as const);
}

/** As of this migration; later changes to the open statuses need a migration of their own. */
const OPEN_TICKET_STATUSES = ['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired'];
/** diagnostics/tickets/queue.ts NO_DEADLINE. */
const NO_DEADLINE = Number.MAX_SAFE_INTEGER;

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
          .addColumn('id', idColumn(dialect), (c) =>
            c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
          )
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
          .addColumn('id', idColumn(dialect), (c) =>
            c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
          )
          .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('code', 'varchar(64)', (c) => c.notNull())
          .addColumn('severity', 'varchar(16)', (c) => c.notNull())
          .addColumn('message', 'text')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('vehicle_events_vehicle_ts')
          .on('vehicle_events')
          .columns(['vehicle_id', 'ts'])
          .execute();
        await db.schema
          .createTable('dead_letters')
          .addColumn('id', idColumn(dialect), (c) =>
            c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
          )
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
    '0003_diagnostics': {
      async up(db: Kysely<unknown>) {
        const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
          t.addColumn('id', idColumn(dialect), (c) =>
            c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
          );
        await id(db.schema.createTable('alarms'))
          .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('rule_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('code', 'varchar(32)', (c) => c.notNull())
          .addColumn('severity', 'varchar(16)', (c) => c.notNull())
          .addColumn('state', 'varchar(16)', (c) => c.notNull())
          .addColumn('raised_at', 'bigint', (c) => c.notNull())
          .addColumn('cleared_at', 'bigint')
          .addColumn('acknowledged_at', 'bigint')
          .addColumn('acknowledged_by', 'varchar(100)')
          .addColumn('raise_count', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('live', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('incident_id', 'bigint')
          .addColumn('caused_by_alarm_id', 'bigint')
          .addColumn('evidence', 'text')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        // one active alarm per (vehicle, rule)
        await db.schema
          .createIndex('alarms_one_active')
          .on('alarms')
          .columns(['vehicle_id', 'rule_id'])
          .unique()
          .where(sql.ref('state'), '<>', 'cleared')
          .execute();
        await db.schema
          .createIndex('alarms_vehicle_raised')
          .on('alarms')
          .columns(['vehicle_id', 'raised_at'])
          .execute();
        await db.schema.createIndex('alarms_state').on('alarms').columns(['state', 'raised_at']).execute();
        await id(db.schema.createTable('alarm_notes'))
          .addColumn('alarm_id', 'bigint', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'varchar(100)', (c) => c.notNull())
          .addColumn('kind', 'varchar(16)', (c) => c.notNull())
          .addColumn('text', 'text')
          .execute();
        await db.schema.createIndex('alarm_notes_alarm').on('alarm_notes').columns(['alarm_id', 'id']).execute();
        await id(db.schema.createTable('incidents'))
          .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('group_key', 'varchar(64)', (c) => c.notNull())
          .addColumn('root_alarm_id', 'bigint', (c) => c.notNull())
          .addColumn('severity', 'varchar(16)', (c) => c.notNull())
          .addColumn('state', 'varchar(16)', (c) => c.notNull())
          .addColumn('opened_at', 'bigint', (c) => c.notNull())
          .addColumn('resolved_at', 'bigint')
          .addColumn('ticket_id', 'bigint')
          .execute();
        await db.schema
          .createIndex('incidents_vehicle_state')
          .on('incidents')
          .columns(['vehicle_id', 'state'])
          .execute();
        await id(db.schema.createTable('tickets'))
          .addColumn('number', 'varchar(32)', (c) => c.notNull().unique())
          .addColumn('source', 'varchar(16)', (c) => c.notNull())
          .addColumn('vehicle_id', 'varchar(64)')
          .addColumn('customer_id', 'varchar(64)')
          .addColumn('level', 'varchar(16)', (c) => c.notNull())
          .addColumn('status', 'varchar(32)', (c) => c.notNull())
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('need', 'text', (c) => c.notNull())
          .addColumn('contacts', 'text', (c) => c.notNull())
          .addColumn('fault_code', 'varchar(32)')
          .addColumn('incident_id', 'bigint')
          .addColumn('service_mode', 'varchar(32)')
          .addColumn('assignee', 'varchar(100)')
          .addColumn('escalated_to', 'varchar(100)')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .addColumn('work_content_due_at', 'bigint', (c) => c.notNull())
          .addColumn('work_content_done_at', 'bigint')
          .addColumn('plan_due_at', 'bigint')
          .addColumn('plan_done_at', 'bigint')
          .addColumn('breaches', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('plan_ref', 'text')
          .addColumn('snapshot', 'text')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('tickets_status_due')
          .on('tickets')
          .columns(['status', 'work_content_due_at'])
          .execute();
        await db.schema.createIndex('tickets_customer').on('tickets').columns(['customer_id', 'received_at']).execute();
        await db.schema.createIndex('tickets_incident').on('tickets').column('incident_id').unique().execute();
        await id(db.schema.createTable('ticket_timeline'))
          .addColumn('ticket_id', 'bigint', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'varchar(100)', (c) => c.notNull())
          .addColumn('action', 'varchar(32)', (c) => c.notNull())
          .addColumn('from_status', 'varchar(32)')
          .addColumn('to_status', 'varchar(32)')
          .addColumn('note', 'text')
          .execute();
        await db.schema
          .createIndex('ticket_timeline_ticket')
          .on('ticket_timeline')
          .columns(['ticket_id', 'id'])
          .execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ['ticket_timeline', 'tickets', 'incidents', 'alarm_notes', 'alarms'])
          await db.schema.dropTable(t).execute();
      },
    },
    '0004_web_accounts': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('accounts')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('name', 'varchar(200)', (c) => c.notNull())
          .addColumn('role', 'varchar(16)', (c) => c.notNull())
          .addColumn('customer_id', 'varchar(64)', (c) => c.references('customers.id'))
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('last_login_at', 'bigint')
          .execute();
        await db.schema.createIndex('accounts_role').on('accounts').columns(['role', 'disabled']).execute();
        await db.schema
          .createTable('sessions')
          .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('ip', 'varchar(100)')
          .addColumn('user_agent', 'varchar(300)')
          .execute();
        await db.schema.createIndex('sessions_account').on('sessions').column('account_id').execute();
        await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
        await db.schema
          .createTable('audit_log')
          .addColumn('id', idColumn(dialect), (c) =>
            c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
          )
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'varchar(100)', (c) => c.notNull())
          .addColumn('action', 'varchar(64)', (c) => c.notNull())
          .addColumn('subject', 'varchar(200)')
          .addColumn('ip', 'varchar(100)')
          .addColumn('details', 'text')
          .execute();
        await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
        await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'at']).execute();
      },
      async down(db: Kysely<unknown>) {
        for (const t of ['audit_log', 'sessions', 'accounts']) await db.schema.dropTable(t).execute();
      },
    },
    '0005_telemetry_confirmations': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('telemetry_confirmations')
          .addColumn('vehicle_id', 'varchar(64)', (c) => c.primaryKey())
          .addColumn('seq', 'bigint', (c) => c.notNull())
          .addColumn('ts', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('telemetry_confirmations').execute();
      },
    },
    // lists filtered, ordered and paged (keyset) by the database: the ticket queue's sort key kept in
    // the row (see diagnostics/tickets/queue.ts), and indexes in list order for what the console asks
    '0006_keyset_lists': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .alterTable('tickets')
          .addColumn('is_open', 'integer', (c) => c.notNull().defaultTo(1))
          .execute();
        await db.schema
          .alterTable('tickets')
          .addColumn('queue_due_at', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        const open = sql.join(OPEN_TICKET_STATUSES.map((s) => sql.lit(s)));
        await sql`
          update tickets set
            is_open = case when status in (${open}) then 1 else 0 end,
            queue_due_at = case
              when status not in (${open}) then ${sql.lit(NO_DEADLINE)}
              when work_content_done_at is null
                and (plan_due_at is null or plan_done_at is not null or work_content_due_at <= plan_due_at)
                then work_content_due_at
              when plan_due_at is not null and plan_done_at is null then plan_due_at
              else ${sql.lit(NO_DEADLINE)}
            end`.execute(db);
        const key = ['queue_due_at', 'work_content_due_at', 'id'];
        await db.schema.createIndex('tickets_queue').on('tickets').columns(key).execute();
        await db.schema
          .createIndex('tickets_open_queue')
          .on('tickets')
          .columns(['is_open', ...key])
          .execute();
        await db.schema
          .createIndex('tickets_customer_queue')
          .on('tickets')
          .columns(['customer_id', 'is_open', ...key])
          .execute();
        await db.schema
          .createIndex('tickets_vehicle_queue')
          .on('tickets')
          .columns(['vehicle_id', ...key])
          .execute();
        // alarms, newest first
        await db.schema.createIndex('alarms_raised').on('alarms').columns(['raised_at', 'id']).execute();
      },
      async down(db: Kysely<unknown>) {
        for (const i of [
          'alarms_raised',
          'tickets_queue',
          'tickets_open_queue',
          'tickets_customer_queue',
          'tickets_vehicle_queue',
        ])
          await db.schema.dropIndex(i).execute();
        await db.schema.alterTable('tickets').dropColumn('queue_due_at').execute();
        await db.schema.alterTable('tickets').dropColumn('is_open').execute();
      },
    },
    '0007_account_display_name': {
      // the name customers see for a staff member (null: a role label instead, never the login id)
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('accounts').addColumn('display_name', 'varchar(100)').execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.alterTable('accounts').dropColumn('display_name').execute();
      },
    },
    // later migrations live one per file in records/migrations/, named like their key
    '0008_notifications': notificationsMigration(dialect),
    '0009_commands': commandsMigration(dialect),
    '0010_remote_sessions': remoteSessionsMigration(dialect),
    '0011_session_steps': sessionStepsMigration(dialect),
    '0012_contacts': contactsMigration(dialect),
    '0013_pages': pagesMigration(dialect),
    '0014_notification_targets': notificationTargetsMigration(),
    '0015_account_security': accountSecurityMigration(dialect),
    '0016_session_guests_photos': sessionGuestsPhotosMigration(),
    '0017_note_visibility': noteVisibilityMigration(),
    '0018_audit_chain': auditChainMigration(dialect),
    '0019_ticket_unit_numbers': ticketUnitNumbersMigration(dialect),
    '0020_service_scopes_command_log': serviceScopesCommandLogMigration(dialect),
    '0021_vehicle_units': vehicleUnitsMigration(),
    '0022_ticket_close_merge': ticketCloseMergeMigration(),
    '0023_service_orders_levels': serviceOrdersLevelsMigration(dialect),
    '0024_stock': stockMigration(dialect),
    '0025_resources_register': resourcesRegisterMigration(dialect),
    '0026_service_records': serviceRecordsMigration(dialect),
    '0027_support_plans': supportPlansMigration(dialect),
    '0028_ticket_mode_steps': ticketModeStepsMigration(dialect),
    '0029_service_order_records': serviceOrderRecordsMigration(dialect),
    '0030_stock_shortage_outcome': stockShortageOutcomeMigration(),
    '0031_stock_transfers': stockTransfersMigration(dialect),
    '0032_ticket_stat_days': ticketStatDaysMigration(),
    '0033_stock_shortage_auto': stockShortageAutoMigration(),
    '0034_vehicle_owners': vehicleOwnersMigration(),
  };
}

export function migrationProvider(dialect: RecordsDialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}

/** Used by tests to prove a database is reachable. */
export async function ping(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}
