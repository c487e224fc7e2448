import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { withLatestFrames } from '../../telemetry/latest-frames.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { StoredFrame, TelemetryStore } from '../../telemetry/store.ts';
import { frame } from '../helpers/platform.ts';

const T0 = Date.UTC(2026, 10, 1);
const stored = (vehicleId: string, seq: number, ts: number): StoredFrame => ({
  vehicleId,
  receivedAt: ts,
  frame: frame(seq, ts) as TelemetryFrame,
});

describe('the latest frames in memory (fleet views)', () => {
  it('answers from memory what was stored since the start, reads an unseen vehicle from the store once', async () => {
    const inner = createMemoryTelemetryStore();
    await inner.append([stored('OLD', 1, T0)]); // stored before the start
    const reads: string[][] = [];
    const counting: TelemetryStore = {
      ...inner,
      latestMany: async (ids) => {
        reads.push([...ids]);
        return inner.latestMany(ids);
      },
    };
    const store = withLatestFrames(counting);
    await store.append([stored('V1', 1, T0 + 1000), stored('V1', 3, T0 + 3000), stored('V2', 1, T0)]);
    await store.append([stored('V1', 2, T0 + 2000)]); // late: not the latest
    const first = await store.latestMany(['V1', 'V2', 'OLD', 'NONE']);
    expect(first.get('V1')!.frame.seq).toBe(3);
    expect(first.get('V2')!.frame.seq).toBe(1);
    expect(first.get('OLD')!.frame.seq).toBe(1);
    expect(first.has('NONE')).toBe(false);
    expect(reads).toEqual([['OLD', 'NONE']]);
    // the second time: no read at all, and a new frame of a vehicle known to have none shows
    await store.append([stored('NONE', 1, T0 + 5000)]);
    const second = await store.latestMany(['V1', 'V2', 'OLD', 'NONE']);
    expect(reads).toHaveLength(1);
    expect(second.get('NONE')!.frame.seq).toBe(1);
    expect(await store.latest('V1')).toEqual(await inner.latest('V1'));
    // retention forgets what it deleted
    await store.deleteOlderThan(T0 + 4000);
    expect((await store.latestMany(['V1', 'V2', 'NONE'])).size).toBe(1);
    expect(await store.latest('V1')).toBeUndefined();
  });

  it('hands out what the store reads back, and its position; a frame handed out stays as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-latest-'));
    const inner = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
    onTestFinished(async () => {
      await inner.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const store = withLatestFrames(inner);
    const first: StoredFrame = {
      vehicleId: 'V1',
      receivedAt: T0 + 40,
      frame: frame(7, T0, {
        source: 'generator',
        mains: { present: false, voltageV: null },
        generator: { running: true, voltageV: 229.5, rpm: 1500, fuelPct: null },
        battery: { voltageV: 27.2, socPct: 64.5, currentA: -12.25 },
        charging: undefined,
        loadKw: 3.25,
        position: { lat: 31.2304, lon: 121.4737 },
      }) as TelemetryFrame,
    };
    await store.append([first]);
    const got = (await store.latest('V1'))!;
    expect(got).toEqual({
      vehicleId: 'V1',
      receivedAt: T0 + 40,
      frame: {
        v: 1,
        seq: 7,
        ts: T0,
        source: 'generator',
        mains: { present: false },
        generator: { running: true, voltageV: 229.5, rpm: 1500 },
        battery: { voltageV: 27.2, socPct: 64.5, currentA: -12.25 },
        loadKw: 3.25,
        position: { lat: 31.2304, lon: 121.4737 },
      },
    });
    // the same object until the vehicle's next frame (fleet views read it again and again)
    expect(await store.latest('V1')).toBe(got);
    // what the store reads back is the same, but for the position, which is not a stored column
    const { position, ...stored } = got.frame;
    expect(position).toBeDefined();
    expect((await inner.latest('V1'))!.frame).toEqual(stored);
    await store.append([{ vehicleId: 'V1', receivedAt: T0 + 1040, frame: frame(8, T0 + 1000) as TelemetryFrame }]);
    const next = (await store.latest('V1'))!;
    expect(next.frame.seq).toBe(8);
    expect(next.frame.position).toBeUndefined();
    expect(next.frame.charging).toEqual({ engineRunning: false, alternatorV: 0, currentA: 0 });
    // the frame handed out before did not change under its holder
    expect(got.frame.seq).toBe(7);
    expect(got.frame.battery!.socPct).toBe(64.5);
  });
});
