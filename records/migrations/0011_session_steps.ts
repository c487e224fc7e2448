import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * A remote session's guided steps (remote/steps.ts): the plan's steps copied when the session
 * first needs them, plus the ones an engineer added (`session_steps`), and every result given to a
 * step with who, when and the evidence (`session_step_results`, append-only).
 */
export function sessionStepsMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('session_steps')
        .addColumn('session_id', 'bigint', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('position', 'double precision', (c) => c.notNull())
        .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('plan_code', 'varchar(32)')
        .addColumn('step_id', 'varchar(48)')
        .addColumn('actor_kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('instruction_en', 'text', (c) => c.notNull())
        .addColumn('instruction_zh', 'text', (c) => c.notNull())
        .addColumn('expect', 'text')
        .addColumn('command', 'text')
        .addColumn('safety_en', 'text')
        .addColumn('safety_zh', 'text')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('added_by', 'varchar(100)')
        .addColumn('check_until', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_steps_pk', ['session_id', 'idx'])
        .execute();
      await db.schema.createIndex('session_steps_status').on('session_steps').columns(['status']).execute();
      await db.schema
        .createTable('session_step_results')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('session_id', 'bigint', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('actor', 'varchar(100)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('observation', 'text')
        .addColumn('evidence', 'text')
        .addColumn('reason', 'text')
        .execute();
      await db.schema
        .createIndex('session_step_results_session')
        .on('session_step_results')
        .columns(['session_id', 'idx', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('session_step_results').execute();
      await db.schema.dropTable('session_steps').execute();
    },
  };
}
