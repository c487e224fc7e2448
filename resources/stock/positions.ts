import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { createBatchQueue } from '../../records/batch-queue.ts';
import { distanceKm, type Point } from './geo.ts';

/** A vehicle's position is written again once it moved this far … */
const MOVED_KM = 0.5;
/** … or this long after the last write (so `at` says how fresh the fix is). */
const REFRESH_MS = 10 * 60_000;
/** Positions heard within this long are written together, in one statement per 200 vehicles. */
export const POSITIONS_FLUSH_MS = 1000;

/** One vehicle's position as written: where, and the time of the frame it came from. */
export interface VehiclePosition extends Point {
  vehicleId: string;
  at: number;
}

/**
 * The vehicles' last GPS positions from telemetry (the frame's optional `position`, protocol/telemetry.ts)
 * into the stock's vehicle positions (source `telemetry`), from which a ticket's proposal measures
 * the distance to each store. Heard on the bus (`telemetry.stored`); a vehicle's position is written
 * when it moved ≥ 0.5 km or 10 minutes passed, never for an older frame than the last written.
 *
 * Written in groups (`setMany`, at most POSITIONS_FLUSH_MS after the first of them was heard): after
 * a start or a reconnect storm every vehicle's first fix is due at once, and one upsert each — a
 * commit with its fsync on the main thread — held the thread for ≈ 1–2 s of the fleet's connect
 * (docs/benchmarks.md, the simulated fleet). `idle()` writes what waits now, so a reader that must
 * see every position heard (a ticket's proposal) waits for it instead of for the timer.
 */
export function createTelemetryPositions(deps: {
  bus: EventBus<PlatformEvents>;
  log: Logger;
  /** Upserts the positions given (at most one per vehicle); resolves once they are stored. */
  setMany: (positions: VehiclePosition[]) => Promise<void>;
  flushMs?: number;
}) {
  const last = new Map<string, Point & { ts: number }>();
  let off: (() => void) | undefined;
  const queue = createBatchQueue<VehiclePosition>(
    {
      log: deps.log,
      what: 'vehicle positions from telemetry',
      // a vehicle heard twice in one group (it moved twice in a second): its newest fix only
      write: async (items) => {
        const newest = [...new Map(items.map((p) => [p.vehicleId, p])).values()];
        try {
          await deps.setMany(newest);
        } catch (err) {
          // not stored: each of these vehicles' next fix is written again (the queue logs the failure)
          for (const p of newest) if (last.get(p.vehicleId)?.ts === p.at) last.delete(p.vehicleId);
          throw err;
        }
      },
    },
    { flushMs: deps.flushMs ?? POSITIONS_FLUSH_MS, maxItems: 10_000 },
  );

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
    // a failed group is logged by the queue and retried with each vehicle's next fix (write, above)
    queue.add({ vehicleId, lat: newest.lat, lon: newest.lon, at: newest.ts }).catch(() => undefined);
  }

  return {
    start() {
      off ??= deps.bus.on('telemetry.stored', (e) => heard(e.vehicleId, e.frames));
    },
    /** Writes what waits now; resolves once every position heard so far is written (or failed: logged). */
    idle: () => queue.flush(),
    async stop() {
      off?.();
      off = undefined;
      await queue.flush();
    },
  };
}
