import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createSeriesBytes } from '../../telemetry/series-bytes.ts';
import { seriesJson } from '../../telemetry/series-json.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { emptySeries, type SeriesQuery, type StoredFrame } from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** 1 Hz with gaps and jitter; every 5th frame battery-only (the other fields missing: nulls in their minutes' points where a whole minute lacks them). */
function history(vehicleId: string, end: number, seconds: number, from = 0): StoredFrame[] {
  const out: StoredFrame[] = [];
  for (let i = from; i < seconds; i++) {
    if (i % 613 < 40) continue; // a 40 s gap now and then
    if (i % 7200 >= 3600 && i % 7200 < 3720) continue; // two minutes without frames every other hour
    const ts = end - (seconds - i) * 1000 + (i % 3) * 17;
    const onlyBattery = i % 5 === 0 || (i % 3600 >= 600 && i % 3600 < 720);
    const f: TelemetryFrame = onlyBattery
      ? { v: 1, seq: i, ts, source: 'battery', battery: { voltageV: 23 + (i % 11) / 10, socPct: 40 + (i % 50) } }
      : (frame(i, ts, {
          loadKw: (i % 97) / 7,
          battery: { voltageV: 26 + (i % 13) / 10, currentA: -3.3 + (i % 9) / 3, socPct: 90 - (i % 20), tempC: 24 },
        }) as TelemetryFrame);
    out.push({ vehicleId, receivedAt: ts + 30, frame: f });
  }
  return out;
}

