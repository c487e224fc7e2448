import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { ExpiredLease } from './vehicle-owners.ts';

/** The owner leases (cluster/vehicle-owners.ts), as far as this wiring uses them. */
export interface OwnerLeases {
  take(vehicleId: string): Promise<{ token: number; tookOver: boolean }>;
  takeExpired(expired: ExpiredLease): Promise<boolean>;
  expired(limit?: number): Promise<ExpiredLease[]>;
  onLost(listener: (vehicleId: string) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Cluster mode: who evaluates a vehicle's rules (docs/architecture.md, "One owner per vehicle").
 * - `vehicle.connected` here: this node takes the vehicle's lease and, if it changed hands, rebuilds
 *   the rule state from the stored recent window — in the vehicle's diagnostics queue, before its frames;
 * - a lease lost (taken over, or a write refused by the fence): the vehicle's rule state is dropped;
 * - every `sweepMs`, on the one node `gate()` lets through (the leader, once wired): each lease that
 *   ran out (its node died or stopped and the vehicle did not reconnect elsewhere) — its presence is
 *   marked offline if it still names that node, and this node adopts the vehicle (takes the lease,
 *   rebuilds the state), so its no-data rules fire once, here, as on a single node after a disconnect.
 */
export function createVehicleOwnership(
  deps: {
    bus: EventBus<PlatformEvents>;
    owners: OwnerLeases;
    diagnostics: {
      adopt(vehicleId: string, take: () => Promise<boolean>): Promise<void>;
      drop(vehicleId: string): void;
    };
    presence: { markOfflineOf(vehicleId: string, node: string, at: number, reason: string): Promise<boolean> };
    /** Whether this node runs the sweep now (the leader lease, cluster/leader.ts); every node by default. */
    gate?: () => boolean;
    log: Logger;
    counters?: Counters;
    now?: () => number;
  },
  options: { sweepMs: number },
) {
  const { bus, owners, diagnostics, presence, log } = deps;
  const gate = deps.gate ?? (() => true);
  const now = deps.now ?? Date.now;
  const unsubscribe: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;

  /** One pass over the leases that ran out; answers how many vehicles this node adopted. */
  async function sweepOnce(): Promise<number> {
    if (!gate()) return 0;
    let adopted = 0;
    for (const lease of await owners.expired()) {
      const at = now();
      const reason = `node ${lease.node} gone`;
      const marked = await presence.markOfflineOf(lease.vehicleId, lease.node, at, reason);
      if (marked) deps.counters?.inc('owners.swept_offline');
      let took = false;
      await diagnostics.adopt(lease.vehicleId, async () => (took = await owners.takeExpired(lease)));
      if (took) {
        adopted++;
        deps.counters?.inc('owners.adopted');
      }
      // what the gone node can no longer say: the consoles (here, and through the live feed elsewhere)
      // show the vehicle offline at once; the presence row is written already (this node's own
      // disconnect handler leaves a row naming another node alone)
      if (marked) bus.emit('vehicle.disconnected', { vehicleId: lease.vehicleId, at, reason });
    }
    if (adopted) log.info({ adopted }, 'vehicles of a node gone adopted: their rules are evaluated here');
    return adopted;
  }

  return {
    /** Runs one sweep now (after any running one); answers how many vehicles were adopted. */
    sweep(): Promise<number> {
      const run = (sweeping ?? Promise.resolve(0)).catch(() => 0).then(sweepOnce);
      sweeping = run;
      return run;
    },
    async start(): Promise<void> {
      owners.onLost((vehicleId) => diagnostics.drop(vehicleId));
      unsubscribe.push(
        bus.on('vehicle.connected', (e) => {
          void diagnostics
            .adopt(e.vehicleId, async () => (await owners.take(e.vehicleId)).tookOver)
            .catch((err: unknown) => log.error({ err, vehicleId: e.vehicleId }, 'taking the vehicle lease failed'));
        }),
      );
      await owners.start();
      timer = setInterval(() => {
        void this.sweep().catch((err: unknown) => log.warn({ err }, 'stale-presence sweep failed'));
      }, options.sweepMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const u of unsubscribe.splice(0)) u();
      await sweeping?.catch(() => undefined);
      await owners.stop();
    },
  };
}

export type VehicleOwnership = ReturnType<typeof createVehicleOwnership>;
