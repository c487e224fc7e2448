import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchOwnLoop } from '../../simulators/fleet/own-loop.ts';

/** Blocks this thread for `ms` (what a long GC pause or a big slice of work does to the measuring process). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * Resolves after `n` turns of the event loop, each at least one tick of the watch's own (real)
 * timer apart: it needs two ticks to measure one delay, so this is the one wait on real time here.
 * The windows themselves are closed by hand (fake intervals).
 */
const turns = (n: number) =>
  new Promise<void>((resolve) => {
    let left = n;
    const next = () => (--left <= 0 ? resolve() : setTimeout(next, 15));
    setTimeout(next, 15);
  });

describe('the measuring process watches its own event loop', () => {
  let stop: (() => unknown) | undefined;
  // the windows are closed by hand; the delay itself is measured on the real event loop
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    stop?.();
    stop = undefined;
    vi.useRealTimers();
  });

  it('puts a stall in the window it happened in, and the last window counts at stop', async () => {
    const watch = watchOwnLoop({ windowMs: 60_000, keep: 10 });
    stop = watch.stop;
    await turns(3); // the delay histogram has ticked
    busy(120);
    await turns(3);
    const maxMs = watch.stop();
    expect(maxMs).toHaveLength(1); // no window closed before stop: the one open is the last
    expect(maxMs[0]).toBeGreaterThanOrEqual(100);
    expect(maxMs[0]).toBeLessThan(10_000);
    expect(watch.stop()).toBe(maxMs); // stopping twice gives the same figures
  });

  it('starts each window afresh and keeps at most `keep` of them', async () => {
    const watch = watchOwnLoop({ windowMs: 1000, keep: 2 });
    stop = watch.stop;
    await turns(3);
    busy(150);
    await turns(3);
    vi.advanceTimersByTime(1000); // the first window closes, the stall in it
    await turns(3);
    vi.advanceTimersByTime(1000); // the second: nothing stalled in it
    await turns(3);
    vi.advanceTimersByTime(1000); // a third: not kept
    const maxMs = watch.stop();
    expect(maxMs).toHaveLength(2);
    expect(maxMs[0]).toBeGreaterThanOrEqual(120);
    expect(maxMs[1]).toBeLessThan(120);
  });

  it('counts a stall that spans a window’s end in the window it ended in', async () => {
    const watch = watchOwnLoop({ windowMs: 1000, keep: 5 });
    stop = watch.stop;
    await turns(3);
    vi.advanceTimersByTime(1000); // the first window closes…
    busy(150); // …and the loop stalls before the watch's timer fires again
    await turns(3);
    const maxMs = watch.stop();
    expect(maxMs).toHaveLength(2);
    expect(maxMs[0]).toBeLessThan(120);
    // (with monitorEventLoopDelay, reset at each window's end, this stall was lost)
    expect(maxMs[1]).toBeGreaterThanOrEqual(150);
    expect(maxMs[1]).toBeLessThan(10_000);
  });
});
