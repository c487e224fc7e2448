import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * The support plan as a document (应急保障工作计划, issue 13 item 2; diagnostics/support-plans/):
 * `support_plan_versions`, one row per version of a ticket's plan. At most one `draft` per ticket
 * (the next version, edited by the duty desk); issuing it makes it `issued` with who, when and why
 * (what changed against the version before). Issued versions are never changed again: the old ones
 * stay readable. `content` is the plan as JSON (work content, people, materials, milestones,
 * transport, ETA; diagnostics/support-plans/plans.ts SupportPlanContent).
 */
export function supportPlansMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('support_plan_versions')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('drafted_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('drafted_at', 'bigint', (c) => c.notNull())
        .addColumn('issued_by', 'varchar(100)')
        .addColumn('issued_at', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('changes', 'text')
        .addUniqueConstraint('support_plan_versions_ticket_version', ['ticket_id', 'version'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('support_plan_versions').execute();
    },
  };
}
