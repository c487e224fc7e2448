import type pg from 'pg';
import { storedFromValues } from './columns.ts';
import type { ExportCursor, ExportSource } from './influx-export.ts';
import { EXPORT_CURSOR_TABLE, EXPORT_LOCK_CLASS, FRAMES_TABLE, SELECT_COLUMNS } from './postgres-schema.ts';

/**
 * A position in the PostgreSQL store's export order: the transaction that wrote the frame (its
 * xid8, as text) and the frame's key. `txid` null: among the frames stored before the column
 * existed (an installation upgraded to it), which are exported first, in key order.
 */
export interface PostgresExportPosition {
  txid: string | null;
  vehicleId: string;
  ts: number;
  seq: number;
}

/** Before every frame: no vehicle id is empty. */
export const EXPORT_START: PostgresExportPosition = {
  txid: null,
  vehicleId: '',
  ts: Number.MIN_SAFE_INTEGER,
  seq: Number.MIN_SAFE_INTEGER,
};
/** After the legacy frames, before every transaction (0 is no transaction's id). */
const AFTER_LEGACY: PostgresExportPosition = { ...EXPORT_START, txid: '0' };

const LEGACY_AFTER = `SELECT ${SELECT_COLUMNS} FROM ${FRAMES_TABLE}
  WHERE txid IS NULL AND (vehicle_id, ts, seq) > ($1, $2, $3) ORDER BY vehicle_id, ts, seq LIMIT $4`;
