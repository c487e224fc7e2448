import { telemetryReach } from './acl.ts';

/**
 * Whether a vehicle's telemetry can reach anyone through this broker, so that a message nobody can
 * hear skips aedes' forwarding.
 *
 * aedes hands every accepted message on (a QoS 1 one after its PUBACK): a copy as its own
 * `Packet`, the retained step, a look-up of the offline sessions subscribed to the topic and their
 * queues, the emitter's match of the live subscriptions, and a `publish` event. Telemetry is most
 * of what vehicles send and, as a rule, nobody subscribes to it over MQTT (ingest takes it in
 * `authorizePublish`, the consoles get it from the live layer): that is ≈ 70 MB of garbage in 10 s
 * at 8,500 frames/s (docs/benchmarks.md) for nothing.
 *
 * On one node every subscription passes the broker's subscribe check first (aedes' in-memory
 * sessions begin empty with the process, and a resumed session brings back subscriptions checked
 * in this process), so what those checks let through is a conservative record: a filter once
 * granted that can match a vehicle's telemetry makes that telemetry heard for the life of the
 * process, also after it is unsubscribed (never wrong, just not spared). Several nodes share their
 * subscriptions through Redis, which one node cannot see from here: the broker does not use this there.
 */
export interface TelemetryListeners {
  /** A subscription with this filter was granted. */
  granted(filter: string): void;
  /** Whether a subscription granted so far can receive this vehicle's telemetry. */
  heard(vehicleId: string): boolean;
}

export function createTelemetryListeners(): TelemetryListeners {
  let everyVehicle = false;
  // bounded by the vehicles named in granted filters
  const vehicles = new Set<string>();
  return {
    granted(filter) {
      const reach = telemetryReach(filter);
      if (reach === 'all') everyVehicle = true;
      else if (reach) vehicles.add(reach.vehicleId);
    },
    heard: (vehicleId) => everyVehicle || vehicles.has(vehicleId),
  };
}
