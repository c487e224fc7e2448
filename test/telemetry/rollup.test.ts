import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { encodeRows } from '../../telemetry/columns.ts';
import { prepareFrameWrites } from '../../telemetry/frame-writes.ts';
import { startRollupCompactor } from '../../telemetry/rollup-compactor.ts';
import { ROLLUP_GRACE_MS, ROLLUP_STEP_MS, rollupInterval, splitRange } from '../../telemetry/rollup.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import {
  ROLLUP_MS,
  type Series,
  type SeriesQuery,
  type StoredFrame,
  type TelemetryStore,
} from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const HOUR = 3_600_000;

/** 1 Hz with gaps and jitter, every 5th frame battery-only (other fields missing), ending `end`. */
function history(vehicleId: string, end: number, seconds: number): StoredFrame[] {
  const out: StoredFrame[] = [];
  for (let i = 0; i < seconds; i++) {
    if (i % 613 < 40) continue; // a 40 s gap now and then
    const ts = end - (seconds - i) * 1000 + (i % 3) * 17;
    const f: TelemetryFrame =
      i % 5 === 0
        ? { v: 1, seq: i, ts, source: 'battery', battery: { voltageV: 23 + (i % 11) / 10, socPct: 40 + (i % 50) } }
        : (frame(i, ts, {
            loadKw: (i % 97) / 10,
            battery: { voltageV: 26 + (i % 13) / 10, currentA: 3, socPct: 90 - (i % 20), tempC: 24 },
          }) as TelemetryFrame);
    out.push({ vehicleId, receivedAt: ts + 30, frame: f });
  }
  return out;
}

function expectSameSeries(a: Series, b: Series) {
  expect(a.bucketMs).toBe(b.bucketMs);
  expect(a.ts).toEqual(b.ts);
  expect(a.count).toEqual(b.count);
  expect(Object.keys(a.fields)).toEqual(Object.keys(b.fields));
  for (const [f, s] of Object.entries(a.fields)) {
    const o = b.fields[f as keyof Series['fields']]!;
    expect(s.min, f).toEqual(o.min);
    expect(s.max, f).toEqual(o.max);
    s.avg.forEach((v, i) => (v === null ? expect(o.avg[i]).toBeNull() : expect(v).toBeCloseTo(o.avg[i]!, 9)));
  }
}

