import type { LightMyRequestResponse } from 'fastify';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCounters } from '../../core/counters.ts';
import { isPlatformError } from '../../core/errors.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveAck } from '../../web/live/events.ts';
import { createBuckets, createRateLimits, RATE_LIMIT_DEFAULTS } from '../../web/rate-limits.ts';
import { askVehicle, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { codeOf, PASSWORD, startWeb, TEST_COST, type Agent, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 8: "rate limits on everything a user can create". The probe opened 20 extra-urgent
 * tickets as one customer in 0.29 s (all 20 created, each paging the duty desk), and sent 39,000
 * socket.io events over one connection in 10 s, all handled. Now what users create is limited per
 * account and per customer unit (web/rate-limits.ts), and each live connection's events are
 * limited (web/live/flood.ts): refused with RATE_LIMITED (HTTP 429 + Retry-After), counted, and a
 * flooding connection is cut. The clock is the tests' own: nothing here waits for time to pass.
 */

const contacts = [{ name: 'Li Wei', phone: '0730-7650002', role: 'unit technician' }];
const extraUrgent = (i: number) => ({
  vehicleId: 'VA1',
  level: 'extra_urgent',
  title: `发电机无法启动 ${i}`,
  need: '市电中断后发电机组无法启动，请远程支援。',
  contacts,
});
const jpeg = () => {
  const b = Buffer.alloc(64, 9);
  Buffer.from('ffd8ffe000104a464946', 'hex').copy(b);
  return b;
};

function expectRefused(res: LightMyRequestResponse, retryAfterS?: number) {
  expect(res.statusCode, res.body).toBe(429);
  expect(codeOf(res)).toBe('RATE_LIMITED');
  const header = Number(res.headers['retry-after']);
  expect(header).toBeGreaterThanOrEqual(1);
  if (retryAfterS !== undefined) expect(header).toBe(retryAfterS);
}

describe('rate limits on what users create (HTTP)', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  const ticketsOf = async (customerId: string) =>
    (await w.db.selectFrom('tickets').select('id').where('customer_id', '=', customerId).execute()).length;

  it('the probe: 20 extra-urgent tickets by one customer in a burst — from the 11th on 429 with Retry-After; 10 created', async () => {
    w = await startWeb();
    const cust = await w.login('cust-a');
    const before = await ticketsOf('CA');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => cust.post('/api/tickets', extraUrgent(i))));
    const created = answers.filter((r) => r.statusCode === 201);
    expect(created).toHaveLength(RATE_LIMIT_DEFAULTS.tickets.perMin);
    // the clock stands still: one more request comes back every 60 / 10 = 6 s
    for (const r of answers.filter((x) => x.statusCode !== 201)) expectRefused(r, 6);
    expect((await ticketsOf('CA')) - before).toBe(10);
    expect(w.counters.get('web.rate_limited', 'tickets:account')).toBe(10);
    // visible to the operators in /metrics.json
    const metrics = (await (await w.login('admin')).get('/metrics.json')).json() as {
      byKey: Record<string, Record<string, number>>;
    };
    expect(metrics.byKey['web.rate_limited']).toMatchObject({ 'tickets:account': 10 });
    // refused means nothing was taken: after 6 s exactly one more, then refused again
    w.advance(6_000);
    expect((await cust.post('/api/tickets', extraUrgent(21))).statusCode).toBe(201);
    expectRefused(await cust.post('/api/tickets', extraUrgent(22)), 6);
    // another unit's customer and the duty desk are not slowed by it
    expect(
      (await (await w.login('cust-b')).post('/api/tickets', { ...extraUrgent(0), vehicleId: 'VB1' })).statusCode,
    ).toBe(201);
    expect((await (await w.login('dispatcher')).post('/api/tickets', extraUrgent(0))).statusCode).toBe(201);
  });

  it('normal use is unaffected: a busy hour at a human pace on every limited route', async () => {
    w = await startWeb();
    const cust = await w.login('cust-a');
    const engineer = await w.login('engineer');
    const dispatcher = await w.login('dispatcher');
    const ticket = (await cust.post('/api/tickets', extraUrgent(0))).json().ticket as { id: number };
    const session = (await cust.post('/api/sessions', { vehicleId: 'VA1', description: 'no power' })).json().session
      .id as number;
    expect((await engineer.post(`/api/sessions/${session}/answer`)).statusCode).toBe(200);
    const alarm = await w.alarm('VA1');
    // an hour: a ticket every 5 minutes and, each minute, comments, chat, photos, an ack, an invite
    for (let minute = 0; minute < 60; minute++) {
      const answers: LightMyRequestResponse[] = [];
      if (minute % 5 === 0) answers.push(await dispatcher.post('/api/tickets', extraUrgent(minute)));
      for (let i = 0; i < 5; i++) {
        answers.push(await cust.post(`/api/tickets/${ticket.id}/comments`, { text: `update ${minute}.${i}` }));
        answers.push(await cust.post(`/api/sessions/${session}/chat`, { text: `chat ${minute}.${i}` }));
        answers.push(await engineer.post(`/api/sessions/${session}/chat`, { text: `reply ${minute}.${i}` }));
      }
      answers.push(
        await cust.request('POST', `/api/sessions/${session}/photos`, jpeg(), { 'content-type': 'image/jpeg' }),
      );
      answers.push(await engineer.post(`/api/alarms/${alarm.id}/comments`, { text: `watching ${minute}` }));
      if (minute % 10 === 0) answers.push(await engineer.post(`/api/sessions/${session}/invites`));
      for (const r of answers) expect(r.statusCode, r.body).toBeLessThan(300);
      w.advance(60_000);
    }
    expect((await engineer.post(`/api/alarms/${alarm.id}/acknowledge`)).statusCode).toBe(200);
    expect(w.counters.get('web.rate_limited')).toBe(0);
  });

  it('per unit: two accounts of one unit share the unit limit; another unit is not touched', async () => {
    w = await startWeb({ options: { rateLimits: { tickets: { perMin: 10, unitPerMin: 15 } } } });
    await w.ctx.accounts.add({
      id: 'cust-a2',
      name: 'cust-a2',
      role: 'customer',
      customerId: 'CA',
      password: PASSWORD,
    });
    const a1 = await w.login('cust-a');
    const a2 = await w.login('cust-a2');
    const burst = (a: Agent, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => a.post('/api/tickets', extraUrgent(i))));
    expect((await burst(a1, 10)).every((r) => r.statusCode === 201)).toBe(true);
    const second = await burst(a2, 10);
    // a2's own limit would allow 10, the unit has only 5 left
    expect(second.filter((r) => r.statusCode === 201)).toHaveLength(5);
    const refused = second.filter((r) => r.statusCode !== 201);
    for (const r of refused) {
      expectRefused(r, 4); // 60 / 15 = 4 s for the unit's next one
      expect(r.json().error.message).toMatch(/unit/);
    }
    expect(w.counters.get('web.rate_limited', 'tickets:unit')).toBe(5);
    expect(await ticketsOf('CA')).toBe(15);
    expect(
      (await (await w.login('cust-b')).post('/api/tickets', { ...extraUrgent(0), vehicleId: 'VB1' })).statusCode,
    ).toBe(201);
  });

  it('comments, acknowledgements, session requests, chat, photos and invitations are limited the same way', async () => {
    const one = { perMin: 2, unitPerMin: 3 };
    w = await startWeb({
      options: {
        rateLimits: { comments: one, acks: one, sessions: one, chat: one, photos: one, invites: one },
      },
    });
    const cust = await w.login('cust-a');
    const engineer = await w.login('engineer');
    const ticket = (await cust.post('/api/tickets', extraUrgent(0))).json().ticket as { id: number };
    const s1 = (await cust.post('/api/sessions', { vehicleId: 'VA1', description: 'no power' })).json().session
      .id as number;
    await engineer.post(`/api/sessions/${s1}/answer`);
    const alarms = [await w.alarm('VA1', 'mains_lost'), await w.alarm('VA1', 'battery_low_soc'), await w.alarm('VB1')];
    const tries: [string, Agent, () => Promise<LightMyRequestResponse>][] = [
      ['comments', cust, () => cust.post(`/api/tickets/${ticket.id}/comments`, { text: 'any news?' })],
      ['chat', cust, () => cust.post(`/api/sessions/${s1}/chat`, { text: 'hello' })],
      [
        'photos',
        cust,
        () => cust.request('POST', `/api/sessions/${s1}/photos`, jpeg(), { 'content-type': 'image/jpeg' }),
      ],
      ['invites', engineer, () => engineer.post(`/api/sessions/${s1}/invites`)],
    ];
    for (const [kind, , send] of tries) {
      expect((await send()).statusCode, kind).toBeLessThan(300);
      expect((await send()).statusCode, kind).toBeLessThan(300);
      expectRefused(await send(), 30);
      expect(w.counters.get('web.rate_limited', `${kind}:account`), kind).toBe(1);
    }
    // the session request: the second answers the open one (one per vehicle), the third is over the limit
    expect((await cust.post('/api/sessions', { vehicleId: 'VA1', description: 'again' })).statusCode).toBe(200);
    expectRefused(await cust.post('/api/sessions', { vehicleId: 'VA1', description: 'again' }));
    let acked = 0;
    for (const a of alarms) {
      const res = await engineer.post(`/api/alarms/${a.id}/acknowledge`);
      if (res.statusCode === 200) acked++;
      else expectRefused(res);
    }
    expect(acked).toBe(2);
    expect(w.counters.get('web.rate_limited', 'acks:account')).toBe(1);
  });

  it('a guest counts as itself and in its session’s unit; a photo over the limit is refused before its body is read', async () => {
    w = await startWeb({ options: { rateLimits: { chat: { perMin: 3, unitPerMin: 4 }, photos: { perMin: 1 } } } });
    const cust = await w.login('cust-a');
    const engineer = await w.login('engineer');
    const session = (await cust.post('/api/sessions', { vehicleId: 'VA1', description: 'no power' })).json().session
      .id as number;
    await engineer.post(`/api/sessions/${session}/answer`);
    const guest = await w.guestLogin((await engineer.post(`/api/sessions/${session}/invites`)).json().token);
    for (let i = 0; i < 3; i++)
      expect((await guest.post(`/api/sessions/${session}/chat`, { text: `g${i}` })).statusCode).toBe(201);
    expectRefused(await guest.post(`/api/sessions/${session}/chat`, { text: 'g3' }));
    // the unit (CA) has one left: the customer gets it, then the unit is refused
    expect((await cust.post(`/api/sessions/${session}/chat`, { text: 'c0' })).statusCode).toBe(201);
    expectRefused(await cust.post(`/api/sessions/${session}/chat`, { text: 'c1' }));
    expect(w.counters.get('web.rate_limited', 'chat:unit')).toBe(1);
    // staff belong to no unit
    expect((await engineer.post(`/api/sessions/${session}/chat`, { text: 'e0' })).statusCode).toBe(201);

    expect(
      (await guest.request('POST', `/api/sessions/${session}/photos`, jpeg(), { 'content-type': 'image/jpeg' }))
        .statusCode,
    ).toBe(201);
    // a body over the photo size would be 413: refused as 429 instead, so it was never read
    const big = Buffer.alloc(w.sessionParts.photos.maxBytes + 1024, 1);
    expectRefused(
      await guest.request('POST', `/api/sessions/${session}/photos`, big, { 'content-type': 'image/jpeg' }),
    );
  });

  it('the buckets are bounded: least recently used keys go first, a refilled key is forgotten', () => {
    let clock = 0;
    const b = createBuckets({ perMin: 6, maxKeys: 100 }, () => clock);
    for (let i = 0; i < 1000; i++) b.take(`account-${i}`);
    expect(b.size()).toBeLessThanOrEqual(100);
    // a minute later every bucket is full again: each new request sweeps a forgotten one
    clock += 60_000;
    for (let i = 0; i < 100; i++) b.take(`later-${i}`);
    expect(b.size()).toBeLessThanOrEqual(100);
    expect(b.waitMs('account-999')).toBe(0);
    // a busy key keeps its debt
    for (let i = 0; i < 6; i++) b.take('busy');
    expect(b.waitMs('busy')).toBe(10_000);

    const counters = createCounters();
    const limits = createRateLimits({ counters, now: () => clock }, { maxKeys: 50 });
    for (let i = 0; i < 500; i++) limits.take('chat', { account: `a${i}`, unit: `u${i}` });
    expect(limits.size()).toBeLessThanOrEqual(100);
    let refused: unknown;
    try {
      for (let i = 0; i < 11; i++) limits.take('tickets', { account: 'x', unit: null });
    } catch (err) {
      refused = err;
    }
    expect(isPlatformError(refused, 'RATE_LIMITED')).toBe(true);
    expect(counters.get('web.rate_limited', 'tickets:account')).toBe(1);
  });
});

