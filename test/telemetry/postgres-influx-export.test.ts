import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createCounters } from '../../core/counters.ts';
import { silentLogger } from '../../core/logger.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { ALL_COLUMNS, decodeRows, encodeRows } from '../../telemetry/columns.ts';
import { createInfluxExport } from '../../telemetry/influx-export.ts';
import { EXPORT_START } from '../../telemetry/postgres-export.ts';
import { FRAMES_TABLE, INSERT_SQL } from '../../telemetry/postgres-schema.ts';
import { openPostgresTelemetryStore, type PostgresTelemetryStore } from '../../telemetry/postgres-store.ts';
import type { StoredFrame } from '../../telemetry/store.ts';
import { describeInfluxExport } from '../integration/influx-export-suite.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/records.ts';
import { frame } from '../helpers/platform.ts';

const enabled = Boolean(process.env.TEST_DATABASE_URL);

// the same end-to-end suite as on SQLite (export, outage, catch-up, metrics), the frames in PostgreSQL
describeInfluxExport(
  'PostgreSQL',
  async () => {
    const url = await createTestDatabase({ empty: true });
    return {
      env: { TELEMETRY_STORE: 'postgres', TELEMETRY_DATABASE_URL: url },
      cleanup: () => dropTestDatabase(url),
    };
  },
  enabled,
);

const T0 = Date.now() - 60_000;
const stored = (vehicleId: string, seq: number): StoredFrame => ({
  vehicleId,
  receivedAt: T0 + seq * 1000,
  frame: frame(seq, T0 + seq * 1000, { loadKw: seq }) as TelemetryFrame,
});

/** Stores frames with the store's own statement, in the caller's transaction. */
async function insertIn(client: pg.Client, frames: StoredFrame[]): Promise<void> {
  const columns: unknown[][] = ALL_COLUMNS.map(() => []);
  decodeRows(encodeRows(frames), (values, r) => values.forEach((v, c) => (columns[c]![r] = v)));
  await client.query(INSERT_SQL, columns);
}

