import type { RecordsDb } from '../../records/db.ts';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  ip: string | null;
  details: unknown;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  subject?: string;
  since?: number;
  until?: number;
  limit?: number;
}

/**
 * The audit log: logins (success and failure), logouts, account changes, ticket creation and
 * every ticket transition, assignment and service-mode change, vehicle provisioning.
 * Details never hold a secret or a password.
 */
export function createAuditLog(deps: { db: RecordsDb; now?: () => number }) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  return {
    async record(e: {
      actor: string;
      action: string;
      subject?: string | null;
      ip?: string | null;
      details?: unknown;
    }): Promise<void> {
      await db
        .insertInto('audit_log')
        .values({
          at: now(),
          actor: e.actor.slice(0, 100),
          action: e.action,
          subject: e.subject ?? null,
          ip: e.ip ?? null,
          details: e.details === undefined ? null : JSON.stringify(e.details),
        })
        .execute();
    },
    async list(filter: AuditFilter = {}): Promise<AuditEntry[]> {
      let q = db.selectFrom('audit_log').selectAll();
      if (filter.actor) q = q.where('actor', '=', filter.actor);
      if (filter.action) q = q.where('action', '=', filter.action);
      if (filter.subject) q = q.where('subject', '=', filter.subject);
      if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
      if (filter.until !== undefined) q = q.where('at', '<=', filter.until);
      const rows = await q
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 200)
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        at: Number(r.at),
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        ip: r.ip,
        details: r.details === null ? null : (JSON.parse(r.details) as unknown),
      }));
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
