import { sql, type Kysely, type Migration } from 'kysely';
import type { RecordsDialect } from '../migrations.ts';
import { auditRowHash, GENESIS_HASH } from '../audit-chain.ts';

interface OldAuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  ip: string | null;
  details: string | null;
}

/**
 * The audit log hash-chained and append-only (issue 16, item 9): each row gets where it came from
 * (`source`), the hash of the row before it (`prev_hash`) and its own (`hash`, records/audit-chain.ts);
 * the rows already there are chained in id order. A trigger refuses every UPDATE and DELETE, and
 * `prev_hash` is unique, so two appends that raced cannot both hang off the same row (a fork).
 */
export function auditChainMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('audit_log').addColumn('source', 'varchar(16)').execute();
      await db.schema.alterTable('audit_log').addColumn('prev_hash', 'varchar(64)').execute();
      await db.schema.alterTable('audit_log').addColumn('hash', 'varchar(64)').execute();
      const rows = await sql<OldAuditRow>`
        select id, at, actor, action, subject, ip, details from audit_log order by id`.execute(db);
      let prev = GENESIS_HASH;
      for (const r of rows.rows) {
        const hash = auditRowHash(prev, { ...r, source: null });
        await sql`update audit_log set prev_hash = ${prev}, hash = ${hash} where id = ${r.id}`.execute(db);
        prev = hash;
      }
      await db.schema.createIndex('audit_log_prev_hash').on('audit_log').column('prev_hash').unique().execute();
      if (dialect === 'sqlite') {
        for (const op of ['UPDATE', 'DELETE'])
          await sql
            .raw(
              `create trigger audit_log_no_${op.toLowerCase()} before ${op} on audit_log
               begin select raise(abort, 'audit_log is append-only'); end`,
            )
            .execute(db);
      } else {
        await sql
          .raw(
            `create function audit_log_append_only() returns trigger language plpgsql as $$
             begin raise exception 'audit_log is append-only'; end $$`,
          )
          .execute(db);
        await sql
          .raw(
            `create trigger audit_log_append_only before update or delete on audit_log
             for each row execute function audit_log_append_only()`,
          )
          .execute(db);
      }
    },
    async down(db: Kysely<unknown>) {
      if (dialect === 'sqlite') {
        await sql.raw('drop trigger audit_log_no_update').execute(db);
        await sql.raw('drop trigger audit_log_no_delete').execute(db);
      } else {
        await sql.raw('drop trigger audit_log_append_only on audit_log').execute(db);
        await sql.raw('drop function audit_log_append_only').execute(db);
      }
      await db.schema.dropIndex('audit_log_prev_hash').execute();
      for (const c of ['hash', 'prev_hash', 'source']) await db.schema.alterTable('audit_log').dropColumn(c).execute();
    },
  };
}
