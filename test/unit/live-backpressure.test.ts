import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCounters, type Counters } from '../../core/counters.ts';
import { silentLogger } from '../../core/logger.ts';
import { createBackpressure, HARD_CAP_FACTOR } from '../../web/live/backpressure.ts';
import { backlogOf, fakeIo } from './live-fakes.ts';

const MAX_BUFFERED = 4;
const SLOW_TIMEOUT_MS = 1000;
const frame = { vehicleId: 'V1', receivedAt: 1, frame: { seq: 1 } } as never;
const alarm = { kind: 'raised', alarm: { id: 'A1' } } as never;

/** The live layer's backpressure (web/live/backpressure.ts) on a fake socket.io server, fake timers. */
describe('live backpressure', () => {
  let counters: Counters;
  let fake: ReturnType<typeof fakeIo>;
  let bp: ReturnType<typeof createBackpressure>;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    counters = createCounters();
    fake = fakeIo();
    bp = createBackpressure(
      fake.io,
      { counters, log: silentLogger(), clock: () => Date.now() },
      { maxBuffered: MAX_BUFFERED, slowTimeoutMs: SLOW_TIMEOUT_MS },
    );
  });
  afterEach(() => {
    bp.close();
    vi.useRealTimers();
  });

  const nextTurn = () => vi.advanceTimersByTime(0); // runs the setImmediate that ends a turn

  it('droppable messages skip connections that are behind, and are counted sent and dropped', () => {
    const healthy = fake.connect('healthy', ['vehicle:V1']);
    const behind = fake.connect('behind', ['vehicle:V1']);
    const elsewhere = fake.connect('elsewhere', ['vehicle:V2']);
    backlogOf(behind, MAX_BUFFERED);
    bp.sendDroppable('vehicle:V1', 'frames', 'frame', frame);
    expect(healthy.received.map((r) => r.event)).toEqual(['frame']);
    expect(behind.received).toEqual([]);
    expect(elsewhere.received).toEqual([]);
    expect(counters.get('live.frames_sent')).toBe(1);
    expect(counters.get('live.frames_dropped')).toBe(1);
    expect(behind.disconnect).not.toHaveBeenCalled(); // behind is not closed for it
  });

  it('a burst queued in one turn does not make a connection behind; the backlog it starts the turn with does', () => {
    const s = fake.connect('s', ['vehicle:V1']);
    for (let i = 0; i < 3 * MAX_BUFFERED; i++) {
      bp.sendDroppable('vehicle:V1', 'frames', 'frame', frame);
      s.conn.writeBuffer.push('queued this turn');
    }
    expect(s.received).toHaveLength(3 * MAX_BUFFERED);
    // next turn: it did not read what the last one queued, so it is behind now
    nextTurn();
    bp.sendDroppable('vehicle:V1', 'frames', 'frame', frame);
    expect(s.received).toHaveLength(3 * MAX_BUFFERED);
    expect(counters.get('live.frames_dropped')).toBe(1);
    // it caught up: the next turn sends again
    nextTurn();
    backlogOf(s, 0);
    bp.sendDroppable('vehicle:V1', 'frames', 'frame', frame);
    expect(s.received).toHaveLength(3 * MAX_BUFFERED + 1);
  });

  it('reliable messages reach connections that are behind; one at the hard cap is closed and skipped', () => {
    const staff = fake.connect('staff', ['staff']);
    const unit = fake.connect('unit', ['customer:C1']);
    const atCap = fake.connect('atCap', ['staff']);
    backlogOf(staff, MAX_BUFFERED * 3);
    backlogOf(atCap, MAX_BUFFERED * HARD_CAP_FACTOR);
    bp.sendReliable(['staff', 'customer:C1'], 'alarm', alarm);
    expect(staff.received.map((r) => r.event)).toEqual(['alarm']);
    expect(unit.received.map((r) => r.event)).toEqual(['alarm']);
    expect(atCap.received).toEqual([]);
    expect(atCap.disconnect).toHaveBeenCalledWith(true);
    expect(atCap.conn.close).toHaveBeenCalledWith(true);
    expect(atCap.conn.transport.socket.terminate).toHaveBeenCalled();
    expect(counters.get('live.alarm_sent')).toBe(2);
    expect(counters.get('live.slow_disconnected')).toBe(1);
  });

  it('behind() lists the members of a room that are behind, closing those at the hard cap', () => {
    fake.connect('ok', ['staff']);
    backlogOf(fake.connect('late', ['staff']), MAX_BUFFERED);
    const cut = fake.connect('cut', ['staff']);
    backlogOf(cut, MAX_BUFFERED * HARD_CAP_FACTOR);
    expect(bp.behind('staff').sort()).toEqual(['cut', 'late']);
    expect(cut.disconnect).toHaveBeenCalled();
    expect(bp.isBehind(fake.asLive(cut))).toBe(true);
  });

  it('closes a connection that stays behind for slowTimeoutMs; one that catches up in between starts over', () => {
    const stuck = fake.connect('stuck');
    const wobbly = fake.connect('wobbly');
    backlogOf(stuck, MAX_BUFFERED);
    backlogOf(wobbly, MAX_BUFFERED);
    vi.advanceTimersByTime(SLOW_TIMEOUT_MS / 2);
    backlogOf(wobbly, 0);
    vi.advanceTimersByTime(SLOW_TIMEOUT_MS / 4);
    backlogOf(wobbly, MAX_BUFFERED);
    vi.advanceTimersByTime(SLOW_TIMEOUT_MS / 2);
    expect(stuck.disconnect).toHaveBeenCalledWith(true);
    expect(wobbly.disconnect).not.toHaveBeenCalled();
    expect(counters.get('live.slow_disconnected')).toBe(1);
    vi.advanceTimersByTime(SLOW_TIMEOUT_MS);
    expect(wobbly.disconnect).toHaveBeenCalled();
  });

  it('close stops the slow-consumer check', () => {
    const stuck = fake.connect('stuck');
    backlogOf(stuck, MAX_BUFFERED);
    bp.close();
    vi.advanceTimersByTime(10 * SLOW_TIMEOUT_MS);
    expect(stuck.disconnect).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
