import { createHash } from 'node:crypto';

/** Where a change came from: the console (a session), an API token, the registry CLI, the MQTT broker, the platform itself. */
export const AUDIT_SOURCES = ['console', 'api_token', 'cli', 'mqtt', 'system'] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

/** The `prev_hash` of the first row of the chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns of an audit row that its hash covers (everything but `id`, `prev_hash` and `hash`). */
export interface AuditChainContent {
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  ip: string | null;
  source: string | null;
  /** As stored: a JSON text, or null. */
  details: string | null;
}

/**
 * The hash of an audit row: SHA-256 (hex) over the previous row's hash followed by the row's
 * canonical content, a JSON array of its columns in a fixed order. The id is not covered (a
 * PostgreSQL sequence may skip numbers); the order is the chain itself, each row naming its
 * predecessor's hash.
 */
export function auditRowHash(prevHash: string, row: AuditChainContent): string {
  const canonical = JSON.stringify([
    Number(row.at),
    row.actor,
    row.action,
    row.subject ?? null,
    row.ip ?? null,
    row.source ?? null,
    row.details ?? null,
  ]);
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}
