import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { auditRowHash, GENESIS_HASH } from '../../records/audit-chain.ts';
import { createPostgresPool } from '../../records/db.ts';
import { migrationProvider } from '../../records/migrations.ts';
import { createTestDatabase, dropTestDatabase, TEST_RECORDS_DIALECT } from '../helpers/records.ts';

/**
 * Every records migration on the dialect the run uses (SQLite by default, PostgreSQL under
 * `npm run test:postgres`): all of them up on an empty database, and the ones that move data
 * carrying the rows already there. A migration added later is covered by the first test as is.
 */
const dialect = TEST_RECORDS_DIALECT;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** An empty database (no migration run) of the run's dialect. */
async function emptyDatabase(): Promise<Kysely<unknown>> {
  if (dialect === 'sqlite') {
    const sqlite = new Database(':memory:');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    cleanup.push(() => db.destroy());
    return db;
  }
  const url = await createTestDatabase({ empty: true });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: createPostgresPool({ url }) }) });
  cleanup.push(async () => {
    await db.destroy();
    await dropTestDatabase(url);
  });
  return db;
}

const migrator = (db: Kysely<unknown>) => new Migrator({ db, provider: migrationProvider(dialect) });
const num = (v: unknown) => (v === null ? null : Number(v));

describe(`records migrations (${dialect})`, () => {
  it('all of them run up on an empty database, in order', async () => {
    const db = await emptyDatabase();
    const all = Object.keys(await migrationProvider(dialect).getMigrations());
    const { error, results } = await migrator(db).migrateToLatest();
    expect(error).toBeUndefined();
    expect(results?.map((r) => [r.migrationName, r.status])).toEqual(all.map((n) => [n, 'Success']));
    // and once more: nothing left to do
    expect((await migrator(db).migrateToLatest()).results).toEqual([]);
  });

  it('the ones moving data carry the rows already there: audit chain, unit numbers, routine tickets, outcomes', async () => {
    const db = await emptyDatabase();
    const m = migrator(db);
    expect((await m.migrateTo('0017_note_visibility')).error).toBeUndefined();
    const at = 1_800_000_000_000;
    await sql`insert into customers (id, name, created_at) values ('C1', 'Unit one', ${at})`.execute(db);
    await sql`insert into vehicles (id, name, model, customer_id, profile, secret_hash, created_at, updated_at)
      values ('V1', 'V1', 'M', 'C1', '{}', 'x', ${at}, ${at})`.execute(db);
    for (const [i, actor] of ['admin', 'desk'].entries())
      await sql`insert into audit_log (at, actor, action, subject, ip, details)
        values (${at + i}, ${actor}, 'test.row', ${`n:${i}`}, null, null)`.execute(db);
    const ticket = async (n: string, level: string, status: string, mode: string | null, received: number) => {
      await sql`insert into tickets (number, source, vehicle_id, customer_id, level, status, title, need, contacts,
          fault_code, service_mode, received_at, work_content_due_at, is_open, queue_due_at, updated_at)
        values (${n}, 'hotline', 'V1', 'C1', ${level}, ${status}, ${n}, 'need', '[]', 'F1', ${mode}, ${received},
          ${received + 1_800_000}, ${status === 'closed' ? 0 : 1}, ${received + 1_800_000}, ${received})`.execute(db);
      const r = await sql<{ id: unknown }>`select id from tickets where number = ${n}`.execute(db);
      return Number(r.rows[0]!.id);
    };
    const closed = await ticket('T-1', 'urgent', 'closed', 'remote_support', at);
    await sql`insert into ticket_timeline (ticket_id, at, actor, action, from_status, to_status, note)
      values (${closed}, ${at + 5000}, 'desk', 'close', 'repaired', 'closed', null)`.execute(db);
    const routine = await ticket('T-2', 'routine', 'received', null, at + 10_000);
    const again = await ticket('T-3', 'urgent', 'received', null, at + 20_000);

    const { error } = await m.migrateToLatest();
    expect(error).toBeUndefined();

    // 0018: the rows already there chained in id order
    const audit = (
      await sql<{
        id: unknown;
        at: unknown;
        actor: string;
        action: string;
        subject: string | null;
        ip: string | null;
        details: string | null;
        prev_hash: string;
        hash: string;
      }>`select * from audit_log order by id`.execute(db)
    ).rows;
    expect(audit[0]!.prev_hash).toBe(GENESIS_HASH);
    let prev = GENESIS_HASH;
    for (const r of audit) {
      expect(r.prev_hash).toBe(prev);
      expect(r.hash).toBe(auditRowHash(prev, { ...r, at: Number(r.at), source: null }));
      prev = r.hash;
    }
    // … and append-only from then on
    await expect(sql`update audit_log set actor = 'someone'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(db)).rejects.toThrow(/append-only/);

    // 0019: per-unit numbers in the order received; 0023: the routine ticket became a service order
    const tickets = (
      await sql<{
        id: unknown;
        unit_seq: unknown;
        level: string;
        status: string;
        service_order_id: unknown;
      }>`select id, unit_seq, level, status, service_order_id from tickets order by id`.execute(db)
    ).rows.map((r) => ({ ...r, id: num(r.id), unit_seq: num(r.unit_seq), service_order_id: num(r.service_order_id) }));
    expect(tickets.map((t) => [t.id, t.unit_seq])).toEqual([
      [closed, 1],
      [routine, 2],
      [again, 3],
    ]);
    const orders = (
      await sql<{
        id: unknown;
        kind: string;
        status: string;
        from_ticket_id: unknown;
        customer_id: string;
      }>`select id, kind, status, from_ticket_id, customer_id from service_orders`.execute(db)
    ).rows;
    expect(orders.map((o) => [o.kind, o.status, num(o.from_ticket_id), o.customer_id])).toEqual([
      ['patrol_inspection', 'requested', routine, 'C1'],
    ]);
    expect(tickets.find((t) => t.id === routine)).toMatchObject({
      level: 'urgent',
      status: 'cancelled',
      service_order_id: Number(orders[0]!.id),
    });
    expect(tickets.find((t) => t.id === again)).toMatchObject({ level: 'urgent', status: 'received' });

    // 0026: the closed ticket's outcome, from its close in the timeline
    const outcomes = (
      await sql<{ ticket_id: unknown; closed_at: unknown; remote: unknown }>`
        select ticket_id, closed_at, remote from ticket_outcomes`.execute(db)
    ).rows.map((r) => [num(r.ticket_id), num(r.closed_at), num(r.remote)]);
    expect(outcomes).toEqual([[closed, at + 5000, 1]]);
  });
});