describe('rollups of the SQLite telemetry store', () => {
  let dir: string;
  let file: string;
  let store: SqliteTelemetryStore;
  let reference: TelemetryStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-rollup-'));
    file = join(dir, 'telemetry.db');
    store = createSqliteTelemetryStore({ file });
    reference = createMemoryTelemetryStore();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const both = async (frames: StoredFrame[]) => {
    await store.append(frames);
    await reference.append(frames);
  };
  const rollupRows = () => {
    const db = new Database(file, { readonly: true });
    try {
      return {
        rows: (db.prepare('SELECT count(*) FROM telemetry_rollup').pluck().get() as number) ?? 0,
        marks: Object.fromEntries(
          db.prepare('SELECT vehicle_id, rolled_to FROM telemetry_rollup_state').raw().all() as [string, number][],
        ),
      };
    } finally {
      db.close();
    }
  };
  async function expectSameAnswers(queries: SeriesQuery[]) {
    for (const q of queries) expectSameSeries(await store.series(q), await reference.series(q));
  }

  it('answers long ranges from rollups exactly as from the frames, up to the recent frames', async () => {
    const end = Date.now();
    await both([...history('V1', end, 4 * 3600), ...history('V2', end - 2 * HOUR, 3600)]);
    const queries: SeriesQuery[] = [
      { vehicleId: 'V1', from: end - 4 * HOUR, to: end, maxPoints: 300 },
      {
        vehicleId: 'V1',
        from: end - 3 * HOUR + 1234,
        to: end - 3_333,
        maxPoints: 700,
        fields: ['loadKw', 'battery.voltageV', 'battery.socPct'],
      },
      { vehicleId: 'V2', from: end - 24 * HOUR, to: end, maxPoints: 2000 },
    ];
    await store.compactRollups();
    const { rows, marks } = rollupRows();
    expect(rows).toBeGreaterThan(1000);
    // closed intervals are rolled up; the last ROLLUP_GRACE_MS or so are not yet
    expect(marks.V1).toBeGreaterThan(end - 60_000);
    expect(marks.V1).toBeLessThan(end);
    expect(marks.V1! % ROLLUP_MS).toBe(0);
    await expectSameAnswers(queries);
    expect(splitRange(end - 4 * HOUR, end, marks.V1!).rollups).not.toBeNull();
  });

  it('answers a day in minute buckets from the minute rollups: at most 1,440 rows per series', async () => {
    const end = Date.now();
    await both(history('V1', end, 24 * 3600));
    await store.compactRollups();
    const q: SeriesQuery = { vehicleId: 'V1', from: end - 24 * HOUR, to: end, maxPoints: 2000 };
    const s = await store.series(q);
    expect(s.bucketMs).toBe(60_000);
    expect(s.ts[0]! % 60_000).toBe(0);
    expect(s.ts.length).toBeLessThanOrEqual(1441);
    expectSameSeries(s, await reference.series(q));
    const db = new Database(file);
    try {
      const minutes = db
        .prepare(`SELECT count(*) FROM telemetry_rollup_1m WHERE vehicle_id = 'V1'`)
        .pluck()
        .get() as number;
      expect(minutes).toBeGreaterThan(1300);
      expect(minutes).toBeLessThanOrEqual(1441);
      // the answer comes from the minute rows: without the 10 s rows of the day's middle it is the same
      db.prepare(`DELETE FROM telemetry_rollup WHERE vehicle_id = 'V1' AND bucket >= ? AND bucket < ?`).run(
        end - 20 * HOUR,
        end - 4 * HOUR,
      );
    } finally {
      db.close();
    }
    expectSameSeries(await store.series(q), await reference.series(q));
  });

  it('forgets the marks of a file from before the minute rollups, and rolls it up again', async () => {
    const end = Date.now() - 10 * 60_000;
    await both(history('V1', end, 3 * 3600));
    await store.compactRollups();
    await store.close();
    const db = new Database(file);
    db.exec('DROP TABLE telemetry_rollup_1m');
    db.close();
    store = createSqliteTelemetryStore({ file });
    expect(rollupRows().marks).toEqual({});
    const q: SeriesQuery = { vehicleId: 'V1', from: end - 3 * HOUR, to: end, maxPoints: 100 };
    expectSameSeries(await store.series(q), await reference.series(q));
    await store.compactRollups();
    expect(rollupRows().marks.V1).toBeGreaterThan(end);
    expectSameSeries(await store.series(q), await reference.series(q));
  });

  it('reads an interval from the frames again when a frame arrives late, until it is rolled up again', async () => {
    const end = Date.now();
    await both(history('V1', end - HOUR, 3 * 3600));
    await store.compactRollups();
    const before = rollupRows().marks.V1!;
    // a gateway replays a frame from 2 h ago that never arrived
    const late: StoredFrame = {
      vehicleId: 'V1',
      receivedAt: end,
      frame: frame(999_999, end - 2 * HOUR - 1, { loadKw: 123.4 }) as TelemetryFrame,
    };
    await both([late]);
    const moved = rollupRows().marks.V1!;
    expect(moved).toBeLessThan(before);
    expect(moved).toBe(Math.floor((end - 2 * HOUR - 1) / ROLLUP_MS) * ROLLUP_MS);
    const q: SeriesQuery = { vehicleId: 'V1', from: end - 5 * HOUR, to: end, maxPoints: 500, fields: ['loadKw'] };
    await expectSameAnswers([q]);
    expect(Math.max(...(await store.series(q)).fields.loadKw!.max.map((v) => v ?? 0))).toBe(123.4);
    await store.compactRollups();
    expect(rollupRows().marks.V1).toBe(before);
    await expectSameAnswers([q]);
  });

  it('trims rollups with the frames, the interval of the cut-off rolled up from what is left', async () => {
    const end = Date.now() - HOUR;
    await both(history('V1', end, 2 * 3600));
    await store.compactRollups();
    const cut = end - HOUR + 4_321; // inside an interval
    expect(await store.deleteOlderThan(cut)).toBe(await reference.deleteOlderThan(cut));
    await expectSameAnswers([
      { vehicleId: 'V1', from: end - 2 * HOUR, to: end, maxPoints: 200 },
      { vehicleId: 'V1', from: cut - 50_000, to: cut + 600_000, maxPoints: 20 },
    ]);
  });

  it('forgets what it kept of an interval retention cut into before it was rolled up', async () => {
    const end = rollupInterval(Date.now()) - 60_000;
    // the writer thread's first pass (at its start) is over; the next is seconds away
    await store.append(history('V0', end, 30));
    await store.compactRollups();
    await both(history('V1', end, 300));
    // the cut lands inside an interval not rolled up yet: what is left of it is rolled up, not what was kept
    const cut = end - 200_000 + 4_321;
    expect(await store.deleteOlderThan(cut)).toBe(await reference.deleteOlderThan(cut));
    await store.compactRollups();
    const q: SeriesQuery = { vehicleId: 'V1', from: rollupInterval(cut), to: end - 1, maxPoints: 20 };
    const s = await store.series(q);
    expect(s.bucketMs).toBe(ROLLUP_MS);
    expectSameSeries(s, await reference.series(q));
  });

  it('rolls up a large backlog in steps of at most stepFrames frames, a turn of its own each when turns are short', async () => {
    const end = Date.now() - 10 * 60_000;
    const other = join(dir, 'backlog.db');
    const inline = createSqliteTelemetryStore({ file: other, writer: 'inline' });
    const frames = history('V9', end, 3 * 3600);
    await inline.append(frames);
    await reference.append(frames);
    await inline.close();
    const db = new Database(other);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const syncAfterTurn: number[] = [];
    const markOf = db.prepare('SELECT rolled_to FROM telemetry_rollup_state WHERE vehicle_id = ?').pluck();
    const framesIn = db.prepare('SELECT count(*) FROM telemetry WHERE vehicle_id = ? AND ts >= ? AND ts < ?').pluck();
    const perTurn: number[] = [];
    let mark = -Number.MAX_SAFE_INTEGER;
    const compactor = startRollupCompactor(db, {
      graceMs: ROLLUP_GRACE_MS,
      everyMs: 3_600_000,
      stepMs: ROLLUP_STEP_MS,
      stepFrames: 50,
      // every turn is over after its first step: one step per turn
      turnMs: 0,
      onTurn: () => {
        // a turn commits without its own fsync; the connection's setting is back after it
        syncAfterTurn.push(Number(db.pragma('synchronous', { simple: true })));
        const now = markOf.get('V9') as number;
        perTurn.push(framesIn.get('V9', mark, now) as number);
        mark = now;
      },
    });
    try {
      await new Promise<void>((resolve, reject) => compactor.pass((err) => (err ? reject(err) : resolve())));
    } finally {
      compactor.close();
      db.close();
    }
    // an hour a step (3,400 frames here) without the bound
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(50);
    expect(new Set(syncAfterTurn)).toEqual(new Set([2])); // FULL
    expect(perTurn.reduce((a, b) => a + b, 0)).toBe(frames.length);
    expect(mark).toBeGreaterThan(end);
    const reopened = createSqliteTelemetryStore({ file: other });
    try {
      for (const maxPoints of [400, 100])
        for (const q of [{ vehicleId: 'V9', from: end - 3 * HOUR, to: end, maxPoints }])
          expectSameSeries(await reopened.series(q), await reference.series(q));
    } finally {
      await reopened.close();
    }
  });

  it('rolls up an interval whose every frame it stored from the aggregate kept at insert, others from the frames', async () => {
    const end = rollupInterval(Date.now()) - 2 * 60_000;
    const other = join(dir, 'kept.db');
    // V2 stored before the compactor starts (as before a restart): nothing kept, read from the frames
    const before = createSqliteTelemetryStore({ file: other, writer: 'inline' });
    const v2 = history('V2', end, 300);
    await before.append(v2);
    await before.close();
    const db = new Database(other);
    db.pragma('journal_mode = WAL');
    const writes = prepareFrameWrites(db);
    const compactor = startRollupCompactor(db, {
      graceMs: ROLLUP_GRACE_MS,
      everyMs: 3_600_000,
      stepMs: ROLLUP_STEP_MS,
      stepFrames: 300,
      turnMs: 50,
    });
    let passFrom = 0;
    try {
      // V1: five minutes stored by this writer, then again with one frame more into an interval it
      // already has (the rest are duplicates): 30 intervals, each aggregate whole
      const v1 = history('V1', end, 300);
      const late = history('V1', end + 1000, 300).at(-1)!;
      late.frame = { ...late.frame, seq: 100_000, ts: end - 5_500 };
      compactor.stored(writes.insert(encodeRows(v1), compactor.rolledTo));
      compactor.stored(writes.insert(encodeRows([...v1.slice(0, 40), late]), compactor.rolledTo));
      await reference.append([...v1, late, ...v2]);
      // the frames change behind the writer's back: what is rolled up from them shows it, a kept aggregate does not
      db.exec(`UPDATE telemetry SET load_kw = 1000 WHERE vehicle_id IN ('V1', 'V2') AND load_kw IS NOT NULL`);
      passFrom = rollupInterval(Date.now() - ROLLUP_GRACE_MS);
      await new Promise<void>((resolve, reject) => compactor.pass((err) => (err ? reject(err) : resolve())));
    } finally {
      compactor.close();
      db.close();
    }
    const reopened = createSqliteTelemetryStore({ file: other });
    try {
      const q = (vehicleId: string): SeriesQuery => ({ vehicleId, from: end - 300_000, to: end - 1, maxPoints: 30 });
      // V1's 10 s rollups are the frames as stored, the late one included: the kept aggregates
      expectSameSeries(await reopened.series(q('V1')), await reference.series(q('V1')));
      const v2Series = await reopened.series(q('V2'));
      expect(v2Series.bucketMs).toBe(ROLLUP_MS);
      expect(Math.max(...v2Series.fields.loadKw!.max.map(Number))).toBe(1000);
      const check = new Database(other, { readonly: true });
      try {
        const marks = check
          .prepare('SELECT rolled_to FROM telemetry_rollup_state ORDER BY vehicle_id')
          .pluck()
          .all() as number[];
        // the pass rolls up to the interval its clock is in (an interval boundary may fall between it and now)
        const passTo = rollupInterval(Date.now() - ROLLUP_GRACE_MS);
        expect(marks).toHaveLength(2);
        expect(marks[0]).toBe(marks[1]);
        expect([passFrom, passTo]).toContain(marks[0]);
      } finally {
        check.close();
      }
    } finally {
      await reopened.close();
    }
  });

  it('keeps its rollups across a reopen and rolls up what was stored before them', async () => {
    const end = Date.now() - 10 * 60_000;
    // stored by the inline writer (as a tool or an older version would): no rollups yet
    const inline = createSqliteTelemetryStore({ file: join(dir, 'other.db'), writer: 'inline' });
    const frames = history('V9', end, 3 * 3600);
    await inline.append(frames);
    await reference.append(frames);
    await inline.close();
    const reopened = createSqliteTelemetryStore({ file: join(dir, 'other.db') });
    try {
      await reopened.compactRollups();
      const q: SeriesQuery = { vehicleId: 'V9', from: end - 3 * HOUR, to: end, maxPoints: 400 };
      expectSameSeries(await reopened.series(q), await reference.series(q));
      const db = new Database(join(dir, 'other.db'), { readonly: true });
      expect(
        db.prepare('SELECT rolled_to FROM telemetry_rollup_state WHERE vehicle_id = ?').pluck().get('V9'),
      ).toBeGreaterThan(end);
      db.close();
    } finally {
      await reopened.close();
    }
  });
});
