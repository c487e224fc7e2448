import type { Kysely, Migration } from 'kysely';

/**
 * A shortage task (缺件) raised automatically by a ticket's reservation proposal
 * (resources/stock/replenishment.ts `raiseFromProposal`): `stock_shortage_tasks.auto_key`
 * (`ticket:<id>:<partNo>`, null for a task raised by hand) with a unique index, so a (ticket, part)
 * gets its automatic task once, whoever proposes at the same time and however often.
 */
export function stockShortageAutoMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('stock_shortage_tasks').addColumn('auto_key', 'varchar(120)').execute();
      await db.schema
        .createIndex('stock_shortage_tasks_auto_key')
        .on('stock_shortage_tasks')
        .column('auto_key')
        .unique()
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('stock_shortage_tasks_auto_key').execute();
      await db.schema.alterTable('stock_shortage_tasks').dropColumn('auto_key').execute();
    },
  };
}
