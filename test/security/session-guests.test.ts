import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, codeOf, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';
import { GUEST_COOKIE } from '../../web/auth/guard.ts';
import { declaredRoutes, expectNoSecrets, routeKey } from './helpers.ts';

/** What a guest may call: its own session and nothing else (web/routes/sessions.ts, session-photos.ts, guests.ts). */
const GUEST_ROUTES = new Set([
  'GET /api/sessions/:id',
  'POST /api/sessions/:id/join',
  'POST /api/sessions/:id/leave',
  'POST /api/sessions/:id/chat',
  'GET /api/sessions/:id/timeline',
  'POST /api/sessions/:id/photos',
  'GET /api/sessions/:id/photos/:photoId',
  // a guest is crew: it reads the guided steps, reports what it sees and asks for a check (never skips or adds)
  'GET /api/sessions/:id/steps',
  'POST /api/sessions/:id/steps/:index/done',
  'POST /api/sessions/:id/steps/:index/check',
  'GET /api/guest/session',
  'POST /api/guest/logout',
]);
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

/**
 * Guests without an account (issue 11, 7.) as an attacker tries them: links reused, expired,
 * revoked or guessed, a guest reaching for anything but its one session, another session, a
 * session that ended; and the link's token never stored or logged as it is.
 */
describe('session guests: one-time links and what a guest may reach', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  async function setUp(opts: Parameters<typeof startWeb>[0] = {}) {
    w = await startWeb(opts);
    const crew = await w.login('cust-a');
    const engineer = await w.login('engineer');
    const session: number = (await crew.post('/api/sessions', { vehicleId: 'VA1', description: 'no power' })).json()
      .session.id;
    await engineer.post(`/api/sessions/${session}/answer`);
    const other: number = (
      await (await w.login('cust-b')).post('/api/sessions', { vehicleId: 'VB1', description: 'b' })
    ).json().session.id;
    const invite = async () => {
      const res = await engineer.post(`/api/sessions/${session}/invites`);
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { inviteId: string; token: string; url: string; expiresAt: number };
    };
    const guestLogin = (token: string, ip = '10.7.7.7') =>
      w.app.inject({ method: 'POST', url: '/api/guest/login', payload: { token }, remoteAddress: ip });
    return { crew, engineer, session, other, invite, guestLogin };
  }

  it('a link works once, for its session only; the guest chats, sends a photo and reads them back', async () => {
    const { engineer, session, other, invite, guestLogin } = await setUp();
    const inv = await invite();
    expect(inv.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
    expect(inv.url).toBe(`/guest#token=${inv.token}`);
    expect(inv.expiresAt).toBe(w.now() + 2 * 3_600_000);
    const guest = await w.guestLogin(inv.token);
    expect(guest.account).toBe(`guest:${inv.inviteId}`);
    // used: the same link again is refused, whoever sends it
    const again = await guestLogin(inv.token);
    expect(again.statusCode).toBe(401);
    expect(codeOf(again)).toBe('GUEST_LINK_INVALID');
    expect(again.cookies.find((c) => c.name === GUEST_COOKIE)).toBeUndefined();

    const me = (await guest.get('/api/guest/session')).json();
    expect(me).toMatchObject({ guestId: guest.account, sessionId: session });
    const view = await guest.get(`/api/sessions/${session}`);
    expect(view.statusCode).toBe(200);
    expect(view.json().role).toBe('guest');
    // people are named as the unit's customers see them: no staff login id
    expect(view.body).not.toContain('"engineer"');
    expect((await guest.post(`/api/sessions/${session}/chat`, { text: 'the lamp is red' })).statusCode).toBe(201);
    const photo = await guest.request('POST', `/api/sessions/${session}/photos`, PNG, { 'content-type': 'image/png' });
    expect(photo.statusCode, photo.body).toBe(201);
    const got = await guest.get(`/api/sessions/${session}/photos/${photo.json().photo.id}`);
    expect(got.statusCode).toBe(200);
    const timeline = (await engineer.get(`/api/sessions/${session}/timeline`)).json().entries;
    expect(
      timeline.filter((e: { actor: string }) => e.actor === guest.account).map((e: { kind: string }) => e.kind),
    ).toEqual(['joined', 'chat', 'photo']);
    // the guided steps as the crew has them: read, not skipped or added by a guest
    expect((await guest.get(`/api/sessions/${session}/steps`)).statusCode).toBe(200);
    const skip = await guest.post(`/api/sessions/${session}/steps/0/skip`, { reason: 'x' });
    expect(skip.statusCode).toBe(403);
    const add = await guest.post(`/api/sessions/${session}/steps`, { instruction: { en: 'x', zh: 'x' } });
    expect(add.statusCode).toBe(403);
    // another session: exactly as if it did not exist
    for (const url of [
      `/api/sessions/${other}`,
      `/api/sessions/${other}/timeline`,
      `/api/sessions/${other}/steps`,
      `/api/sessions/999999`,
    ]) {
      const res = await guest.get(url);
      expect(res.statusCode, url).toBe(404);
      expect(codeOf(res)).toBe('SESSION_NOT_FOUND');
    }
    const otherChat = await guest.post(`/api/sessions/${other}/chat`, { text: 'x' });
    expect(codeOf(otherChat)).toBe('SESSION_NOT_FOUND');
    // staff see the invitation as used, never its token
    const list = await engineer.get(`/api/sessions/${session}/invites`);
    expect(list.json().invites).toEqual([expect.objectContaining({ id: inv.inviteId, status: 'used' })]);
    expect(list.body).not.toContain(inv.token);
  });

  it('every other route refuses a guest (403 or 404), and so do the non-API probes', async () => {
    const { invite } = await setUp();
    const guest = await w.guestLogin((await invite()).token);
    const routes = await declaredRoutes(w.ctx);
    const refused: string[] = [];
    for (const r of routes) {
      if (r.public || GUEST_ROUTES.has(routeKey(r)) || !r.url.startsWith('/api/')) continue;
      const url = r.url.replace(/:[A-Za-z]+/g, (p) => (p === ':id' ? '1' : 'x1'));
      const res = await guest.request(r.method, url, r.method === 'GET' || r.method === 'DELETE' ? undefined : {});
      expect([403, 404], `${routeKey(r)}: ${res.statusCode} ${res.body}`).toContain(res.statusCode);
      refused.push(routeKey(r));
    }
    expect(refused.length).toBeGreaterThan(60);
    expect(refused).toContain('GET /api/vehicles');
    expect(refused).toContain('GET /api/vehicles/:id/telemetry');
    expect(refused).toContain('GET /api/alarms');
    expect(refused).toContain('GET /api/tickets/:id');
    const metrics = await guest.get('/metrics');
    expect(metrics.statusCode).toBeGreaterThanOrEqual(401);
    expect(metrics.statusCode).toBeLessThan(404);
  });

  it('expired (≤ 2 h, on the clock), revoked before use, revoked after use, the session ended: refused; a revoked guest is out at once', async () => {
    const { session, invite: inviteFirst, guestLogin } = await setUp();
    const old = await inviteFirst();
    w.advance(2 * 3_600_000 - 1);
    expect(w.now()).toBeLessThan(old.expiresAt);
    w.advance(1);
    const expired = await guestLogin(old.token);
    expect(codeOf(expired)).toBe('GUEST_LINK_INVALID');
    // (the engineer's console session idled out meanwhile)
    const engineer = await w.login('engineer');
    const invite = async () =>
      (await engineer.post(`/api/sessions/${session}/invites`)).json() as { inviteId: string; token: string };

    const unused = await invite();
    expect((await engineer.delete(`/api/sessions/${session}/invites/${unused.inviteId}`)).statusCode).toBe(200);
    expect(codeOf(await guestLogin(unused.token))).toBe('GUEST_LINK_INVALID');

    const used = await invite();
    const guest = await w.guestLogin(used.token);
    expect((await guest.get(`/api/sessions/${session}`)).statusCode).toBe(200);
    const revoked = await engineer.delete(`/api/sessions/${session}/invites/${used.inviteId}`);
    expect(revoked.json().invite.status).toBe('revoked');
    const after = await guest.get(`/api/sessions/${session}`);
    expect(after.statusCode).toBe(401);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    expect(codeOf(await engineer.delete(`/api/sessions/${session}/invites/inv_nope`))).toBe('INVITE_NOT_FOUND');

    // the session's end ends its guests, and no new invitation is made for it
    const last = await w.guestLogin((await invite()).token);
    await engineer.post(`/api/sessions/${session}/end`, { outcome: 'resolved_remotely' });
    expect((await last.get(`/api/sessions/${session}`)).statusCode).toBe(401);
    const late = await engineer.post(`/api/sessions/${session}/invites`);
    expect(codeOf(late)).toBe('SESSION_INVALID_STATE');
  });

  it('the TTL setting only shortens the link; a logged-out guest cannot come back with the same link', async () => {
    const { invite, session, guestLogin } = await setUp();
    expect(w.sessionParts.invites.ttlMs).toBe(2 * 3_600_000);
    const inv = await invite();
    const guest = await w.guestLogin(inv.token);
    expect((await guest.post('/api/guest/logout')).statusCode).toBe(204);
    expect((await guest.get(`/api/sessions/${session}`)).statusCode).toBe(401);
    expect(codeOf(await guestLogin(inv.token))).toBe('GUEST_LINK_INVALID');
  });

  it('guessing links is throttled per client address (429 with Retry-After, counted); another address still gets in', async () => {
    const { invite, guestLogin } = await setUp();
    const good = await invite();
    const codes: string[] = [];
    // LOGIN_MAX_FAILURES (5 here) failed links from one address, then that address waits
    for (let i = 0; i < 8; i++) codes.push(codeOf(await guestLogin(`guess-${i}-${'g'.repeat(40)}`, '10.6.6.6'))!);
    expect(codes, codes.join()).toEqual([...Array(5).fill('GUEST_LINK_INVALID'), ...Array(3).fill('RATE_LIMITED')]);
    const limited = await guestLogin(good.token, '10.6.6.6');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const counters = w.counters.snapshot() as { byKey?: Record<string, unknown>; totals?: Record<string, number> };
    expect(JSON.stringify(counters)).toContain('web.guest_login_failed');
    expect(JSON.stringify(counters)).toContain('web.guest_login_limited');
    // the right link from an address that is not guessing works (and the limited try did not use it)
    expect((await guestLogin(good.token, '10.6.6.7')).statusCode).toBe(200);
  });

  it('no form of a link token or a guest cookie is stored or logged', async () => {
    const cap = captureLogger('trace');
    const { invite, session, guestLogin } = await setUp({ log: cap.log });
    const inv = await invite();
    const res = await guestLogin(inv.token);
    const cookie = res.cookies.find((c) => c.name === GUEST_COOKIE)!.value;
    await guestLogin(inv.token); // a reuse, logged as a failure
    const guest: Agent = await w.guestLogin((await invite()).token);
    await guest.post(`/api/sessions/${session}/chat`, { text: 'hello' });
    const tables: Record<string, unknown> = {};
    for (const t of ['session_invites', 'audit_log'] as const)
      tables[t] = await w.db
        .selectFrom(t as 'session_invites')
        .selectAll()
        .execute();
    const secrets = { linkToken: inv.token, guestCookie: cookie, otherCookie: guest.cookie };
    expectNoSecrets(cap.text(), secrets, 'the log');
    expectNoSecrets(JSON.stringify(tables), secrets, 'the records');
  });
});
