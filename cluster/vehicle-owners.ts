import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from '../core/logger.ts';
import { PlatformError } from '../core/errors.ts';
import type { RecordsDb } from '../records/db.ts';
import './errors.ts';

/** A lease whose time ran out, as the stale-presence sweep finds it. */
export interface ExpiredLease {
  vehicleId: string;
  node: string;
  token: number;
}

/**
 * Cluster mode: one owner node per vehicle for its diagnostics rule state — a lease in the records
 * (PostgreSQL table `vehicle_owners`) with a fencing token (docs/architecture.md, "One owner per
 * vehicle"). The node a vehicle connects to takes its lease (`take`: the token goes up by one); the
 * owner's heartbeat renews all its leases in one statement every `leaseMs / 3` and learns which it
 * lost (another node took them); every alarm write of the diagnostics stage calls `fence` first, in
 * its own transaction: the row is read FOR SHARE and its token compared with the one this node took,
 * so a paused old owner cannot write after a takeover (the takeover's UPDATE waits for the write's
 * transaction, and the write after the takeover sees the new token).
 *
 * The lease lives next to the alarms rather than in Redis so that the fence is checked in the very
 * transaction it guards: no second system has to agree with the records.
 */
export function createVehicleOwners(
  deps: { db: RecordsDb; log: Logger; now?: () => number },
  options: { node: string; leaseMs: number; heartbeatMs?: number },
) {
  const { db, log } = deps;
  const now = deps.now ?? Date.now;
  const node = options.node;
  /** One run of this node: leases of a previous run under the same NODE_ID are not this run's. */
  const life = randomBytes(8).toString('hex');
  /** The vehicles this run holds, with the token it took. */
  const held = new Map<string, number>();
  const lostListeners: ((vehicleId: string) => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> = Promise.resolve();

  function lost(vehicleId: string, why: string) {
    if (!held.delete(vehicleId)) return;
    log.info({ vehicleId, why }, 'vehicle lease lost: its rule state is dropped');
    for (const l of lostListeners) l(vehicleId);
  }

  /** Renews every lease this run holds; those no longer its own are lost. */
  async function heartbeat(): Promise<void> {
    const rows = await db
      .updateTable('vehicle_owners')
      .set({ expires_at: now() + options.leaseMs })
      .where('node', '=', node)
      .where('life', '=', life)
      .returning(['vehicle_id', 'token'])
      .execute();
    const mine = new Map(rows.map((r) => [r.vehicle_id, Number(r.token)]));
    for (const [vehicleId, token] of [...held]) if (mine.get(vehicleId) !== token) lost(vehicleId, 'taken over');
  }

  return {
    node,
    life,
    /**
     * Takes the vehicle's lease for this node (its token raised by one), unless this run already
     * holds it (then it is renewed). Answers whether the lease changed hands: the caller then
     * rebuilds the vehicle's rule state from the stored recent window.
     */
    async take(vehicleId: string): Promise<{ token: number; tookOver: boolean }> {
      const mine = held.get(vehicleId);
      const at = now();
      if (mine !== undefined) {
        const renewed = await db
          .updateTable('vehicle_owners')
          .set({ expires_at: at + options.leaseMs })
          .where('vehicle_id', '=', vehicleId)
          .where('node', '=', node)
          .where('life', '=', life)
          .where('token', '=', mine)
          .executeTakeFirst();
        if (Number(renewed.numUpdatedRows) === 1) return { token: mine, tookOver: false };
        lost(vehicleId, 'taken over');
      }
      const row = await db
        .insertInto('vehicle_owners')
        .values({ vehicle_id: vehicleId, node, life, token: 1, expires_at: at + options.leaseMs })
        .onConflict((oc) =>
          oc.column('vehicle_id').doUpdateSet({
            node,
            life,
            token: sql<number>`vehicle_owners.token + 1`,
            expires_at: at + options.leaseMs,
          }),
        )
        .returning('token')
        .executeTakeFirstOrThrow();
      const token = Number(row.token);
      held.set(vehicleId, token);
      return { token, tookOver: true };
    },
    /**
     * Takes a lease that ran out (the stale-presence sweep), only if nobody renewed or took it
     * since it was found: answers false when it is no longer `expired.token` or no longer expired.
     */
    async takeExpired(expired: ExpiredLease): Promise<boolean> {
      const at = now();
      const row = await db
        .updateTable('vehicle_owners')
        .set({ node, life, token: sql<number>`token + 1`, expires_at: at + options.leaseMs })
        .where('vehicle_id', '=', expired.vehicleId)
        .where('token', '=', expired.token)
        .where('expires_at', '<', at)
        .returning('token')
        .executeTakeFirst();
      if (!row) return false;
      held.set(expired.vehicleId, Number(row.token));
      return true;
    },
    /** Whether this run holds the vehicle's lease (as far as it knows: the fence has the last word). */
    owns(vehicleId: string): boolean {
      return held.has(vehicleId);
    },
    tokenOf(vehicleId: string): number | undefined {
      return held.get(vehicleId);
    },
    /**
     * Inside an alarm write's transaction: throws PlatformError OWNER_LOST unless the vehicle's lease
     * still carries the token this node took (the row is locked FOR SHARE until the commit, so a
     * takeover waits for the write). A refused vehicle is dropped like a lost lease.
     */
    async fence(tx: RecordsDb, vehicleId: string): Promise<void> {
      const token = held.get(vehicleId);
      const row = await tx
        .selectFrom('vehicle_owners')
        .select('token')
        .where('vehicle_id', '=', vehicleId)
        .forShare()
        .executeTakeFirst();
      if (token !== undefined && row && Number(row.token) === token) return;
      lost(vehicleId, 'fenced');
      throw new PlatformError('OWNER_LOST', `this node no longer owns vehicle ${vehicleId}`, {
        details: { vehicleId, token: token ?? null, current: row ? Number(row.token) : null },
      });
    },
    /** Leases whose time ran out (their node died or was stopped), oldest first. */
    async expired(limit = 500): Promise<ExpiredLease[]> {
      const rows = await db
        .selectFrom('vehicle_owners')
        .select(['vehicle_id', 'node', 'token'])
        .where('expires_at', '<', now())
        .orderBy('expires_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ vehicleId: r.vehicle_id, node: r.node, token: Number(r.token) }));
    },
    /** Called with each vehicle whose lease this node lost (taken over, or refused by the fence). */
    onLost(listener: (vehicleId: string) => void): void {
      lostListeners.push(listener);
    },
    /** Renews this run's leases now (the timer does it every `leaseMs / 3`); tests call it by hand. */
    heartbeat: () => (beating = beating.catch(() => undefined).then(heartbeat)),
    /**
     * Starts the heartbeat. The leases of this node's previous run (same NODE_ID, another life) are
     * expired at once: that run is gone, the stale-presence sweep adopts its vehicles.
     */
    async start(): Promise<void> {
      await db
        .updateTable('vehicle_owners')
        .set({ expires_at: 0 })
        .where('node', '=', node)
        .where('life', '<>', life)
        .execute();
      const every = options.heartbeatMs ?? Math.max(1, Math.floor(options.leaseMs / 3));
      timer = setInterval(() => {
        void (beating = beating.then(heartbeat).catch((err: unknown) => {
          log.warn({ err }, 'vehicle lease heartbeat failed');
        }));
      }, every);
      timer.unref();
    },
    /** Stops renewing: the leases run out after OWNER_LEASE_MS and the sweep adopts what did not reconnect. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await beating.catch(() => undefined);
      held.clear();
    },
  };
}

export type VehicleOwners = ReturnType<typeof createVehicleOwners>;
