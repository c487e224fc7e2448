import type { Kysely, Migration } from 'kysely';

/**
 * A shortage task (缺件: machining documents or a purchase list) is marked done with its outcome
 * (what was made or bought, the document number): `stock_shortage_tasks.outcome`, null while open.
 */
export function stockShortageOutcomeMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('stock_shortage_tasks').addColumn('outcome', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('stock_shortage_tasks').dropColumn('outcome').execute();
    },
  };
}
