import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../records/statement-cache.ts';

/** records/statement-cache.ts: the records' SQLite statements prepared once per SQL text. */
describe('the records’ statement cache', () => {
  const opened: Database.Database[] = [];
  afterEach(() => {
    for (const d of opened.splice(0)) if (d.open) d.close();
  });
  function sqlite() {
    const d = new Database(':memory:');
    opened.push(d);
    d.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    return d;
  }

  it('hands out the same statement for the same SQL, and prepares another SQL text once', () => {
    const d = sqlite();
    const prepared: string[] = [];
    const real = d.prepare.bind(d);
    d.prepare = ((text: string) => (prepared.push(text), real(text))) as typeof d.prepare;
    const cache = withStatementCache(d);
    const a = cache.prepare('SELECT v FROM t WHERE id = ?');
    expect(cache.prepare('SELECT v FROM t WHERE id = ?')).toBe(a);
    expect(cache.prepare('SELECT id FROM t')).not.toBe(a);
    expect(prepared).toEqual(['SELECT v FROM t WHERE id = ?', 'SELECT id FROM t']);
  });

  it('keeps at most the given number, forgetting the least recently used', () => {
    const cache = withStatementCache(sqlite(), 2);
    const one = cache.prepare('SELECT 1');
    const two = cache.prepare('SELECT 2');
    expect(cache.prepare('SELECT 1')).toBe(one); // now the most recent
    cache.prepare('SELECT 3'); // SELECT 2 goes
    expect(cache.prepare('SELECT 1')).toBe(one);
    expect(cache.prepare('SELECT 2')).not.toBe(two);
  });

  it('does not hand out a statement still being iterated', () => {
    const d = sqlite();
    d.exec("INSERT INTO t (v) VALUES ('a'), ('b')");
    const cache = withStatementCache(d);
    const first = cache.prepare('SELECT v FROM t ORDER BY id');
    const it1 = first.iterate([]);
    expect(it1.next().value).toEqual({ v: 'a' });
    const second = cache.prepare('SELECT v FROM t ORDER BY id');
    expect(second).not.toBe(first);
    expect(it1.next().value).toEqual({ v: 'b' });
    expect(it1.next().done).toBe(true);
    expect(second.all([])).toEqual([{ v: 'a' }, { v: 'b' }]);
    expect(cache.prepare('SELECT v FROM t ORDER BY id')).toBe(first); // done iterating: kept again
  });

  it('runs Kysely queries with other values, writes and transactions through kept statements, also after a schema change', async () => {
    const db = new Kysely<{ t: { id: Generated<number>; v: string } }>({
      dialect: new SqliteDialect({ database: withStatementCache(sqlite()) }),
    });
    for (const v of ['a', 'b', 'c']) await db.insertInto('t').values({ v }).execute();
    const byId = (id: number) => db.selectFrom('t').select('v').where('id', '=', id).executeTakeFirst();
    expect(await byId(2)).toEqual({ v: 'b' });
    expect(await byId(3)).toEqual({ v: 'c' });
    await db.transaction().execute(async (tx) => {
      await tx.updateTable('t').set({ v: 'B' }).where('id', '=', 2).execute();
    });
    expect(await byId(2)).toEqual({ v: 'B' });
    await sql`ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'x'`.execute(db);
    expect(await db.selectFrom('t').selectAll().where('id', '=', 1).executeTakeFirst()).toEqual({
      id: 1,
      v: 'a',
      w: 'x',
    });
    expect(await byId(1)).toEqual({ v: 'a' });
    await db.destroy();
  });
});
