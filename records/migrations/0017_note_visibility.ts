import { sql, type Kysely, type Migration } from 'kysely';

/** The status steps staff take (diagnostics/tickets/status.ts TRANSITIONS), as of this migration. */
const TRANSITION_ACTIONS = [
  'determine_work_content',
  'issue_plan',
  'start_service',
  'mark_repaired',
  'verify',
  'close',
  'cancel',
  'reopen',
];

/**
 * Notes for staff only (issue 16, item 6): who may read a ticket timeline entry's note and an
 * alarm note's text — `internal` (staff) or `customer` (staff and the customer unit);
 * diagnostics/visibility.ts.
 *
 * Existing rows: until now a customer unit was shown every note, though staff wrote many of them
 * for each other. The notes staff wrote by hand — ticket comments and status-step notes whose actor
 * is neither `system` nor a customer account, alarm comments and acknowledgement comments not by
 * `system` — become `internal`: a note staff meant for the customer can be said again; one that
 * was never meant for it cannot be unsaid later. Everything else (the customer's own comments, the
 * platform's own entries: received, assigned, ETA, escalations, pages, alarm raised/cleared) stays
 * `customer`.
 */
export function noteVisibilityMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('ticket_timeline')
        .addColumn('visibility', 'varchar(16)', (c) => c.notNull().defaultTo('customer'))
        .execute();
      await db.schema
        .alterTable('alarm_notes')
        .addColumn('visibility', 'varchar(16)', (c) => c.notNull().defaultTo('customer'))
        .execute();
      const staffActions = sql.join(['comment', ...TRANSITION_ACTIONS].map((a) => sql.lit(a)));
      await sql`
        update ticket_timeline set visibility = 'internal'
        where note is not null
          and action in (${staffActions})
          and actor <> 'system'
          and actor not in (select id from accounts where role = 'customer')`.execute(db);
      await sql`
        update alarm_notes set visibility = 'internal'
        where text is not null and kind in ('comment', 'acknowledged') and actor <> 'system'`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('alarm_notes').dropColumn('visibility').execute();
      await db.schema.alterTable('ticket_timeline').dropColumn('visibility').execute();
    },
  };
}