describe('a day in minute points as bytes, the closed minutes kept as text (telemetry/series-bytes.ts)', () => {
  let dir: string;
  let file: string;
  let store: SqliteTelemetryStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-series-bytes-'));
    file = join(dir, 'telemetry.db');
    store = createSqliteTelemetryStore({ file });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The bytes the route sent before: the Series, then its JSON. */
  const viaSeries = async (q: SeriesQuery) => Buffer.from(seriesJson(await store.series(q)));
  async function expectSameBytes(q: SeriesQuery): Promise<Buffer> {
    const bytes = await store.seriesBytes(q);
    expect(bytes, JSON.stringify(q)).toBeDefined();
    const expected = await viaSeries(q);
    if (!bytes!.equals(expected)) expect(bytes!.toString()).toBe(expected.toString());
    return bytes!;
  }
  const day = (to: number, extra: Partial<SeriesQuery> = {}): SeriesQuery => ({
    vehicleId: 'V1',
    from: to - DAY,
    to,
    maxPoints: 2000,
    ...extra,
  });

  it('writes the same bytes as the Series way, and writes a minute once while it stays the same', async () => {
    const end = Date.now();
    await store.append(history('V1', end, 24 * 3600));
    await store.append(history('V2', end, 3600));
    await store.compactRollups();
    const first = await expectSameBytes(day(end));
    const parsed = JSON.parse(first.toString()) as { bucketMs: number; ts: number[] };
    expect(parsed.bucketMs).toBe(60_000);
    expect(parsed.ts.length).toBeGreaterThan(1300);
    const written = store.seriesBytesStats().written;
    expect(written).toBeGreaterThan(1300);
    expect(store.seriesBytesStats().copied).toBe(0);

    // the window slides (from not on the minute, to inside the newest minutes), the closed minutes come from kept text
    for (const shift of [1, 17, 60_000, 61_001, 3 * 60_000 + 5]) await expectSameBytes(day(end - 2 * HOUR + shift));
    const { copied, written: after } = store.seriesBytesStats();
    expect(copied).toBeGreaterThan(5 * 1200);
    expect(after - written).toBeLessThan(50);

    // each set of fields is kept apart; the console's 1,500 points and a single field
    await expectSameBytes(day(end, { fields: ['battery.voltageV', 'loadKw'] }));
    await expectSameBytes(day(end - 1000, { fields: ['battery.voltageV', 'loadKw'] }));
    await expectSameBytes(day(end, { fields: ['generator.fuelPct'] }));
    await expectSameBytes(day(end, { maxPoints: 1500 }));
    await expectSameBytes(day(end));
    // a vehicle of an hour in a day's range
    await expectSameBytes(day(end, { vehicleId: 'V2' }));
    await expectSameBytes(day(end, { vehicleId: 'V2' }));
    await expectSameBytes(day(end, { vehicleId: 'nobody' }));
  });

  it('writes a minute again when a late frame changed it, after the writer merged it again', async () => {
    const end = Date.now();
    await store.append(history('V1', end, 24 * 3600));
    await store.compactRollups();
    await expectSameBytes(day(end));
    // a frame from 5 h ago that never arrived: its minute's row changes once it is rolled up again
    const at = end - 5 * HOUR + 12_345;
    await store.append([
      { vehicleId: 'V1', receivedAt: end, frame: frame(9_999_999, at, { loadKw: 987.5 }) as TelemetryFrame },
    ]);
    const before = store.seriesBytesStats();
    const moved = await expectSameBytes(day(end)); // read from the frames from the moved mark on
    await store.compactRollups();
    const again = await expectSameBytes(day(end));
    expect(again.toString()).toContain('987.5');
    expect(moved.toString()).toContain('987.5');
    // the minutes from the late frame's on were written again once, the rest copied
    const { written } = store.seriesBytesStats();
    expect(written - before.written).toBeGreaterThan(0);
    expect(written - before.written).toBeLessThan(400);
  });

  it('does not answer from kept text for a row whose revision is the same but content is not: the revision decides', async () => {
    // the guard against a writer that changes a minute without a new revision: it would be answered
    // from kept text — so every writer must give one (ROLLUP_SQL.coarsePut); this shows the test above can fail
    const end = Date.now();
    await store.append(history('V1', end, 6 * 3600));
    await store.compactRollups();
    await expectSameBytes(day(end));
    let minute = 0;
    const countAt = (bytes: Buffer | undefined, at: number) => {
      const s = JSON.parse(bytes!.toString()) as { ts: number[]; count: number[] };
      return s.count[s.ts.indexOf(at)];
    };
    const db = new Database(file);
    try {
      [minute] = db
        .prepare(`SELECT bucket FROM telemetry_rollup_1m WHERE vehicle_id = 'V1' ORDER BY bucket LIMIT 1 OFFSET 100`)
        .raw()
        .get() as [number];
      const blob = db.prepare(`SELECT agg FROM telemetry_rollup_1m WHERE vehicle_id = 'V1' AND bucket = ?`).pluck();
      const a = new Float64Array(Uint8Array.from(blob.get(minute) as Buffer).buffer);
      a[0] = 4242; // the frame count
      // the same revision: kept text still answers (stale: this is what a writer without revisions would cause)
      db.prepare(`UPDATE telemetry_rollup_1m SET agg = ? WHERE vehicle_id = 'V1' AND bucket = ?`).run(
        Buffer.from(a.buffer),
        minute,
      );
      expect(countAt(await store.seriesBytes(day(end)), minute)).not.toBe(4242);
      expect(countAt(await viaSeries(day(end)), minute)).toBe(4242);
      // through the writer's statement: a new revision, and the minute is read again
      db.prepare(
        `INSERT OR REPLACE INTO telemetry_rollup_1m (vehicle_id, bucket, agg, rev) SELECT vehicle_id, bucket, agg, random() >> 11 FROM telemetry_rollup_1m WHERE vehicle_id = 'V1' AND bucket = ?`,
      ).run(minute);
    } finally {
      db.close();
    }
    expect(countAt(await expectSameBytes(day(end)), minute)).toBe(4242);
  });

  it('follows retention: the trimmed minutes are gone, the cut-off minute merged again', async () => {
    const end = Date.now();
    await store.append(history('V1', end, 24 * 3600));
    await store.compactRollups();
    await expectSameBytes(day(end));
    await store.deleteOlderThan(end - 20 * HOUR + 7_777);
    const after = await expectSameBytes(day(end));
    const ts = (JSON.parse(after.toString()) as { ts: number[] }).ts;
    expect(ts[0]).toBeGreaterThanOrEqual(Math.floor((end - 20 * HOUR) / 60_000) * 60_000);
  });

  it('answers undefined for the other shapes (the route asks for the Series), and the raw frames of a short range as bytes', async () => {
    const end = Date.now();
    await store.append(history('V1', end, 3 * 3600));
    await store.compactRollups();
    expect(await store.seriesBytes({ vehicleId: 'V1', from: end - HOUR, to: end, maxPoints: 1000 })).toBeUndefined();
    expect(await store.seriesBytes({ vehicleId: 'V1', from: end - 7 * DAY, to: end, maxPoints: 2000 })).toBeUndefined();
    expect(await store.seriesBytes(day(end, { fields: ['loadKw', 'loadKw'] }))).toBeUndefined();
    // fewer frames than points in a day's range: the frames themselves, as the Series way writes them
    await expectSameBytes(
      day(end, { maxPoints: 1440, vehicleId: 'V1', from: end - DAY, to: end - 3 * HOUR + 600_000 }),
    );
    expect(store.seriesBytesStats().kept).toBe(0);
  });

  it('upgrades a file from before the revisions; its rows are read every time until written again', async () => {
    const end = Date.now() - 10 * 60_000;
    await store.append(history('V1', end, 5 * 3600));
    await store.compactRollups();
    await store.close();
    const db = new Database(file);
    db.exec(`
      CREATE TABLE old_1m (vehicle_id TEXT NOT NULL, bucket INTEGER NOT NULL, agg BLOB NOT NULL, PRIMARY KEY (vehicle_id, bucket)) WITHOUT ROWID;
      INSERT INTO old_1m SELECT vehicle_id, bucket, agg FROM telemetry_rollup_1m;
      DROP TABLE telemetry_rollup_1m;
      ALTER TABLE old_1m RENAME TO telemetry_rollup_1m;
      CREATE INDEX telemetry_rollup_1m_bucket ON telemetry_rollup_1m (bucket);
    `);
    db.close();
    store = createSqliteTelemetryStore({ file });
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare(`SELECT count(*) FROM telemetry_rollup_1m WHERE rev IS NULL`).pluck().get()).toBeGreaterThan(
        250,
      );
    } finally {
      check.close();
    }
    await expectSameBytes(day(end));
    await expectSameBytes(day(end));
    expect(store.seriesBytesStats().copied).toBe(0);
    // rows the writer writes from now on have revisions: a late frame's minutes and after
    await store.append([
      { vehicleId: 'V1', receivedAt: end, frame: frame(9_999_999, end - HOUR, { loadKw: 55.5 }) as TelemetryFrame },
    ]);
    await store.compactRollups();
    await expectSameBytes(day(end));
    await expectSameBytes(day(end));
    expect(store.seriesBytesStats().copied).toBeGreaterThan(40);
  });
});

