import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Alarm, Ticket } from '../../diagnostics/types.ts';
import { CLUSTER_TESTS, startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { frame, withTimeout, type TestPlatform } from '../helpers/platform.ts';

// no background sweep during a test: each test sweeps by hand when it means to
const ENV = { OWNER_SWEEP_MS: '600000', DIAGNOSTICS_RECOVERY_MS: '600000', LEADER_RETRY_MS: '100' };

/** Connects the vehicle to a node and resolves once the node has taken its lease and rebuilt its state. */
async function connectTo(node: TestPlatform, id: string, secret: string): Promise<MqttClient> {
  const connected = new Promise<void>((resolve) => {
    const off = node.platform.bus.on('vehicle.connected', (e) => {
      if (e.vehicleId !== id) return;
      off();
      resolve();
    });
  });
  const client = await node.connect(id, secret);
  await withTimeout(connected, 5000, `${id} connected`);
  await node.platform.diagnostics.idle();
  return client;
}

function disconnectedOn(node: TestPlatform, id: string): Promise<void> {
  return new Promise((resolve) => {
    const off = node.platform.bus.on('vehicle.disconnected', (e) => {
      if (e.vehicleId !== id) return;
      off();
      resolve();
    });
  });
}

/** Mains lost and the generator not starting, from `from` (frame number) to `to`, one a second up to now. */
function faultFrames(from: number, to: number, t0: number) {
  return Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    const ts = t0 + i * 1000;
    return i < 20
      ? frame(i, ts)
      : frame(i, ts, {
          source: 'battery',
          mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
          battery: { voltageV: 25.1, currentA: -45, socPct: 70 - i / 10, tempC: 26 },
        });
  });
}

