import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import type { StoredFrame, TelemetryStore } from '../../telemetry/store.ts';
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
  open: () => Promise<{ store: TelemetryStore; reopen?: () => Promise<TelemetryStore> }>,
  traits: { durable: boolean },
) {
  describe(`TelemetryStore conformance: ${name}`, () => {
    let store: TelemetryStore;
    let reopen: (() => Promise<TelemetryStore>) | undefined;

    beforeEach(async () => {
      ({ store, reopen } = await open());
    });
    afterEach(async () => {
      await store.close();
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
      const s = await store.series({ vehicleId: 'V1', from: T0, to: T0 + 999_999, maxPoints: 100, fields: ['loadKw', 'battery.socPct'] });
      expect(s.bucketMs).toBe(10_000);
      expect(s.ts.length).toBe(100);
      expect(s.ts[1]).toBe(T0 + 10_000);
      expect(s.count.every((n) => n === 10)).toBe(true);
      expect(s.fields.loadKw!.min.every((v) => v === 0)).toBe(true);
      expect(s.fields.loadKw!.max.every((v) => v === 9)).toBe(true);
      expect(s.fields.loadKw!.avg[0]).toBeCloseTo(4.5);
      expect(s.fields['battery.socPct']!.avg[0]).toBeCloseTo(95);
    });

    it('gives null for a measurement absent from a whole bucket', async () => {
      const f: TelemetryFrame = { v: 1, seq: 1, ts: T0, source: 'none' };
      await store.append([{ vehicleId: 'V1', receivedAt: T0, frame: f }]);
      const s = await store.series({ vehicleId: 'V1', from: T0, to: T0 + 1000, maxPoints: 10, fields: ['generator.rpm'] });
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
      ({ store } = await open());
    });

    // in-memory stores are not durable by design; every other store must be
    if (traits.durable) it('keeps what it acknowledged across a reopen', async () => {
      await store.append([stored('V1', 1, T0), stored('V1', 2, T0 + 1)]);
      await store.close();
      store = await reopen!();
      expect(await store.count('V1')).toBe(2);
    });
  });
}
