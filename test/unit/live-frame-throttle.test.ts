import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFrameThrottle } from '../../web/live/frame-throttle.ts';

/** The live layer's per-vehicle frame throttle (web/live/frame-throttle.ts), on fake timers. */
describe('frame throttle: at most one message per key per interval, latest wins', () => {
  let sent: string[];
  let throttle: ReturnType<typeof createFrameThrottle<string>>;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    sent = [];
    throttle = createFrameThrottle<string>({ intervalMs: 250, send: (m) => sent.push(m), clock: () => Date.now() });
  });
  afterEach(() => {
    throttle.close();
    vi.useRealTimers();
  });

  it('sends the first message at once, then holds the latest of the interval and sends it when the interval is over', () => {
    throttle.offer('V1', 1, 'a');
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(100);
    throttle.offer('V1', 2, 'b');
    throttle.offer('V1', 3, 'c'); // replaces b
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(149);
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(['a', 'c']);
    // nothing more waits: no repeat
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual(['a', 'c']);
  });

  it('sends at once again after a quiet interval, and keeps the pace while messages keep coming', () => {
    throttle.offer('V1', 1, 'a');
    vi.advanceTimersByTime(300);
    throttle.offer('V1', 2, 'b');
    expect(sent).toEqual(['a', 'b']);
    // 10 messages a second for a second: one every 250 ms goes out, each the newest at its time
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100);
      throttle.offer('V1', 3 + i, `m${i}`);
    }
    vi.advanceTimersByTime(250);
    // out at 550 (m1, offered at 500), 800 (m3), 1050 (m6), 1300 (m8), 1550 (m9)
    expect(sent).toEqual(['a', 'b', 'm1', 'm3', 'm6', 'm8', 'm9']);
  });

  it('keeps keys apart', () => {
    throttle.offer('V1', 1, 'v1-a');
    throttle.offer('V2', 1, 'v2-a');
    throttle.offer('V1', 2, 'v1-b');
    expect(sent).toEqual(['v1-a', 'v2-a']);
    vi.advanceTimersByTime(250);
    expect(sent).toEqual(['v1-a', 'v2-a', 'v1-b']);
  });

  it('ignores a message older than one accepted (a replay is history, not live)', () => {
    throttle.offer('V1', 10, 'new');
    throttle.offer('V1', 5, 'old');
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual(['new']);
    throttle.offer('V1', 12, 'newer');
    throttle.offer('V1', 11, 'between'); // older than the pending one
    vi.advanceTimersByTime(250);
    expect(sent).toEqual(['new', 'newer']);
  });

  it('forget drops what waits for a key; close drops everything', () => {
    throttle.offer('V1', 1, 'a');
    throttle.offer('V1', 2, 'b');
    throttle.offer('V2', 1, 'c');
    throttle.offer('V2', 2, 'd');
    throttle.forget('V1');
    expect(throttle.size()).toBe(1);
    vi.advanceTimersByTime(250);
    expect(sent).toEqual(['a', 'c', 'd']);
    // a forgotten key starts afresh: its next message goes out at once, even an older one
    throttle.offer('V1', 1, 'a again');
    expect(sent.at(-1)).toBe('a again');
    throttle.offer('V2', 3, 'e');
    throttle.close();
    expect(throttle.size()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(sent).not.toContain('e');
  });
});
