import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInProcessBus, type EventBus } from '../../core/bus.ts';
import { createCounters, type Counters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createBackpressure, HARD_CAP_FACTOR } from '../../web/live/backpressure.ts';
import { createRemoteSessionStream, sessionRooms } from '../../web/live/remote-session-stream.ts';
import type { Naming } from '../../web/public-names.ts';
import { fakeSessionAccess, remoteSession } from '../remote/fakes.ts';
import { backlogOf, fakeIo, type FakeSocket } from './live-fakes.ts';

const MAX_BUFFERED = 4;
const SLOW_TIMEOUT_MS = 1000;

/** The remote session stream on a fake socket.io server with the real backpressure, fake timers. */
describe('remote session stream: every frame, bounded by the backpressure', () => {
  let counters: Counters;
  let bus: EventBus<PlatformEvents>;
  let fake: ReturnType<typeof fakeIo>;
  let bp: ReturnType<typeof createBackpressure>;
  let stream: ReturnType<typeof createRemoteSessionStream>;
  const sessions = fakeSessionAccess([remoteSession(7, 'V1', 'C1', 'live')]);

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    counters = createCounters();
    bus = createInProcessBus<PlatformEvents>(silentLogger());
    fake = fakeIo();
    bp = createBackpressure(
      fake.io,
      { counters, log: silentLogger(), clock: () => Date.now() },
      { maxBuffered: MAX_BUFFERED, slowTimeoutMs: SLOW_TIMEOUT_MS },
    );
    stream = createRemoteSessionStream(fake.io, {
      bus,
      access: sessions.access,
      timeline: { since: async () => [] },
      send: bp,
      names: { forCustomer: async () => ({ person: (p: string) => `public:${p}` }) as unknown as Naming },
      counters,
      log: silentLogger(),
    });
  });
  afterEach(() => {
    stream.close();
    bp.close();
    vi.useRealTimers();
  });

  /** A fake connection of a staff account that answers socket.on handlers and joins rooms. */
  function participant(id: string): FakeSocket & { ask(event: string, req: unknown): Promise<unknown> } {
    const s = fake.connect(id, [], id) as FakeSocket & {
      on: (e: string, h: (...a: unknown[]) => void) => void;
      join: (r: string) => void;
      leave: (r: string) => void;
      ask(event: string, req: unknown): Promise<unknown>;
    };
    const handlers = new Map<string, (...a: unknown[]) => void>();
    const rooms = fake.io.sockets.adapter.rooms as unknown as Map<string, Set<string>>;
    s.data = { account: { id, role: 'engineer', customerId: null }, sessionId: `login-${id}` } as never;
    s.on = (e, h) => void handlers.set(e, h);
    s.join = (r) => void (rooms.get(r) ?? rooms.set(r, new Set()).get(r)!).add(id);
    s.leave = (r) => void rooms.get(r)?.delete(id);
    s.ask = (event, req) => new Promise((resolve) => handlers.get(event)!(req, resolve));
    stream.connected(fake.asLive(s));
    return s;
  }

  const frames = (n: number, from = 1) =>
    Array.from({ length: n }, (_, i) => ({ seq: from + i, ts: from + i }) as unknown as TelemetryFrame);
  const got = (s: FakeSocket) =>
    s.received
      .filter((r) => r.event === 'remote.frames')
      .flatMap((r) => (r.args[0] as { frames: TelemetryFrame[] }).frames);

  it('a participant gets every stored frame, message by message, without a per-vehicle throttle', async () => {
    const a = participant('eng1');
    expect(await a.ask('session.join', { sessionId: 7 })).toMatchObject({ ok: true, role: 'lead' });
    for (let i = 0; i < 50; i++)
      bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: i, frames: frames(1, i + 1) });
    bus.emit('telemetry.stored', { vehicleId: 'V2', receivedAt: 0, frames: frames(1, 999) });
    expect(got(a).map((f) => f.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(counters.get('live.session_frames_sent')).toBe(50);
  });

  it('a participant that is behind skips frames (counted), still gets timeline entries, and is closed when it stays behind', async () => {
    const ok = participant('eng1');
    const stuck = participant('eng2');
    await ok.ask('session.join', { sessionId: 7 });
    await stuck.ask('session.join', { sessionId: 7 });
    backlogOf(stuck, MAX_BUFFERED);
    vi.advanceTimersByTime(0); // a new turn: the backlog counts
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: 1, frames: frames(3) });
    expect(got(ok)).toHaveLength(3);
    expect(got(stuck)).toHaveLength(0);
    expect(counters.get('live.session_frames_dropped')).toBe(1);
    bus.emit('remote.timeline', {
      sessionId: 7,
      entry: { seq: 1, at: 1, actor: 'eng1', actorName: 'eng1', kind: 'chat', text: 'hello', data: null },
    });
    expect(stuck.received.map((r) => r.event)).toContain('remote.timeline');
    vi.advanceTimersByTime(SLOW_TIMEOUT_MS + 300);
    expect(stuck.disconnect).toHaveBeenCalled();
    expect(ok.disconnect).not.toHaveBeenCalled();
  });

  it('a backlog at the hard cap closes the connection at the next frame', async () => {
    const s = participant('eng3');
    await s.ask('session.join', { sessionId: 7 });
    backlogOf(s, MAX_BUFFERED * HARD_CAP_FACTOR);
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: 1, frames: frames(1) });
    expect(s.disconnect).toHaveBeenCalled();
  });

  it('after leaving, no frames; presence false once', async () => {
    const s = participant('eng4');
    await s.ask('session.join', { sessionId: 7 });
    expect(await s.ask('session.leave', { sessionId: 7 })).toEqual({ ok: true, sessionId: 7 });
    bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: 1, frames: frames(1) });
    expect(got(s)).toEqual([]);
    expect(sessions.presence.filter((p) => p.participantId === 'eng4')).toEqual([
      { sessionId: 7, participantId: 'eng4', present: true },
      { sessionId: 7, participantId: 'eng4', present: false },
    ]);
    expect(sessionRooms.staff(7)).toBe('session:7');
  });
});
