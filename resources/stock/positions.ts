import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { distanceKm, type Point } from './geo.ts';

/** A vehicle's position is written again once it moved this far … */
const MOVED_KM = 0.5;
/** … or this long after the last write (so `at` says how fresh the fix is). */
const REFRESH_MS = 10 * 60_000;

/**
 * The vehicles' last GPS positions from telemetry (the frame's optional `position`, protocol/telemetry.ts)
 * into the stock's vehicle positions (source `telemetry`), from which a ticket's proposal measures
 * the distance to each store. Heard on the bus (`telemetry.stored`); a vehicle's position is written
 * when it moved ≥ 0.5 km or 10 minutes passed, never for an older frame than the last written.
 */
export function createTelemetryPositions(deps: {
  bus: EventBus<PlatformEvents>;
  log: Logger;
  set: (vehicleId: string, p: Point, at: number) => Promise<void>;
}) {
  const last = new Map<string, Point & { ts: number }>();
  let off: (() => void) | undefined;
  let pending = Promise.resolve();

  function heard(vehicleId: string, frames: PlatformEvents['telemetry.stored']['frames']): void {
    let newest: (Point & { ts: number }) | undefined;
    for (const f of frames)
      if (f.position && (!newest || f.ts > newest.ts)) newest = { lat: f.position.lat, lon: f.position.lon, ts: f.ts };
    if (!newest) return;
    const before = last.get(vehicleId);
    if (
      before &&
      (newest.ts <= before.ts || (distanceKm(before, newest) < MOVED_KM && newest.ts - before.ts < REFRESH_MS))
    )
      return;
    last.set(vehicleId, newest);
    const p = newest;
    pending = pending
      .then(() => deps.set(vehicleId, { lat: p.lat, lon: p.lon }, p.ts))
      .catch((err: unknown) => deps.log.warn({ err, vehicleId }, 'could not keep the vehicle position'));
  }

  return {
    start() {
      off ??= deps.bus.on('telemetry.stored', (e) => heard(e.vehicleId, e.frames));
    },
    /** Resolves once every position heard so far is written. */
    idle: () => pending,
    async stop() {
      off?.();
      off = undefined;
      await pending;
    },
  };
}
