import type { NumericFieldPath } from '../protocol/index.ts';
import { ALL_COLUMNS, FIELD_COLUMNS, columnOf } from './columns.ts';
import { ROLLUP_COARSE_MS, ROLLUP_MS } from './store.ts';

/**
 * The PostgreSQL telemetry store's tables and statements (telemetry/postgres-store.ts). Frames and
 * both rollup levels are range-partitioned by day of the UTC clock on their time column; the
 * partitions are created on demand (the day a frame falls into and the next one) and retention
 * drops whole days. The names start with `telemetry_` so that the tables can share a database with
 * the records (whose only such table is `telemetry_confirmations`).
 */
export const DAY_MS = 86_400_000;
export const FRAMES_TABLE = 'telemetry_frames';
export const ROLLUP_TABLES = [
  { table: 'telemetry_rollup_10s', width: ROLLUP_MS },
  { table: 'telemetry_rollup_1m', width: ROLLUP_COARSE_MS },
] as const;
export const PARTITIONED_TABLES = [FRAMES_TABLE, ...ROLLUP_TABLES.map((r) => r.table)];
/** The key of the advisory lock held while partitions are created or dropped (any node). */
export const PARTITION_LOCK = 0x7e1e_0001;
/** Where an export keeps its cursor (one row per export, by name): telemetry/postgres-export.ts. */
export const EXPORT_CURSOR_TABLE = 'telemetry_export_cursor';
/** With a hash of the export's name, the key of the advisory lock held during one export batch. */
export const EXPORT_LOCK_CLASS = 0x7e1e_0002;

/** The start of the UTC day `ts` falls into. */
export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}

/** `telemetry_frames` and 2026-11-01 → `telemetry_frames_p20261101`. */
export function partitionName(table: string, day: number): string {
  return `${table}_p${new Date(day).toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** The day a partition name stands for, or undefined for a name not made by partitionName. */
export function dayOfPartition(table: string, name: string): number | undefined {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : undefined;
}

/** The SQL type of each stored column, in ALL_COLUMNS order. */
const COLUMN_TYPES: Record<string, string> = {
  vehicle_id: 'text',
  seq: 'bigint',
  ts: 'bigint',
  received_at: 'bigint',
  source: 'text',
  sections: 'smallint',
  mains_present: 'smallint',
  generator_running: 'smallint',
  charging_engine_running: 'smallint',
};
export const COLUMN_TYPE = ALL_COLUMNS.map((c) => COLUMN_TYPES[c] ?? 'double precision');

const rollupColumns = FIELD_COLUMNS.map(
  ({ column: c }) =>
    `${c}_min double precision, ${c}_max double precision, ${c}_sum double precision NOT NULL, ${c}_n bigint NOT NULL`,
).join(',\n    ');

/**
 * Each frame row records the transaction that wrote it (`txid`, PostgreSQL's 64-bit xid8), which is
 * what the export's cursor follows (telemetry/postgres-export.ts). Added to the parent, so every
 * partition, present or future, has it. In a database made before the column existed it is added
 * without a default first (no table rewrite: the rows there keep NULL, "legacy" rows the export
 * sends first), then the default applies to rows stored from then on. Checked in the catalog first:
 * ALTER TABLE would take its exclusive lock even with nothing to do.
 */
const EXPORT_COLUMN_SQL = `DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '${FRAMES_TABLE}'::regclass
                   AND attname = 'txid' AND NOT attisdropped) THEN
      ALTER TABLE ${FRAMES_TABLE} ADD COLUMN txid xid8;
      ALTER TABLE ${FRAMES_TABLE} ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
    END IF;
  END $$;`;

/** The parent tables (partitions come and go); safe to run on every start, under PARTITION_LOCK. */
export const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS ${FRAMES_TABLE} (
    ${ALL_COLUMNS.map((c, i) => `${c} ${COLUMN_TYPE[i]}${i < 6 ? ' NOT NULL' : ''}`).join(',\n    ')},
    PRIMARY KEY (vehicle_id, ts, seq)
  ) PARTITION BY RANGE (ts);
  CREATE INDEX IF NOT EXISTS ${FRAMES_TABLE}_ts ON ${FRAMES_TABLE} USING brin (ts);
  ${EXPORT_COLUMN_SQL}
  CREATE INDEX IF NOT EXISTS ${FRAMES_TABLE}_export ON ${FRAMES_TABLE} (txid, vehicle_id, ts, seq);
  CREATE INDEX IF NOT EXISTS ${FRAMES_TABLE}_export_legacy ON ${FRAMES_TABLE} (vehicle_id, ts, seq) WHERE txid IS NULL;
  CREATE TABLE IF NOT EXISTS ${EXPORT_CURSOR_TABLE} (
    name text PRIMARY KEY,
    txid xid8,
    vehicle_id text NOT NULL,
    ts bigint NOT NULL,
    seq bigint NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now()
  );
  ${ROLLUP_TABLES.map(
    ({ table }) => `CREATE TABLE IF NOT EXISTS ${table} (
    vehicle_id text NOT NULL,
    bucket bigint NOT NULL,
    n bigint NOT NULL,
    ${rollupColumns},
    PRIMARY KEY (vehicle_id, bucket)
  ) PARTITION BY RANGE (bucket);`,
  ).join('\n  ')}
`;

/** The statements creating one day's partitions of every table (IF NOT EXISTS). */
export function createPartitionsSql(day: number): string {
  return PARTITIONED_TABLES.map(
    (t) =>
      `CREATE TABLE IF NOT EXISTS ${partitionName(t, day)} PARTITION OF ${t} FOR VALUES FROM (${day}) TO (${day + DAY_MS});`,
  ).join('\n');
}

