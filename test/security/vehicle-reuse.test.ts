import { Migrator, sql } from 'kysely';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveFrame } from '../../web/live/events.ts';
import { askVehicle, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { migrationProvider } from '../../records/migrations.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { PASSWORD, TEST_COST, healthyFrame, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 5: a vehicle id removed from one unit and added again for another (or a vehicle
 * transferred) must not show the new unit the old unit's telemetry, alarms and staff notes, and the
 * new unit's alarms must open the new unit's own incident and ticket.
 */

/** A frame of a generator running hot (GEN-OVERHEAT: coolant above 105 °C for 15 s). */
const overheating = (seq: number, ts: number): TelemetryFrame =>
  healthyFrame(seq, ts, {
    source: 'generator',
    generator: {
      running: true,
      voltageV: 230,
      frequencyHz: 50,
      currentA: 10,
      rpm: 1500,
      fuelPct: 80,
      coolantC: 110,
      oilKpa: 300,
    },
  } as Partial<TelemetryFrame>);

interface AlarmOut {
  id: number;
  vehicleId: string;
  code: string;
  incidentId: number | null;
}
interface TicketOut {
  id: number;
  vehicleId: string | null;
  customerId: string | null;
  incidentId: number | null;
  faultCode: string | null;
}

describe('a vehicle id reused for another unit', () => {
  let w: TestWeb;
  let admin: Agent;
  let engineer: Agent;
  let seq = 1;

  /** The vehicle's generator overheats for 20 s, as the broker would store it; diagnostics runs on it. */
  async function overheat(vehicleId: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const frame = overheating(seq++, w.now());
      await w.frames(vehicleId, [frame]);
      w.bus.emit('telemetry.stored', { vehicleId, receivedAt: w.now(), frames: [frame] });
      await w.diagnostics.idle();
      w.advance(10_000);
    }
  }

  /** The registry change as the platform's registry watcher announces it. */
  const announce = (id: string, change: 'added' | 'removed' | 'updated') =>
    w.bus.emit('registry.changed', { subject: 'vehicle', id, change });

  beforeEach(async () => {
    w = await startWeb({ env: { DIAGNOSTICS_RECOVERY_MS: '0' } });
    await w.diagnostics.start();
    admin = await w.login('admin');
    engineer = await w.login('engineer');
  });

  afterEach(async () => {
    await w.diagnostics.stop();
    await w.close();
  });

  /** Unit B's history on VB1: telemetry, a critical alarm with a staff note, its open incident and ticket. */
  async function historyOfB(): Promise<{ alarm: AlarmOut; ticket: TicketOut }> {
    await w.frames('VB1', [healthyFrame(seq++, w.now() - 60_000)]);
    await overheat('VB1');
    const alarms = (await engineer.get('/api/alarms?vehicleId=VB1')).json().alarms as AlarmOut[];
    const alarm = alarms.find((a) => a.code === 'GEN-OVERHEAT')!;
    expect(alarm.incidentId).not.toBeNull();
    const res = await engineer.post(`/api/alarms/${alarm.id}/comments`, { text: 'B site: gate code 4711' });
    expect(res.statusCode).toBe(201);
    const tickets = (await engineer.get('/api/tickets')).json().tickets as TicketOut[];
    const ticket = tickets.find((t) => t.incidentId === alarm.incidentId)!;
    expect(ticket).toMatchObject({ vehicleId: 'VB1', customerId: 'CB' });
    return { alarm, ticket };
  }

  async function seesNothingOfB(cust: Agent, b: { alarm: AlarmOut; ticket: TicketOut }, from: number) {
    const state = (await cust.get('/api/vehicles/VB1')).json();
    expect(state.latest).toBeNull();
    expect(state.activeAlarms).toBe(0);
    const series = (await cust.get(`/api/vehicles/VB1/telemetry?from=${from}&to=${w.now()}`)).json();
    expect(series.ts).toEqual([]);
    expect((await cust.get('/api/alarms?vehicleId=VB1')).json().alarms).toEqual([]);
    expect(((await cust.get('/api/alarms')).json().alarms as AlarmOut[]).map((a) => a.id)).not.toContain(b.alarm.id);
    const one = await cust.get(`/api/alarms/${b.alarm.id}`);
    expect(one.statusCode).toBe(404);
    expect(one.body).not.toContain('4711');
    expect((await cust.get(`/api/tickets/${b.ticket.id}`)).statusCode).toBe(404);
  }

  it('shows the new unit none of the old unit’s history, and its critical alarm opens its own incident and ticket', async () => {
    const from = w.now() - 3_600_000;
    const b = await historyOfB();

    expect((await admin.delete('/api/vehicles/VB1')).statusCode).toBe(204);
    announce('VB1', 'removed');
    w.advance(60_000);
    expect((await admin.post('/api/vehicles', { id: 'VB1', customerId: 'CA' })).statusCode).toBe(201);
    announce('VB1', 'added');

    const custA = await w.login('cust-a');
    await seesNothingOfB(custA, b, from);

    // A's own critical alarm on the reused id: a new alarm, a new incident, a ticket of unit A
    await overheat('VB1');
    const mine = (await custA.get('/api/alarms?vehicleId=VB1')).json().alarms as AlarmOut[];
    expect(mine.map((a) => a.code)).toContain('GEN-OVERHEAT');
    const alarmA = mine.find((a) => a.code === 'GEN-OVERHEAT')!;
    expect(alarmA.id).not.toBe(b.alarm.id);
    expect(alarmA.incidentId).not.toBeNull();
    expect(alarmA.incidentId).not.toBe(b.alarm.incidentId);
    const ticketsA = (await custA.get('/api/tickets')).json().tickets as TicketOut[];
    expect(ticketsA.find((t) => t.incidentId === alarmA.incidentId)).toMatchObject({
      vehicleId: 'VB1',
      customerId: 'CA',
      faultCode: 'GEN-OVERHEAT',
    });
    // A sees its own telemetry (since the id came to it), and still not B's alarm
    const series = (await custA.get(`/api/vehicles/VB1/telemetry?from=${from}&to=${w.now()}`)).json();
    expect(series.ts.length).toBeGreaterThan(0);
    expect(Math.min(...(series.ts as number[]))).toBeGreaterThanOrEqual((await w.vehicles.get('VB1'))!.assignedAt);
    expect((await custA.get(`/api/alarms/${b.alarm.id}`)).statusCode).toBe(404);

    // staff still see both units' records of the id; B's incident stayed B's
    const all = (await engineer.get('/api/alarms?vehicleId=VB1')).json().alarms as AlarmOut[];
    expect(all.map((a) => a.id)).toEqual(expect.arrayContaining([b.alarm.id, alarmA.id]));
    expect((await w.diagnostics.incidents.get(b.alarm.incidentId!))?.customerId).toBe('CB');
    expect((await w.diagnostics.incidents.get(alarmA.incidentId!))?.customerId).toBe('CA');
  });

  it('a transfer moves the vehicle from now on: the history and the open incident and ticket stay with the old unit', async () => {
    const from = w.now() - 3_600_000;
    const b = await historyOfB();
    const custA = await w.login('cust-a');
    const custB = await w.login('cust-b');
    expect((await custA.post('/api/vehicles/VB1/transfer', { customerId: 'CA' })).statusCode).toBe(403);
    expect((await engineer.post('/api/vehicles/VB1/transfer', { customerId: 'CA' })).statusCode).toBe(403);

    w.advance(60_000);
    const res = await admin.post('/api/vehicles/VB1/transfer', { customerId: 'CA' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 'VB1', customerId: 'CA', activeAlarms: 0 });
    announce('VB1', 'updated');
    expect(await w.vehicles.get('VB1')).toMatchObject({ customerId: 'CA', assignedAt: w.now() });
    const audited = await w.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'vehicle.transferred')
      .executeTakeFirst();
    expect(audited).toMatchObject({ actor: 'admin', subject: 'vehicle:VB1' });
    // to the unit it already belongs to, or a vehicle that does not exist
    expect((await admin.post('/api/vehicles/VB1/transfer', { customerId: 'CA' })).statusCode).toBe(400);
    expect((await admin.post('/api/vehicles/VZZ/transfer', { customerId: 'CA' })).statusCode).toBe(404);

    await seesNothingOfB(custA, b, from);
    // B no longer sees the vehicle, but keeps its alarm (with its note) and its open ticket
    expect((await custB.get('/api/vehicles/VB1')).statusCode).toBe(404);
    expect((await custB.get(`/api/alarms/${b.alarm.id}`)).statusCode).toBe(200);
    expect((await custB.get(`/api/tickets/${b.ticket.id}`)).json().ticket).toMatchObject({ customerId: 'CB' });

    await overheat('VB1');
    const mine = (await custA.get('/api/alarms?vehicleId=VB1')).json().alarms as AlarmOut[];
    const alarmA = mine.find((a) => a.code === 'GEN-OVERHEAT')!;
    expect(alarmA.incidentId).not.toBe(b.alarm.incidentId);
    const ticketsA = (await custA.get('/api/tickets')).json().tickets as TicketOut[];
    expect(ticketsA.find((t) => t.incidentId === alarmA.incidentId)).toMatchObject({
      vehicleId: 'VB1',
      customerId: 'CA',
    });
    const ticketsB = (await custB.get('/api/tickets')).json().tickets as TicketOut[];
    expect(ticketsB.map((t) => t.incidentId)).not.toContain(alarmA.incidentId);
  });
});

