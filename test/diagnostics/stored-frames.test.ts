import { afterEach, describe, expect, it } from 'vitest';
import { healthy, onBattery, T0 } from './fixtures.ts';
import { startDiagnostics } from './harness.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';

/** Mains lost at 10 s, generator never starts, battery draining at 60 A from 40 %. */
const cascade = (seconds: number): TelemetryFrame[] =>
  Array.from({ length: seconds }, (_, i) =>
    i < 10 ? healthy(i, T0 + i * 1000) : onBattery(i, T0 + i * 1000, Math.max(0, 40 - (i - 10) / 30), -60),
  );

describe('stored frames reach the rule engine', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a known vehicle with nothing queued is evaluated while the event is emitted, not in a queued promise', async () => {
    h = await startDiagnostics();
    const frames = cascade(2);
    // the first message looks the vehicle up (queued); afterwards its facts are known
    await h.feed('V1', [frames[0]!]);
    h.diagnostics.engine.forget('V1');
    h.bus.emit('telemetry.stored', { vehicleId: 'V1', receivedAt: frames[1]!.ts, frames: [frames[1]!] });
    expect(h.diagnostics.engine.hasVehicle('V1')).toBe(true);
    await h.diagnostics.idle();
  });

  it('an unknown vehicle waits for its lookup, and transitions found at once are still handled in order', async () => {
    h = await startDiagnostics();
    const frames = cascade(1200);
    h.bus.emit('telemetry.stored', { vehicleId: 'V2', receivedAt: frames[0]!.ts, frames: [frames[0]!] });
    expect(h.diagnostics.engine.hasVehicle('V2')).toBe(false);
    await h.diagnostics.idle();
    expect(h.diagnostics.engine.hasVehicle('V2')).toBe(true);
    // the rest one message at a time, without waiting in between: alarms and one ticket as before
    for (let i = 1; i < frames.length; i += 10) {
      const chunk = frames.slice(i, i + 10);
      h.setClock(chunk[chunk.length - 1]!.ts);
      await h.telemetry.append(chunk.map((frame) => ({ vehicleId: 'V2', receivedAt: frame.ts, frame })));
      h.bus.emit('telemetry.stored', { vehicleId: 'V2', receivedAt: chunk[chunk.length - 1]!.ts, frames: chunk });
    }
    await h.diagnostics.idle();
    const tickets = await h.diagnostics.tickets.list();
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ level: 'extra_urgent', vehicleId: 'V2' });
    expect(h.events.filter((e) => e.name === 'alarm.raised').length).toBeGreaterThan(1);
  });
});
