import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const zhang = {
  name: 'Zhang Min',
  role: 'Station chief',
  phone: '0730-1234567',
  email: 'zhang@unit-a.example',
  language: 'zh',
  channels: [
    { channel: 'email', target: 'zhang@unit-a.example' },
    { channel: 'wecom', target: 'unit-a-robot' },
  ],
  quietHours: { from: '22:00', to: '07:00' },
  timeZone: 'Asia/Shanghai',
};

describe('contacts, subscriptions and ETA over the API', () => {
  let w: TestWeb;
  let custA: Agent;
  let dispatcher: Agent;
  let engineer: Agent;
  beforeAll(async () => {
    w = await startWeb();
    custA = await w.login('cust-a');
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
  });
  afterAll(async () => w.close());

  it('a customer manages its own unit’s contacts, subscriptions and quiet hours', async () => {
    const created = await custA.post('/api/customers/CA/contacts', zhang);
    expect(created.statusCode, created.body).toBe(201);
    const c = created.json().contact as { id: number; subscriptions: unknown[] };
    expect(c).toMatchObject({ customerId: 'CA', language: 'zh', quietHours: { from: '22:00', to: '07:00' } });
    expect(c.subscriptions).toEqual([]);

    const subs = await custA.request('PUT', `/api/contacts/${c.id}/subscriptions`, {
      subscriptions: [{ vehicleId: 'VA1', kinds: ['ticket_opened', 'ticket_eta'], minLevel: 'urgent' }],
    });
    expect(subs.statusCode, subs.body).toBe(200);
    expect(subs.json().contact.subscriptions).toEqual([
      { id: expect.any(Number), vehicleId: 'VA1', kinds: ['ticket_opened', 'ticket_eta'], minLevel: 'urgent' },
    ]);
    const other = await custA.request('PUT', `/api/contacts/${c.id}/subscriptions`, {
      subscriptions: [{ vehicleId: 'VB1', minLevel: 'urgent' }],
    });
    expect(codeOf(other)).toBe('VEHICLE_NOT_FOUND');

    const changed = await custA.request('PUT', `/api/contacts/${c.id}`, { ...zhang, quietHours: null, language: 'en' });
    expect(changed.json().contact).toMatchObject({ quietHours: null, language: 'en' });
    const list = await custA.get('/api/customers/CA/contacts');
    expect(list.json().contacts.map((x: { name: string }) => x.name)).toEqual(['Zhang Min']);
    expect((await custA.delete(`/api/contacts/${c.id}`)).statusCode).toBe(204);
    expect(codeOf(await custA.delete(`/api/contacts/${c.id}`))).toBe('CONTACT_NOT_FOUND');
  });

  it('staff manage any unit’s contacts; bad input is a clear 400', async () => {
    const created = await dispatcher.post('/api/customers/CB/contacts', { ...zhang, name: 'B duty' });
    expect(created.statusCode).toBe(201);
    expect(codeOf(await dispatcher.post('/api/customers/C-NOPE/contacts', zhang))).toBe('CUSTOMER_NOT_FOUND');
    const bad = async (patch: object) => {
      const res = await dispatcher.post('/api/customers/CA/contacts', { ...zhang, ...patch });
      expect(res.statusCode, res.body).toBe(400);
      return (res.json() as { error: { message: string } }).error.message;
    };
    expect(await bad({ channels: [{ channel: 'email', target: 'not-an-address' }] })).toContain(
      'an email channel’s target must be an email address',
    );
    expect(await bad({ channels: [{ channel: 'sms', target: '1' }] })).toContain('must be one of');
    expect(await bad({ quietHours: { from: '25:00', to: '07:00' } })).toContain('HH:MM');
    expect(await bad({ timeZone: 'Mars/Olympus' })).toContain('IANA time zone');
    expect(await bad({ language: 'fr' })).toContain('language must be en or zh');
  });

  it('staff set their own contact settings; customers have none', async () => {
    expect((await engineer.get('/api/me/contact')).json()).toEqual({ contact: null });
    const set = await engineer.request('PUT', '/api/me/contact', {
      name: 'Engineer on call',
      language: 'en',
      channels: [{ channel: 'dingtalk', target: 'eng-robot' }],
    });
    expect(set.statusCode, set.body).toBe(200);
    expect((await engineer.get('/api/me/contact')).json().contact).toMatchObject({
      accountId: 'engineer',
      customerId: null,
      channels: [{ channel: 'dingtalk', target: 'eng-robot' }],
    });
    // a staff contact is not a unit's: not reachable through the unit routes
    const id = (await engineer.get('/api/me/contact')).json().contact.id as number;
    expect(codeOf(await dispatcher.request('PUT', `/api/contacts/${id}`, zhang))).toBe('CONTACT_NOT_FOUND');
    expect((await custA.get('/api/me/contact')).statusCode).toBe(403);
  });

  it('staff give the ETA; the customer sees it on the ticket with its timeline entry', async () => {
    const t = await w.ticket('VA1', 'urgent');
    const eta = w.now() + 90 * 60_000;
    const res = await dispatcher.post(`/api/tickets/${t.id}/eta`, { eta, note: 'engineer on the way from Yueyang' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().ticket).toMatchObject({ eta, etaNote: 'engineer on the way from Yueyang' });
    const seen = await custA.get(`/api/tickets/${t.id}`);
    expect(seen.json().ticket).toMatchObject({ eta, etaNote: 'engineer on the way from Yueyang' });
    expect(seen.json().timeline.map((e: { action: string }) => e.action)).toContain('eta_set');
    expect((await custA.post(`/api/tickets/${t.id}/eta`, { eta })).statusCode).toBe(403);
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/eta`, { eta: w.now() - 2 * 3_600_000 }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/eta`, { eta: 'soon' }))).toBe('VALIDATION_FAILED');
  });
});
