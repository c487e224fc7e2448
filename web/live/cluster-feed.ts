import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';

export type StoredFrames = PlatformEvents['telemetry.stored'];

/** One vehicle's fleet change (presence, its newest frame): what the fleet batches merge per interval. */
export interface FleetChange {
  vehicleId: string;
  presence?: { online: boolean; at: number; reason: string | null };
  latest?: { receivedAt: number; frame: TelemetryFrame };
}

/**
 * What the vehicles connected to other nodes bring to this node's live layer (cluster mode; built by
 * cluster/live-feed.ts). Without it the live layer hears only its own node's bus, as in the embedded
 * platform. The live layer fans these out to its own connections exactly as its own node's, with the
 * same tenant checks, throttle and backpressure.
 */
export interface LiveClusterFeed {
  /** Every stored message of the vehicles watched here (`watch`), stored on another node. */
  onFrames(listener: (e: StoredFrames) => void): () => void;
  /** A connection here started watching a vehicle's frames (a subscription, a session): counted. */
  watch(vehicleId: string): void;
  /** …stopped (the last one stops its frames from the other nodes). */
  unwatch(vehicleId: string): void;
  /** The other nodes' fleet changes, aggregated there per interval. */
  onFleet(listener: (changes: FleetChange[]) => void): () => void;
  /** Whether this node has live connections: the other nodes send their fleet changes only while some node has. */
  consoles(present: boolean): void;
}

/** Where the live layer's frames come from: this node's stored frames, and the watched ones of the other nodes. */
export interface FrameSource {
  on(listener: (e: StoredFrames) => void): () => void;
  watch(vehicleId: string): void;
  unwatch(vehicleId: string): void;
}

/** This node's frames (`telemetry.stored`) and, in cluster mode, the other nodes' of the vehicles watched here. */
export function frameSource(bus: Pick<EventBus<PlatformEvents>, 'on'>, feed?: LiveClusterFeed): FrameSource {
  return {
    on(listener) {
      const offLocal = bus.on('telemetry.stored', listener);
      const offRemote = feed?.onFrames(listener);
      return () => {
        offLocal();
        offRemote?.();
      };
    },
    watch: (id) => feed?.watch(id),
    unwatch: (id) => feed?.unwatch(id),
  };
}
