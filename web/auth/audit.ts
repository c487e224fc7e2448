/**
 * The audit log lives with the records (records/audit-log.ts) so that the registry CLI and the
 * broker's login-failure summaries append to the same chain; the console uses it from here.
 */
export {
  createAuditLog,
  type AuditEntry,
  type AuditFilter,
  type AuditLog,
  type AuditRecord,
  type AuditSink,
  type AuditSource,
  type AuditVerdict,
} from '../../records/audit-log.ts';
