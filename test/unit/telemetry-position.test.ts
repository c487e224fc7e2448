import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import { validateFrame } from '../../ingest/validate.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createTelemetryPositions, POSITIONS_FLUSH_MS, type VehiclePosition } from '../../resources/stock/positions.ts';
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
  afterEach(() => {
    vi.useRealTimers();
  });

  function positionsWith(setMany: (list: VehiclePosition[]) => Promise<void>) {
    const bus = createInProcessBus<PlatformEvents>(silentLogger());
    const positions = createTelemetryPositions({ bus, log: silentLogger(), setMany });
    positions.start();
    const stored = (vehicleId: string, ts: number, position?: { lat: number; lon: number }) =>
      bus.emit('telemetry.stored', {
        vehicleId,
        receivedAt: ts,
        frames: [frame(ts, ts, position ? { position } : {}) as TelemetryFrame],
      });
    return { bus, positions, stored };
  }

  it('writes the newest fix of a batch, again once moved ≥ 0.5 km or 10 min later, never an older one', async () => {
    const written: [string, number, number, number][] = [];
    const { bus, positions, stored } = positionsWith(async (list) => {
      for (const p of list) written.push([p.vehicleId, p.lat, p.lon, p.at]);
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
    await positions.idle();
    stored('V1', NOW + 60_000, { lat: 40.002, lon: 116 }); // ~110 m on, a minute later: kept as is
    stored('V1', NOW + 120_000); // no fix
    await positions.idle();
    stored('V1', NOW + 180_000, { lat: 40.01, lon: 116 }); // ~1 km on
    await positions.idle();
    stored('V1', NOW + 100_000, { lat: 41, lon: 116 }); // an older frame (a replay): never
    stored('V1', NOW + 180_000 + 10 * 60_000, { lat: 40.01, lon: 116 }); // standing still, 10 min on
    await positions.idle();
    expect(written).toEqual([
      ['V1', 40.001, 116, NOW + 1000],
      ['V1', 40.01, 116, NOW + 180_000],
      ['V1', 40.01, 116, NOW + 780_000],
    ]);
    await positions.stop();
    stored('V1', NOW + 3_600_000, { lat: 30, lon: 110 });
    await positions.idle();
    expect(written).toHaveLength(3);
  });

  it('writes the fixes heard within a second together, one position per vehicle (its newest)', async () => {
    vi.useFakeTimers({ now: NOW });
    const calls: VehiclePosition[][] = [];
    const { positions, stored } = positionsWith(async (list) => void calls.push(list));
    stored('V1', NOW, { lat: 40, lon: 116 });
    stored('V2', NOW, { lat: 30, lon: 110 });
    stored('V1', NOW + 500, { lat: 40.1, lon: 116 }); // ~11 km on, in the same second
    await vi.advanceTimersByTimeAsync(POSITIONS_FLUSH_MS - 1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([
      [
        { vehicleId: 'V1', lat: 40.1, lon: 116, at: NOW + 500 },
        { vehicleId: 'V2', lat: 30, lon: 110, at: NOW },
      ],
    ]);
    await positions.stop();
  });

  it('writes what waits at stop, and a group that failed again with each vehicle’s next fix', async () => {
    let fail = true;
    const written: VehiclePosition[] = [];
    const { positions, stored } = positionsWith(async (list) => {
      if (fail) throw new Error('disk full');
      written.push(...list);
    });
    stored('V1', NOW, { lat: 40, lon: 116 });
    await positions.idle();
    expect(written).toEqual([]);
    fail = false;
    stored('V1', NOW + 1000, { lat: 40, lon: 116 }); // standing still: written, since the last one was not
    await positions.stop();
    expect(written).toEqual([{ vehicleId: 'V1', lat: 40, lon: 116, at: NOW + 1000 }]);
  });
});
