import { sql, type Kysely, type Migration } from 'kysely';
import type { RecordsDialect } from '../migrations.ts';

/**
 * Ticket numbers per customer unit (issue 16): a ticket's number was `EMyyyymmdd-nnnnn` with nnnnn
 * the global row id, so the gaps a customer saw between its own tickets counted the other units'.
 * Now each unit has its own sequence (`ticket_sequences`, one row per unit, '' for tickets without
 * a unit), advanced in the ticket-opening transaction; the ticket keeps its place in it (`unit_seq`).
 *
 * Existing tickets keep the numbers they were given (they are in mails, chats and printed session
 * records already); each is given its place in its unit's sequence in opening order, and the
 * sequence goes on from there, so the next number of a unit that had 3 tickets is `EM-<unit>-0004`.
 */
export function ticketUnitNumbersMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ticket_sequences')
        .addColumn('unit', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('tickets').addColumn('unit_seq', 'bigint').execute();
      // the new numbers carry the unit id (up to 64 characters); SQLite does not enforce lengths
      if (dialect === 'postgres')
        await db.schema
          .alterTable('tickets')
          .alterColumn('number', (c) => c.setDataType('varchar(100)'))
          .execute();
      await sql`
        update tickets set unit_seq = (
          select count(*) from tickets t2
          where coalesce(t2.customer_id, '') = coalesce(tickets.customer_id, '')
            and (t2.received_at < tickets.received_at or (t2.received_at = tickets.received_at and t2.id <= tickets.id))
        )`.execute(db);
      await sql`
        insert into ticket_sequences (unit, last_seq)
        select coalesce(customer_id, ''), max(unit_seq) from tickets group by coalesce(customer_id, '')`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('tickets').dropColumn('unit_seq').execute();
      await db.schema.dropTable('ticket_sequences').execute();
    },
  };
}
