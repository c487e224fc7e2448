import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Each service order kind's own steps and records (issue 13 items 3–4, diagnostics/service-orders/):
 * - `service_orders.application`: the kind's application as JSON (巡检巡修: equipment and tools;
 *   技术培训: topics, teaching unit and materials asked for; 伴随保障: task source, supported unit,
 *   assembly time and place, duration); null for orders requested before;
 * - `service_orders.outcome`: the completion's outcome (结论);
 * - `service_orders.signed_*`: the customer side's sign-off of the completed order (双方确认);
 * - `service_order_team_members`: the team sent (应急保障分队), members with role and duty like a
 *   ticket's response team (diagnostics/tickets/team.ts TEAM_ROLES);
 * - `service_order_records`: visits (per vehicle: state found, readings, findings, work done, parts),
 *   training materials, attendees, sessions and assessments, and the daily log of an accompanying
 *   support; the body is JSON checked by order-records.ts, `internal_note` is staff-only.
 */
export function serviceOrderRecordsMigration(dialect: RecordsDialect): Migration {
  const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    t.addColumn('id', idColumn(dialect), (c) =>
      c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
    );
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('service_orders').addColumn('application', 'text').execute();
      await db.schema.alterTable('service_orders').addColumn('outcome', 'text').execute();
      await db.schema.alterTable('service_orders').addColumn('signed_at', 'bigint').execute();
      await db.schema.alterTable('service_orders').addColumn('signed_by', 'varchar(64)').execute();
      await db.schema.alterTable('service_orders').addColumn('signed_name', 'varchar(100)').execute();
      await db.schema.alterTable('service_orders').addColumn('sign_note', 'text').execute();
      await id(db.schema.createTable('service_order_team_members'))
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('team_role', 'varchar(32)', (c) => c.notNull())
        .addColumn('duty', 'varchar(300)')
        .execute();
      await db.schema
        .createIndex('service_order_team_members_order')
        .on('service_order_team_members')
        .columns(['order_id', 'id'])
        .execute();
      await id(db.schema.createTable('service_order_records'))
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(64)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('internal_note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('service_order_records_order')
        .on('service_order_records')
        .columns(['order_id', 'type', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('service_order_records').execute();
      await db.schema.dropTable('service_order_team_members').execute();
      for (const c of ['sign_note', 'signed_name', 'signed_by', 'signed_at', 'outcome', 'application'])
        await db.schema.alterTable('service_orders').dropColumn(c).execute();
    },
  };
}
