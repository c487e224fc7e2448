import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NUMERIC_FIELD_PATHS, type TelemetryFrame } from '../../protocol/index.ts';
import { bucketSql, FRAME_READ_SQL } from '../../telemetry/frame-reads.ts';
import { ROLLUP_SQL, rollupQueries } from '../../telemetry/rollup.ts';
import { slotOf, SLOT_MS } from '../../telemetry/slots.ts';
import {
  createSqliteTelemetryStore,
  type SqliteTelemetryStore,
  type SqliteUpgradeEvent,
} from '../../telemetry/sqlite-store.ts';
import type { StoredFrame } from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);

function stored(vehicleId: string, seq: number, ts: number): StoredFrame {
  return { vehicleId, receivedAt: ts + 5, frame: frame(seq, ts) as TelemetryFrame };
}

/** The frames whose (vehicle, slot) has no row in the slot directory: always none. */
function framesWithoutSlot(db: Database.Database): number {
  return db
    .prepare(
      `SELECT count(*) FROM telemetry t WHERE NOT EXISTS
         (SELECT 1 FROM telemetry_slots s WHERE s.vehicle_id = t.vehicle_id AND s.slot = t.slot)`,
    )
    .pluck()
    .get() as number;
}

/**
 * Every statement that reads one vehicle's frames, with values to explain it with: each must go
 * through the slot directory and the frames' (slot, vehicle, ts, seq) key, never scan.
 */
function vehicleStatements(): [name: string, sql: string, args: unknown[]][] {
  const v = 'V1';
  const [from, to] = [T0, T0 + 60_000];
  const range = [slotOf(from), slotOf(to), from, to];
  const fields = NUMERIC_FIELD_PATHS.slice(0, 2);
  const named = { vehicleId: v, from, to, fromSlot: slotOf(from), toSlot: slotOf(to), bucket: 7_000 };
  return [
    ['frames', FRAME_READ_SQL.frames, [v, ...range, 100]],
    ['latest', FRAME_READ_SQL.latest, [v]],
    ['latestMany', FRAME_READ_SQL.latestMany, [JSON.stringify([v, 'V2'])]],
    ['countVehicle', FRAME_READ_SQL.countVehicle, [v]],
    ['countRange', FRAME_READ_SQL.countRange, [v, ...range, 100]],
    ['bucketSql', bucketSql(fields), [named]],
    ['rollup frames', rollupQueries(fields).frames, [{ ...named, start: from, width: SLOT_MS }]],
    ['aggregate', ROLLUP_SQL.aggregate, [v, ...range]],
    ['nthTs', ROLLUP_SQL.nthTs, [v, slotOf(from), from, 300]],
    ['firstTs', ROLLUP_SQL.firstTs, [v, slotOf(from), from]],
    ['lastTs', ROLLUP_SQL.lastTs, [v]],
    ['nextVehicle', ROLLUP_SQL.nextVehicle, [v]],
  ];
}

