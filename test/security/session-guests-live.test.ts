import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveAck, LiveWelcome } from '../../web/live/events.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import {
  connected,
  connectRefused,
  httpLogin,
  openLive,
  recorder,
  type LiveClient,
  type Login,
} from '../helpers/live-client.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';
import type { FleetUpdate } from '../../web/live/events.ts';
import { fleetEntries } from '../../web/live/fleet-wire.ts';

/**
 * A guest's live connection (issue 11, 7. and 10.) in the whole platform over real sockets: it may
 * join its one session and nothing else — no vehicle subscription, no fleet, no other session —
 * and a revocation cuts it within a second, like a logout.
 */
describe('session guests on the live channel', () => {
  let tp: TestPlatform;
  let base: string;
  let engineer: Login;
  let session: number;
  let other: number;
  let secretA: string;
  const open: LiveClient[] = [];

  const api = async (login: Login, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        cookie: login.cookie,
        'x-csrf-token': login.csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> };
  };

  async function guest(): Promise<{ cookie: string; inviteId: string }> {
    const inv = (await api(engineer, 'POST', `/api/sessions/${session}/invites`)).json as {
      inviteId: string;
      token: string;
    };
    const res = await fetch(`${base}/api/guest/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: inv.token }),
    });
    expect(res.status).toBe(200);
    return { cookie: res.headers.getSetCookie()[0]!.split(';')[0]!, inviteId: inv.inviteId };
  }

  const request = <T extends object>(s: LiveClient, event: string, payload: unknown) =>
    withTimeout(
      new Promise<LiveAck<T>>((resolve) => (s.emit as (...a: unknown[]) => void)(event, payload, resolve)),
      5000,
      event,
    );

  beforeAll(async () => {
    tp = await startTestPlatform({ LIVE_FLEET_INTERVAL_MS: '100', LIVE_SESSION_CHECK_MS: '60000' });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CA', name: 'Unit A' });
    await tp.platform.customers.add({ id: 'CB', name: 'Unit B' });
    secretA = (await tp.addVehicle('VA1', 'CA')).secret;
    await tp.addVehicle('VB1', 'CB');
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['eng', 'engineer', null],
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
    ] as const)
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
    engineer = await httpLogin(base, 'eng', PASSWORD);
    const crewA = await httpLogin(base, 'cust-a', PASSWORD);
    const crewB = await httpLogin(base, 'cust-b', PASSWORD);
    session = (
      (await api(crewA, 'POST', '/api/sessions', { vehicleId: 'VA1', description: 'no power' })).json.session as {
        id: number;
      }
    ).id;
    other = (
      (await api(crewB, 'POST', '/api/sessions', { vehicleId: 'VB1', description: 'b' })).json.session as { id: number }
    ).id;
    expect((await api(engineer, 'POST', `/api/sessions/${session}/answer`)).status).toBe(200);
  });
  afterAll(async () => {
    for (const s of open) s.disconnect();
    await tp?.close();
  });

  it('joins its own session only; vehicles, fleet and other sessions are refused', async () => {
    const g = await guest();
    const s = openLive(base, { cookie: g.cookie });
    open.push(s);
    const rec = recorder(s, 'guest');
    await connected(s);
    const welcome = await rec.next<LiveWelcome>('welcome');
    expect(welcome.account).toEqual({ id: `guest:${g.inviteId}`, role: 'guest', customerId: null });

    const joined = await request<{ role: string }>(s, 'session.join', { sessionId: session });
    expect(joined).toMatchObject({ ok: true, role: 'guest' });
    for (const id of [other, 999_999]) {
      const refused = await request(s, 'session.join', { sessionId: id });
      expect(refused).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    }
    for (const vehicleId of ['VA1', 'VB1']) {
      const sub = await request(s, 'subscribe', { vehicleIds: [vehicleId] });
      expect(sub, vehicleId).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    // the unit's fleet batches go on (a staff console gets them); the guest never does
    const staff = openLive(base, { cookie: engineer.cookie });
    open.push(staff);
    const staffRec = recorder(staff, 'staff');
    await connected(staff);
    await tp.connect('VA1', secretA); // the session's vehicle comes online: a fleet change
    await staffRec.next('fleet', (m: FleetUpdate) => fleetEntries(m).some((v) => v.id === 'VA1'));
    await api(engineer, 'POST', `/api/sessions/${session}/chat`, { text: 'hello guest' });
    await rec.next('remote.timeline', (m: { entry: { text: string } }) => m.entry.text === 'hello guest');
    expect(rec.got.filter((x) => ['fleet', 'frame', 'alarm', 'ticket', 'inbox'].includes(x.event))).toEqual([]);
  });

  it('a revocation cuts the guest’s connection within a second; the cookie opens nothing afterwards', async () => {
    const g = await guest();
    const s = openLive(base, { cookie: g.cookie });
    open.push(s);
    const rec = recorder(s, 'guest');
    await connected(s);
    await request(s, 'session.join', { sessionId: session });
    const t0 = Date.now();
    expect((await api(engineer, 'DELETE', `/api/sessions/${session}/invites/${g.inviteId}`)).status).toBe(200);
    await rec.next('session.ended', () => true, 1000);
    await withTimeout(
      new Promise<void>((resolve) => (s.connected ? s.once('disconnect', () => resolve()) : resolve())),
      1000,
      'disconnect',
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    const again = openLive(base, { cookie: g.cookie });
    const refused = await connectRefused(again);
    expect(refused.data?.code).toBe('UNAUTHENTICATED');
  });
});
