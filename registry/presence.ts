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
    flushing = flushing.then(() =>
      db.transaction().execute(async (tx) => {
        for (const [vehicleId, changes] of batch) for (const c of changes) await write(vehicleId, c, tx);
      }),
    );
    return flushing;
  }

  function queue(vehicleId: string, change: Change) {
    const list = pending.get(vehicleId);
    // keep the last connect and the last disconnect, in order, so both timestamps are recorded
    if (list) {
      const next = list.filter((c) => c.kind !== change.kind);
      next.push(change);
      pending.set(vehicleId, next);
    } else pending.set(vehicleId, [change]);
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
      return (await db.selectFrom('vehicle_presence').selectAll().execute()).map(toPresence);
    },
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
