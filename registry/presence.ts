import type { Selectable } from 'kysely';
import type { RecordsDb } from '../records/db.ts';
import type { VehiclePresenceTable } from '../records/schema.ts';

export interface Presence {
  vehicleId: string;
  online: boolean;
  changedAt: number;
  lastConnectAt: number | null;
  lastDisconnectAt: number | null;
  lastAddress: string | null;
  disconnectReason: string | null;
}

type Change =
  { kind: 'connected'; at: number; address: string | null } | { kind: 'disconnected'; at: number; reason: string };

/**
 * Presence of each vehicle as the broker saw it: connect, disconnect, last will, with times.
 * Changes are coalesced per vehicle and written in one transaction per flush, so that a
 * reconnect storm of thousands of gateways costs a few commits, not thousands.
 *
 * Cluster mode (`node`: this node's NODE_ID): a connect records the node; a disconnect changes the
 * row only while it still names this node (a vehicle that has moved to another node is not marked
 * offline by this node's late disconnect); `markOwnOffline` at start touches only this node's rows.
 */
export function createPresenceStore(deps: { db: RecordsDb }, options: { flushMs?: number; node?: string } = {}) {
  const { db } = deps;
  const node = options.node;
  const pending = new Map<string, Change[]>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /**
   * Without a node (one platform process) this store is the only writer of the rows, so `all` keeps
   * what it read until this store writes (or `forget`): the fleet list read all of them on each request
   * (2,000 rows, ≈ 3–7 ms). In cluster mode the other nodes write their vehicles' rows: read each time.
   */
  let kept: Promise<readonly Presence[]> | undefined;
  const forget = () => {
    kept = undefined;
  };

  async function write(vehicleId: string, change: Change, tx: RecordsDb): Promise<void> {
    if (change.kind === 'connected') await writeConnected(tx, vehicleId, change.at, change.address, node);
    else await writeDisconnected(tx, vehicleId, change.at, change.reason, node);
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return flushing;
    const batch = [...pending];
    pending.clear();
    // after the flush before it, whether that one worked or not: one failed write must not stop the next
    flushing = flushing
      .catch(() => undefined)
      .then(() =>
        db.transaction().execute(async (tx) => {
          for (const [vehicleId, changes] of batch) for (const c of changes) await write(vehicleId, c, tx);
        }),
      )
      .then(forget, (err: unknown) => {
        // not written: queued again under what came since, and tried at the next flush
        for (const [vehicleId, changes] of batch) for (const c of changes.toReversed()) queue(vehicleId, c, true);
        throw err;
      });
    return flushing;
  }

  /** `older`: a change from a batch that was not written (a newer one of the same kind wins). */
  function queue(vehicleId: string, change: Change, older = false) {
    const list = pending.get(vehicleId);
    // keep the last connect and the last disconnect, in order, so both timestamps are recorded
    if (!list) pending.set(vehicleId, [change]);
    else if (older) {
      if (!list.some((c) => c.kind === change.kind)) list.unshift(change);
    } else {
      const next = list.filter((c) => c.kind !== change.kind);
      next.push(change);
      pending.set(vehicleId, next);
    }
    timer ??= setTimeout(() => void flush().catch(() => undefined), options.flushMs ?? 200);
  }

  return {
    connected(vehicleId: string, at: number, address: string | null): void {
      queue(vehicleId, { kind: 'connected', at, address });
    },
    disconnected(vehicleId: string, at: number, reason: string): void {
      queue(vehicleId, { kind: 'disconnected', at, reason });
    },
    flush,
    async markAllOffline(at: number, reason: string): Promise<void> {
      await db
        .updateTable('vehicle_presence')
        .set({ online: 0, changed_at: at, last_disconnect_at: at, disconnect_reason: reason })
        .where('online', '=', 1)
        .execute();
      forget();
    },
    /**
     * At start: the vehicles this process's previous run left online are offline. In cluster mode
     * only the rows naming this node (the other nodes' vehicles are theirs); else every row.
     */
    async markOwnOffline(at: number, reason: string): Promise<void> {
      await db
        .updateTable('vehicle_presence')
        .set({ online: 0, changed_at: at, last_disconnect_at: at, disconnect_reason: reason })
        .where('online', '=', 1)
        .$if(node !== undefined, (q) => q.where('node', '=', node!))
        .execute();
      forget();
    },
    /**
     * Cluster mode, the stale-presence sweep: the vehicle is offline if its presence still names
     * `ofNode` (the node whose lease ran out); answers whether it changed.
     */
    async markOfflineOf(vehicleId: string, ofNode: string, at: number, reason: string): Promise<boolean> {
      await flush();
      const r = await db
        .updateTable('vehicle_presence')
        .set({ online: 0, changed_at: at, last_disconnect_at: at, disconnect_reason: reason })
        .where('vehicle_id', '=', vehicleId)
        .where('online', '=', 1)
        .where('node', '=', ofNode)
        .executeTakeFirst();
      forget();
      return Number(r.numUpdatedRows) > 0;
    },
    async get(vehicleId: string): Promise<Presence | undefined> {
      await flush();
      const r = await db
        .selectFrom('vehicle_presence')
        .selectAll()
        .where('vehicle_id', '=', vehicleId)
        .executeTakeFirst();
      return r && toPresence(r);
    },
    /** Presence of every vehicle that ever connected (one query, for fleet views). */
    async all(): Promise<Presence[]> {
      await flush();
      if (node !== undefined) return (await db.selectFrom('vehicle_presence').selectAll().execute()).map(toPresence);
      if (!kept) {
        const reading = db
          .selectFrom('vehicle_presence')
          .selectAll()
          .execute()
          .then((rows) => rows.map((r) => Object.freeze(toPresence(r))));
        kept = reading;
        reading.catch(() => {
          if (kept === reading) kept = undefined;
        });
      }
      return (await kept).slice();
    },
    /**
     * Drops what `all` keeps, for a row written by another process: the registry's removal of a
     * vehicle deletes its row (the platform calls this on the registry watcher's `removed`).
     */
    forget,
  };
}

