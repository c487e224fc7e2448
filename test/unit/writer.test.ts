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

  /** A store whose appends end only when the test says, in any order. */
  function heldStore() {
    const inner = createMemoryTelemetryStore();
    const held: { frames: readonly StoredFrame[]; finish: (fail?: Error) => void }[] = [];
    const store: TelemetryStore = {
      ...inner,
      append: (frames) =>
        new Promise((resolve, reject) =>
          held.push({
            frames,
            finish: (fail) => (fail ? reject(fail) : void inner.append(frames).then(resolve, reject)),
          }),
        ),
    };
    return { store, held };
  }

  it('runs up to maxCommitsInFlight commits at once and settles callers in arrival order', async () => {
    const { store, held } = heldStore();
    const w = createBatchWriter(store, { maxBatchFrames: 1, flushMs: 60_000, maxCommitsInFlight: 2 });
    const settled: number[] = [];
    const a = w.write([sf(1)]).then(() => settled.push(1));
    const b = w.write([sf(2)]).then(() => settled.push(2));
    const c = w.write([sf(3)]).then(() => settled.push(3));
    await vi.waitFor(() => expect(held).toHaveLength(2)); // the third waits for a slot
    expect(w.stats().commitsInFlight).toBe(2);
    held[1]!.finish(); // the second commit ends first…
    await vi.waitFor(() => expect(held).toHaveLength(3)); // …its slot goes to the third
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]); // …but its caller waits for the first batch's
    held[0]!.finish();
    await Promise.all([a, b]);
    expect(settled).toEqual([1, 2]);
    held[2]!.finish();
    await c;
    expect(settled).toEqual([1, 2, 3]);
    expect(await store.count()).toBe(3);
    expect(w.stats().commitsInFlight).toBe(0);
  });

  it('with commits in flight, a failed one rejects only its own callers', async () => {
    const { store, held } = heldStore();
    const w = createBatchWriter(store, { maxBatchFrames: 1, flushMs: 60_000, maxCommitsInFlight: 2 });
    const a = w.write([sf(1)]);
    const b = w.write([sf(2)]);
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[1]!.finish();
    held[0]!.finish(new Error('disk full'));
    await expect(a).rejects.toThrow('disk full');
    expect(await b).toEqual([true]);
  });

  it('one commit at a time by default', async () => {
    const { store, held } = heldStore();
    const w = createBatchWriter(store, { maxBatchFrames: 1, flushMs: 60_000 });
    const a = w.write([sf(1)]);
    const b = w.write([sf(2)]);
    await vi.waitFor(() => expect(held).toHaveLength(1));
    await new Promise((r) => setImmediate(r));
    expect(held).toHaveLength(1);
    held[0]!.finish();
    await a;
    await vi.waitFor(() => expect(held).toHaveLength(2));
    held[1]!.finish();
    expect(await b).toEqual([true]);
  });

  describe('adaptive flush', () => {
    it('commits what one event-loop turn brought at the end of that turn, in one transaction, with no timer', async () => {
      const { store, held } = heldStore();
      const w = createBatchWriter(store, { maxBatchFrames: 100, flushMs: 60_000, flush: 'adaptive' });
      const a = w.write([sf(1)]);
      const b = w.write([sf(2), sf(3)]);
      expect(held).toHaveLength(0); // not inside the turn the frames came in
      await new Promise((r) => setImmediate(r));
      await vi.waitFor(() => expect(held).toHaveLength(1));
      expect(held[0]!.frames.map((f) => f.frame.seq)).toEqual([1, 2, 3]);
      held[0]!.finish();
      expect(await a).toEqual([true]);
      expect(await b).toEqual([true, true]);
    });

    it('while every commit slot is busy, gathers the frames and commits them as soon as a commit ends', async () => {
      const { store, held } = heldStore();
      const w = createBatchWriter(store, {
        maxBatchFrames: 100,
        flushMs: 60_000,
        flush: 'adaptive',
        maxCommitsInFlight: 1,
      });
      const a = w.write([sf(1)]);
      await vi.waitFor(() => expect(held).toHaveLength(1));
      // the slot is busy: these wait, however many turns go by…
      const b = w.write([sf(2)]);
      await new Promise((r) => setImmediate(r));
      const c = w.write([sf(3), sf(4)]);
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(held).toHaveLength(1);
      expect(w.stats().queuedFrames).toBe(3);
      // …and go as one batch when the commit before ends
      held[0]!.finish();
      await vi.waitFor(() => expect(held).toHaveLength(2));
      expect(held[1]!.frames.map((f) => f.frame.seq)).toEqual([2, 3, 4]);
      held[1]!.finish();
      expect(await a).toEqual([true]);
      expect(await b).toEqual([true]);
      expect(await c).toEqual([true, true]);
      expect(w.stats()).toMatchObject({ batches: 2, queuedFrames: 0, commitsInFlight: 0 });
    });

    it('still flushes at once when the batch is full, and flush() waits for everything', async () => {
      const store = createMemoryTelemetryStore();
      const w = createBatchWriter(store, { maxBatchFrames: 2, flushMs: 60_000, flush: 'adaptive' });
      const full = w.write([sf(1), sf(2)]);
      expect(w.stats().queuedFrames).toBe(0); // gone already
      const one = w.write([sf(3)]);
      await w.flush();
      expect(await full).toEqual([true, true]);
      expect(await one).toEqual([true]);
      expect(await store.count()).toBe(3);
    });
  });
});
