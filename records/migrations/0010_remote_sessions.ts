import { sql, type Kysely, type Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Remote guidance sessions (remote/records.ts): the session, its participants, its append-only
 * timeline (seq per session) and the duty roster whose shifts decide who is rung.
 */
export function remoteSessionsMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('remote_sessions')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('vehicle_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('outcome', 'varchar(32)')
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('answered_at', 'bigint')
        .addColumn('answered_by', 'varchar(100)')
        .addColumn('ended_at', 'bigint')
        .addColumn('ended_by', 'varchar(100)')
        .addColumn('ring_step', 'varchar(16)')
        .addColumn('ring_due_at', 'bigint')
        .addColumn('absent_since', 'bigint')
        .addColumn('next_seq', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('remote_sessions_ticket')
        .on('remote_sessions')
        .columns(['ticket_id', 'id'])
        .execute();
      await db.schema
        .createIndex('remote_sessions_customer')
        .on('remote_sessions')
        .columns(['customer_id', 'id'])
        .execute();
      // one open session per ticket, whatever the writers race
      await db.schema
        .createIndex('remote_sessions_one_open')
        .on('remote_sessions')
        .column('ticket_id')
        .unique()
        .where(sql.ref('status'), '<>', 'ended')
        .execute();
      await db.schema.createIndex('remote_sessions_status').on('remote_sessions').columns(['status', 'id']).execute();
      await db.schema
        .createTable('remote_session_participants')
        .addColumn('session_id', 'bigint', (c) => c.notNull())
        .addColumn('participant_id', 'varchar(100)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('joined_at', 'bigint', (c) => c.notNull())
        .addColumn('left_at', 'bigint')
        .addPrimaryKeyConstraint('remote_session_participants_pk', ['session_id', 'participant_id'])
        .execute();
      await db.schema
        .createTable('remote_session_timeline')
        .addColumn('session_id', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(100)', (c) => c.notNull())
        .addColumn('actor_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('text', 'text')
        .addColumn('data', 'text')
        .addPrimaryKeyConstraint('remote_session_timeline_pk', ['session_id', 'seq'])
        .execute();
      await db.schema
        .createTable('duty_shifts')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('weekday', 'integer')
        .addColumn('date', 'varchar(10)')
        .addColumn('start_time', 'varchar(5)', (c) => c.notNull())
        .addColumn('end_time', 'varchar(5)', (c) => c.notNull())
        .addColumn('primary_engineer', 'varchar(100)', (c) => c.notNull())
        .addColumn('secondary_engineer', 'varchar(100)')
        .addColumn('duty_lead', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['duty_shifts', 'remote_session_timeline', 'remote_session_participants', 'remote_sessions'])
        await db.schema.dropTable(t).execute();
    },
  };
}
