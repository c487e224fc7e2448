import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandRecord, CommandRequest, CommandSender } from '../../commands/types.ts';
import { createInProcessBus, type EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { createSessionTelemetryRate } from '../../remote/telemetry-rate.ts';
import { remoteSession } from './fakes.ts';

/** A command sender that records what it was asked and answers `done` (or what `answer` says). */
function recordingSender(answer: (r: CommandRequest) => CommandRecord['state'] = () => 'done') {
  const sent: CommandRequest[] = [];
  const sender: CommandSender = {
    async send(r) {
      sent.push(r);
      const state = answer(r);
      return {
        id: `c${sent.length}`,
        vehicleId: r.vehicleId,
        name: r.name,
        args: r.args,
        actor: r.actor,
        sessionId: r.sessionId ?? null,
        sentAt: Date.now(),
        state,
        settledAt: Date.now(),
        result: null,
        error: state === 'done' ? null : 'no ack',
      };
    },
  };
  return { sender, sent };
}

describe('10 Hz while a session is live (remote/telemetry-rate.ts)', () => {
  let bus: EventBus<PlatformEvents>;
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    bus = createInProcessBus<PlatformEvents>(silentLogger());
  });
  afterEach(() => vi.useRealTimers());

  it('raises on live, renews every renewMs while live, falls back on end', async () => {
    const { sender, sent } = recordingSender();
    const rate = createSessionTelemetryRate({ bus, commands: sender, log: silentLogger() }, { renewMs: 120_000 });
    await rate.start();
    bus.emit('remote.session.changed', { session: remoteSession(5, 'V1', 'C1', 'ringing'), action: 'ringing' });
    expect(sent).toEqual([]);
    bus.emit('remote.session.changed', { session: remoteSession(5, 'V1', 'C1', 'live'), action: 'live' });
    bus.emit('remote.session.changed', { session: remoteSession(5, 'V1', 'C1', 'live'), action: 'joined' });
    expect(sent).toEqual([
      { vehicleId: 'V1', name: 'setTelemetryRate', args: { hz: 10, durationS: 300 }, actor: 'system', sessionId: 5 },
    ]);
    await vi.advanceTimersByTimeAsync(119_999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(240_000);
    expect(sent).toHaveLength(4);
    bus.emit('remote.session.changed', { session: remoteSession(5, 'V1', 'C1', 'ended'), action: 'ended' });
    expect(sent.at(-1)).toEqual({
      vehicleId: 'V1',
      name: 'setTelemetryRate',
      args: { hz: 'default' },
      actor: 'system',
      sessionId: 5,
    });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sent).toHaveLength(5);
    rate.stop();
  });

  it('a gateway reconnecting during a live session is asked again at once; other vehicles and ended sessions are not', async () => {
    const { sender, sent } = recordingSender();
    const rate = createSessionTelemetryRate({ bus, commands: sender, log: silentLogger() }, { renewMs: 120_000 });
    await rate.start();
    bus.emit('remote.session.changed', { session: remoteSession(5, 'V1', 'C1', 'live'), action: 'live' });
    expect(sent).toHaveLength(1);
    bus.emit('vehicle.connected', { vehicleId: 'V2', at: Date.now(), address: null });
    expect(sent).toHaveLength(1);
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: Date.now(), address: null });
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ vehicleId: 'V1', args: { hz: 10, durationS: 300 }, sessionId: 5 });
    bus.emit('remote.session.changed', { session: remoteSession(5, 'V1', 'C1', 'ended'), action: 'ended' });
    bus.emit('vehicle.connected', { vehicleId: 'V1', at: Date.now(), address: null });
    expect(sent.map((r) => r.args)).toEqual([
      { hz: 10, durationS: 300 },
      { hz: 10, durationS: 300 },
      { hz: 'default' },
    ]);
    rate.stop();
  });

  it('a vehicle watched by two live sessions falls back only when the last ends; a refused renewal is retried', async () => {
    let n = 0;
    const { sender, sent } = recordingSender(() => (++n === 1 ? 'no_answer' : 'done'));
    const rate = createSessionTelemetryRate({ bus, commands: sender, log: silentLogger() }, { renewMs: 60_000 });
    await rate.start();
    bus.emit('remote.session.changed', { session: remoteSession(1, 'V1', 'C1', 'live'), action: 'live' });
    bus.emit('remote.session.changed', { session: remoteSession(2, 'V1', 'C1', 'live'), action: 'live' });
    bus.emit('remote.session.changed', { session: remoteSession(1, 'V1', 'C1', 'ended'), action: 'ended' });
    expect(sent.map((s) => s.args)).toEqual([
      { hz: 10, durationS: 300 },
      { hz: 10, durationS: 300 },
    ]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent.map((s) => s.sessionId)).toEqual([1, 2, 2]);
    bus.emit('remote.session.changed', { session: remoteSession(2, 'V1', 'C1', 'ended'), action: 'ended' });
    expect(sent.at(-1)!.args).toEqual({ hz: 'default' });
    rate.stop();
  });

  it('restart: sessions live at start are raised again; stop sends nothing (the gateway falls back by itself)', async () => {
    const { sender, sent } = recordingSender();
    const rate = createSessionTelemetryRate(
      { bus, commands: sender, log: silentLogger(), liveSessions: async () => [{ id: 9, vehicleId: 'V9' }] },
      { renewMs: 120_000 },
    );
    await rate.start();
    expect(sent).toMatchObject([{ vehicleId: 'V9', args: { hz: 10, durationS: 300 }, sessionId: 9 }]);
    rate.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sent).toHaveLength(1);
  });
});