describe.skipIf(!enabled)('the InfluxDB export on the PostgreSQL store (TEST_DATABASE_URL)', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function fresh(): Promise<{ url: string; store: PostgresTelemetryStore }> {
    const url = await createTestDatabase({ empty: true });
    cleanups.push(() => dropTestDatabase(url));
    const store = await openPostgresTelemetryStore({ url, maxConnections: 4 });
    cleanups.push(() => store.close());
    return { url, store };
  }
  async function client(url: string): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    cleanups.push(() => c.end());
    return c;
  }
  /** An exporter on the store's cursor `name` whose server keeps every line it was sent. */
  function exporter(store: PostgresTelemetryStore, lines: string[], gate?: () => boolean, onWrite?: () => void) {
    const e = createInfluxExport(
      {
        source: store,
        cursor: store.exportCursor('influx'),
        gate,
        tagsOf: async () => ({}),
        write: async (body) => {
          lines.push(...body.split('\n'));
          onWrite?.();
        },
        counters: createCounters(),
        log: silentLogger(),
      },
      { batchFrames: 7, idleMs: 5, backoffMinMs: 5, backoffMaxMs: 20 },
    );
    cleanups.push(() => e.stop());
    return e;
  }
  const vehiclesOf = (lines: string[]) => lines.map((l) => /vehicle=([^, ]+)/.exec(l)![1]).sort();

  it('exports the frames of two writers committing out of order: neither is skipped', async () => {
    const { url, store } = await fresh();
    const [t1, t2] = [await client(url), await client(url)];
    // T1 stores first (its transaction id is the smaller) but commits last
    await t1.query('BEGIN');
    await insertIn(t1, [stored('EARLY', 1)]);
    await t2.query('BEGIN');
    await insertIn(t2, [stored('LATE', 1)]);
    await t2.query('COMMIT');

    // while T1 is open, T2's committed frame is held back (T1 could still commit below it), not passed
    expect(await store.framesAfter(EXPORT_START, 100)).toEqual([]);
    const lines: string[] = [];
    let turns = 0;
    let twoTurns!: () => void;
    const turned = new Promise<void>((resolve) => (twoTurns = resolve));
    const e = exporter(store, lines, () => {
      if (++turns === 3) twoTurns();
      return true;
    });
    e.start();
    await turned;
    expect(lines).toEqual([]);
    expect(e.stats().exportedFrames).toBe(0);
    expect((await store.exportLag(EXPORT_START)).frames).toBe(1);

    await t1.query('COMMIT');
    await e.until((s) => s.exportedFrames >= 2);
    expect(vehiclesOf(lines)).toEqual(['EARLY', 'LATE']);
    // in transaction order: T1's frame first
    expect(lines[0]).toContain('vehicle=EARLY');
    expect((await store.exportLag(await store.exportCursor('influx').load())).frames).toBe(0);
  });

  it('orders by the transaction id as a number, not as its text (9 before 10)', async () => {
    const { url, store } = await fresh();
    const admin = await client(url);
    await insertIn(admin, [stored('NINE', 1), stored('TEN', 1)]);
    await admin.query(`UPDATE ${FRAMES_TABLE} SET txid = CASE vehicle_id WHEN 'NINE' THEN '9' ELSE '10' END::xid8`);
    const all = await store.framesAfter(EXPORT_START, 10);
    expect(all.map((r) => [r.position.txid, r.frame.vehicleId])).toEqual([
      ['9', 'NINE'],
      ['10', 'TEN'],
    ]);
    expect((await store.framesAfter(all[0]!.position, 10)).map((r) => r.frame.vehicleId)).toEqual(['TEN']);
  });

  it('two exporters on one cursor (two nodes) never interleave: every frame exactly once', async () => {
    const { url, store } = await fresh();
    // the second node: its own store (pool) on the same database
    const other = await openPostgresTelemetryStore({ url, maxConnections: 4 });
    cleanups.push(() => other.close());
    const lines: string[] = [];
    let allSent!: () => void;
    const sent = new Promise<void>((resolve) => (allSent = resolve));
    const onWrite = () => lines.length >= 160 && allSent();
    const [a, b] = [exporter(store, lines, undefined, onWrite), exporter(other, lines, undefined, onWrite)];
    a.start();
    b.start();
    // several writers at once, each batch its own transaction
    await Promise.all(
      ['V1', 'V2', 'V3', 'V4'].map(async (id) => {
        for (let seq = 0; seq < 40; seq += 8)
          await (id === 'V2' ? other : store).append(Array.from({ length: 8 }, (_, i) => stored(id, seq + i)));
      }),
    );
    await sent;
    // stopping lets a batch under way finish (its cursor saved)
    await Promise.all([a.stop(), b.stop()]);
    expect(lines).toHaveLength(160);
    expect(new Set(lines).size).toBe(160);
    expect(a.stats().exportedFrames + b.stats().exportedFrames).toBe(160);
  });

  it('continues from the cursor in the database after a restart, and waits while another holds the export', async () => {
    const { url, store } = await fresh();
    await store.append(Array.from({ length: 10 }, (_, i) => stored('R1', i)));
    const first: string[] = [];
    const e1 = exporter(store, first);
    e1.start();
    await e1.until((s) => s.exportedFrames >= 10);
    await e1.stop();

    await store.append(Array.from({ length: 5 }, (_, i) => stored('R1', 10 + i)));
    // another node's exporter: only what came after
    const other = await openPostgresTelemetryStore({ url, maxConnections: 4 });
    cleanups.push(() => other.close());
    // while a batch holds the export (the advisory lock), a second exporter's turn does nothing
    const holder = await client(url);
    await holder.query('BEGIN');
    await holder.query(`SELECT pg_advisory_xact_lock(${0x7e1e_0002}, hashtext('influx'))`);
    expect(await other.exportCursor('influx').turn(async () => expect.unreachable())).toBe(false);
    await holder.query('COMMIT');

    const second: string[] = [];
    const e2 = exporter(other, second);
    e2.start();
    await e2.until((s) => s.exportedFrames >= 5);
    expect(second.map((l) => /seq=(\d+)i/.exec(l)![1])).toEqual(['10', '11', '12', '13', '14']);
  });

  it('an installation from before the column: its rows (txid NULL) go first, the column added without a rewrite', async () => {
    const { url, store } = await fresh();
    await store.close();
    const admin = await client(url);
    // the frames table as it was: no txid column, rows in today's partition
    await admin.query(`ALTER TABLE ${FRAMES_TABLE} DROP COLUMN txid`);
    await insertIn(admin, [stored('OLD', 1), stored('OLD', 2), stored('ALSO-OLD', 1)]);
    const partition = async () =>
      (
        await admin.query(
          `SELECT c.relfilenode FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '${FRAMES_TABLE}'::regclass ORDER BY c.relname`,
        )
      ).rows;
    const before = await partition();

    const upgraded = await openPostgresTelemetryStore({ url, maxConnections: 4 });
    cleanups.push(() => upgraded.close());
    expect(await partition()).toEqual(before);
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${FRAMES_TABLE} WHERE txid IS NULL`);
    expect(rows[0].n).toBe(3);
    await upgraded.append([stored('NEW', 1)]);
    expect((await upgraded.exportLag(EXPORT_START)).frames).toBe(4);

    const lines: string[] = [];
    const e = exporter(upgraded, lines);
    e.start();
    await e.until((s) => s.exportedFrames >= 4);
    expect(lines.map((l) => /vehicle=([^, ]+)/.exec(l)![1])).toEqual(['ALSO-OLD', 'OLD', 'OLD', 'NEW']);
    await upgraded.append([stored('NEW', 2)]);
    await e.until((s) => s.exportedFrames >= 5);
    expect(lines).toHaveLength(5);
    expect((await upgraded.exportCursor('influx').load()).txid).not.toBeNull();
  });
});