describe('the SQLite store finds a vehicle frames through its time slots', () => {
  let dir: string;
  let file: string;
  let store: SqliteTelemetryStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-slots-'));
    file = join(dir, 'telemetry.db');
    store = createSqliteTelemetryStore({ file });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads one vehicle through the slot directory and the frames key, never by a scan', async () => {
    const frames: StoredFrame[] = [];
    for (let i = 0; i < 200; i++) for (const v of ['V1', 'V2', 'V3']) frames.push(stored(v, i, T0 + i * 1000));
    await store.append(frames);
    const db = new Database(file, { readonly: true });
    try {
      for (const [name, sql, args] of vehicleStatements()) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map(
          (r) => r.detail,
        );
        expect(
          plan.filter((d) => /^SCAN (t|s|telemetry|telemetry_slots)\b/.test(d)),
          `${name}: ${plan.join(' | ')}`,
        ).toEqual([]);
        if (name !== 'nextVehicle')
          expect(
            plan.some((d) => d.includes('USING INDEX telemetry_slot_vehicle')),
            `${name}: ${plan.join(' | ')}`,
          ).toBe(true);
      }
    } finally {
      db.close();
    }
  });

  it('keeps a directory row for every slot a stored frame fell into, also out of order within one batch', async () => {
    // one batch: V1 in slots 0, 2, 1, 0 (and a duplicate), V2 once; then a late frame into slot 5
    const batch = [
      stored('V1', 1, T0 + 1000),
      stored('V1', 3, T0 + 2 * SLOT_MS + 10),
      stored('V1', 2, T0 + SLOT_MS + 5),
      stored('V1', 4, T0 + 999),
      stored('V1', 1, T0 + 1000),
      stored('V2', 1, T0 + 3 * SLOT_MS),
    ];
    expect((await store.append(batch)).inserted).toEqual([true, true, true, true, false, true]);
    await store.append([stored('V1', 9, T0 + 9 * SLOT_MS), stored('V1', 8, T0 + 5 * SLOT_MS + 1)]);
    const db = new Database(file, { readonly: true });
    try {
      expect(framesWithoutSlot(db)).toBe(0);
      const slots = db.prepare(`SELECT vehicle_id, slot FROM telemetry_slots ORDER BY vehicle_id, slot`).raw().all();
      const s0 = slotOf(T0);
      expect(slots).toEqual([
        ['V1', s0],
        ['V1', s0 + 1],
        ['V1', s0 + 2],
        ['V1', s0 + 5],
        ['V1', s0 + 9],
        ['V2', s0 + 3],
      ]);
    } finally {
      db.close();
    }
    expect((await store.frames('V1', T0, T0 + 10 * SLOT_MS)).map((f) => f.frame.seq)).toEqual([4, 1, 2, 3, 8, 9]);
    expect((await store.latest('V1'))!.frame.seq).toBe(9);
  });

  it('retention removes the slots wholly before its cut-off and keeps the one it falls into', async () => {
    const frames: StoredFrame[] = [];
    for (let i = 0; i < 60; i++) frames.push(stored('V1', i, T0 + i * 1000), stored('V2', i, T0 + i * 1000 + 500));
    await store.append(frames);
    const cut = T0 + 25_000; // inside the third slot
    expect(await store.deleteOlderThan(cut)).toBe(50);
    const db = new Database(file, { readonly: true });
    try {
      const slots = db.prepare(`SELECT DISTINCT slot FROM telemetry_slots ORDER BY slot`).pluck().all();
      expect(slots).toEqual([2, 3, 4, 5].map((k) => slotOf(T0) + k));
      expect(framesWithoutSlot(db)).toBe(0);
    } finally {
      db.close();
    }
    expect((await store.frames('V2', T0, T0 + 60_000)).map((f) => f.frame.seq)).toEqual(
      Array.from({ length: 35 }, (_, i) => i + 25),
    );
    expect(await store.count('V1')).toBe(35);
  });

  it('tells of no upgrade for a file of the current layout', async () => {
    await store.append([stored('V0', 0, T0)]);
    await store.close();
    const told: SqliteUpgradeEvent[] = [];
    store = createSqliteTelemetryStore({ file, onUpgrade: (e) => told.push(e) });
    expect(await store.count()).toBe(1);
    expect(told).toEqual([]);
  });

  it('upgrades a file from before the slots: same frames, same key, the old index gone', async () => {
    const frames: StoredFrame[] = [];
    for (let i = 0; i < 90; i++) frames.push(stored(`V${i % 3}`, i, T0 + i * 700));
    await store.append(frames);
    await store.close();
    // back to the layout before the slots: the (vehicle, ts, seq) key, no slot column, no directory
    const old = new Database(file);
    old.exec(`DROP INDEX telemetry_slot_vehicle; DROP TABLE telemetry_slots; ALTER TABLE telemetry DROP COLUMN slot;
      CREATE UNIQUE INDEX telemetry_vehicle_ts_seq ON telemetry (vehicle_id, ts, seq);`);
    expect(old.prepare(`SELECT count(*) FROM pragma_table_xinfo('telemetry') WHERE name = 'slot'`).pluck().get()).toBe(
      0,
    );
    old.close();

    const told: SqliteUpgradeEvent[] = [];
    store = createSqliteTelemetryStore({ file, onUpgrade: (e) => told.push(e) });
    // the operator is told before and after, with the frames it goes through
    expect(told.map((e) => [e.phase, e.upgrade, e.frames])).toEqual([
      ['start', 'slot-key', 90],
      ['done', 'slot-key', 90],
    ]);
    expect(told[1]!.phase === 'done' && told[1]!.seconds).toBeGreaterThanOrEqual(0);
    expect(await store.count()).toBe(90);
    expect((await store.frames('V1', T0, T0 + 90 * 700)).map((f) => f.frame.seq)).toEqual(
      Array.from({ length: 30 }, (_, i) => i * 3 + 1),
    );
    expect((await store.latest('V2'))!.frame.seq).toBe(89);
    // the unique key still holds: a frame stored before is a duplicate
    expect((await store.append([stored('V0', 0, T0), stored('V0', 90, T0 + 90 * 700)])).inserted).toEqual([
      false,
      true,
    ]);
    const db = new Database(file, { readonly: true });
    try {
      const indexes = db
        .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'telemetry'`)
        .pluck()
        .all();
      expect(indexes).toContain('telemetry_slot_vehicle');
      expect(indexes).not.toContain('telemetry_vehicle_ts_seq');
      expect(framesWithoutSlot(db)).toBe(0);
    } finally {
      db.close();
    }
  });
});
