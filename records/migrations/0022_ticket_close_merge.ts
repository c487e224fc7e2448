import type { Kysely, Migration } from 'kysely';

/**
 * Closing only what is fixed, merging tickets of one vehicle, escalating to real accounts (issue 15,
 * items 1–3). On tickets:
 * - `merged_into`: the ticket this one was merged into (its status is then `merged`); null otherwise.
 * - `repaired_by`: who marked it repaired (the verifier must be someone else: four-eyes).
 * - `resolution`: JSON {rootCause, workDone, partsUsed: string[]} given when marked repaired.
 * - `escalated_accounts`: JSON array of the accounts a breach escalated to (roster or role).
 * Plus an index for "the other open tickets of this vehicle".
 */
export function ticketCloseMergeMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('tickets').addColumn('merged_into', 'bigint').execute();
      await db.schema.alterTable('tickets').addColumn('repaired_by', 'varchar(100)').execute();
      await db.schema.alterTable('tickets').addColumn('resolution', 'text').execute();
      await db.schema.alterTable('tickets').addColumn('escalated_accounts', 'text').execute();
      await db.schema.createIndex('tickets_vehicle_open').on('tickets').columns(['vehicle_id', 'is_open']).execute();
      await db.schema.createIndex('tickets_merged_into').on('tickets').column('merged_into').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('tickets_merged_into').execute();
      await db.schema.dropIndex('tickets_vehicle_open').execute();
      for (const c of ['escalated_accounts', 'resolution', 'repaired_by', 'merged_into'])
        await db.schema.alterTable('tickets').dropColumn(c).execute();
    },
  };
}