describe('migration 0021', () => {
  it('stamps existing alarms and incidents with the vehicle’s unit, and lets each unit have its own active alarm', async () => {
    const db = await openTestRecords();
    try {
      const migrator = new Migrator({ db, provider: migrationProvider(TEST_RECORDS_DIALECT) });
      expect((await migrator.migrateTo('0020_service_scopes_command_log')).error).toBeUndefined();
      const at = 1_800_000_000_000;
      await sql`insert into customers (id, name, created_at) values ('CB', 'B', ${at})`.execute(db);
      await sql`insert into vehicles (id, name, model, customer_id, profile, secret_hash, created_at, updated_at)
        values ('VB1', 'B1', 'XJ-24', 'CB', '{}', 'x', ${at}, ${at})`.execute(db);
      for (const vehicle of ['VB1', 'GONE'])
        await sql`insert into alarms (vehicle_id, rule_id, code, severity, state, raised_at, raise_count, live, updated_at)
          values (${vehicle}, 'generator_overheating', 'GEN-OVERHEAT', 'critical', 'active', ${at}, 1, 1, ${at})`.execute(
          db,
        );
      await sql`insert into incidents (vehicle_id, group_key, root_alarm_id, severity, state, opened_at)
        values ('VB1', 'generator', 1, 'critical', 'open', ${at})`.execute(db);
      expect((await migrator.migrateToLatest()).error).toBeUndefined();

      const alarms = await db.selectFrom('alarms').select(['vehicle_id', 'customer_id']).orderBy('id').execute();
      expect(alarms).toEqual([
        { vehicle_id: 'VB1', customer_id: 'CB' },
        { vehicle_id: 'GONE', customer_id: null },
      ]);
      expect(await db.selectFrom('incidents').select('customer_id').execute()).toEqual([{ customer_id: 'CB' }]);
      expect(await db.selectFrom('vehicles').select('assigned_at').execute()).toEqual([{ assigned_at: at }]);
      // the same rule active on the same id for another unit is allowed; twice for one unit is not
      const again = (unit: string) =>
        sql`insert into alarms (vehicle_id, customer_id, rule_id, code, severity, state, raised_at, raise_count, live, updated_at)
          values ('VB1', ${unit}, 'generator_overheating', 'GEN-OVERHEAT', 'critical', 'active', ${at}, 1, 1, ${at})`.execute(
          db,
        );
      await again('CA');
      await expect(again('CB')).rejects.toThrow(/UNIQUE/);
    } finally {
      await db.destroy();
    }
  });
});

