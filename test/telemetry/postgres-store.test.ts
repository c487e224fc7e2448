import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import type { StoredFrame } from '../../telemetry/store.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { openPostgresTelemetryStore } from '../../telemetry/postgres-store.ts';
import { withLatestFrames } from '../../telemetry/latest-frames.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/records.ts';
import { frame } from '../helpers/platform.ts';
import { describeTelemetryStoreConformance } from './conformance.ts';

// PostgreSQL at TEST_DATABASE_URL (npm run test:postgres sets it): each store a database of its own
const urls: string[] = [];
async function freshStore() {
  const url = await createTestDatabase({ empty: true });
  urls.push(url);
  return { url, store: await openPostgresTelemetryStore({ url, maxConnections: 4 }) };
}
// after the suite's own afterEach has closed the store (outer hooks run last)
afterEach(async () => {
  for (const url of urls.splice(0)) await dropTestDatabase(url);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('PostgreSQL telemetry store (TEST_DATABASE_URL)', () => {
  describeTelemetryStoreConformance(
    'postgres',
    async () => {
      const { url, store } = await freshStore();
      return { store, reopen: () => openPostgresTelemetryStore({ url }) };
    },
    { durable: true },
  );
  describeTelemetryStoreConformance(
    'postgres, latest frames in memory',
    async () => {
      const { url, store } = await freshStore();
      return {
        store: withLatestFrames(store),
        reopen: async () => withLatestFrames(await openPostgresTelemetryStore({ url })),
      };
    },
    { durable: true },
  );
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('PostgreSQL telemetry partitions (TEST_DATABASE_URL)', () => {
  const DAY = 86_400_000;
  const D1 = Date.UTC(2026, 10, 1);
  const at = (vehicleId: string, seq: number, ts: number): StoredFrame => ({
    vehicleId,
    receivedAt: ts,
    frame: frame(seq, ts, { loadKw: seq % 17 }) as TelemetryFrame,
  });
  // two vehicles, a frame every 29 s over three days from D1 + 6 h
  const frames = Array.from({ length: Math.floor((3 * DAY - 6 * 3_600_000) / 29_000) }, (_, i) =>
    at(i % 2 ? 'P2' : 'P1', i, D1 + 6 * 3_600_000 + i * 29_000),
  );

  async function partitions(url: string, table: string): Promise<Map<string, number>> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const names = await client.query<{ relname: string }>(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass`,
        [table],
      );
      const out = new Map<string, number>(names.rows.map((r) => [r.relname, 0]));
      const counts = await client.query<{ p: string; n: string }>(
        `SELECT tableoid::regclass::text AS p, count(*) AS n FROM ${table} GROUP BY 1`,
      );
      for (const r of counts.rows) out.set(r.p, Number(r.n));
      return out;
    } finally {
      await client.end();
    }
  }

  it('two stores on one database (two nodes) append overlapping batches at once: each frame stored once, rollups exact', async () => {
    const { url, store: a } = await freshStore();
    const b = await openPostgresTelemetryStore({ url, maxConnections: 4 });
    const memory = createMemoryTelemetryStore();
    try {
      // 20 vehicles × 600 frames at 1 Hz; every frame sent by both nodes, in batches of different
      // sizes and orders, four appends in flight at a time
      const all = Array.from({ length: 20 * 600 }, (_, i) =>
        at(`C${i % 20}`, Math.floor(i / 20), D1 + Math.floor(i / 20) * 1000),
      );
      const batches = (frames: StoredFrame[], size: number) =>
        Array.from({ length: Math.ceil(frames.length / size) }, (_, k) => frames.slice(k * size, (k + 1) * size));
      const work = [
        ...batches(all, 700).map((f) => () => a.append(f)),
        ...batches([...all].reverse(), 900).map((f) => () => b.append(f)),
      ];
      const inserted: boolean[][] = [];
      for (let k = 0; k < work.length; k += 4)
        inserted.push(...(await Promise.all(work.slice(k, k + 4).map((w) => w()))).map((r) => r.inserted));
      expect(inserted.flat().filter(Boolean)).toHaveLength(all.length);
      expect(await a.count()).toBe(all.length);
      await memory.append(all);
      for (const vehicleId of ['C0', 'C7', 'C19']) {
        const q = { vehicleId, from: D1 + 3_500, to: D1 + 599_000, maxPoints: 12, fields: ['loadKw' as const] };
        const [got, want] = [await b.series(q), await memory.series(q)];
        expect(got.bucketMs).toBe(60_000);
        expect(got.count).toEqual(want.count);
        expect(got.fields.loadKw!.max).toEqual(want.fields.loadKw!.max);
      }
    } finally {
      await b.close();
      await a.close();
    }
  });

  it("stores into a day another node's retention dropped meanwhile (the partition is made again)", async () => {
    const { url, store: a } = await freshStore();
    const b = await openPostgresTelemetryStore({ url, maxConnections: 2 });
    try {
      expect((await a.append([at('R1', 1, D1 + 1000)])).inserted).toEqual([true]);
      // b drops day 1 (a still believes its partition exists)
      expect(await b.deleteOlderThan(D1 + DAY)).toBe(1);
      expect((await partitions(url, 'telemetry_frames')).has('telemetry_frames_p20261101')).toBe(false);
      expect((await a.append([at('R1', 2, D1 + 2000)])).inserted).toEqual([true]);
      expect((await partitions(url, 'telemetry_frames')).get('telemetry_frames_p20261101')).toBe(1);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('puts frames of three days into three day partitions, and retention drops the oldest whole', async () => {
    const { url, store } = await freshStore();
    const memory = createMemoryTelemetryStore();
    try {
      await store.append(frames);
      await memory.append(frames);
      const before = await partitions(url, 'telemetry_frames');
      const filled = [...before].filter(([, n]) => n > 0).map(([name]) => name);
      expect(filled.sort()).toEqual([
        'telemetry_frames_p20261101',
        'telemetry_frames_p20261102',
        'telemetry_frames_p20261103',
      ]);
      // created ahead: the day after the newest frame's
      expect(before.get('telemetry_frames_p20261104')).toBe(0);
      for (const t of ['telemetry_rollup_10s', 'telemetry_rollup_1m'])
        expect([...(await partitions(url, t)).keys()]).toContain(`${t}_p20261101`);

      // a cut-off in the middle of day 2, off the 10 s and the minute grid
      const cutoff = D1 + DAY + 5 * 3_600_000 + 12_345;
      const expected = frames.filter((f) => f.frame.ts < cutoff).length;
      expect(await store.deleteOlderThan(cutoff)).toBe(expected);
      await memory.deleteOlderThan(cutoff);
      const after = await partitions(url, 'telemetry_frames');
      expect(after.has('telemetry_frames_p20261101')).toBe(false);
      expect(after.get('telemetry_frames_p20261102')).toBe(
        frames.filter((f) => f.frame.ts >= cutoff && f.frame.ts < D1 + 2 * DAY).length,
      );
      for (const t of ['telemetry_rollup_10s', 'telemetry_rollup_1m'])
        expect([...(await partitions(url, t)).keys()]).not.toContain(`${t}_p20261101`);
      expect(await store.count()).toBe(frames.length - expected);

      // the rollups at the cut-off were rolled up again: long charts across it still equal the frames'
      for (const [from, to, maxPoints] of [
        [cutoff - 3_600_000, cutoff + 3_600_000, 150],
        [D1, D1 + 3 * DAY, 1000],
        [cutoff - 65_000, cutoff + 600_000, 60],
      ] as const)
        for (const vehicleId of ['P1', 'P2']) {
          const q = { vehicleId, from, to, maxPoints, fields: ['loadKw' as const] };
          const [got, want] = [await store.series(q), await memory.series(q)];
          expect(got.bucketMs).toBe(want.bucketMs);
          expect(got.ts).toEqual(want.ts);
          expect(got.count).toEqual(want.count);
          expect(got.fields.loadKw!.min).toEqual(want.fields.loadKw!.min);
          expect(got.fields.loadKw!.max).toEqual(want.fields.loadKw!.max);
          got.fields.loadKw!.avg.forEach((v, i) => expect(v).toBeCloseTo(want.fields.loadKw!.avg[i]!, 9));
        }

      // a late frame for a dropped day brings its partition back, until the next retention run
      expect((await store.append([at('P1', 1, D1 + 1000)])).inserted).toEqual([true]);
      expect(await store.deleteOlderThan(cutoff)).toBe(1);
    } finally {
      await store.close();
    }
  });
});