describe('createSeriesBytes', () => {
  const agg = (count: number, value: number) => {
    // frame count, then per field min, max, sum, count (telemetry/rollup.ts); every field the same here
    const a = new Float64Array(1 + 4 * 30);
    a[0] = count;
    for (let i = 1; i < a.length; i += 4) [a[i], a[i + 1], a[i + 2], a[i + 3]] = [value, value, value * count, count];
    return Buffer.from(a.buffer);
  };
  const edges = () => {
    const s = emptySeries({ vehicleId: 'V"1', from: 0, to: 600_000, maxPoints: 20 }, ['loadKw']);
    s.bucketMs = 60_000;
    return s;
  };

  it('writes the layout of series-json.ts around the middle, and refuses a value JSON cannot hold', () => {
    const b = createSeriesBytes();
    const s = edges();
    s.ts.push(0, 540_000);
    s.count.push(3, 1);
    s.fields.loadKw!.min.push(1, null);
    s.fields.loadKw!.max.push(2, null);
    s.fields.loadKw!.avg.push(1.5, null);
    const rows = { minutes: [60_000, 120_000], revs: [1, 2], blobs: [agg(2, 0.1), agg(0, 0)] };
    const out = b.write(s, rows, 60_000)!;
    const whole = emptySeries({ vehicleId: 'V"1', from: 0, to: 600_000, maxPoints: 20 }, ['loadKw']);
    whole.bucketMs = 60_000;
    whole.ts.push(0, 60_000, 540_000);
    whole.count.push(3, 2, 1);
    whole.fields.loadKw!.min.push(1, 0.1, null);
    whole.fields.loadKw!.max.push(2, 0.1, null);
    whole.fields.loadKw!.avg.push(1.5, (0.1 * 2) / 2, null);
    expect(out.toString()).toBe(seriesJson(whole));
    // again from kept text
    expect(b.write(s, { ...rows, blobs: [undefined, agg(0, 0)] }, 60_000)!.toString()).toBe(seriesJson(whole));
    expect(b.stats()).toMatchObject({ copied: 1, written: 1, kept: 1 });
    // not finite: undefined, the Series way refuses it
    expect(b.write(s, { minutes: [60_000], revs: [3], blobs: [agg(2, Infinity)] }, 60_000)).toBeUndefined();
    const bad = edges();
    bad.ts.push(0);
    bad.count.push(1);
    bad.fields.loadKw!.min.push(NaN);
    bad.fields.loadKw!.max.push(1);
    bad.fields.loadKw!.avg.push(1);
    expect(b.write(bad, { minutes: [], revs: [], blobs: [] }, 60_000)).toBeUndefined();
    // a row it was told it keeps but does not: undefined rather than a hole
    expect(b.write(s, { minutes: [180_000], revs: [9], blobs: [undefined] }, 60_000)).toBeUndefined();
  });

  it('keeps within its budget, the least recently asked forgotten first', () => {
    const b = createSeriesBytes({ budgetBytes: 700 });
    const rows = { minutes: [60_000, 120_000, 180_000], revs: [1, 2, 3], blobs: [agg(1, 1), agg(1, 2), agg(1, 3)] };
    for (const id of ['A', 'B', 'C', 'D', 'E']) {
      const s = edges();
      s.vehicleId = id;
      b.write(s, rows, 60_000);
    }
    const { kept, keptBytes } = b.stats();
    expect(keptBytes).toBeLessThanOrEqual(700);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(5);
    expect(b.missing('E', ['loadKw'], rows.minutes, rows.revs)).toEqual([]);
    expect(b.missing('A', ['loadKw'], rows.minutes, rows.revs)).toEqual([0, 1, 2]);
    expect(b.missing('E', ['loadKw'], rows.minutes, [1, 5, NaN])).toEqual([1, 2]);
  });
});
