import { describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { validateFrame } from '../../ingest/validate.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createTelemetryPositions } from '../../resources/stock/positions.ts';
import { frame } from '../helpers/platform.ts';

const NOW = Date.UTC(2026, 11, 4, 8, 0, 0);

describe('the telemetry frame’s optional GPS position', () => {
  it('is accepted as sent (the fast path stays on), with or without it', () => {
    const withIt = frame(1, NOW, { position: { lat: 40.05, lon: 116.3 } });
    const r = validateFrame(withIt, NOW);
    expect(r.ok && r.frame).toBe(withIt);
    const without = frame(2, NOW);
    const r2 = validateFrame(without, NOW);
    expect(r2.ok && r2.frame).toBe(without);
  });

  it('refuses a position out of range or not numbers, naming the field', () => {
    for (const [position, path] of [
      [{ lat: 91, lon: 0 }, 'position.lat'],
      [{ lat: 0, lon: -181 }, 'position.lon'],
      [{ lat: '40', lon: 116 }, 'position.lat'],
      [{ lat: 40 }, 'position.lon'],
      ['40,116', 'position'],
    ] as const) {
      const r = validateFrame(frame(3, NOW, { position }), NOW);
      expect(r.ok, JSON.stringify(position)).toBe(false);
      if (!r.ok) expect(r.rejection.issues?.map((i) => i.path)).toContain(path);
    }
  });

  it('drops unknown keys inside it, as everywhere in a frame', () => {
    const sent = frame(4, NOW, { position: { lat: 1, lon: 2, alt: 30 } });
    const r = validateFrame(sent, NOW);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.frame).not.toBe(sent);
      expect(r.frame.position).toEqual({ lat: 1, lon: 2 });
    }
  });
});

describe('the stock keeps each vehicle’s latest GPS position from telemetry', () => {
  it('writes the newest fix of a batch, again once moved ≥ 0.5 km or 10 min later, never an older one', async () => {
    const bus = createInProcessBus<PlatformEvents>(silentLogger());
    const written: [string, number, number, number][] = [];
    const positions = createTelemetryPositions({
      bus,
      log: silentLogger(),
      set: async (id, p, at) => void written.push([id, p.lat, p.lon, at]),
    });
    positions.start();
    const stored = (ts: number, position?: { lat: number; lon: number }) =>
      bus.emit('telemetry.stored', {
        vehicleId: 'V1',
        receivedAt: ts,
        frames: [frame(ts, ts, position ? { position } : {}) as TelemetryFrame],
      });
    bus.emit('telemetry.stored', {
      vehicleId: 'V1',
      receivedAt: NOW,
      frames: [
        frame(1, NOW + 1000, { position: { lat: 40.001, lon: 116 } }) as TelemetryFrame,
        frame(0, NOW, { position: { lat: 40, lon: 116 } }) as TelemetryFrame,
        frame(2, NOW + 2000) as TelemetryFrame,
      ],
    });
    stored(NOW + 60_000, { lat: 40.002, lon: 116 }); // ~110 m on, a minute later: kept as is
    stored(NOW + 120_000); // no fix
    stored(NOW + 180_000, { lat: 40.01, lon: 116 }); // ~1 km on
    stored(NOW + 100_000, { lat: 41, lon: 116 }); // an older frame (a replay): never
    stored(NOW + 180_000 + 10 * 60_000, { lat: 40.01, lon: 116 }); // standing still, 10 min on
    await positions.idle();
    expect(written).toEqual([
      ['V1', 40.001, 116, NOW + 1000],
      ['V1', 40.01, 116, NOW + 180_000],
      ['V1', 40.01, 116, NOW + 780_000],
    ]);
    await positions.stop();
    stored(NOW + 3_600_000, { lat: 30, lon: 110 });
    await positions.idle();
    expect(written).toHaveLength(3);
  });
});
