import { sql, type Kysely, type Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/** diagnostics/tickets/queue.ts NO_DEADLINE. */
const NO_DEADLINE = Number.MAX_SAFE_INTEGER;

/**
 * The service plan's rules where the tickets contradicted them (issue 13, docs/service.md):
 *
 * - Two emergency levels only (特急 / 加急). Training, patrol inspection and accompanying support
 *   are **service orders** (`service_orders`, with their own timeline `service_order_events`):
 *   requested by application, scheduled, no 30-minute clock.
 * - The duty desk (市场部) classifies: `proposed_level` is what the customer or the rule proposed,
 *   `level_confirmed_at/_by` when the dispatcher confirmed or reclassified it (null: not yet).
 * - Contacts and place: `place` (where help is needed), `province` ('in' 省内 / 'out' 省外, null:
 *   not recorded yet); `deadlines_apply` (0 when the 30-minute rule is configured for in-province
 *   tasks only and the task is out of province).
 *
 * - The response team (应急响应小组) instead of one assignee, and the command post (应急指挥部) of
 *   特急 tasks: `ticket_team_members`; the assignee so far becomes the leader (组长).
 *
 * Existing 常规 (routine) tickets: each becomes a service order (training → training, accompanying
 * support → accompanying support, anything else → patrol inspection and repair 巡检巡修) with the
 * ticket's unit, vehicle, need and contacts; an open one is `requested`, a verified or closed one
 * `done`, a cancelled one `cancelled`. The ticket row stays (sessions, pages and deliveries point at
 * it) with `service_order_id` naming its order; an open one is cancelled, and its level is recorded
 * as urgent (the column has two values now) with a timeline entry saying so. Notification
 * subscriptions with the minimum level `routine` (everything) get `urgent` (still everything).
 */
export function serviceOrdersLevelsMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('service_orders')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('number', 'varchar(100)', (c) => c.notNull().unique())
        .addColumn('unit_seq', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('customer_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('vehicle_id', 'varchar(64)')
        .addColumn('title', 'varchar(200)', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('place', 'varchar(300)', (c) => c.notNull())
        .addColumn('requested_date', 'varchar(10)', (c) => c.notNull())
        .addColumn('people', 'integer', (c) => c.notNull())
        .addColumn('contacts', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('scheduled_start', 'bigint')
        .addColumn('scheduled_end', 'bigint')
        .addColumn('team', 'text')
        .addColumn('from_ticket_id', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('service_orders_unit_seq')
        .on('service_orders')
        .columns(['customer_id', 'unit_seq'])
        .unique()
        .execute();
      await db.schema
        .createIndex('service_orders_status')
        .on('service_orders')
        .columns(['status', 'scheduled_start', 'id'])
        .execute();
      await db.schema
        .createTable('service_order_events')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('order_id', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(64)', (c) => c.notNull())
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addColumn('from_status', 'varchar(32)')
        .addColumn('to_status', 'varchar(32)')
        .addColumn('note', 'text')
        .execute();
      await db.schema
        .createIndex('service_order_events_order')
        .on('service_order_events')
        .columns(['order_id', 'id'])
        .execute();

      // the response team (应急响应小组) and, for 特急, the command post (应急指挥部): one row per member
      await db.schema
        .createTable('ticket_team_members')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('team_role', 'varchar(32)', (c) => c.notNull())
        .addColumn('duty', 'varchar(300)')
        .execute();
      await db.schema
        .createIndex('ticket_team_members_ticket')
        .on('ticket_team_members')
        .columns(['ticket_id', 'id'])
        .execute();
      // the single assignee of the tickets so far is their team's leader
      await sql`insert into ticket_team_members (ticket_id, account_id, team_role, duty)
        select id, assignee, 'leader', null from tickets where assignee is not null`.execute(db);
      await db.schema.alterTable('tickets').addColumn('proposed_level', 'varchar(16)').execute();
      await db.schema.alterTable('tickets').addColumn('level_confirmed_at', 'bigint').execute();
      await db.schema.alterTable('tickets').addColumn('level_confirmed_by', 'varchar(64)').execute();
      await db.schema.alterTable('tickets').addColumn('place', 'varchar(300)').execute();
      await db.schema.alterTable('tickets').addColumn('province', 'varchar(8)').execute();
      await db.schema
        .alterTable('tickets')
        .addColumn('deadlines_apply', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema.alterTable('tickets').addColumn('service_order_id', 'bigint').execute();
      // the tickets opened before were classified by whoever opened them: proposed = current level
      await sql`update tickets set proposed_level = level`.execute(db);

      await moveRoutineTickets(db);
      await sql`update notification_subscriptions set min_level = 'urgent' where min_level = 'routine'`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      for (const c of [
        'service_order_id',
        'deadlines_apply',
        'province',
        'place',
        'level_confirmed_by',
        'level_confirmed_at',
        'proposed_level',
      ])
        await db.schema.alterTable('tickets').dropColumn(c).execute();
      await db.schema.dropTable('ticket_team_members').execute();
      await db.schema.dropTable('service_order_events').execute();
      await db.schema.dropTable('service_orders').execute();
    },
  };
}

interface RoutineRow {
  id: number | string;
  number: string;
  customer_id: string | null;
  vehicle_id: string | null;
  title: string;
  need: string;
  contacts: string;
  service_mode: string | null;
  status: string;
  received_at: number | string;
}

const OPEN = ['received', 'work_content_determined', 'plan_issued', 'in_service', 'repaired'];

async function moveRoutineTickets(db: Kysely<unknown>): Promise<void> {
  const rows = (
    await sql<RoutineRow>`select id, number, customer_id, vehicle_id, title, need, contacts, service_mode, status, received_at
      from tickets where level = 'routine' order by received_at, id`.execute(db)
  ).rows;
  const at = Date.now();
  for (const r of rows) {
    const unit = r.customer_id ?? '';
    const seqRow = (
      await sql<{
        n: number | string | null;
      }>`select max(unit_seq) as n from service_orders where customer_id = ${unit}`.execute(db)
    ).rows[0];
    const seq = Number(seqRow?.n ?? 0) + 1;
    const kind =
      r.service_mode === 'training' || r.service_mode === 'accompanying_support' ? r.service_mode : 'patrol_inspection';
    const status = OPEN.includes(r.status) ? 'requested' : r.status === 'cancelled' ? 'cancelled' : 'done';
    const received = Number(r.received_at);
    const number = `SO-${unit ? `${unit}-` : ''}${String(seq).padStart(4, '0')}`;
    await sql`insert into service_orders (number, unit_seq, kind, status, customer_id, vehicle_id, title, details, place,
        requested_date, people, contacts, requested_by, scheduled_start, scheduled_end, team, from_ticket_id, created_at, updated_at)
      values (${number}, ${seq}, ${kind}, ${status}, ${unit}, ${r.vehicle_id}, ${r.title}, ${r.need}, ${''},
        ${new Date(received).toISOString().slice(0, 10)}, ${1}, ${r.contacts}, ${'migration'}, ${null}, ${null}, ${null},
        ${r.id}, ${received}, ${at})`.execute(db);
    const order = (
      await sql<{ id: number | string }>`select id from service_orders where number = ${number}`.execute(db)
    ).rows[0]!;
    await sql`insert into service_order_events (order_id, at, actor, action, from_status, to_status, note)
      values (${order.id}, ${at}, ${'migration'}, ${'requested'}, ${null}, ${status},
        ${`from routine ticket ${r.number}: 常规 is no emergency level`})`.execute(db);
    const open = OPEN.includes(r.status);
    await sql`update tickets set level = 'urgent', proposed_level = 'urgent', service_order_id = ${order.id},
        status = ${open ? 'cancelled' : r.status}, is_open = ${open ? 0 : sql`is_open`},
        queue_due_at = ${open ? NO_DEADLINE : sql`queue_due_at`}, updated_at = ${at}
      where id = ${r.id}`.execute(db);
    await sql`insert into ticket_timeline (ticket_id, at, actor, action, from_status, to_status, note, visibility)
      values (${r.id}, ${at}, ${'migration'}, ${'moved_to_service_order'}, ${r.status}, ${open ? 'cancelled' : r.status},
        ${`常规 (routine) is no emergency level: moved to service order ${number}`}, ${'customer'})`.execute(db);
  }
}