describe('live channel: a connection flooding events', () => {
  const BURST = 20;
  const RATE_HZ = 10;
  const MAX_REFUSED = 50;
  let tp: TestPlatform;
  let base: string;
  let clock = Date.UTC(2026, 10, 27, 8, 0, 0);
  let gateway: MqttClient;
  const opened: LiveClient[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform(
      {
        LIVE_EVENT_BURST: String(BURST),
        LIVE_EVENT_RATE_HZ: String(RATE_HZ),
        LIVE_FLOOD_MAX_REFUSED: String(MAX_REFUSED),
      },
      // the platform's clock is the test's: the buckets refill only when the test says so
      { now: () => clock },
    );
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CA', name: 'Unit A' });
    const { secret } = await tp.addVehicle('VA1', 'CA');
    gateway = await tp.connect('VA1', secret);
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const id of ['flooder', 'neighbour'])
      await accounts.add({ id, name: id, role: 'customer', customerId: 'CA', password: PASSWORD });
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    gateway?.end(true);
    await tp?.close();
  });

  it('the probe: thousands of events on one connection — over the rate RATE_LIMITED, then cut; others carry on', async () => {
    const { s } = await openConsole(base, 'flooder', PASSWORD, { opened });
    const neighbour = await openConsole(base, 'neighbour', PASSWORD, { opened });
    const cut = withTimeout(
      new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason))),
      10_000,
      'the flooding connection to be cut',
    );
    const answers: LiveAck<{ vehicleId: string }>[] = [];
    for (let i = 0; i < 2000; i++) s.emit('subscribe', { vehicleId: 'VA1' }, (res) => answers.push(res));
    expect(await cut).toBe('io server disconnect');
    // of 2,000 events, BURST were handled, MAX_REFUSED refused, and the connection was cut: the
    // rest never reached the layer (answers of handlers still at work when the cut came are lost)
    const counters = tp.platform.counters;
    expect(counters.get('live.flood_disconnects')).toBe(1);
    expect(counters.get('live.rate_limited')).toBe(MAX_REFUSED);
    expect(answers.length).toBeLessThanOrEqual(BURST + MAX_REFUSED);
    expect(answers.filter((a) => a.ok).length).toBeLessThanOrEqual(BURST);
    const refused = answers.filter((a) => !a.ok);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => !a.ok && a.error.code === 'RATE_LIMITED')).toBe(true);
    // the rest of the layer is untouched
    expect(neighbour.s.connected).toBe(true);
    expect(await askVehicle(neighbour.s, 'subscribe', 'VA1')).toEqual({ ok: true, vehicleId: 'VA1' });
  });

  it('normal use: a console’s requests at a human pace, and a short burst over the rate, keep the connection', async () => {
    const { s } = await openConsole(base, 'neighbour', PASSWORD, { opened });
    const before = tp.platform.counters.get('live.rate_limited');
    // an operator moving around the fleet: a request every few seconds for ten minutes
    for (let i = 0; i < 200; i++) {
      expect((await askVehicle(s, i % 2 ? 'unsubscribe' : 'subscribe', 'VA1')).ok).toBe(true);
      clock += 3_000;
    }
    expect(tp.platform.counters.get('live.rate_limited')).toBe(before);
    // a burst over the rate: refused one by one, not cut (fewer than MAX_REFUSED in the window)
    const answers = await Promise.all(Array.from({ length: BURST + 10 }, () => askVehicle(s, 'subscribe', 'VA1')));
    expect(answers.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED')).toHaveLength(10);
    expect(s.connected).toBe(true);
    // a second later the rate allows RATE_HZ more; the refused count starts over with the window
    clock += 1_000;
    expect((await askVehicle(s, 'subscribe', 'VA1')).ok).toBe(true);
    expect(s.connected).toBe(true);
  });
});
