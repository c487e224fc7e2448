import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const contacts = [{ name: 'Li Wei', phone: '0730-7650002', role: 'unit technician' }];
const patrol = {
  kind: 'patrol_inspection',
  title: '冬季巡检',
  details: 'Generator sets and batteries of 3 shelters before winter',
  place: 'Yueyang depot, gate 2',
  requestedDate: '2026-12-20',
  people: 2,
  contacts,
};

/**
 * Training, patrol inspection and accompanying support are service orders (issue 13): requested by
 * application with place, date and people, scheduled by the duty desk, no 30-minute clock; a
 * customer requests for its own unit and sees only its own.
 */
describe('service orders over the API', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let custA: Agent;
  let custB: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
  });
  afterEach(async () => w.close());

  const act = (a: Agent, id: number, body: object) => a.post(`/api/service-orders/${id}/actions`, body);

  it('a customer requests one for its own unit; the duty desk schedules it; staff carry it out; no deadlines', async () => {
    const res = await custA.post('/api/service-orders', { ...patrol, vehicleId: 'VA1' });
    expect(res.statusCode, res.body).toBe(201);
    const o = res.json().order;
    expect(o).toMatchObject({
      number: 'SO-CA-0001',
      kind: 'patrol_inspection',
      status: 'requested',
      customerId: 'CA',
      vehicleId: 'VA1',
      place: 'Yueyang depot, gate 2',
      requestedDate: '2026-12-20',
      people: 2,
      requestedBy: 'cust-a',
    });
    expect(o).not.toHaveProperty('workContentDueAt');
    // the customer and the engineer cannot schedule; scheduling needs a start
    expect(codeOf(await act(custA, o.id, { action: 'schedule', scheduledStart: 1 }))).toBe('FORBIDDEN');
    expect(codeOf(await act(engineer, o.id, { action: 'schedule', scheduledStart: 1 }))).toBe('FORBIDDEN');
    expect(codeOf(await act(dispatcher, o.id, { action: 'schedule' }))).toBe('VALIDATION_FAILED');
    expect(codeOf(await act(dispatcher, o.id, { action: 'start' }))).toBe('INVALID_TRANSITION');
    const start = Date.UTC(2026, 11, 20, 1);
    const s = await act(dispatcher, o.id, {
      action: 'schedule',
      scheduledStart: start,
      scheduledEnd: start + 8 * 3_600_000,
      team: 'Wang (leader), Zhou (technician)',
    });
    expect(s.statusCode, s.body).toBe(200);
    expect(s.json().order).toMatchObject({
      status: 'scheduled',
      scheduledStart: start,
      team: 'Wang (leader), Zhou (technician)',
    });
    expect((await act(engineer, o.id, { action: 'start' })).json().order.status).toBe('in_progress');
    expect(codeOf(await act(custA, o.id, { action: 'cancel' }))).toBe('INVALID_TRANSITION');
    expect(
      (await act(engineer, o.id, { action: 'complete', note: 'all 3 shelters inspected' })).json().order.status,
    ).toBe('done');
    const seen = (await custA.get(`/api/service-orders/${o.id}`)).json();
    expect(seen.events.map((e: { action: string; actor: string }) => `${e.actor}:${e.action}`)).toEqual([
      'cust-a:requested',
      'Duty desk:schedule', // a customer never sees a staff login id
      'Engineer:start',
      'Engineer:complete',
    ]);
    // no emergency ticket was opened for it
    expect((await dispatcher.get('/api/tickets')).json().tickets).toEqual([]);
  });

  it('a customer sees and acts on its own unit’s orders only; the duty desk files for a unit', async () => {
    const a = (await custA.post('/api/service-orders', { ...patrol, kind: 'training' })).json().order;
    const b = (
      await dispatcher.post('/api/service-orders', { ...patrol, kind: 'accompanying_support', customerId: 'CB' })
    ).json().order;
    expect(b).toMatchObject({ number: 'SO-CB-0001', customerId: 'CB', requestedBy: 'dispatcher' });
    expect((await custA.get('/api/service-orders')).json().orders.map((o: { id: number }) => o.id)).toEqual([a.id]);
    expect((await custA.get('/api/service-orders?customerId=CB')).json().orders).toEqual([]);
    expect(codeOf(await custA.get(`/api/service-orders/${b.id}`))).toBe('SERVICE_ORDER_NOT_FOUND');
    expect(codeOf(await custA.get('/api/service-orders/999999'))).toBe('SERVICE_ORDER_NOT_FOUND');
    expect(codeOf(await act(custA, b.id, { action: 'cancel' }))).toBe('SERVICE_ORDER_NOT_FOUND');
    expect(codeOf(await custA.post('/api/service-orders', { ...patrol, customerId: 'CB' }))).toBe('CUSTOMER_NOT_FOUND');
    expect(codeOf(await custA.post('/api/service-orders', { ...patrol, vehicleId: 'VB1' }))).toBe('VEHICLE_NOT_FOUND');
    // the unit may withdraw its own request
    expect((await act(custB, b.id, { action: 'cancel' })).json().order.status).toBe('cancelled');
    const staff = (await dispatcher.get('/api/service-orders?status=requested')).json().orders;
    expect(staff.map((o: { id: number }) => o.id)).toEqual([a.id]);
    expect((await dispatcher.get('/api/service-orders?kind=training')).json().orders).toHaveLength(1);
  });

  it('requests at once for one unit get one number each (on PostgreSQL they run side by side)', async () => {
    const res = await Promise.all(Array.from({ length: 8 }, () => custA.post('/api/service-orders', patrol)));
    expect(res.map((r) => r.statusCode)).toEqual(Array(8).fill(201));
    const seqs = res.map((r) => Number((r.json().order as { number: string }).number.slice(-4)));
    expect(seqs.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('validates the application: kind, date, people, contacts', async () => {
    for (const body of [
      { ...patrol, kind: 'routine' },
      { ...patrol, requestedDate: '20.12.2026' },
      { ...patrol, people: 0 },
      { ...patrol, contacts: [] },
    ]) {
      const res = await custA.post('/api/service-orders', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(codeOf(res)).toBe('VALIDATION_FAILED');
    }
    expect(codeOf(await dispatcher.post('/api/service-orders', patrol))).toBe('VALIDATION_FAILED');
    expect(codeOf(await engineer.post('/api/service-orders', { ...patrol, customerId: 'CA' }))).toBe('FORBIDDEN');
  });
});
