/** What of a pg `Pool` this needs: its `connect` event, with the new connection. */
interface PoolEvents {
  on(
    event: 'connect',
    listener: (client: { on(event: 'error', listener: (err: Error) => void): unknown }) => void,
  ): unknown;
}

/**
 * pg-pool listens for a connection's failure only while the connection is idle in the pool. One that
 * fails while checked out between two statements (a transaction's work in between) would emit an
 * 'error' nobody listens for: an uncaught exception, the process gone. With this listener its caller
 * learns of the failure from its next statement, and the pool drops the connection when it comes back.
 * Used by both PostgreSQL pools (records, telemetry); test/records/pool-failure.test.ts.
 */
export function survivePoolConnectionErrors(pool: PoolEvents): void {
  pool.on('connect', (client) => client.on('error', () => undefined));
}
