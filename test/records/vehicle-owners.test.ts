import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { createVehicleOwners } from '../../cluster/vehicle-owners.ts';
import { createPresenceStore } from '../../registry/presence.ts';
import { isPlatformError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';

const LEASE = 10_000;

// the lease is a cluster-mode part: cluster mode runs on PostgreSQL only (the fence reads FOR SHARE)
describe.skipIf(TEST_RECORDS_DIALECT !== 'postgres')('vehicle owner leases (PostgreSQL)', () => {
  let db: RecordsDb;
  let clock = 1_000_000;
  const now = () => clock;
  const started: { stop(): Promise<void> }[] = [];
  beforeEach(async () => {
    db = await openTestRecords();
    clock = 1_000_000;
  });
  afterEach(async () => {
    for (const o of started.splice(0)) await o.stop();
    await db.destroy();
  });

  function owners(node: string) {
    // heartbeats are called by hand: no timer in these tests
    const o = createVehicleOwners({ db, log: silentLogger(), now }, { node, leaseMs: LEASE, heartbeatMs: 3_600_000 });
    started.push(o);
    return o;
  }

  it('takes a lease with token 1; taking it again renews it without a takeover', async () => {
    const a = owners('node-a');
    await a.start();
    expect(await a.take('V1')).toEqual({ token: 1, tookOver: true });
    clock += 1000;
    expect(await a.take('V1')).toEqual({ token: 1, tookOver: false });
    expect(a.owns('V1')).toBe(true);
    const row = await db.selectFrom('vehicle_owners').selectAll().executeTakeFirstOrThrow();
    expect({ node: row.node, token: Number(row.token), expiresAt: Number(row.expires_at) }).toEqual({
      node: 'node-a',
      token: 1,
      expiresAt: clock + LEASE,
    });
  });

  it('a takeover raises the token; the old owner learns it at its heartbeat and drops the vehicle', async () => {
    const a = owners('node-a');
    const b = owners('node-b');
    await a.start();
    await b.start();
    const lostOnA: string[] = [];
    a.onLost((v) => lostOnA.push(v));
    await a.take('V1');
    await a.take('V2');
    expect(await b.take('V1')).toEqual({ token: 2, tookOver: true });
    await a.heartbeat();
    expect(lostOnA).toEqual(['V1']);
    expect(a.owns('V1')).toBe(false);
    expect(a.owns('V2')).toBe(true);
    // back to a: the token only ever goes up
    expect(await a.take('V1')).toEqual({ token: 3, tookOver: true });
    expect(await b.take('V1')).toEqual({ token: 4, tookOver: true });
  });

  it('renewal keeps a lease alive; without it the lease runs out and another node takes it once', async () => {
    const a = owners('node-a');
    const b = owners('node-b');
    const c = owners('node-c');
    await a.start();
    await a.take('V1');
    clock += LEASE - 1;
    await a.heartbeat();
    clock += LEASE - 1;
    expect(await b.expired()).toEqual([]);
    clock += 2; // a silent past its lease (died, or paused)
    const [lease] = await b.expired();
    expect(lease).toEqual({ vehicleId: 'V1', node: 'node-a', token: 1 });
    expect(await b.takeExpired(lease!)).toBe(true);
    // a second sweeper with the same finding gets nothing: the token moved on
    expect(await c.takeExpired(lease!)).toBe(false);
    expect(b.tokenOf('V1')).toBe(2);
    expect(c.owns('V1')).toBe(false);
  });

  it('a restarted node (same NODE_ID, new run) expires its previous run’s leases at start', async () => {
    const before = owners('node-a');
    await before.start();
    await before.take('V1');
    const after = owners('node-a');
    await after.start();
    expect(after.owns('V1')).toBe(false);
    expect((await after.expired()).map((l) => l.vehicleId)).toEqual(['V1']);
  });

  it('a fenced write with a stale token is refused and writes nothing; the owner’s goes through', async () => {
    const a = owners('node-a');
    const b = owners('node-b');
    await a.take('V1');
    await b.take('V1'); // a paused: it has not heard yet
    const write = (o: typeof a, reason: string) =>
      inTransaction(db, async (tx) => {
        await o.fence(tx, 'V1');
        await tx
          .insertInto('vehicle_presence')
          .values({ vehicle_id: 'V1', online: 1, changed_at: 1, disconnect_reason: reason })
          .onConflict((oc) => oc.column('vehicle_id').doUpdateSet({ disconnect_reason: reason }))
          .execute();
      });
    const refused = await write(a, 'stale owner').catch((err: unknown) => err);
    expect(isPlatformError(refused, 'OWNER_LOST')).toBe(true);
    expect(a.owns('V1')).toBe(false);
    expect(await db.selectFrom('vehicle_presence').selectAll().execute()).toEqual([]);
    await write(b, 'owner');
    expect((await db.selectFrom('vehicle_presence').select('disconnect_reason').execute())[0]).toEqual({
      disconnect_reason: 'owner',
    });
  });

  it('a takeover waits for the owner’s write in flight (the fence holds the row until the commit)', async () => {
    const a = owners('node-a');
    const b = owners('node-b');
    await a.take('V1');
    const order: string[] = [];
    let takeover: Promise<unknown> | undefined;
    await inTransaction(db, async (tx) => {
      await a.fence(tx, 'V1');
      takeover = b.take('V1').then(() => order.push('takeover'));
      // the takeover's UPDATE is blocked on the row: several round trips later it still has not finished
      for (let i = 0; i < 5; i++) await tx.selectFrom('vehicle_owners').select('token').execute();
      order.push('write committed');
    });
    await takeover;
    expect(order).toEqual(['write committed', 'takeover']);
    expect(b.tokenOf('V1')).toBe(2);
  });
});

describe('presence per node (cluster mode)', () => {
  let db: RecordsDb;
  beforeEach(async () => {
    db = await openTestRecords();
  });
  afterEach(async () => db.destroy());

  it('a late disconnect on the old node does not mark offline a vehicle now on another node', async () => {
    const onA = createPresenceStore({ db }, { node: 'node-a', flushMs: 60_000 });
    const onB = createPresenceStore({ db }, { node: 'node-b', flushMs: 60_000 });
    onA.connected('V1', 100, '10.0.0.1:1');
    await onA.flush();
    onB.connected('V1', 200, '10.0.0.1:2');
    await onB.flush();
    onA.disconnected('V1', 300, 'keepalive timeout');
    await onA.flush();
    expect(await onA.get('V1')).toMatchObject({ online: true, lastConnectAt: 200, disconnectReason: null });
    onB.disconnected('V1', 400, 'connection closed');
    expect(await onB.get('V1')).toMatchObject({ online: false, disconnectReason: 'connection closed' });
  });

  it('at start a node marks offline only the vehicles whose presence names it', async () => {
    const onA = createPresenceStore({ db }, { node: 'node-a', flushMs: 60_000 });
    const onB = createPresenceStore({ db }, { node: 'node-b', flushMs: 60_000 });
    onA.connected('V1', 100, null);
    onB.connected('V2', 100, null);
    await onA.flush();
    await onB.flush();
    await onA.markOwnOffline(500, 'platform restarted');
    expect(await onA.get('V1')).toMatchObject({ online: false, disconnectReason: 'platform restarted' });
    expect(await onA.get('V2')).toMatchObject({ online: true });
    // the sweep: offline only while the presence still names the node that is gone
    expect(await onA.markOfflineOf('V2', 'node-a', 600, 'node node-a gone')).toBe(false);
    expect(await onA.markOfflineOf('V2', 'node-b', 600, 'node node-b gone')).toBe(true);
    expect(await onA.get('V2')).toMatchObject({ online: false, disconnectReason: 'node node-b gone' });
  });

  it('without a node (the embedded default) a restart marks every vehicle offline, as before', async () => {
    const presence = createPresenceStore({ db }, { flushMs: 60_000 });
    const other = createPresenceStore({ db }, { node: 'node-b', flushMs: 60_000 });
    other.connected('V2', 100, null);
    await other.flush();
    presence.connected('V1', 100, null);
    await presence.flush();
    await presence.markOwnOffline(500, 'platform restarted');
    expect((await presence.all()).map((p) => p.online)).toEqual([false, false]);
  });
});
