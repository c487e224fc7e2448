import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { ROLLUP_MS, type StoredFrame, type TelemetryStore } from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);

function stored(vehicleId: string, seq: number, ts: number, extra: Record<string, unknown> = {}): StoredFrame {
  return { vehicleId, receivedAt: ts + 5, frame: frame(seq, ts, extra) as TelemetryFrame };
}

/**
 * Every telemetry store must pass this suite, so that ingest, charts and diagnostics can rely on
 * the same behaviour whatever engine holds the data.
 */
export function describeTelemetryStoreConformance(
  name: string,
  open: () => Promise<{
    store: TelemetryStore;
    reopen?: () => Promise<TelemetryStore>;
    /** Removes what `open` made (its directory), after the store is closed. */
    cleanup?: () => void | Promise<void>;
  }>,
  traits: { durable: boolean },
) {
  describe(`TelemetryStore conformance: ${name}`, () => {
    let store: TelemetryStore;
    let reopen: (() => Promise<TelemetryStore>) | undefined;
    let cleanup: (() => void | Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, reopen, cleanup } = await open());
    });
    afterEach(async () => {
      try {
        await store.close();
      } finally {
        await cleanup?.();
      }
    });

    it('stores frames and returns them in time order with every field intact', async () => {
      const frames = [stored('V1', 2, T0 + 2000), stored('V1', 1, T0 + 1000), stored('V1', 3, T0 + 3000)];
      const { inserted } = await store.append(frames);
      expect(inserted).toEqual([true, true, true]);
      const back = await store.frames('V1', T0, T0 + 10_000);
      expect(back.map((f) => f.frame.seq)).toEqual([1, 2, 3]);
      expect(back[0]!.frame).toEqual(frame(1, T0 + 1000));
      expect(back[0]!.receivedAt).toBe(T0 + 1005);
    });

    it('keeps absent sections absent and missing readings missing', async () => {
      const f: TelemetryFrame = { v: 1, seq: 7, ts: T0, source: 'battery', battery: { voltageV: 23.9, socPct: 40 } };
      await store.append([{ vehicleId: 'V2', receivedAt: T0, frame: f }]);
      const [back] = await store.frames('V2', T0, T0);
      expect(back!.frame).toEqual(f);
    });

    it('stores a frame with the same (vehicle, seq, ts) once and says which were duplicates', async () => {
      await store.append([stored('V1', 1, T0)]);
      const { inserted } = await store.append([stored('V1', 1, T0), stored('V1', 1, T0 + 1), stored('V2', 1, T0)]);
      expect(inserted).toEqual([false, true, true]);
      expect(await store.count('V1')).toBe(2);
      expect(await store.count()).toBe(3);
    });

    it('stores late frames older than the latest', async () => {
      await store.append([stored('V1', 10, T0 + 10_000)]);
      await store.append([stored('V1', 5, T0 + 5_000)]);
      expect((await store.latest('V1'))!.frame.seq).toBe(10);
      expect((await store.frames('V1', T0, T0 + 20_000)).map((f) => f.frame.seq)).toEqual([5, 10]);
    });

    it('keeps vehicles apart', async () => {
      await store.append([stored('V1', 1, T0), stored('V2', 1, T0), stored('V2', 2, T0 + 1)]);
      expect(await store.frames('V1', T0, T0 + 10)).toHaveLength(1);
      expect(await store.latest('V3')).toBeUndefined();
    });

    it('gives the latest frame of many vehicles at once, as latest does for one', async () => {
      await store.append([
        stored('V1', 1, T0),
        stored('V1', 3, T0 + 3000, { loadKw: 9.5 }),
        stored('V1', 2, T0 + 2000),
        stored('V2', 7, T0 + 500),
      ]);
      // same ts: the higher seq is the latest; a late older frame does not replace it
      await store.append([stored('V2', 8, T0 + 500), stored('V2', 6, T0 + 100)]);
      const f: TelemetryFrame = {
        v: 1,
        seq: 4,
        ts: T0 + 900,
        source: 'battery',
        battery: { voltageV: 23.9, socPct: 40 },
      };
      await store.append([{ vehicleId: 'V4', receivedAt: T0 + 950, frame: f }]);
      const m = await store.latestMany(['V1', 'V2', 'V3', 'V4', 'V1']);
      expect([...m.keys()].sort()).toEqual(['V1', 'V2', 'V4']);
      for (const id of ['V1', 'V2', 'V4']) expect(m.get(id)).toEqual(await store.latest(id));
      expect(m.get('V1')!.frame).toEqual(frame(3, T0 + 3000, { loadKw: 9.5 }));
      expect(m.get('V2')!.frame.seq).toBe(8);
      expect(m.get('V4')).toEqual({ vehicleId: 'V4', receivedAt: T0 + 950, frame: f });
      expect((await store.latestMany([])).size).toBe(0);
    });

    it('answers latestMany for a whole fleet', async () => {
      const ids = Array.from({ length: 2500 }, (_, i) => `F${i}`);
      await store.append(ids.flatMap((id, i) => [stored(id, 1, T0 + i), stored(id, 2, T0 + i + 1000, { loadKw: i })]));
      const m = await store.latestMany([...ids, 'nobody']);
      expect(m.size).toBe(ids.length);
      expect(ids.every((id, i) => m.get(id)!.frame.seq === 2 && m.get(id)!.frame.loadKw === i)).toBe(true);
    });

    it('returns raw points when the range holds no more than maxPoints', async () => {
      await store.append([1, 2, 3].map((i) => stored('V1', i, T0 + i * 1000, { loadKw: i })));
      const s = await store.series({ vehicleId: 'V1', from: T0, to: T0 + 10_000, maxPoints: 10, fields: ['loadKw'] });
      expect(s.bucketMs).toBe(0);
      expect(s.ts).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
      expect(s.fields.loadKw).toEqual({ min: [1, 2, 3], max: [1, 2, 3], avg: [1, 2, 3] });
      expect(Object.keys(s.fields)).toEqual(['loadKw']);
    });

    it('downsamples to at most maxPoints buckets with min, max and avg', async () => {
      // 1 Hz for 1000 s, loadKw = seq % 10
      const frames = Array.from({ length: 1000 }, (_, i) => stored('V1', i, T0 + i * 1000, { loadKw: i % 10 }));
      await store.append(frames);
      const s = await store.series({
        vehicleId: 'V1',
        from: T0,
        to: T0 + 999_999,
        maxPoints: 100,
        fields: ['loadKw', 'battery.socPct'],
      });
      expect(s.bucketMs).toBe(10_000);
      expect(s.ts.length).toBe(100);
      expect(s.ts[1]).toBe(T0 + 10_000);
      expect(s.count.every((n) => n === 10)).toBe(true);
      expect(s.fields.loadKw!.min.every((v) => v === 0)).toBe(true);
      expect(s.fields.loadKw!.max.every((v) => v === 9)).toBe(true);
      expect(s.fields.loadKw!.avg[0]).toBeCloseTo(4.5);
      expect(s.fields['battery.socPct']!.avg[0]).toBeCloseTo(95);
    });

    it('cuts a long range into whole multiples of ROLLUP_MS on the clock, counting only frames in range', async () => {
      // 1 Hz for 3 h from an instant off the 10 s grid, a battery-only frame every 7 s, and frames
      // just outside the range in the same intervals as its first and last frames
      const from = T0 + 3_500;
      const to = from + 3 * 3_600_000 - 1;
      const frames = Array.from({ length: 3 * 3600 }, (_, i) =>
        i % 7 === 3
          ? {
              vehicleId: 'V1',
              receivedAt: from + i * 1000,
              frame: {
                v: 1 as const,
                seq: i,
                ts: from + i * 1000,
                source: 'battery' as const,
                battery: { voltageV: 24 + (i % 5), socPct: 50 },
              },
            }
          : stored('V1', i, from + i * 1000, { loadKw: i % 37 }),
      );
      await store.append([
        ...frames,
        stored('V1', 100_000, from - 1000, { loadKw: 999 }),
        stored('V1', 100_001, to + 1, { loadKw: 999 }),
      ]);
      const s = await store.series({
        vehicleId: 'V1',
        from,
        to,
        maxPoints: 500,
        fields: ['loadKw', 'battery.voltageV'],
      });
      expect(s.bucketMs % ROLLUP_MS).toBe(0);
      expect(s.bucketMs).toBe(30_000);
      expect(s.ts.length).toBeLessThanOrEqual(500);
      expect(s.ts[0]).toBe(T0);
      expect(s.count.reduce((a, b) => a + b, 0)).toBe(frames.length);
      expect(s.fields.loadKw!.max.every((v) => v !== 999)).toBe(true);
      // every bucket as computed by hand from the frames
      s.ts.forEach((start, k) => {
        const inBucket = frames.filter((f) => f.frame.ts >= start && f.frame.ts < start + s.bucketMs);
        expect(s.count[k]).toBe(inBucket.length);
        const load = inBucket.map((f) => f.frame.loadKw).filter((v): v is number => v !== undefined);
        const volts = inBucket.map((f) => f.frame.battery!.voltageV!);
        expect(s.fields.loadKw!.min[k]).toBe(load.length ? Math.min(...load) : null);
        expect(s.fields.loadKw!.max[k]).toBe(load.length ? Math.max(...load) : null);
        if (load.length) expect(s.fields.loadKw!.avg[k]).toBeCloseTo(load.reduce((a, b) => a + b, 0) / load.length, 9);
        expect(s.fields['battery.voltageV']!.max[k]).toBe(Math.max(...volts));
        expect(s.fields['battery.voltageV']!.avg[k]).toBeCloseTo(volts.reduce((a, b) => a + b, 0) / volts.length, 9);
      });
    });

    it('cuts a range into whole minutes on the minute grid once buckets are wider than 30 s', async () => {
      // 1 Hz for 6 h from an instant off the minute grid, loadKw varying
      const from = T0 + 17_500;
      const to = from + 6 * 3_600_000 - 1;
      const frames = Array.from({ length: 6 * 3600 }, (_, i) => stored('V1', i, from + i * 1000, { loadKw: i % 53 }));
      await store.append(frames);
      const s = await store.series({ vehicleId: 'V1', from, to, maxPoints: 300, fields: ['loadKw'] });
      expect(s.bucketMs).toBe(120_000);
      expect(s.ts[0]).toBe(T0);
      expect(s.ts.length).toBeLessThanOrEqual(300);
      expect(s.count.reduce((a, b) => a + b, 0)).toBe(frames.length);
      s.ts.forEach((start, k) => {
        const load = frames
          .filter((f) => f.frame.ts >= start && f.frame.ts < start + s.bucketMs)
          .map((f) => f.frame.loadKw!);
        expect(s.count[k]).toBe(load.length);
        expect(s.fields.loadKw!.min[k]).toBe(Math.min(...load));
        expect(s.fields.loadKw!.max[k]).toBe(Math.max(...load));
        expect(s.fields.loadKw!.avg[k]).toBeCloseTo(load.reduce((a, b) => a + b, 0) / load.length, 9);
      });
      // a day at 2,000 points: minutes, at most 1,441 of them
      const day = await store.series({ vehicleId: 'V1', from, to: from + 86_400_000, maxPoints: 2000 });
      expect(day.bucketMs).toBe(60_000);
    });

    it('gives null for a measurement absent from a whole bucket', async () => {
      const f: TelemetryFrame = { v: 1, seq: 1, ts: T0, source: 'none' };
      await store.append([{ vehicleId: 'V1', receivedAt: T0, frame: f }]);
      const s = await store.series({
        vehicleId: 'V1',
        from: T0,
        to: T0 + 1000,
        maxPoints: 10,
        fields: ['generator.rpm'],
      });
      expect(s.fields['generator.rpm']!.avg).toEqual([null]);
    });

    it('applies retention by deleting frames older than a cut-off', async () => {
      await store.append([stored('V1', 1, T0), stored('V1', 2, T0 + 1000), stored('V2', 1, T0 + 2000)]);
      expect(await store.deleteOlderThan(T0 + 1500)).toBe(2);
      expect(await store.count()).toBe(1);
      // a deleted frame may be stored again
      expect((await store.append([stored('V1', 1, T0)])).inserted).toEqual([true]);
    });

    it('refuses use after close with a stable error code', async () => {
      await store.close();
      await expect(store.count()).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
      await expect(store.latestMany(['V1'])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
      // a fresh store for afterEach to close, the closed one's files removed now
      await cleanup?.();
      ({ store, reopen, cleanup } = await open());
    });

    // in-memory stores are not durable by design; every other store must be
    if (traits.durable)
      it('keeps what it acknowledged across a reopen', async () => {
        await store.append([stored('V1', 1, T0), stored('V1', 2, T0 + 1)]);
        await store.close();
        store = await reopen!();
        expect(await store.count('V1')).toBe(2);
      });
  });
}
