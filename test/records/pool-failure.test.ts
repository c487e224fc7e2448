import { describe, expect, it } from 'vitest';
import { createPostgresPool } from '../../records/db.ts';
import { TEST_RECORDS_DIALECT, withAdmin } from '../helpers/records.ts';

// `npm run test:postgres` (TEST_DATABASE_URL): skipped on the SQLite run
describe.skipIf(TEST_RECORDS_DIALECT !== 'postgres')('the records pool when PostgreSQL ends a connection', () => {
  it('survives a connection ended while checked out between two statements; the next statement fails, the pool goes on', async () => {
    const url = process.env.TEST_DATABASE_URL!;
    const pool = createPostgresPool({ url, maxConnections: 2 });
    try {
      const client = await pool.connect();
      const pid = (client as unknown as { processID: number }).processID;
      const ended = new Promise((resolve) => client.once('end', resolve));
      // as in a transaction between two statements: checked out, no query running
      await withAdmin((admin) => admin.query('select pg_terminate_backend($1)', [pid]));
      // the connection notices its end: an 'error' event, which must not be an uncaught exception
      await ended;
      await expect(client.query('select 1')).rejects.toThrow();
      client.release(true);
      expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
