import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBatchWriter } from '../../ingest/writer.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import type { StoredFrame, TelemetryStore } from '../../telemetry/store.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { frame } from '../helpers/platform.ts';

const sf = (seq: number): StoredFrame => ({
  vehicleId: 'V1',
  receivedAt: 0,
  frame: frame(seq, 1_800_000_000_000) as TelemetryFrame,
});

describe('group-commit writer', () => {
  afterEach(() => vi.useRealTimers());

  it('commits frames from many callers in one transaction after flushMs, and resolves each with its own flags', async () => {
    vi.useFakeTimers();
    const store = createMemoryTelemetryStore();
    const append = vi.spyOn(store, 'append');
    const w = createBatchWriter(store, { maxBatchFrames: 100, flushMs: 5 });
    const a = w.write([sf(1), sf(2)]);
    const b = w.write([sf(2), sf(3)]);
    expect(append).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(5);
    expect(await a).toEqual([true, true]);
    expect(await b).toEqual([false, true]);
    expect(append).toHaveBeenCalledTimes(1);
  });

  it('flushes at once when the batch is full', async () => {
    vi.useFakeTimers();
    const store = createMemoryTelemetryStore();
    const w = createBatchWriter(store, { maxBatchFrames: 2, flushMs: 10_000 });
    const r = w.write([sf(1), sf(2)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(await r).toEqual([true, true]);
    expect(await store.count()).toBe(2);
  });

  it('rejects every caller of a failed commit, and keeps working afterwards', async () => {
    const store = createMemoryTelemetryStore();
    let fail = true;
    const flaky: TelemetryStore = {
      ...store,
      append: (f) => (fail ? Promise.reject(new Error('disk full')) : store.append(f)),
    };
    const w = createBatchWriter(flaky, { maxBatchFrames: 100, flushMs: 1 });
    await expect(Promise.all([w.write([sf(1)]), w.write([sf(2)])])).rejects.toThrow('disk full');
    fail = false;
    expect(await w.write([sf(3)])).toEqual([true]);
  });

  it('flush() waits for everything queued', async () => {
    const store = createMemoryTelemetryStore();
    const w = createBatchWriter(store, { maxBatchFrames: 1000, flushMs: 60_000 });
    const p = w.write([sf(1)]);
    await w.flush();
    expect(await store.count()).toBe(1);
    await p;
  });
});
