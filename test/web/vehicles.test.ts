import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seriesJson } from '../../telemetry/series-json.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { codeOf, healthyFrame, startWeb, type Agent, type TestWeb } from './helpers.ts';

describe('vehicles, current state and telemetry history over the API', () => {
  let w: TestWeb;
  let eng: Agent;
  beforeEach(async () => {
    w = await startWeb();
    eng = await w.login('engineer');
  });
  afterEach(async () => w.close());

  it('lists vehicles with presence, active source, SOC, time to empty and worst active alarm, and counts', async () => {
    const now = w.now();
    w.presence.connected('VA1', now - 60_000, '127.0.0.1');
    await w.presence.flush();
    await w.frames('VA1', [
      healthyFrame(1, now - 2000),
      healthyFrame(2, now - 1000, {
        source: 'battery',
        mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
        battery: { voltageV: 25, currentA: -40, socPct: 50, tempC: 25 },
      }),
    ]);
    await w.alarm('VA1', 'mains_lost');
    await w.alarm('VA1', 'generator_start_failed');
    const res = await eng.get('/api/vehicles');
    expect(res.statusCode).toBe(200);
    // written as bytes by the handler (web/fleet-json.ts), sent as JSON like every other answer
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const { vehicles, counts } = res.json();
    const a = vehicles.find((v: { id: string }) => v.id === 'VA1');
    expect(a).toMatchObject({
      id: 'VA1',
      name: 'Shelter A1',
      customerId: 'CA',
      online: true,
      activeAlarms: 2,
      latest: { source: 'battery', batterySocPct: 50, ts: now - 1000 },
    });
    // 50 % of 200 Ah at 40 A: 150 min
    expect(a.latest.timeToEmptyMin).toBeCloseTo(150, 5);
    expect(a.latest.frame).toBeUndefined();
    expect((await eng.get('/api/vehicles?frames=true')).json().vehicles[0].latest.frame.seq).toBe(2);
    expect((await eng.get('/api/vehicles/VA1')).json().latest.frame.seq).toBe(2);
    expect(a.worstAlarm).toMatchObject({
      code: expect.any(String),
      severity: 'critical',
      title: { en: expect.any(String), zh: expect.any(String) },
    });
    const b = vehicles.find((v: { id: string }) => v.id === 'VB1');
    expect(b).toMatchObject({ online: false, latest: null, activeAlarms: 0, worstAlarm: null });
    expect(counts).toEqual({ total: 2, online: 1, offline: 1, bySource: { battery: 1, offline: 1 }, withAlarms: 1 });
    expect((await eng.get('/api/vehicles?online=true')).json().vehicles.map((v: { id: string }) => v.id)).toEqual([
      'VA1',
    ]);
    expect((await eng.get('/api/vehicles?q=b1')).json().vehicles.map((v: { id: string }) => v.id)).toEqual(['VB1']);
    expect((await eng.get('/api/vehicles?customerId=CB')).json().vehicles.map((v: { id: string }) => v.id)).toEqual([
      'VB1',
    ]);
    const one = await eng.get('/api/vehicles/VA1');
    expect(one.json()).toMatchObject({ id: 'VA1', online: true, activeAlarms: 2 });
    expect(codeOf(await eng.get('/api/vehicles/NOPE'))).toBe('VEHICLE_NOT_FOUND');
  });

  it('shows each vehicle’s open tickets: how many and the most pressing one, of its own unit only', async () => {
    const desk = await w.login('dispatcher');
    const open = async (vehicleId: string, level: string) =>
      (
        await desk.post('/api/tickets', {
          vehicleId,
          level,
          title: `call for ${vehicleId}`,
          need: 'The crew called.',
          contacts: [{ name: 'Crew', phone: '+86 10 5555 0101' }],
        })
      ).json().ticket;
    const urgent = await open('VA1', 'urgent');
    const extra = await open('VA1', 'extra_urgent');
    const list = (await eng.get('/api/vehicles')).json().vehicles;
    const a = list.find((v: { id: string }) => v.id === 'VA1');
    expect(a.openTickets).toBe(2);
    // both have a 30-minute work-content deadline: the earlier-due one comes first
    expect([urgent.id, extra.id]).toContain(a.openTicket.id);
    expect(a.openTicket).toMatchObject({ status: 'received', nextDueAt: expect.any(Number) });
    expect(list.find((v: { id: string }) => v.id === 'VB1')).toMatchObject({ openTickets: 0, openTicket: null });
    // the customer of unit A sees them too; unit B's customer has no VA1 at all
    const custA = await w.login('cust-a');
    expect((await custA.get('/api/vehicles/VA1')).json()).toMatchObject({ openTickets: 2 });
    // closed tickets are not open ones
    await desk.post(`/api/tickets/${urgent.id}/transitions`, { action: 'cancel', note: 'a duplicate call' });
    expect((await eng.get('/api/vehicles/VA1')).json()).toMatchObject({ openTickets: 1, openTicket: { id: extra.id } });
  });

  it('lists a larger fleet with one presence read', async () => {
    for (let i = 0; i < 30; i++) await w.vehicles.add({ id: `F${i}`, customerId: 'CB' });
    w.presence.connected('F7', w.now(), null);
    const res = await eng.get('/api/vehicles?customerId=CB');
    expect(res.json().counts).toMatchObject({ total: 31, online: 1 });
  });

  it('a large answer (over 64 KiB, written as bytes at once) has the byte length of its UTF-8, names in any script', async () => {
    for (let i = 0; i < 300; i++)
      await w.vehicles.add({ id: `L${i}`, customerId: 'CB', name: `电源车 ${i} — power car` });
    const res = await eng.get('/api/vehicles');
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBeGreaterThan(64 * 1024);
    expect(res.rawPayload.length).toBeGreaterThan(res.body.length); // multi-byte characters
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    const { vehicles } = res.json();
    expect(vehicles).toHaveLength(302);
    expect(vehicles.find((v: { id: string }) => v.id === 'L299').name).toBe('电源车 299 — power car');
  });

  it('answers each vehicle’s limits from the rules, resolved against its own power profile', async () => {
    await w.vehicles.add({
      id: 'V12',
      customerId: 'CA',
      profile: {
        hasGenerator: true,
        battery: { nominalV: 12, capacityAh: 90 },
        mains: { nominalV: 230, frequencyHz: 60 },
      },
    });
    await w.vehicles.add({ id: 'VNG', customerId: 'CA', profile: { hasGenerator: false } });
    type Limit = { field: string; low: number | null; high: number | null; ruleId: string; code: string };
    const of = (body: { limits: Limit[] }, ruleId: string) =>
      body.limits.filter((l) => l.ruleId === ruleId).map(({ field, low, high }) => ({ field, low, high }));
    const a = (await eng.get('/api/vehicles/VA1/limits')).json();
    expect(a.profile).toMatchObject({ battery: { nominalV: 24 }, mains: { nominalV: 220, frequencyHz: 50 } });
    expect(of(a, 'generator_voltage_out_of_tolerance')).toEqual([
      { field: 'generator.voltageV', low: 204.6, high: 235.4 },
    ]);
    expect(of(a, 'battery_under_voltage')).toEqual([{ field: 'battery.voltageV', low: 21.6, high: null }]);
    const v12 = (await eng.get('/api/vehicles/V12/limits')).json();
    expect(v12.vehicleId).toBe('V12');
    expect(of(v12, 'generator_frequency_out_of_tolerance')).toEqual([
      { field: 'generator.frequencyHz', low: 57.6, high: 62.4 },
    ]);
    expect(of(v12, 'battery_under_voltage')).toEqual([{ field: 'battery.voltageV', low: 10.8, high: null }]);
    const ng = (await eng.get('/api/vehicles/VNG/limits')).json();
    expect(ng.limits.filter((l: Limit) => l.field.startsWith('generator.'))).toEqual([]);
    // a customer reads its own unit's vehicles' limits, not another unit's
    const cust = await w.login('cust-a');
    expect((await cust.get('/api/vehicles/V12/limits')).statusCode).toBe(200);
    expect(codeOf(await cust.get('/api/vehicles/VB1/limits'))).toBe('VEHICLE_NOT_FOUND');
  });

  it('answers telemetry history downsampled to maxPoints, for chosen fields, in a range', async () => {
    const now = w.now();
    const frames = Array.from({ length: 600 }, (_, i) => healthyFrame(i, now - 600_000 + i * 1000, { loadKw: i / 10 }));
    await w.frames('VA1', frames);
    const full = await eng.get(`/api/vehicles/VA1/telemetry?from=${now - 600_000}&to=${now}&maxPoints=1000`);
    expect(full.statusCode).toBe(200);
    expect(full.json()).toMatchObject({ vehicleId: 'VA1', bucketMs: 0 });
    expect(full.json().ts).toHaveLength(600);
    const down = await eng.get(
      `/api/vehicles/VA1/telemetry?from=${new Date(now - 600_000).toISOString()}&to=${new Date(now).toISOString()}&maxPoints=60&fields=loadKw,battery.socPct`,
    );
    const s = down.json();
    expect(s.ts.length).toBeLessThanOrEqual(60);
    expect(s.bucketMs).toBeGreaterThan(0);
    expect(Object.keys(s.fields).sort()).toEqual(['battery.socPct', 'loadKw']);
    expect(s.fields.loadKw.max.at(-1)).toBeCloseTo(59.9, 5);
    // default range: the last hour
    expect((await eng.get('/api/vehicles/VA1/telemetry?maxPoints=2000')).json().ts).toHaveLength(600);
    const cases: [string, RegExp][] = [
      ['from=yesterday', /query\.from: must be epoch milliseconds or an ISO 8601 date-time/],
      [`from=${now}&to=${now - 1}`, /query\.from: must be before to/],
      [`from=0&to=${now}`, /at most 92 days/],
      ['maxPoints=0', /maxPoints must be at least 1/],
      ['maxPoints=5001', /maxPoints must be at most 5000/],
      ['maxPoints=ten', /maxPoints must be a number/],
      ['fields=loadKw,speed', /query\.fields\.1: each field must be one of/],
      ['fields=', /name at least one field/],
      ['when=now', /unknown field when/],
    ];
    for (const [q, message] of cases) {
      const res = await eng.get(`/api/vehicles/VA1/telemetry?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(codeOf(res)).toBe('VALIDATION_FAILED');
      expect(res.json().error.message, q).toMatch(message);
    }
  });

  it('provisions (admin): the secret is returned once; rotate returns a new one; remove; all audited', async () => {
    const admin = await w.login('admin');
    const res = await admin.post('/api/vehicles', {
      id: 'VNEW',
      customerId: 'CA',
      name: 'New shelter',
      model: 'XJ-12',
      profile: { battery: { nominalV: 12, capacityAh: 100 } },
    });
    expect(res.statusCode, res.body).toBe(201);
    const { vehicle, secret } = res.json();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(vehicle).toMatchObject({
      id: 'VNEW',
      customerId: 'CA',
      model: 'XJ-12',
      profile: { battery: { nominalV: 12, capacityAh: 100 }, hasGenerator: true },
    });
    expect((await admin.get('/api/vehicles/VNEW')).body).not.toContain(secret);
    const dup = await admin.post('/api/vehicles', { id: 'VNEW', customerId: 'CA' });
    expect(dup.statusCode).toBe(409);
    expect(codeOf(dup)).toBe('VEHICLE_EXISTS');
    const badProfile = await admin.post('/api/vehicles', {
      id: 'VX',
      customerId: 'CA',
      profile: { battery: { nominalV: 48, capacityAh: 100 } },
    });
    expect(codeOf(badProfile)).toBe('VALIDATION_FAILED');
    const rotated = await admin.post('/api/vehicles/VNEW/rotate-secret');
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().secret).not.toBe(secret);
    expect((await w.vehicles.credentials('VNEW'))!.secretHash).not.toContain(rotated.json().secret);
    expect((await admin.delete('/api/vehicles/VNEW')).statusCode).toBe(204);
    expect(codeOf(await admin.delete('/api/vehicles/VNEW'))).toBe('VEHICLE_NOT_FOUND');
    expect(codeOf(await admin.post('/api/vehicles/VNEW/rotate-secret'))).toBe('VEHICLE_NOT_FOUND');
    const audit = await w.ctx.audit.list({ subject: 'vehicle:VNEW' });
    expect(audit.map((e) => e.action).reverse()).toEqual([
      'vehicle.added',
      'vehicle.secret_rotated',
      'vehicle.removed',
    ]);
    expect(JSON.stringify(audit)).not.toContain(secret);
  });
});

describe('alarms over the API', () => {
  let w: TestWeb;
  beforeEach(async () => {
    w = await startWeb();
  });
  afterEach(async () => w.close());

  it('lists with filters, shows notes, acknowledges once (409 after), comments', async () => {
    const eng = await w.login('engineer');
    const a1 = await w.alarm('VA1', 'mains_lost');
    w.advance(1000);
    const a2 = await w.alarm('VB1', 'battery_low_soc');
    const list = (await eng.get('/api/alarms')).json().alarms as { id: number }[];
    expect(list.map((a) => a.id)).toEqual([a2.id, a1.id]);
    expect((await eng.get('/api/alarms?vehicleId=VA1')).json().alarms.map((a: { id: number }) => a.id)).toEqual([
      a1.id,
    ]);
    expect((await eng.get(`/api/alarms?since=${w.now()}`)).json().alarms.map((a: { id: number }) => a.id)).toEqual([
      a2.id,
    ]);
    expect(
      (await eng.get(`/api/alarms?severity=${a2.severity}`)).json().alarms.map((a: { id: number }) => a.id),
    ).toContain(a2.id);
    const ack = await eng.post(`/api/alarms/${a1.id}/acknowledge`, { comment: 'grid outage confirmed by phone' });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().alarm).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'engineer',
      acknowledgedAt: w.now(),
    });
    expect(ack.json().notes.at(-1)).toMatchObject({
      kind: 'acknowledged',
      actor: 'engineer',
      text: 'grid outage confirmed by phone',
    });
    const again = await eng.post(`/api/alarms/${a1.id}/acknowledge`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toEqual({
      code: 'INVALID_TRANSITION',
      message: `alarm ${a1.id} was already acknowledged by engineer`,
    });
    expect((await eng.get('/api/alarms?state=active')).json().alarms.map((a: { id: number }) => a.id)).toEqual([a2.id]);
    expect((await eng.get('/api/alarms?state=active,acknowledged')).json().alarms).toHaveLength(2);
    const c = await eng.post(`/api/alarms/${a2.id}/comments`, { text: '电池电量低，已通知用户' });
    expect(c.statusCode).toBe(201);
    const got = (await eng.get(`/api/alarms/${a2.id}`)).json();
    expect(got.notes.map((n: { kind: string }) => n.kind)).toEqual(['raised', 'comment']);
    expect(codeOf(await eng.get('/api/alarms/424242'))).toBe('ALARM_NOT_FOUND');
    expect(codeOf(await eng.post('/api/alarms/424242/acknowledge'))).toBe('ALARM_NOT_FOUND');
    expect(codeOf(await eng.post('/api/alarms/424242/comments', { text: 'x' }))).toBe('ALARM_NOT_FOUND');
    const cust = await w.login('cust-a');
    expect(codeOf(await cust.post(`/api/alarms/${a1.id}/comments`, { text: 'x' }))).toBe('FORBIDDEN');
  });
});

describe('a day of telemetry in minute points from the SQLite store (telemetry/series-bytes.ts)', () => {
  it('answers the same bytes as the Series way, as JSON, and keeps the customer boundary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-web-day-'));
    const store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
    const w = await startWeb({ telemetry: store });
    try {
      const now = w.now();
      // a day, one frame each 20 s (more frames than points: minute buckets)
      const frames = Array.from({ length: 4320 }, (_, i) =>
        healthyFrame(i, now - 86_400_000 + i * 20_000, { loadKw: (i % 37) / 3 }),
      );
      await w.frames('VA1', frames);
      await store.compactRollups();
      const eng = await w.login('engineer');
      const q = { vehicleId: 'VA1', from: now - 86_400_000 + 12_345, to: now, maxPoints: 1500 };
      for (let k = 0; k < 2; k++) {
        const res = await eng.get(`/api/vehicles/VA1/telemetry?from=${q.from}&to=${q.to}&maxPoints=${q.maxPoints}`);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
        expect(res.body).toBe(seriesJson(await store.series(q)));
        expect(res.json().bucketMs).toBe(60_000);
      }
      expect(store.seriesBytesStats().copied).toBeGreaterThan(1000);
      // a customer of another unit: not found, as before; of its own unit: since the vehicle came to it
      expect(codeOf(await (await w.login('cust-b')).get(`/api/vehicles/VA1/telemetry?from=${q.from}&to=${q.to}`))).toBe(
        'VEHICLE_NOT_FOUND',
      );
      const own = await (
        await w.login('cust-a')
      ).get(`/api/vehicles/VA1/telemetry?from=${q.from}&to=${q.to}&maxPoints=1500`);
      expect(own.statusCode).toBe(200);
      expect(own.json().vehicleId).toBe('VA1');
    } finally {
      await w.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
