import type { RecordsDb } from './db.ts';
import { auditRowHash, GENESIS_HASH, type AuditChainContent, type AuditSource } from './audit-chain.ts';

export { AUDIT_SOURCES, GENESIS_HASH, type AuditSource } from './audit-chain.ts';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  ip: string | null;
  /** null on rows from before the chain (migration 0018). */
  source: string | null;
  details: unknown;
  prevHash: string | null;
  hash: string | null;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  subject?: string;
  since?: number;
  until?: number;
  limit?: number;
}

export interface AuditRecord {
  actor: string;
  action: string;
  subject?: string | null;
  ip?: string | null;
  /** Defaults to the log's own (`createAuditLog` options). */
  source?: AuditSource;
  /** JSON-able; never a secret or a password. `{ before, after }` where a value changed. */
  details?: unknown;
}

/** What `verify` found: the whole chain sound, or the first row that breaks it. */
export type AuditVerdict =
  { ok: true; rows: number; headHash: string } | { ok: false; rows: number; brokenId: number; reason: 'link' | 'hash' };

/** Rows read per query while verifying or exporting. */
const BATCH_ROWS = 500;
/** Tries of an append that lost a race with another process (a fork refused by the unique prev_hash). */
const APPEND_TRIES = 5;

/** One queue per records handle: appends of one process go one after another, never fork the chain. */
const queues = new WeakMap<object, Promise<unknown>>();

function serialized<T>(key: object, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(fn, fn);
  queues.set(
    key,
    run.catch(() => undefined),
  );
  return run;
}

/** A stored row: the hashed content and the chain's own columns. */
type Row = AuditChainContent & { id: number; prev_hash: string | null; hash: string | null };

function entryOf(r: Row): AuditEntry {
  return {
    id: Number(r.id),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    ip: r.ip,
    source: r.source,
    details: r.details === null ? null : (JSON.parse(r.details) as unknown),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * The audit log (issue 16, item 9): who changed what, from where (`source`), with before/after
 * where useful. Append-only and hash-chained: each row carries the hash of the one before it and
 * its own, SHA-256 over that and its content (records/audit-chain.ts); the table refuses UPDATE and
 * DELETE (migration 0018), `verify` finds the first row that does not fit. Details never hold a
 * secret or a password.
 *
 * An append reads the chain's head and inserts the next row in one transaction (inside the
 * caller's, when `db` is one), and appends of one process queue behind each other. Two processes
 * (the platform and the registry CLI) that race cannot both chain off one row: `prev_hash` is
 * unique, so the loser's insert fails and it tries again on the new head.
 */
export function createAuditLog(deps: { db: RecordsDb; now?: () => number }, options: { source?: AuditSource } = {}) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const defaultSource: AuditSource = options.source ?? 'system';

  async function appendOnce(tx: RecordsDb, content: AuditChainContent): Promise<void> {
    const head = await tx.selectFrom('audit_log').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
    const prevHash = head?.hash ?? GENESIS_HASH;
    await tx
      .insertInto('audit_log')
      .values({ ...content, prev_hash: prevHash, hash: auditRowHash(prevHash, content) })
      .execute();
  }

  async function append(content: AuditChainContent): Promise<void> {
    // inside the caller's transaction: that transaction already holds the records (SQLite) and a
    // failure must fail it; otherwise our own, queued, tried again when another process won a race
    if (db.isTransaction) return appendOnce(db, content);
    await serialized(db, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          await db.transaction().execute((tx) => appendOnce(tx, content));
          return;
        } catch (err) {
          if (attempt >= APPEND_TRIES || !lostRace(err)) throw err;
        }
      }
    });
  }

  async function* rowsInOrder(range: { from?: number; to?: number } = {}): AsyncGenerator<Row> {
    let after = 0;
    for (;;) {
      let q = db.selectFrom('audit_log').selectAll().where('id', '>', after);
      if (range.from !== undefined) q = q.where('at', '>=', range.from);
      if (range.to !== undefined) q = q.where('at', '<=', range.to);
      const rows = (await q.orderBy('id').limit(BATCH_ROWS).execute()) as Row[];
      for (const r of rows) yield r;
      if (rows.length < BATCH_ROWS) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  return {
    async record(e: AuditRecord): Promise<void> {
      await append({
        at: now(),
        actor: e.actor.slice(0, 100),
        action: e.action,
        subject: e.subject ?? null,
        ip: e.ip ?? null,
        source: e.source ?? defaultSource,
        details: e.details === undefined ? null : JSON.stringify(e.details),
      });
    },
    async list(filter: AuditFilter = {}): Promise<AuditEntry[]> {
      let q = db.selectFrom('audit_log').selectAll();
      if (filter.actor) q = q.where('actor', '=', filter.actor);
      if (filter.action) q = q.where('action', '=', filter.action);
      if (filter.subject) q = q.where('subject', '=', filter.subject);
      if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
      if (filter.until !== undefined) q = q.where('at', '<=', filter.until);
      const rows = (await q
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 200)
        .execute()) as Row[];
      return rows.map(entryOf);
    },
    /** The rows with `at` in [from, to], oldest first, read in batches (for the export). */
    async *entries(range: { from?: number; to?: number } = {}): AsyncGenerator<AuditEntry> {
      for await (const r of rowsInOrder(range)) yield entryOf(r);
    },
    /**
     * Walks the whole chain in id order: each row must name the previous row's hash and carry the
     * hash of its own content. The first row that does not is reported: an edited row fails its
     * hash, a row after a deleted or re-hashed one fails its link. (Rows cut off the end leave no
     * trace inside the table: keep `headHash` somewhere else to notice that.)
     */
    async verify(): Promise<AuditVerdict> {
      let prev = GENESIS_HASH;
      let rows = 0;
      for await (const r of rowsInOrder()) {
        rows++;
        if (r.prev_hash !== prev) return { ok: false, rows, brokenId: Number(r.id), reason: 'link' };
        if (r.hash !== auditRowHash(prev, r)) return { ok: false, rows, brokenId: Number(r.id), reason: 'hash' };
        prev = r.hash;
      }
      return { ok: true, rows, headHash: prev };
    },
  };
}

/** An append that another writer beat to the head: the unique prev_hash refused it, or SQLite's snapshot was stale. */
function lostRace(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return (
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code.startsWith('SQLITE_BUSY') ||
    code === '23505' || // PostgreSQL unique_violation
    /unique/i.test(message)
  );
}

export type AuditLog = ReturnType<typeof createAuditLog>;
/** What the parts outside the web (the broker, the registry CLI, the command service) need of the audit log. */
export type AuditSink = Pick<AuditLog, 'record'>;
