import type { AuditEntry } from './auth/audit.ts';

export const AUDIT_EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** The export's columns, in order (the CSV header). */
export const AUDIT_EXPORT_COLUMNS = [
  'id',
  'at',
  'time',
  'actor',
  'action',
  'subject',
  'ip',
  'source',
  'details',
  'prevHash',
  'hash',
] as const;

/** A cell starting with one of these is read as a formula by spreadsheets (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled;
 * a text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
 * return) gets a leading apostrophe, so it is shown, never evaluated.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  if (typeof value === 'string' && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function fields(e: AuditEntry): Record<(typeof AUDIT_EXPORT_COLUMNS)[number], unknown> {
  return {
    id: e.id,
    at: e.at,
    time: new Date(e.at).toISOString(),
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    ip: e.ip,
    source: e.source,
    details: e.details === null ? null : JSON.stringify(e.details),
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

/**
 * The audit rows as CSV (a header, then one line per row) or JSON Lines (one object per row, the
 * details as stored in the chain, so a copy can be verified outside with records/audit-chain.ts),
 * produced as the rows are read.
 */
export async function* auditExportLines(
  entries: AsyncIterable<AuditEntry>,
  format: AuditExportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${AUDIT_EXPORT_COLUMNS.join(',')}\r\n`;
  for await (const e of entries) {
    const row = fields(e);
    yield format === 'csv'
      ? `${AUDIT_EXPORT_COLUMNS.map((c) => csvCell(row[c])).join(',')}\r\n`
      : `${JSON.stringify(row)}\n`;
  }
}
