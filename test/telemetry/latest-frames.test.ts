import { describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { withLatestFrames } from '../../telemetry/latest-frames.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
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
});