function toPresence(r: Selectable<VehiclePresenceTable>): Presence {
  return {
    vehicleId: r.vehicle_id,
    online: r.online === 1,
    changedAt: Number(r.changed_at),
    lastConnectAt: r.last_connect_at === null ? null : Number(r.last_connect_at),
    lastDisconnectAt: r.last_disconnect_at === null ? null : Number(r.last_disconnect_at),
    lastAddress: r.last_address,
    disconnectReason: r.disconnect_reason,
  };
}

async function writeConnected(
  db: RecordsDb,
  vehicleId: string,
  at: number,
  address: string | null,
  node: string | undefined,
): Promise<void> {
  await db
    .insertInto('vehicle_presence')
    .values({
      vehicle_id: vehicleId,
      online: 1,
      changed_at: at,
      last_connect_at: at,
      last_disconnect_at: null,
      last_address: address,
      disconnect_reason: null,
      ...(node !== undefined ? { node } : {}),
    })
    .onConflict((oc) =>
      oc.column('vehicle_id').doUpdateSet({
        online: 1,
        changed_at: at,
        last_connect_at: at,
        last_address: address,
        disconnect_reason: null,
        ...(node !== undefined ? { node } : {}),
      }),
    )
    .execute();
}

async function writeDisconnected(
  db: RecordsDb,
  vehicleId: string,
  at: number,
  reason: string,
  node: string | undefined,
): Promise<void> {
  await db
    .insertInto('vehicle_presence')
    .values({
      vehicle_id: vehicleId,
      online: 0,
      changed_at: at,
      last_connect_at: null,
      last_disconnect_at: at,
      last_address: null,
      disconnect_reason: reason,
      ...(node !== undefined ? { node } : {}),
    })
    .onConflict((oc) => {
      const update = oc
        .column('vehicle_id')
        .doUpdateSet({ online: 0, changed_at: at, last_disconnect_at: at, disconnect_reason: reason });
      // cluster mode: a disconnect on this node after the vehicle connected to another changes nothing
      return node === undefined
        ? update
        : update.where((eb) =>
            eb.or([eb('vehicle_presence.node', '=', node), eb('vehicle_presence.node', 'is', null)]),
          );
    })
    .execute();
}

export type PresenceStore = ReturnType<typeof createPresenceStore>;
