import { describe, expect, it } from 'vitest';
import { INSERT_CHUNK_ROWS, insertInChunks } from '../../records/db.ts';

/** records/db.ts `insertInChunks`: slices in order, and the event loop gets a turn between two. */
describe('insertInChunks', () => {
  it('inserts every row once, in order, INSERT_CHUNK_ROWS at a time', async () => {
    const rows = Array.from({ length: INSERT_CHUNK_ROWS * 2 + 7 }, (_, i) => i);
    const chunks: number[][] = [];
    await insertInChunks(rows, async (chunk) => {
      chunks.push([...chunk]);
    });
    expect(chunks.map((c) => c.length)).toEqual([INSERT_CHUNK_ROWS, INSERT_CHUNK_ROWS, 7]);
    expect(chunks.flat()).toEqual(rows);
  });

  it('lets the event loop take its turn between two statements, not before the first', async () => {
    const rows = Array.from({ length: INSERT_CHUNK_ROWS * 3 }, (_, i) => i);
    const order: string[] = [];
    let turns = 0;
    const tick = () => {
      turns++;
      if (turns < 10) setImmediate(tick);
    };
    setImmediate(tick);
    await insertInChunks(rows, async (chunk) => {
      // a statement that runs synchronously, as better-sqlite3's do
      order.push(`insert ${chunk[0]} after ${turns} turns`);
    });
    expect(order).toEqual([
      'insert 0 after 0 turns',
      `insert ${INSERT_CHUNK_ROWS} after 1 turns`,
      `insert ${INSERT_CHUNK_ROWS * 2} after 2 turns`,
    ]);
  });

  it('does nothing for no rows', async () => {
    let calls = 0;
    await insertInChunks([], async () => {
      calls++;
    });
    expect(calls).toBe(0);
  });
});
