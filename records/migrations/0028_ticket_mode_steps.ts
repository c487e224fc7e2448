import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * The service modes' own steps and records (issue 13 item 3, diagnostics/tickets/mode-steps.ts):
 * one row per step done on an emergency ticket in one mode — on-site repair (现场修理), return to
 * factory (返厂修理), emergency replacement (应急更换) — with when it happened (`at`, given by the
 * recorder), when and by whom it was recorded, which side (staff / customer), a note and who may
 * read it, the step's details (JSON: transport, carrier, tracking, count, serial…), and the other
 * side's confirmation where the plan has both sides confirm (joint assessment, handover).
 * Moving a ticket to another mode keeps every row.
 */
export function ticketModeStepsMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ticket_mode_steps')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('mode', 'varchar(32)', (c) => c.notNull())
        .addColumn('step', 'varchar(32)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(100)', (c) => c.notNull())
        .addColumn('side', 'varchar(16)', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('visibility', 'varchar(16)', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('confirmed_by', 'varchar(100)')
        .addColumn('confirm_note', 'text')
        .execute();
      await db.schema
        .createIndex('ticket_mode_steps_ticket')
        .on('ticket_mode_steps')
        .columns(['ticket_id', 'mode', 'step'])
        .unique()
        .execute();
      await db.schema
        .createIndex('ticket_mode_steps_step')
        .on('ticket_mode_steps')
        .columns(['step', 'ticket_id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('ticket_mode_steps').execute();
    },
  };
}