const SNAPSHOT_XMIN = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`;
// (the text of txid under another name: `ORDER BY txid` would otherwise sort by the output column, as text)
const ENDED_AFTER = `SELECT txid::text AS txid_text, ${SELECT_COLUMNS} FROM ${FRAMES_TABLE}
  WHERE txid < $1::xid8 AND (txid, vehicle_id, ts, seq) > ($2::xid8, $3, $4, $5)
  ORDER BY txid, vehicle_id, ts, seq LIMIT $6`;
const AFTER = `(txid, vehicle_id, ts, seq) > ($1::xid8, $2, $3, $4)`;
const LAG = `SELECT (SELECT count(*) FROM ${FRAMES_TABLE} WHERE ${AFTER}) AS frames,
  (SELECT received_at FROM ${FRAMES_TABLE} WHERE ${AFTER} ORDER BY txid, vehicle_id, ts, seq LIMIT 1) AS oldest`;
const LEGACY_LAG = `SELECT
  (SELECT count(*) FROM ${FRAMES_TABLE} WHERE txid IS NULL AND (vehicle_id, ts, seq) > ($1, $2, $3))
    + (SELECT count(*) FROM ${FRAMES_TABLE} WHERE txid IS NOT NULL) AS frames,
  coalesce(
    (SELECT received_at FROM ${FRAMES_TABLE} WHERE txid IS NULL AND (vehicle_id, ts, seq) > ($1, $2, $3)
      ORDER BY vehicle_id, ts, seq LIMIT 1),
    (SELECT received_at FROM ${FRAMES_TABLE} WHERE txid IS NOT NULL ORDER BY txid, vehicle_id, ts, seq LIMIT 1)
  ) AS oldest`;

/**
 * The export's reading order on PostgreSQL. A serial column would not do: with concurrent writers
 * (several ingest batches, several nodes) transactions commit out of the order their ids were
 * handed out, so a reader past id N may later miss a row with a smaller id committed after it read.
 * Each row records the transaction that wrote it (`txid` default `pg_current_xact_id()`), and a
 * batch reads only rows of transactions below the xmin of a snapshot taken in an earlier statement:
 * every transaction below a snapshot's xmin had ended when it was taken (committed, or rolled back
 * and invisible), and any later statement sees all of those that committed; transactions that get
 * an id later get one at or above it. So once rows of transaction T are read, no row of T or of a
 * transaction before T can appear any more: the order (txid, vehicle_id, ts, seq) only grows, and
 * the last exported (txid, key) is a cursor that skips nothing. A transaction with an id left open
 * anywhere on the server holds the xmin back, and the export waits for it (the lag shows it); it
 * never skips past it. (Read-only transactions get no id and hold nothing back.)
 */
export function postgresExportSource(pool: pg.Pool): ExportSource<PostgresExportPosition> {
  const rowsOf = async (text: string, values: unknown[]) =>
    (await pool.query({ text, values, rowMode: 'array' })).rows as unknown[][];
  const keyOf = (txid: string | null, row: readonly unknown[]) => {
    const frame = storedFromValues(row);
    return { position: { txid, vehicleId: frame.vehicleId, ts: frame.frame.ts, seq: frame.frame.seq }, frame };
  };
  return {
    async framesAfter(position, limit) {
      let from = position;
      if (from.txid === null) {
        const legacy = await rowsOf(LEGACY_AFTER, [from.vehicleId, from.ts, from.seq, limit]);
        if (legacy.length) return legacy.map((row) => keyOf(null, row));
        from = AFTER_LEGACY;
      }
      // the snapshot in its own, earlier statement: every transaction below its xmin has ended by then
      const [[xmin]] = (await rowsOf(SNAPSHOT_XMIN, [])) as [[string]];
      const rows = await rowsOf(ENDED_AFTER, [xmin, from.txid, from.vehicleId, from.ts, from.seq, limit]);
      return rows.map((row) => keyOf(row[0] as string, row.slice(1)));
    },
    async exportLag(position) {
      const [[frames, oldest]] = (await (position.txid === null
        ? rowsOf(LEGACY_LAG, [position.vehicleId, position.ts, position.seq])
        : rowsOf(LAG, [position.txid, position.vehicleId, position.ts, position.seq]))) as [[number, number | null]];
      return { frames, oldestReceivedAt: oldest };
    },
  };
}

/**
 * The export's cursor as a row of `telemetry_export_cursor` in the telemetry database, so any node
 * can continue it. A batch runs in a transaction holding a transaction-level advisory lock (taken
 * with try: a second exporter skips its turn rather than waiting); the cursor is read in it, the
 * batch written to the server, and the new position saved and committed with the lock released. If
 * the server's answer or the commit is lost, the batch goes again (idempotent in InfluxDB). The
 * transaction holds no snapshot while the server is written to (READ COMMITTED, between statements).
 */
export function postgresExportCursor(pool: pg.Pool, name: string): ExportCursor<PostgresExportPosition> {
  const read = async (client: pg.Pool | pg.PoolClient): Promise<PostgresExportPosition> => {
    const { rows } = await client.query<{ txid: string | null; vehicle_id: string; ts: number; seq: number }>(
      `SELECT txid::text, vehicle_id, ts, seq FROM ${EXPORT_CURSOR_TABLE} WHERE name = $1`,
      [name],
    );
    const row = rows[0];
    return row ? { txid: row.txid, vehicleId: row.vehicle_id, ts: Number(row.ts), seq: Number(row.seq) } : EXPORT_START;
  };
  return {
    load: () => read(pool),
    async turn(step) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const { rows } = await client.query<{ mine: boolean }>(
          `SELECT pg_try_advisory_xact_lock(${EXPORT_LOCK_CLASS}, hashtext($1)) AS mine`,
          [name],
        );
        if (!rows[0]!.mine) {
          await client.query('ROLLBACK');
          return false;
        }
        const next = await step(await read(client));
        if (next !== undefined)
          await client.query(
            `INSERT INTO ${EXPORT_CURSOR_TABLE} (name, txid, vehicle_id, ts, seq) VALUES ($1, $2::xid8, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, vehicle_id = excluded.vehicle_id,
               ts = excluded.ts, seq = excluded.seq, saved_at = now()`,
            [name, next.txid, next.vehicleId, next.ts, next.seq],
          );
        await client.query('COMMIT');
        return true;
      } catch (err) {
        // a connection that cannot roll back is dropped from the pool
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      } finally {
        client.release(broken);
      }
    },
  };
}
