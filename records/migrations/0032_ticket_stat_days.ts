import type { Kysely, Migration } from 'kysely';

/**
 * The statistics' daily rollup (service/stat-days.ts): per local day of the service centre's time
 * zone and per dimension (level, fault, model, unit, and `all` for the periods), the sums and counts
 * of the emergency tickets received that day — what the service statistics add up instead of reading
 * every ticket. `ticket_stat_dirty` holds the `received_at` of tickets changed since (written in the
 * same transaction as the change), `ticket_stat_state` what the rollup was built for (time zone,
 * repeat window); a rollup built for other settings is rebuilt whole. Also an index on the surveys'
 * sending time, which the survey statistics read a window of.
 */
export function ticketStatDaysMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ticket_stat_days')
        .addColumn('dim', 'varchar(16)', (c) => c.notNull())
        .addColumn('day_start', 'bigint', (c) => c.notNull())
        .addColumn('key', 'varchar(200)', (c) => c.notNull())
        .addColumn('tickets', 'bigint', (c) => c.notNull())
        .addColumn('wc_met', 'bigint', (c) => c.notNull())
        .addColumn('plan_total', 'bigint', (c) => c.notNull())
        .addColumn('plan_met', 'bigint', (c) => c.notNull())
        .addColumn('closed', 'bigint', (c) => c.notNull())
        .addColumn('mttr_sum', 'bigint', (c) => c.notNull())
        .addColumn('restored', 'bigint', (c) => c.notNull())
        .addColumn('restore_sum', 'bigint', (c) => c.notNull())
        .addColumn('arrived', 'bigint', (c) => c.notNull())
        .addColumn('arrive_sum', 'bigint', (c) => c.notNull())
        .addColumn('remote', 'bigint', (c) => c.notNull())
        .addColumn('repeats', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ticket_stat_days_pk', ['dim', 'day_start', 'key'])
        .execute();
      await db.schema
        .createTable('ticket_stat_dirty')
        .addColumn('received_at', 'bigint', (c) => c.primaryKey())
        .execute();
      await db.schema
        .createTable('ticket_stat_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('time_zone', 'varchar(64)', (c) => c.notNull())
        .addColumn('repeat_window_ms', 'bigint', (c) => c.notNull())
        .addColumn('built_at', 'bigint', (c) => c.notNull())
        .execute();
      // the survey statistics read a window of sending times
      await db.schema.createIndex('service_surveys_sent').on('service_surveys').column('sent_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('service_surveys_sent').execute();
      await db.schema.dropTable('ticket_stat_state').execute();
      await db.schema.dropTable('ticket_stat_dirty').execute();
      await db.schema.dropTable('ticket_stat_days').execute();
    },
  };
}