describe('a transferred vehicle on the live channel', () => {
  let tp: TestPlatform;
  const opened: LiveClient[] = [];
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await tp?.close();
  });

  it('the old unit’s customer stops getting its frames at the transfer; staff keep them', async () => {
    tp = await startTestPlatform();
    const p = tp.platform;
    await p.customers.add({ id: 'CA', name: 'Unit A' });
    await p.customers.add({ id: 'CB', name: 'Unit B' });
    const gw = new Map<string, MqttClient>();
    for (const id of ['VT1', 'VB2']) gw.set(id, await tp.connect(id, (await tp.addVehicle(id, 'CB')).secret));
    const accounts = createAccounts({ db: p.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'eng', name: 'eng', role: 'engineer', customerId: null, password: PASSWORD });
    await accounts.add({ id: 'cust-b', name: 'cust-b', role: 'customer', customerId: 'CB', password: PASSWORD });
    const base = `http://127.0.0.1:${p.ports.http}`;
    const b = await openConsole(base, 'cust-b', PASSWORD, { opened, on: 'connect' });
    const staff = await openConsole(base, 'eng', PASSWORD, { opened, on: 'connect' });
    for (const [c, v] of [
      [b, 'VT1'],
      [b, 'VB2'],
      [staff, 'VT1'],
    ] as const)
      expect(await askVehicle(c.s, 'subscribe', v)).toEqual({ ok: true, vehicleId: v });
    let seq = 1;
    const publish = async (vehicleId: string) => {
      const s = seq++;
      await gw
        .get(vehicleId)!
        .publishAsync(vehicleTopic(vehicleId, 'telemetry'), JSON.stringify(frame(s, Date.now())), {
          qos: 1,
        });
      return s;
    };
    const before = await publish('VT1');
    await b.rec.next<LiveFrame>('frame', (m) => m.frame.seq === before);

    await p.vehicles.transfer('VT1', 'CA');
    await p.registryWatcher.pollNow();
    const after = await publish('VT1');
    await staff.rec.next<LiveFrame>('frame', (m) => m.frame.seq === after);
    // B's own vehicle's frame comes after: anything of VT1 sent to B before it would have arrived
    const own = await publish('VB2');
    await b.rec.next<LiveFrame>('frame', (m) => m.frame.seq === own);
    expect(b.rec.got.filter((g) => g.event === 'frame').map((g) => (g.payload as LiveFrame).frame.seq)).not.toContain(
      after,
    );
    expect(await askVehicle(b.s, 'subscribe', 'VT1')).toMatchObject({
      ok: false,
      error: { code: 'VEHICLE_NOT_FOUND' },
    });
  }, 30_000);
});