describe.skipIf(!CLUSTER_TESTS)('one owner per vehicle (cluster mode)', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('the node a vehicle is connected to owns it; a move hands it over with one alarm and one ticket, and the old node’s late disconnect changes nothing', async () => {
    cluster = await startTestCluster(2, ENV);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const { id, secret } = await n0.addVehicle('OWN-1', 'C7');
    const raisedOn1: Alarm[] = [];
    n1.platform.bus.on('alarm.raised', (e) => {
      if (e.alarm.vehicleId === id) raisedOn1.push(e.alarm);
    });
    const opened = new Promise<Ticket>((resolve) =>
      n0.platform.bus.on('ticket.opened', (e) => {
        if (e.ticket.vehicleId === id) resolve(e.ticket);
      }),
    );

    // on node 0: it owns the vehicle; the fault raises its alarms and opens the ticket there
    const gw0 = await connectTo(n0, id, secret);
    expect(n0.platform.owners!.owns(id)).toBe(true);
    expect(n1.platform.owners!.owns(id)).toBe(false);
    const t0 = Date.now() - 160_000;
    await gw0.publishAsync(`v1/vehicles/${id}/telemetry`, JSON.stringify({ frames: faultFrames(0, 130, t0) }), {
      qos: 1,
    });
    const ticket = await withTimeout(opened, 5000, 'the ticket');
    await n0.platform.diagnostics.idle();
    expect(n0.platform.diagnostics.engine.activeRules(id).sort()).toEqual(['generator_start_failed', 'mains_lost']);

    // the gateway moves to node 1: node 1 takes over and rebuilds the state; node 0's connection is
    // closed by the broker's takeover across nodes, its disconnect arriving whenever it does
    const late = disconnectedOn(n0, id);
    const gw1 = await connectTo(n1, id, secret);
    expect(n1.platform.owners!.owns(id)).toBe(true);
    expect(n1.platform.owners!.tokenOf(id)).toBe(2);
    expect(n1.platform.diagnostics.engine.activeRules(id).sort()).toEqual(['generator_start_failed', 'mains_lost']);
    // node 0 learns at its next heartbeat: its rule state of the vehicle is dropped
    await n0.platform.owners!.heartbeat();
    expect(n0.platform.owners!.owns(id)).toBe(false);
    expect(n0.platform.diagnostics.engine.activeRules(id)).toEqual([]);

    // the fault goes on, now on node 1: nothing raised again, no second ticket
    await gw1.publishAsync(`v1/vehicles/${id}/telemetry`, JSON.stringify({ frames: faultFrames(130, 160, t0) }), {
      qos: 1,
    });
    await n1.platform.diagnostics.idle();
    expect(raisedOn1).toEqual([]);
    const alarms = await n1.platform.diagnostics.alarms.list({ vehicleIds: [id] });
    expect(alarms.map((a) => `${a.ruleId}:${a.state}`).sort()).toEqual([
      'generator_start_failed:active',
      'mains_lost:active',
    ]);
    expect((await n1.platform.diagnostics.tickets.list({ vehicleId: id })).map((t) => t.id)).toEqual([ticket.id]);

    // node 0's connection of the vehicle closed (taken over): the vehicle is online on node 1 all the same
    await gw0.endAsync(true);
    await withTimeout(late, 5000, 'node 0’s disconnect');
    await n0.platform.presence.flush();
    expect(await n1.platform.presence.get(id)).toMatchObject({ online: true });
    const row = await n1.platform.records
      .selectFrom('vehicle_presence')
      .select('node')
      .where('vehicle_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.node).toBe('node-1');
  });

  it('a paused old owner cannot write: its clear after a takeover is refused by the fence and its state dropped', async () => {
    cluster = await startTestCluster(2, ENV);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const { id, secret } = await n0.addVehicle('OWN-FENCE', 'C7');
    const gw0 = await connectTo(n0, id, secret);
    const t0 = Date.now() - 200_000;
    await gw0.publishAsync(`v1/vehicles/${id}/telemetry`, JSON.stringify({ frames: faultFrames(0, 130, t0) }), {
      qos: 1,
    });
    await n0.platform.diagnostics.idle();
    expect(n0.platform.diagnostics.engine.activeRules(id).sort()).toEqual(['generator_start_failed', 'mains_lost']);
    // node 1 takes the lease; node 0 has not heard (no heartbeat since): it still believes it owns the vehicle
    await n1.platform.owners!.take(id);
    expect(n0.platform.owners!.owns(id)).toBe(true);
    // mains back on the old connection: node 0's engine clears both alarms — the writes are refused
    const restored = Array.from({ length: 40 }, (_, k) => frame(130 + k, t0 + (130 + k) * 1000));
    await gw0.publishAsync(`v1/vehicles/${id}/telemetry`, JSON.stringify({ frames: restored }), { qos: 1 });
    await n0.platform.diagnostics.idle();
    expect(n0.platform.counters.get('diagnostics.fenced')).toBeGreaterThan(0);
    expect(n0.platform.counters.get('diagnostics.failed')).toBe(0);
    expect(n0.platform.owners!.owns(id)).toBe(false);
    expect(n0.platform.diagnostics.engine.hasVehicle(id)).toBe(false);
    const alarms = await n1.platform.diagnostics.alarms.list({ vehicleIds: [id] });
    expect(alarms.map((a) => `${a.ruleId}:${a.state}`).sort()).toEqual([
      'generator_start_failed:active',
      'mains_lost:active',
    ]);
  });

  it('a node that starts again marks offline only the vehicles its previous run had', async () => {
    cluster = await startTestCluster(2, ENV);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const v1 = await n0.addVehicle('OWN-A');
    const v2 = await n0.addVehicle('OWN-B');
    await connectTo(n0, v1.id, v1.secret);
    await connectTo(n1, v2.id, v2.secret);
    await n0.platform.presence.flush();
    await n1.platform.presence.flush();
    // a new run of node-1 (its previous one as good as gone)
    const again = await cluster.addNode({ NODE_ID: 'node-1' });
    const restarted = cluster.node(again);
    expect(await restarted.platform.presence.get(v2.id)).toMatchObject({
      online: false,
      disconnectReason: 'platform restarted',
    });
    expect(await restarted.platform.presence.get(v1.id)).toMatchObject({ online: true });
    // and the previous run's lease of OWN-B ran out at once: the sweep will adopt it
    expect((await restarted.platform.owners!.expired()).map((l) => l.vehicleId)).toEqual([v2.id]);
  });

  it('a vehicle whose node died and that did not reconnect: the sweep marks it offline and adopts it once', async () => {
    cluster = await startTestCluster(2, ENV);
    const [n0, n1] = [cluster.node(0), cluster.node(1)];
    const v = await n0.addVehicle('OWN-GONE');
    const gw = await connectTo(n0, v.id, v.secret);
    await gw.publishAsync(`v1/vehicles/${v.id}/telemetry`, JSON.stringify({ frames: [frame(1)] }), { qos: 1 });
    await n0.platform.diagnostics.idle();
    await n0.platform.presence.flush();
    // node 0 stops renewing (as if dead) and its lease runs out; it leads no more (the sweep runs on the leader)
    await n0.platform.ownership!.stop();
    await n0.platform.leader.stop();
    await n1.platform.records.updateTable('vehicle_owners').set({ expires_at: 0 }).execute();
    await withTimeout(
      new Promise<void>((resolve) => {
        if (n1.platform.leader.isLeader()) resolve();
        n1.platform.leader.onChange((leading) => leading && resolve());
      }),
      5000,
      'node 1 to lead',
    );
    // a node that does not lead sweeps nothing
    expect(await n0.platform.ownership!.sweep()).toBe(0);

    const told = disconnectedOn(n1, v.id);
    expect(await n1.platform.ownership!.sweep()).toBe(1);
    // the consoles hear of it: the sweep announces the disconnect the gone node could not
    await withTimeout(told, 1000, 'the swept vehicle’s disconnect on node 1');
    expect(await n1.platform.presence.get(v.id)).toMatchObject({ online: false, disconnectReason: 'node node-0 gone' });
    expect(n1.platform.owners!.owns(v.id)).toBe(true);
    expect(n1.platform.owners!.tokenOf(v.id)).toBe(2);
    // its rule state is here now (rebuilt from the stored frame): no-data rules are evaluated by node 1
    expect(n1.platform.diagnostics.engine.hasVehicle(v.id)).toBe(true);
    // a second sweep (or another node's) finds nothing left
    expect(await n1.platform.ownership!.sweep()).toBe(0);
  });
});
