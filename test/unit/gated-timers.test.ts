import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { createDeadlineTimer } from '../../diagnostics/tickets/deadlines.ts';
import { createSessionTimer } from '../../remote/timer.ts';

/** The earliest-due timers (ticket deadlines and paging; session rings and abandons) behind a leader gate. */
describe.each([
  ['deadline timer', createDeadlineTimer],
  ['session timer', createSessionTimer],
] as const)('the %s with a gate', (_name, create) => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  function harness(options: { gate?: () => boolean; pollMs?: number; due: number | null }) {
    const calls = { check: 0, nextDue: 0 };
    let due = options.due;
    const timer = create({
      now: () => Date.now(),
      log: silentLogger(),
      nextDue: async () => {
        calls.nextDue++;
        return due;
      },
      check: async () => {
        calls.check++;
        if (due !== null && due <= Date.now()) due = null; // what was due is recorded
      },
      ...(options.gate ? { gate: options.gate } : {}),
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    });
    return { timer, calls, setDue: (at: number | null) => (due = at) };
  }

  it('without a gate nor a poll: armed for the earliest due time only, as in one process', async () => {
    const h = harness({ due: Date.now() + 60_000 });
    await h.timer.start();
    expect(h.calls).toEqual({ check: 1, nextDue: 1 });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(h.calls.check).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.calls.check).toBe(2);
    // nothing due any more: no timer at all
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(h.calls).toEqual({ check: 2, nextDue: 2 });
    h.timer.stop();
  });

  it('closed: checks nothing, reads nothing, looks again every pollMs; opened: fires what is due at its next look', async () => {
    let open = false;
    const h = harness({ gate: () => open, pollMs: 1000, due: Date.now() - 1 });
    await h.timer.start();
    await h.timer.reschedule(); // a change on this node while it is not the leader
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.calls).toEqual({ check: 0, nextDue: 0 });
    open = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.calls.check).toBe(1);
    h.timer.stop();
  });

  it('open, with a poll: sees a due time another node wrote within pollMs, not only when its own change re-arms it', async () => {
    const h = harness({ gate: () => true, pollMs: 1000, due: null });
    await h.timer.start();
    const checks = h.calls.check;
    h.setDue(Date.now() + 1500); // written by another node: this timer is not told
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(500);
    expect(h.calls.check).toBeGreaterThan(checks);
    expect(h.calls.nextDue).toBeGreaterThanOrEqual(2);
    h.timer.stop();
  });

  it('the gate closing between two fires stops the checks at once', async () => {
    let open = true;
    const h = harness({ gate: () => open, pollMs: 1000, due: null });
    await h.timer.start();
    open = false;
    const before = { ...h.calls };
    h.setDue(Date.now());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.calls).toEqual(before);
    h.timer.stop();
  });
});