/** The partitions of a table (their names; the day is in the name: dayOfPartition). */
export const LIST_PARTITIONS = `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = $1::regclass`;

/** Per field of FIELD_COLUMNS, the aggregate a rollup row holds, over frame rows of `source`. */
const FRAME_AGGREGATES = FIELD_COLUMNS.map(
  ({ column: c }) => `min(${c}), max(${c}), coalesce(sum(${c}), 0), count(${c})`,
).join(', ');
const ROLLUP_INSERT_COLUMNS = [
  'vehicle_id',
  'bucket',
  'n',
  ...FIELD_COLUMNS.flatMap(({ column: c }) => [`${c}_min`, `${c}_max`, `${c}_sum`, `${c}_n`]),
].join(', ');
const ROLLUP_MERGE = [
  'n = r.n + excluded.n',
  ...FIELD_COLUMNS.flatMap(({ column: c }) => [
    `${c}_min = least(r.${c}_min, excluded.${c}_min)`,
    `${c}_max = greatest(r.${c}_max, excluded.${c}_max)`,
    `${c}_sum = r.${c}_sum + excluded.${c}_sum`,
    `${c}_n = r.${c}_n + excluded.${c}_n`,
  ]),
].join(', ');

/**
 * One statement stores a batch: the frames (one unnest array per column, so any batch size is one
 * statement), and what it newly stored merged into both rollup levels in the same transaction, so
 * the rollups always equal the aggregate of the frames. Rows go in key order, which keeps the
 * locks of concurrent batches in one order. Returns the (vehicle, seq, ts) of the frames stored.
 */
export const INSERT_SQL = `
  WITH input AS (
    SELECT * FROM unnest(${ALL_COLUMNS.map((_, i) => `$${i + 1}::${COLUMN_TYPE[i]}[]`).join(', ')})
      AS t(${ALL_COLUMNS.join(', ')})
  ), ins AS (
    INSERT INTO ${FRAMES_TABLE} (${ALL_COLUMNS.join(', ')})
    SELECT * FROM input ORDER BY vehicle_id, ts, seq
    ON CONFLICT DO NOTHING
    RETURNING *
  )${ROLLUP_TABLES.map(
    ({ table, width }, k) => `, r${k} AS (
    INSERT INTO ${table} AS r (${ROLLUP_INSERT_COLUMNS})
    SELECT vehicle_id, ts - ts % ${width}, count(*), ${FRAME_AGGREGATES}
    FROM ins GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (vehicle_id, bucket) DO UPDATE SET ${ROLLUP_MERGE}
  )`,
  ).join('')}
  SELECT vehicle_id, seq, ts FROM ins`;

/**
 * Retention's edge: the rollup interval of `width` starting at $1 rolled up again from the frames
 * left in it (those before the cut-off were just deleted).
 */
export function reRollupSql(table: string, width: number): string {
  return `INSERT INTO ${table} (${ROLLUP_INSERT_COLUMNS})
    SELECT vehicle_id, $1::bigint, count(*), ${FRAME_AGGREGATES}
    FROM ${FRAMES_TABLE} WHERE ts >= $1::bigint AND ts < $1::bigint + ${width} GROUP BY vehicle_id`;
}

export const SELECT_COLUMNS = ALL_COLUMNS.join(', ');

/**
 * A downsampled series of whole intervals in one statement: per output bucket b the frame count
 * and per field min, max, sum and count, merged from the minute rollups of $minutes, the 10 s
 * rollups of $tens and the frames of $frames (each a pair of arrays: the ranges' starts and ends,
 * half-open). Parameters: $1 vehicle, $2 start, $3 width, then the three pairs.
 */
export function alignedSeriesSql(fields: NumericFieldPath[]): string {
  const cols = fields.map(columnOf);
  const fromRollup = cols.map((c) => `${c}_min, ${c}_max, ${c}_sum, ${c}_n`).join(', ');
  const fromFrames = cols.map((c) => `${c}, ${c}, ${c}, (${c} IS NOT NULL)::int`).join(', ');
  const names = cols.flatMap((c) => [`${c}_min`, `${c}_max`, `${c}_sum`, `${c}_n`]);
  const merged = cols.map((c) => `min(${c}_min), max(${c}_max), sum(${c}_sum), sum(${c}_n)`).join(', ');
  const ranges = (column: string, p: number) =>
    `EXISTS (SELECT 1 FROM unnest($${p}::bigint[], $${p + 1}::bigint[]) AS g(a, z) WHERE ${column} >= g.a AND ${column} < g.z)`;
  const rollupArm = (table: string, p: number) =>
    `SELECT (bucket - $2) / $3 AS b, n, ${fromRollup} FROM ${table}
       WHERE vehicle_id = $1 AND bucket >= $${p + 2} AND bucket < $${p + 3} AND ${ranges('bucket', p)}`;
  return `SELECT b, sum(n), ${merged} FROM (
      ${rollupArm(ROLLUP_TABLES[1].table, 4)}
      UNION ALL ${rollupArm(ROLLUP_TABLES[0].table, 8)}
      UNION ALL SELECT (ts - $2) / $3 AS b, 1 AS n, ${fromFrames} FROM ${FRAMES_TABLE}
        WHERE vehicle_id = $1 AND ts >= $14 AND ts < $15 AND ${ranges('ts', 12)}
    ) AS parts (b, n, ${names.join(', ')}) GROUP BY b ORDER BY b`;
}
