import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { PowerProfile, TelemetryFrame } from '../../protocol/index.ts';
import type { VehicleRegistry } from '../../registry/vehicles.ts';

export interface VehicleInfo {
  customerId: string;
  profile: PowerProfile;
}

/** The newest (by `ts`) of a batch of frames; the last of equals. */
export function newestFrame(frames: readonly TelemetryFrame[]): TelemetryFrame | undefined {
  let newest: TelemetryFrame | undefined;
  for (const f of frames) if (!newest || f.ts >= newest.ts) newest = f;
  return newest;
}

/**
 * Vehicles' owner and profile, cached until the registry changes them. The cached promise keeps the
 * events of one vehicle in order (an alarm is not overtaken by a later one whose lookup was quicker).
 */
export function createVehicleInfo(deps: {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  vehicles: Pick<VehicleRegistry, 'get'>;
}) {
  const cache = new Map<string, Promise<VehicleInfo | undefined>>();
  const off = deps.bus.on('registry.changed', (e) => {
    if (e.subject === 'vehicle') cache.delete(e.id);
  });
  return {
    get(id: string): Promise<VehicleInfo | undefined> {
      let p = cache.get(id);
      if (!p) {
        p = deps.vehicles.get(id).then(
          (v) => v && { customerId: v.customerId, profile: v.profile },
          (err: unknown) => {
            cache.delete(id);
            throw err;
          },
        );
        cache.set(id, p);
      }
      return p;
    },
    close() {
      off();
      cache.clear();
    },
  };
}

export type VehicleInfoCache = ReturnType<typeof createVehicleInfo>;
