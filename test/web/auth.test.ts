import { afterEach, describe, expect, it } from 'vitest';
import { openTestRecords } from '../helpers/records.ts';
import { SESSION_COOKIE } from '../../web/auth/sessions.ts';
import { captureLogger, codeOf, PASSWORD, startWeb, type TestWeb } from './helpers.ts';

describe('web console: login, session cookie, CSRF, rate limit, expiry', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  it('logs in: session cookie is __Host-, Secure, HttpOnly, SameSite=Strict, Path=/, no Domain; returns the CSRF token', async () => {
    w = await startWeb();
    const res = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'Dispatcher', password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.account).toMatchObject({ id: 'dispatcher', role: 'dispatcher', customerId: null });
    expect(body.account).not.toHaveProperty('passwordHash');
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(body.expiresAt).toBe(w.now() + 8 * 3_600_000);
    const raw = String(res.headers['set-cookie']);
    expect(raw).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{40,};`));
    expect(raw).toContain('Secure');
    expect(raw).toContain('HttpOnly');
    expect(raw).toContain('SameSite=Strict');
    expect(raw).toContain('Path=/');
    expect(raw).toContain(`Max-Age=${8 * 3600}`);
    expect(raw).not.toMatch(/Domain=/i);
    const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE)!;
    const me = await w.app.inject({
      method: 'GET',
      url: '/api/auth/session',
      cookies: { [SESSION_COOKIE]: cookie.value },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ account: { id: 'dispatcher' }, csrfToken: body.csrfToken });
  });

  it('tells a page whether it is signed in without an error status: the session, or null (an ended one’s cookie cleared)', async () => {
    w = await startWeb();
    const anonymous = await w.app.inject({ method: 'GET', url: '/api/auth/state' });
    expect([anonymous.statusCode, anonymous.json()]).toEqual([200, { session: null }]);
    const login = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: PASSWORD },
    });
    const cookie = login.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
    const signedIn = await w.app.inject({
      method: 'GET',
      url: '/api/auth/state',
      cookies: { [SESSION_COOKIE]: cookie },
    });
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json().session).toMatchObject({
      account: { id: 'engineer' },
      csrfToken: login.json().csrfToken,
    });
    await w.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      cookies: { [SESSION_COOKIE]: cookie },
      headers: { 'x-csrf-token': login.json().csrfToken, origin: 'http://localhost' },
    });
    const ended = await w.app.inject({ method: 'GET', url: '/api/auth/state', cookies: { [SESSION_COOKIE]: cookie } });
    expect([ended.statusCode, ended.json()]).toEqual([200, { session: null }]);
    expect(String(ended.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
  });

  it('stores only a hash of the session token', async () => {
    w = await startWeb();
    const a = await w.login('engineer');
    const rows = await w.db.selectFrom('sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).not.toContain(a.cookie);
    expect(rows[0]!.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a wrong password and an unknown account with the same answer, and audits both', async () => {
    w = await startWeb();
    const bad = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: 'wrong password here' },
    });
    const unknown = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'nobody', password: 'wrong password here' },
    });
    for (const r of [bad, unknown]) {
      expect(r.statusCode).toBe(401);
      expect(r.json()).toEqual({ error: { code: 'LOGIN_FAILED', message: 'wrong username or password' } });
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    const audit = await w.ctx.audit.list({ action: 'login.failed' });
    expect(audit.map((e) => [e.actor, (e.details as { reason: string }).reason]).sort()).toEqual([
      ['engineer', 'bad_password'],
      [expect.stringMatching(/^unknown:[0-9a-f]{12}$/), 'unknown_account'],
    ]);
  });

  it('keeps only a fingerprint of a name that is no account: it may be a password typed into the wrong field', async () => {
    const cap = captureLogger('debug');
    w = await startWeb({ log: cap.log });
    const slip = 'My-Secret-Passw0rd';
    await w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: slip, password: 'x' } });
    await w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: slip, password: 'x' } });
    const audit = await w.ctx.audit.list({ action: 'login.failed' });
    expect(JSON.stringify(audit).toLowerCase()).not.toContain(slip.toLowerCase());
    expect(cap.text().toLowerCase()).not.toContain(slip.toLowerCase());
    // the same slip twice gives the same fingerprint, so repeated attempts can still be told apart
    expect(new Set(audit.map((e) => e.actor)).size).toBe(1);
  });

  it('answers 400 VALIDATION_FAILED for a malformed login, naming the field', async () => {
    w = await startWeb();
    const cases = [
      { username: 'x' },
      { username: '', password: 'p' },
      { username: 'x', password: 'p', extra: 1 },
      { username: 5, password: 'p' },
    ];
    for (const payload of cases) {
      const res = await w.app.inject({ method: 'POST', url: '/api/auth/login', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(codeOf(res)).toBe('VALIDATION_FAILED');
      expect(res.json().error.message).toMatch(/^body[.:]/);
    }
    const notJson = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(codeOf(notJson)).toBe('INVALID_JSON');
    const form = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'username=a&password=b',
    });
    expect(form.statusCode).toBe(415);
    expect(codeOf(form)).toBe('UNSUPPORTED_MEDIA_TYPE');
    // text/plain is what a cross-site form can send without a preflight
    const plain = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: '{"username":"admin","password":"x"}',
    });
    expect(plain.statusCode).toBe(415);
    const huge = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'a', password: 'x'.repeat(300 * 1024) },
    });
    expect(huge.statusCode).toBe(413);
    expect(codeOf(huge)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('limits failed logins per account and address: that source gets 429 with Retry-After, even with the right password; the account works from elsewhere', async () => {
    const cap = captureLogger('info');
    w = await startWeb({ log: cap.log });
    for (let i = 0; i < 5; i++) {
      const r = await w.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'engineer', password: `guess number ${i}` },
        remoteAddress: '10.1.0.1',
      });
      expect(r.statusCode).toBe(401);
    }
    const locked = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: PASSWORD },
      remoteAddress: '10.1.0.1',
    });
    expect(locked.statusCode).toBe(429);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // one warning when the wait begins, not one per refused attempt
    await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: PASSWORD },
      remoteAddress: '10.1.0.1',
    });
    expect(
      cap.lines().filter((l) => l.level === 40 && String(l.msg).includes('too many failed logins for this account')),
    ).toHaveLength(1);
    // the same account from another address, and another account from that address, are not affected
    for (const [username, remoteAddress] of [
      ['engineer', '10.1.0.99'],
      ['dispatcher', '10.1.0.1'],
    ] as const)
      expect(
        (
          await w.app.inject({
            method: 'POST',
            url: '/api/auth/login',
            payload: { username, password: PASSWORD },
            remoteAddress,
          })
        ).statusCode,
        `${username} from ${remoteAddress}`,
      ).toBe(200);
    w.advance(1000);
    expect(
      (
        await w.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'engineer', password: PASSWORD },
          remoteAddress: '10.1.0.1',
        })
      ).statusCode,
    ).toBe(200);
  });

  it('limits failed logins per client address across accounts', async () => {
    w = await startWeb({ options: { login: { maxPerAccount: 5, maxPerIp: 8, windowMs: 60_000 } } });
    for (let i = 0; i < 8; i++) {
      const r = await w.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: `user${i}`, password: 'nope nope nope' },
        remoteAddress: '192.0.2.7',
      });
      expect(r.statusCode).toBe(401);
    }
    const blocked = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: PASSWORD },
      remoteAddress: '192.0.2.7',
    });
    expect(blocked.statusCode).toBe(429);
    const elsewhere = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: PASSWORD },
      remoteAddress: '192.0.2.8',
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('a successful login clears the failure count of its account from its address', async () => {
    w = await startWeb();
    const fail = () =>
      w.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'engineer', password: 'wrong wrong wrong' },
      });
    for (let i = 0; i < 4; i++) expect((await fail()).statusCode).toBe(401);
    await w.login('engineer', PASSWORD, '127.0.0.1'); // inject's own address, as fail() uses
    for (let i = 0; i < 4; i++) expect((await fail()).statusCode).toBe(401);
    expect(
      (
        await w.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'engineer', password: PASSWORD },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('requires the CSRF token on state-changing requests (403 CSRF_INVALID), and refuses cross-site origins', async () => {
    w = await startWeb();
    const a = await w.login('dispatcher');
    const body = {
      title: 't',
      need: 'n',
      level: 'urgent',
      customerId: 'CA',
      contacts: [{ name: 'Li', phone: '0730-7650002' }],
    };
    const none = await a.request('POST', '/api/tickets', body, { 'x-csrf-token': '' });
    expect(none.statusCode).toBe(403);
    expect(codeOf(none)).toBe('CSRF_INVALID');
    const wrong = await a.request('POST', '/api/tickets', body, {
      'x-csrf-token': a.csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    });
    expect(codeOf(wrong)).toBe('CSRF_INVALID');
    const other = await w.login('engineer');
    const stolen = await a.request('POST', '/api/tickets', body, { 'x-csrf-token': other.csrf });
    expect(codeOf(stolen)).toBe('CSRF_INVALID');
    const crossSite = await a.request('POST', '/api/tickets', body, { origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(codeOf(crossSite)).toBe('CSRF_INVALID');
    const fetchMeta = await a.request('POST', '/api/tickets', body, { 'sec-fetch-site': 'cross-site' });
    expect(codeOf(fetchMeta)).toBe('CSRF_INVALID');
    const loginCrossSite = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { origin: 'https://evil.example' },
      payload: { username: 'admin', password: PASSWORD },
    });
    expect(codeOf(loginCrossSite)).toBe('CSRF_INVALID');
    const ok = await a.request('POST', '/api/tickets', body, { origin: 'http://localhost:80' });
    expect(ok.statusCode).toBe(201);
    // reads need no token
    expect((await a.request('GET', '/api/tickets', undefined, { 'x-csrf-token': '' })).statusCode).toBe(200);
  });

  it('logs out: 204, the cookie is cleared and the session is gone', async () => {
    w = await startWeb();
    const a = await w.login('engineer');
    const out = await a.post('/api/auth/logout');
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`));
    const after = await a.get('/api/vehicles');
    expect(after.statusCode).toBe(401);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    expect((await w.ctx.audit.list({ action: 'logout' })).map((e) => e.actor)).toEqual(['engineer']);
  });

  it('ends a session after the idle timeout and after its absolute lifetime', async () => {
    w = await startWeb();
    const idle = await w.login('engineer');
    w.advance(59 * 60_000);
    expect((await idle.get('/api/vehicles')).statusCode).toBe(200);
    w.advance(59 * 60_000); // active 59 min ago: still alive
    expect((await idle.get('/api/vehicles')).statusCode).toBe(200);
    w.advance(60 * 60_000 + 1);
    const gone = await idle.get('/api/vehicles');
    expect(gone.statusCode).toBe(401);
    expect(gone.json().error.message).toMatch(/ended/);
    expect(String(gone.headers['set-cookie'])).toMatch(new RegExp(`${SESSION_COOKIE}=;`)); // the browser drops the dead cookie
    expect(await w.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
    const busy = await w.login('engineer');
    for (let i = 0; i < 8; i++) {
      w.advance(55 * 60_000);
      const r = await busy.get('/api/vehicles');
      expect(r.statusCode, `after ${(i + 1) * 55} min`).toBe(i < (8 * 60) / 55 - 1 ? 200 : 401);
    }
  });

  it('answers 401 for an unknown or malformed session cookie', async () => {
    w = await startWeb();
    for (const value of ['x', 'A'.repeat(43), 'A'.repeat(500)]) {
      const r = await w.app.inject({ method: 'GET', url: '/api/vehicles', cookies: { [SESSION_COOKIE]: value } });
      expect(r.statusCode).toBe(401);
      expect(codeOf(r)).toBe('UNAUTHENTICATED');
    }
  });

  it('a one-time password must be changed before anything else; the change ends the other sessions', async () => {
    w = await startWeb();
    await w.ctx.accounts.add({
      id: 'new.one',
      name: 'New',
      role: 'engineer',
      password: 'temporary password 1',
      mustChangePassword: true,
    });
    const other = await w.login('new.one', 'temporary password 1');
    const a = await w.login('new.one', 'temporary password 1');
    const blocked = await a.get('/api/vehicles');
    expect(blocked.statusCode).toBe(403);
    expect(codeOf(blocked)).toBe('PASSWORD_CHANGE_REQUIRED');
    expect((await a.get('/api/auth/session')).json().account.mustChangePassword).toBe(true);
    const wrong = await a.post('/api/auth/password', {
      currentPassword: 'not it at all',
      newPassword: 'a brand new password',
    });
    expect(codeOf(wrong)).toBe('LOGIN_FAILED');
    const short = await a.post('/api/auth/password', { currentPassword: 'temporary password 1', newPassword: 'short' });
    expect(short.statusCode).toBe(400);
    expect(codeOf(short)).toBe('PASSWORD_TOO_SHORT');
    const same = await a.post('/api/auth/password', {
      currentPassword: 'temporary password 1',
      newPassword: 'temporary password 1',
    });
    expect(codeOf(same)).toBe('INVALID_ARGUMENT');
    const ok = await a.post('/api/auth/password', {
      currentPassword: 'temporary password 1',
      newPassword: 'a brand new password',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().account.mustChangePassword).toBe(false);
    expect((await a.get('/api/vehicles')).statusCode).toBe(200);
    expect((await other.get('/api/vehicles')).statusCode).toBe(401);
    await w.login('new.one', 'a brand new password');
    expect((await w.ctx.audit.list({ action: 'account.password_changed' })).map((e) => e.actor)).toEqual(['new.one']);
  });

  it('a disabled account’s sessions end at once', async () => {
    w = await startWeb();
    const eng = await w.login('engineer');
    const admin = await w.login('admin');
    expect((await admin.patch('/api/accounts/engineer', { disabled: true })).statusCode).toBe(200);
    expect((await eng.get('/api/vehicles')).statusCode).toBe(401);
    const again = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: PASSWORD },
    });
    expect(codeOf(again)).toBe('LOGIN_FAILED');
  });

  it('sets security headers (helmet) and no-store on API answers', async () => {
    w = await startWeb();
    const a = await w.login('engineer');
    for (const res of [
      await a.get('/api/vehicles'),
      await w.app.inject({ method: 'GET', url: '/healthz' }),
      await w.app.inject({ method: 'GET', url: '/api/nothing' }),
    ]) {
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
    expect((await a.get('/api/vehicles')).headers['cache-control']).toBe('no-store');
  });

  it('never writes a password or a session token to the log', async () => {
    const cap = captureLogger('trace');
    w = await startWeb({ log: cap.log });
    const a = await w.login('engineer');
    await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: 'a wrong secret pass' },
    });
    await a.post('/api/auth/password', { currentPassword: PASSWORD, newPassword: 'another good password' });
    await a.get('/api/vehicles');
    const text = cap.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [PASSWORD, 'a wrong secret pass', 'another good password', a.cookie, a.csrf])
      expect(text).not.toContain(secret);
    const audit = JSON.stringify(await w.ctx.audit.list());
    for (const secret of [PASSWORD, 'a wrong secret pass', 'another good password', a.cookie])
      expect(audit).not.toContain(secret);
  });
});

describe('first start', () => {
  it('creates admin with a one-time setup password, printed once at warn, never again', async () => {
    const db = await openTestRecords();
    const first = captureLogger('info');
    const w1 = await startWeb({ db, log: first.log, seed: false, options: { bootstrapAdmin: true } });
    const warnings = first.lines().filter((l) => l.level === 40 && String(l.msg).includes('setup password'));
    expect(warnings).toHaveLength(1);
    const password = /setup password (\S+)/.exec(String(warnings[0]!.msg))![1]!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    const admin = await w1.login('admin', password);
    expect(codeOf(await admin.get('/api/accounts'))).toBe('PASSWORD_CHANGE_REQUIRED');
    expect(
      (await admin.post('/api/auth/password', { currentPassword: password, newPassword: 'my own admin password' }))
        .statusCode,
    ).toBe(200);
    expect((await admin.get('/api/accounts')).statusCode).toBe(200);
    await w1.app.close();

    const second = captureLogger('info');
    const w2 = await startWeb({ db, log: second.log, seed: false, options: { bootstrapAdmin: true } });
    expect(second.text()).not.toContain('setup password');
    await w2.login('admin', 'my own admin password');
    await w2.close();
    await db.destroy();
  });
});
