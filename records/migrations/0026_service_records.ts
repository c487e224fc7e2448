import { sql, type Kysely, type Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Survey, statistics and customer file (issue 13 items 5–7, service/):
 * - `service_surveys`: the satisfaction survey (满意度调查) of a closed ticket, one per ticket, with
 *   its scored answers (1–5 per question) and comments;
 * - `survey_follow_ups`: the follow-up task (回访) a low score opens for the service manager, with its outcome;
 * - `ticket_outcomes`: what the statistics (信息统计) read of a closed ticket besides its row — when it
 *   closed, when its alarms cleared (power restored), whether it was resolved remotely, and the
 *   arrival on site (a seam: nothing records arrival yet), and when the same vehicle next had the same
 *   fault (first-time fix, without a look-up per ticket); written by service/outcomes.ts from the bus;
 * - `vehicles.delivered_at`: the delivery date in the customer file (客户信息系统);
 * - indexes for the statistics' GROUP BY over the period and the repeat-fault look-up.
 * Existing closed tickets get their outcome from the timeline's last `close`.
 */
export function serviceRecordsMigration(dialect: RecordsDialect): Migration {
  const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    t.addColumn('id', idColumn(dialect), (c) =>
      c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
    );
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('vehicles').addColumn('delivered_at', 'bigint').execute();
      await id(db.schema.createTable('service_surveys'))
        .addColumn('ticket_id', 'bigint', (c) => c.notNull().unique())
        .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('vehicle_id', 'varchar(64)')
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        .addColumn('answered_at', 'bigint')
        .addColumn('answered_by', 'varchar(100)')
        .addColumn('score_response', 'integer')
        .addColumn('score_quality', 'integer')
        .addColumn('score_attitude', 'integer')
        .addColumn('min_score', 'integer')
        .addColumn('comments', 'text')
        .execute();
      await db.schema
        .createIndex('service_surveys_customer')
        .on('service_surveys')
        .columns(['customer_id', 'sent_at'])
        .execute();
      await id(db.schema.createTable('survey_follow_ups'))
        .addColumn('survey_id', 'bigint', (c) => c.notNull().unique())
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('assignee', 'varchar(100)')
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('outcome', 'text')
        .addColumn('done_at', 'bigint')
        .addColumn('done_by', 'varchar(100)')
        .execute();
      await db.schema
        .createIndex('survey_follow_ups_status')
        .on('survey_follow_ups')
        .columns(['status', 'opened_at'])
        .execute();
      await db.schema
        .createTable('ticket_outcomes')
        .addColumn('ticket_id', 'bigint', (c) => c.primaryKey())
        .addColumn('closed_at', 'bigint', (c) => c.notNull())
        .addColumn('restored_at', 'bigint')
        .addColumn('arrived_at', 'bigint')
        .addColumn('remote', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_same_fault_at', 'bigint')
        .execute();
      await sql`insert into ticket_outcomes (ticket_id, closed_at, remote)
        select t.id, (select max(tl.at) from ticket_timeline tl where tl.ticket_id = t.id and tl.action = 'close'),
          case when t.service_mode = 'remote_support' then 1 else 0 end
        from tickets t
        where t.status = 'closed'
          and exists (select 1 from ticket_timeline tl where tl.ticket_id = t.id and tl.action = 'close')`.execute(db);
      await sql`update ticket_outcomes set next_same_fault_at = (
          select min(n.received_at) from tickets t join tickets n
            on n.vehicle_id = t.vehicle_id and n.fault_code = t.fault_code and n.id <> t.id
          where t.id = ticket_outcomes.ticket_id and n.received_at > ticket_outcomes.closed_at)`.execute(db);
      await db.schema.createIndex('tickets_received').on('tickets').columns(['received_at', 'id']).execute();
      await db.schema
        .createIndex('tickets_vehicle_fault')
        .on('tickets')
        .columns(['vehicle_id', 'fault_code', 'received_at'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const i of ['tickets_vehicle_fault', 'tickets_received']) await db.schema.dropIndex(i).execute();
      await db.schema.dropTable('ticket_outcomes').execute();
      await db.schema.dropTable('survey_follow_ups').execute();
      await db.schema.dropTable('service_surveys').execute();
      await db.schema.alterTable('vehicles').dropColumn('delivered_at').execute();
    },
  };
}
