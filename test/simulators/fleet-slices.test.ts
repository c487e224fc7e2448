import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFleet, FLEET_SLICES } from '../../simulators/fleet/fleet.ts';

/**
 * simulators/fleet/fleet.ts: the shared loop ticks each gateway once per tickMs, in the slice just
 * after its phase, so that the fleet's publishes are spread over the period instead of leaving in
 * one burst per tick. The gateways' own work is replaced by a recorder here (no broker).
 */
describe('the fleet loop, in slices of a tick', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function fleetWith(vehicles: number, tickMs: number) {
    vi.useFakeTimers({ now: 0 });
    const fleet = createFleet(
      { clock: { now: () => Date.now() }, realNow: () => Date.now() },
      {
        vehicles: Array.from({ length: vehicles }, (_, i) => ({ id: `S${i}`, secret: 'x' })),
        brokerUrl: 'mqtt://127.0.0.1:9',
        rateHz: 1,
        seed: 1,
        startTs: 0,
        tickMs,
      },
    );
    /** Per gateway, the times it was ticked at. */
    const ticked = fleet.gateways.map(() => [] as number[]);
    fleet.gateways.forEach((g, i) => {
      g.start = () => undefined;
      g.tick = (now?: number) => void ticked[i]!.push(now!);
    });
    return { fleet, ticked };
  }

  it('ticks every gateway once per tick, each just after its phase, a slice of the fleet at a time', () => {
    const vehicles = 200;
    const { fleet, ticked } = fleetWith(vehicles, 100);
    fleet.start();
    vi.advanceTimersByTime(1000);
    vi.clearAllTimers();
    ticked.forEach((times, i) => {
      // all at the start, then once every 100 ms
      expect(times, `S${i}`).toHaveLength(11);
      expect(times[0]).toBe(0);
      const phase = Math.floor((i / vehicles) * 1000) % 100;
      for (const t of times.slice(1)) {
        const late = ((((t % 100) - phase) % 100) + 100) % 100;
        expect(late, `S${i} at ${t}, phase ${phase}`).toBeLessThan(100 / FLEET_SLICES);
      }
      for (let k = 2; k < times.length; k++) expect(times[k]! - times[k - 1]!).toBe(100);
    });
    // after the first tick, no instant ticks more than a slice's share of the fleet
    const at = new Map<number, number>();
    for (const times of ticked) for (const t of times.slice(1)) at.set(t, (at.get(t) ?? 0) + 1);
    expect(at.size).toBe(100);
    expect(Math.max(...at.values())).toBe(vehicles / FLEET_SLICES);
  });

  it('keeps one slice for a tick too short to cut', () => {
    const { fleet, ticked } = fleetWith(10, 5);
    fleet.start();
    vi.advanceTimersByTime(50);
    vi.clearAllTimers();
    for (const times of ticked) expect(times).toEqual(Array.from({ length: 11 }, (_, k) => k * 5));
  });
});
