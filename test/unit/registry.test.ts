import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { createServiceAccounts, DEFAULT_SERVICE_SCOPE } from '../../registry/service-accounts.ts';
import { createRegistryAuthenticator } from '../../registry/authenticator.ts';
import { createRegistryWatcher, LATE_CHANGE_WAIT_MS, type RegistryChange } from '../../registry/changes.ts';
import { createPresenceStore } from '../../registry/presence.ts';
import { silentLogger } from '../../core/logger.ts';

describe('vehicle registry', () => {
  let db: RecordsDb;
  beforeEach(async () => {
    db = await openTestRecords();
  });
  afterEach(async () => db.destroy());

  it('adds a vehicle with its power profile and stores only the secret hash', async () => {
    const reg = createVehicleRegistry({ db, now: () => 1000 });
    const { vehicle, secret } = await reg.add({
      id: 'V001',
      customerId: 'C1',
      name: 'Shelter 1',
      profile: { hasGenerator: false, battery: { nominalV: 12, capacityAh: 100 } },
    });
    expect(vehicle).toMatchObject({
      id: 'V001',
      customerId: 'C1',
      name: 'Shelter 1',
      profile: {
        hasGenerator: false,
        battery: { nominalV: 12, capacityAh: 100 },
        mains: { nominalV: 220, frequencyHz: 50 },
      },
    });
    const row = await db.selectFrom('vehicles').selectAll().executeTakeFirstOrThrow();
    expect(row.secret_hash).toMatch(/^scrypt\$/);
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(await reg.list({ customerId: 'C1' })).toHaveLength(1);
    expect(await reg.list({ customerId: 'C2' })).toHaveLength(0);
  });

  it.each([
    [{ id: 'V 1', customerId: 'C1' }, 'VEHICLE_ID_INVALID'],
    [{ id: 'V+1', customerId: 'C1' }, 'VEHICLE_ID_INVALID'],
    [{ id: 'x'.repeat(65), customerId: 'C1' }, 'VEHICLE_ID_INVALID'],
    [{ id: 'V1', customerId: 'C/1' }, 'INVALID_ARGUMENT'],
    [{ id: 'V1', customerId: 'C1', profile: { battery: { nominalV: 48 as 24, capacityAh: 100 } } }, 'INVALID_ARGUMENT'],
  ])('refuses %j with %s', async (input, code) => {
    await expect(createVehicleRegistry({ db }).add(input)).rejects.toMatchObject({ code });
  });

  it('reads a stored power profile once per distinct text: shared between vehicles, and frozen', async () => {
    const reg = createVehicleRegistry({ db, now: () => 1000 });
    const profile = { hasGenerator: false, battery: { nominalV: 24 as const, capacityAh: 300 } };
    for (const id of ['V1', 'V2']) await reg.add({ id, customerId: 'C1', profile });
    await reg.add({ id: 'V3', customerId: 'C1' });
    const [a, b, c] = await reg.list();
    expect(a!.profile).toEqual(b!.profile);
    expect(a!.profile).toBe(b!.profile);
    expect(c!.profile).not.toEqual(a!.profile);
    expect((await reg.get('V2'))!.profile).toBe(a!.profile);
    // shared, so nobody may change it for the others
    expect(Object.isFrozen(a!.profile) && Object.isFrozen(a!.profile.battery)).toBe(true);
    expect(() => {
      (a!.profile.battery as { capacityAh: number }).capacityAh = 1;
    }).toThrow(TypeError);
    expect((await reg.get('V1'))!.profile.battery.capacityAh).toBe(300);
  });

  it('keeps its list in memory: its own changes show at once, changes made elsewhere after forget()', async () => {
    let clock = 1000;
    const reg = createVehicleRegistry({ db, now: () => clock });
    const elsewhere = createVehicleRegistry({ db, now: () => clock }); // the CLI, another node
    await reg.add({ id: 'V2', customerId: 'C1', name: 'Two' });
    await reg.add({ id: 'V1', customerId: 'C2' });
    const ids = async (filter?: { customerId: string }) => (await reg.list(filter)).map((v) => v.id);
    expect(await reg.ids()).toEqual(['V1', 'V2']); // read, not kept:
    await elsewhere.add({ id: 'V0', customerId: 'C1' });
    expect(await reg.ids()).toEqual(['V0', 'V1', 'V2']);
    await elsewhere.remove('V0');
    expect(await ids()).toEqual(['V1', 'V2']);

    // read once: a row changed behind its back is not read again …
    await db.updateTable('vehicles').set({ name: 'renamed in the database' }).where('id', '=', 'V2').execute();
    expect((await reg.list({ customerId: 'C1' }))[0]!.name).toBe('Two');
    // … and what it hands out cannot be changed for the next caller
    const [first] = await reg.list();
    expect(Object.isFrozen(first)).toBe(true);
    const copy = await reg.list();
    copy.pop();
    expect(await ids()).toEqual(['V1', 'V2']);

    // its own changes: at once
    clock = 2000;
    await reg.add({ id: 'V3', customerId: 'C1' });
    expect(await ids()).toEqual(['V1', 'V2', 'V3']);
    expect((await reg.list({ customerId: 'C1' }))[0]!.name).toBe('renamed in the database');
    clock = 3000;
    await reg.rotateSecret('V3');
    expect((await reg.list()).find((v) => v.id === 'V3')!.updatedAt).toBe(3000);
    await reg.transfer('V3', 'C2');
    expect(await ids({ customerId: 'C2' })).toEqual(['V1', 'V3']);
    await reg.remove('V1');
    expect(await ids()).toEqual(['V2', 'V3']);
    // a change that failed changed nothing, and the list still answers
    await expect(reg.remove('V9')).rejects.toMatchObject({ code: 'VEHICLE_NOT_FOUND' });
    expect(await ids()).toEqual(['V2', 'V3']);

    // made elsewhere: after forget() (the registry_changes watcher calls it in the platform)
    await elsewhere.add({ id: 'V4', customerId: 'C1' });
    await elsewhere.remove('V2');
    expect(await ids()).toEqual(['V2', 'V3']);
    expect(await reg.ids()).toEqual(['V2', 'V3']); // the kept list's
    reg.forget();
    expect(await ids()).toEqual(['V3', 'V4']);
    // get() reads the row: a vehicle provisioned elsewhere is found before any forget()
    await elsewhere.add({ id: 'V5', customerId: 'C1' });
    expect((await reg.get('V5'))?.id).toBe('V5');
  });

  it('does not keep a list read that failed', async () => {
    const reg = createVehicleRegistry({ db });
    await reg.add({ id: 'V1', customerId: 'C1' });
    await db.schema.alterTable('vehicles').renameTo('vehicles_away').execute();
    await expect(reg.list()).rejects.toThrow();
    await db.schema.alterTable('vehicles_away').renameTo('vehicles').execute();
    expect((await reg.list()).map((v) => v.id)).toEqual(['V1']);
  });

  it('refuses a duplicate, and rotate/remove of an unknown id, with stable codes', async () => {
    const reg = createVehicleRegistry({ db });
    await reg.add({ id: 'V1', customerId: 'C1' });
    await expect(reg.add({ id: 'V1', customerId: 'C1' })).rejects.toMatchObject({ code: 'VEHICLE_EXISTS' });
    await expect(reg.rotateSecret('V9')).rejects.toMatchObject({ code: 'VEHICLE_NOT_FOUND' });
    await expect(reg.remove('V9')).rejects.toMatchObject({ code: 'VEHICLE_NOT_FOUND' });
  });

  it('authenticates vehicles and service accounts; a rotated secret stops working', async () => {
    const vehicles = createVehicleRegistry({ db });
    const serviceAccounts = createServiceAccounts({ db });
    const auth = createRegistryAuthenticator({ vehicles, serviceAccounts });
    const { secret } = await vehicles.add({ id: 'V1', customerId: 'C1' });
    const svc = await serviceAccounts.add('svc-diag');
    const attempt = (id: string, pw: string) =>
      auth.authenticate({ clientId: id, username: id, password: Buffer.from(pw) });
    expect(await attempt('V1', secret)).toEqual({
      ok: true,
      principal: { kind: 'vehicle', id: 'V1', customerId: 'C1' },
    });
    expect(await attempt('V1', 'nope')).toEqual({ ok: false, reason: 'bad_secret' });
    expect(await attempt('V2', secret)).toEqual({ ok: false, reason: 'unknown_account' });
    expect(await attempt('svc-diag', svc.secret)).toEqual({
      ok: true,
      principal: { kind: 'service', id: 'svc-diag', scope: DEFAULT_SERVICE_SCOPE },
    });
    const rotated = await vehicles.rotateSecret('V1');
    expect(await attempt('V1', secret)).toEqual({ ok: false, reason: 'bad_secret' });
    expect(await attempt('V1', rotated.secret)).toMatchObject({ ok: true });
    await vehicles.remove('V1');
    expect(await attempt('V1', rotated.secret)).toEqual({ ok: false, reason: 'unknown_account' });
    await expect(serviceAccounts.add('diag')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('reports changes to a watcher, starting after what existed at start', async () => {
    const vehicles = createVehicleRegistry({ db });
    await vehicles.add({ id: 'V0', customerId: 'C1' });
    const seen: RegistryChange[] = [];
    const watcher = createRegistryWatcher(
      { db, log: silentLogger(), onChange: (c) => void seen.push(c) },
      { pollMs: 60_000 },
    );
    await watcher.start();
    await vehicles.add({ id: 'V1', customerId: 'C1' });
    await vehicles.rotateSecret('V1');
    await vehicles.remove('V1');
    await watcher.pollNow();
    await watcher.stop();
    expect(seen.map((c) => `${c.subjectId}:${c.change}`)).toEqual(['V1:added', 'V1:rotated', 'V1:removed']);
  });

  it('passes on a change committed after a later one (an id overtaken), once, for LATE_CHANGE_WAIT_MS', async () => {
    let clock = 0;
    const seen: number[] = [];
    const watcher = createRegistryWatcher(
      { db, log: silentLogger(), onChange: (c) => void seen.push(c.id), clock: () => clock },
      { pollMs: 60_000 },
    );
    await watcher.start();
    // rows as the other processes' transactions commit them: 3 before 1 and 2
    const commit = (id: number) =>
      db
        .insertInto('registry_changes')
        .values({ id, subject: 'vehicle', subject_id: `V${id}`, change: 'added', at: id })
        .execute();
    await commit(3);
    await watcher.pollNow();
    expect(seen).toEqual([3]);
    expect(watcher.awaiting()).toEqual([1, 2]);
    await commit(1);
    await commit(4);
    await watcher.pollNow();
    await watcher.pollNow();
    expect(seen).toEqual([3, 1, 4]);
    expect(watcher.awaiting()).toEqual([2]);
    // a watcher started now looks for 2 as well: it may be a transaction still open
    const later = createRegistryWatcher({ db, log: silentLogger(), onChange: () => undefined }, { pollMs: 60_000 });
    await later.start();
    expect(later.awaiting()).toEqual([2]);
    await later.stop();
    // 2 never came within the wait (rolled back, say): no longer looked for
    clock += LATE_CHANGE_WAIT_MS;
    await watcher.pollNow();
    expect(watcher.awaiting()).toEqual([]);
    await commit(2);
    await watcher.pollNow();
    expect(seen).toEqual([3, 1, 4]);
    await watcher.stop();
  });

  it.runIf(TEST_RECORDS_DIALECT === 'postgres')(
    'PostgreSQL: a registry change whose transaction commits after a later one still reaches the watcher',
    async () => {
      const seen: string[] = [];
      const watcher = createRegistryWatcher(
        { db, log: silentLogger(), onChange: (c) => void seen.push(`${c.subjectId}:${c.change}`) },
        { pollMs: 60_000 },
      );
      await watcher.start();
      const vehicles = createVehicleRegistry({ db });
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let tookId!: () => void;
      const idTaken = new Promise<void>((resolve) => (tookId = resolve));
      // the slow one takes its id first and commits last
      const slow = db.transaction().execute(async (tx) => {
        await tx
          .insertInto('registry_changes')
          .values({ subject: 'vehicle', subject_id: 'SLOW', change: 'removed', at: 1 })
          .execute();
        tookId();
        await held;
      });
      await idTaken;
      await vehicles.add({ id: 'FAST', customerId: 'C1' });
      await watcher.pollNow();
      expect(seen).toEqual(['FAST:added']);
      release();
      await slow;
      await watcher.pollNow();
      expect(seen).toEqual(['FAST:added', 'SLOW:removed']);
      await watcher.stop();
    },
  );

  it('records presence with times, coalescing a burst into one flush', async () => {
    const presence = createPresenceStore({ db }, { flushMs: 60_000 });
    presence.connected('V1', 100, '127.0.0.1:5000');
    presence.disconnected('V1', 200, 'keepalive timeout');
    presence.connected('V1', 300, '127.0.0.1:5001');
    expect(await presence.get('V1')).toEqual({
      vehicleId: 'V1',
      online: true,
      changedAt: 300,
      lastConnectAt: 300,
      lastDisconnectAt: 200,
      lastAddress: '127.0.0.1:5001',
      disconnectReason: null,
    });
    await presence.markAllOffline(400, 'platform restarted');
    expect(await presence.get('V1')).toMatchObject({ online: false, disconnectReason: 'platform restarted' });
  });

  it('one platform process: all() keeps what it read until the store writes or forgets; a node reads each time', async () => {
    const presence = createPresenceStore({ db }, { flushMs: 60_000 });
    const onNode = createPresenceStore({ db }, { node: 'node-a', flushMs: 60_000 });
    const online = async (store = presence) =>
      Object.fromEntries((await store.all()).map((p) => [p.vehicleId, p.online]));
    presence.connected('V1', 100, null);
    presence.connected('V2', 100, null);
    expect(await online()).toEqual({ V1: true, V2: true });
    // written behind its back (the registry's removal deletes a row): not read again …
    await db.deleteFrom('vehicle_presence').where('vehicle_id', '=', 'V2').execute();
    expect(await online()).toEqual({ V1: true, V2: true });
    // … while a cluster node's store reads each time
    expect(await online(onNode)).toEqual({ V1: true });
    const [first] = await presence.all();
    expect(Object.isFrozen(first)).toBe(true);
    presence.forget();
    expect(await online()).toEqual({ V1: true });
    // its own writes: seen at once
    presence.disconnected('V1', 200, 'keepalive timeout');
    expect(await online()).toEqual({ V1: false });
    presence.connected('V1', 300, null);
    await presence.flush();
    expect(await online()).toEqual({ V1: true });
    await presence.markAllOffline(400, 'platform restarted');
    expect(await online()).toEqual({ V1: false });
    presence.connected('V1', 500, null);
    expect(await online()).toEqual({ V1: true });
    await presence.markOwnOffline(600, 'platform restarted');
    expect(await online()).toEqual({ V1: false });
  });

  it('a presence flush that failed is written with the next one, and does not stop the ones after it', async () => {
    const presence = createPresenceStore({ db }, { flushMs: 60_000 });
    presence.connected('V1', 100, '127.0.0.1:5000');
    presence.disconnected('V1', 200, 'keepalive timeout');
    await db.schema.alterTable('vehicle_presence').renameTo('presence_away').execute();
    await expect(presence.flush()).rejects.toThrow();
    // came in while it failed: newer than the failed batch's connect, which it replaces
    presence.connected('V1', 300, '127.0.0.1:5001');
    await db.schema.alterTable('presence_away').renameTo('vehicle_presence').execute();
    await presence.flush();
    expect(await presence.get('V1')).toEqual({
      vehicleId: 'V1',
      online: true,
      changedAt: 300,
      lastConnectAt: 300,
      lastDisconnectAt: 200,
      lastAddress: '127.0.0.1:5001',
      disconnectReason: null,
    });
    presence.disconnected('V1', 400, 'closed');
    expect((await presence.all()).map((p) => [p.vehicleId, p.online, p.disconnectReason])).toEqual([
      ['V1', false, 'closed'],
    ]);
  });
});
