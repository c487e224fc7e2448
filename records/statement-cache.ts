import type Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct statements kept per records database (a query's SQL text with its placeholders). */
export const STATEMENTS_KEPT = 256;

/**
 * The records' SQLite connection as Kysely sees it, with its prepared statements kept and used again
 * for the same SQL text. Kysely's SQLite driver prepares every query it runs (`db.prepare(sql)`):
 * SQLite parses and plans the SQL each time, on the main thread — in a fleet's connect storm (each
 * CONNECT's credentials lookup, the presence writes) ≈ 3 % of the thread (docs/benchmarks.md, the
 * simulated fleet). A statement is one SQL text with `?` placeholders, so the same query with other
 * values is the same statement; SQL built for a number of values (`in (?, ?, …)`, multi-row inserts)
 * makes one per count, so the kept ones are bounded (the least recently used goes). A kept statement
 * still being iterated (`busy`: Kysely's streaming, unused here) is not handed out again: a new one
 * is prepared. SQLite prepares a kept statement again by itself after a schema change.
 */
export function withStatementCache(sqlite: Database.Database, kept = STATEMENTS_KEPT): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      const hit = statements.get(sql);
      if (hit && !hit.busy) {
        // the most recently used last: a Map iterates in insertion order
        statements.delete(sql);
        statements.set(sql, hit);
        return hit;
      }
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        statements.set(sql, stmt);
        if (statements.size > kept) statements.delete(statements.keys().next().value as string);
      }
      return stmt;
    },
  };
}
