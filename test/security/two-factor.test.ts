import type { LightMyRequestResponse } from 'fastify';
import { generateSync } from 'otplib';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../web/auth/sessions.ts';
import { codeOf, PASSWORD, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 11 (ASVS V2.7, V2.8, V3.7): TOTP second factor. Before, a stolen password was a
 * whole login; now an enrolled account's password alone opens nothing. Codes are single use and
 * throttled; recovery codes work once; REQUIRE_2FA_ROLES makes admins and dispatchers enrol first;
 * admin actions need a recent password or code; the secret is never shown again or stored in clear.
 * Codes are computed with otplib at the test's clock.
 */

const secretOf = (uri: string) => new URL(uri).searchParams.get('secret')!;
const codeAt = (secret: string, ms: number) => generateSync({ secret, epoch: Math.floor(ms / 1000) });

async function enrol(w: TestWeb, agent: Agent): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await agent.post('/api/auth/two-factor/enrol');
  expect(started.statusCode, started.body).toBe(200);
  const { otpauthUri, qrDataUrl } = started.json() as { otpauthUri: string; qrDataUrl: string };
  expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/PowerWatch:.+\?secret=[A-Z2-7]+&issuer=PowerWatch$/);
  expect(qrDataUrl).toMatch(/^data:image\/svg\+xml;base64,/);
  expect(Buffer.from(qrDataUrl.split(',')[1]!, 'base64').toString()).toContain('<svg');
  const secret = secretOf(otpauthUri);
  const confirmed = await agent.post('/api/auth/two-factor/confirm', { code: codeAt(secret, w.now()) });
  expect(confirmed.statusCode, confirmed.body).toBe(200);
  return { secret, recoveryCodes: (confirmed.json() as { recoveryCodes: string[] }).recoveryCodes };
}

const passwordStep = (w: TestWeb, username: string, ip = '10.1.0.1', password = PASSWORD) =>
  w.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress: ip });
const codeStep = (w: TestWeb, body: object, ip = '10.1.0.1') =>
  w.app.inject({ method: 'POST', url: '/api/auth/login/second-factor', payload: body, remoteAddress: ip });
const cookieOf = (res: LightMyRequestResponse) => res.cookies.find((c) => c.name === SESSION_COOKIE)?.value;

describe('TOTP two-factor authentication', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  it('the attack: a stolen password alone no longer logs in an enrolled account', async () => {
    w = await startWeb();
    const { secret } = await enrol(w, await w.login('engineer'));
    w.advance(30_000); // the enrolment's code is spent
    const res = await passwordStep(w, 'engineer');
    expect(res.statusCode).toBe(200);
    expect(cookieOf(res)).toBeUndefined();
    const body = res.json() as { secondFactorRequired: boolean; challenge: string; csrfToken?: string };
    expect(body.secondFactorRequired).toBe(true);
    expect(body.csrfToken).toBeUndefined();
    // the challenge is no session
    const probe = await w.app.inject({
      method: 'GET',
      url: '/api/vehicles',
      cookies: { [SESSION_COOKIE]: body.challenge },
    });
    expect(probe.statusCode).toBe(401);
    // with the code: a session
    const done = await codeStep(w, { challenge: body.challenge, code: codeAt(secret, w.now()) });
    expect(done.statusCode, done.body).toBe(200);
    expect(cookieOf(done)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // the challenge and the code are used up
    w.advance(1);
    const again = await codeStep(w, { challenge: body.challenge, code: codeAt(secret, w.now()) });
    expect(codeOf(again)).toBe('TWO_FACTOR_FAILED');
    const replay = await codeStep(w, {
      challenge: ((await passwordStep(w, 'engineer')).json() as { challenge: string }).challenge,
      code: codeAt(secret, w.now()),
    });
    expect(codeOf(replay), 'the same code a second time').toBe('TWO_FACTOR_FAILED');
    // the next step's code works
    w.advance(30_000);
    const next = await codeStep(w, {
      challenge: ((await passwordStep(w, 'engineer')).json() as { challenge: string }).challenge,
      code: codeAt(secret, w.now()),
    });
    expect(next.statusCode).toBe(200);
    const audit = (await w.ctx.audit.list({ subject: 'account:engineer' })).map((e) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining(['two_factor.enabled', 'login.second_factor_failed', 'login.succeeded']),
    );
  });

  it('guessing codes is throttled like guessing passwords (429 + Retry-After), a challenge takes at most 5 codes', async () => {
    w = await startWeb();
    const { secret } = await enrol(w, await w.login('engineer'));
    w.advance(30_000);
    const challenge = ((await passwordStep(w, 'engineer')).json() as { challenge: string }).challenge;
    const wrong = (c: number) => (c === Number(codeAt(secret, w.now())) ? c + 1 : c);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await codeStep(w, { challenge, code: String(wrong(100000 + i)) })).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401]);
    // the right code from the guessing source now gets the same 429 (a correct guess is not told apart)
    const limited = await codeStep(w, { challenge, code: codeAt(secret, w.now()) });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    // after the wait the challenge is spent (5 codes): the password step again, then the right code passes
    w.advance(2_000);
    expect(codeOf(await codeStep(w, { challenge, code: codeAt(secret, w.now()) }))).toBe('TWO_FACTOR_FAILED');
    w.advance(15 * 60_000);
    const fresh = ((await passwordStep(w, 'engineer')).json() as { challenge: string }).challenge;
    expect((await codeStep(w, { challenge: fresh, code: codeAt(secret, w.now()) })).statusCode).toBe(200);
  });

  it('recovery codes: ten, each works once, stored hashed', async () => {
    w = await startWeb();
    const { recoveryCodes } = await enrol(w, await w.login('engineer'));
    expect(new Set(recoveryCodes).size).toBe(10);
    const stored = JSON.stringify(await w.db.selectFrom('recovery_codes').selectAll().execute());
    for (const c of recoveryCodes) expect(stored).not.toContain(c);
    const use = async (code: string) =>
      codeStep(w, {
        challenge: ((await passwordStep(w, 'engineer')).json() as { challenge: string }).challenge,
        recoveryCode: code,
      });
    expect((await use(recoveryCodes[0]!)).statusCode).toBe(200);
    expect(codeOf(await use(recoveryCodes[0]!))).toBe('TWO_FACTOR_FAILED');
    expect((await use(recoveryCodes[1]!.toUpperCase())).statusCode).toBe(200);
    const status = (await (await w.login('admin')).get('/api/auth/two-factor')).json() as { enabled: boolean };
    expect(status.enabled).toBe(false);
  });

  it('the secret is shown once: never in a later answer, stored encrypted', async () => {
    w = await startWeb();
    const eng = await w.login('engineer');
    const { secret } = await enrol(w, eng);
    const row = await w.db
      .selectFrom('account_totp')
      .selectAll()
      .where('account_id', '=', 'engineer')
      .executeTakeFirstOrThrow();
    expect(row.secret_enc).not.toContain(secret);
    const later = [
      await eng.get('/api/auth/two-factor'),
      await eng.get('/api/auth/session'),
      await (await w.login('admin')).get('/api/accounts/engineer'),
    ];
    for (const r of later) expect(r.body).not.toContain(secret);
    expect(codeOf(await eng.post('/api/auth/two-factor/enrol'))).toBe('TWO_FACTOR_STATE');
  });

  it('REQUIRE_2FA_ROLES: an admin without a second factor can do nothing but enrol (API)', async () => {
    w = await startWeb({
      options: {
        session: { idleTimeoutMs: 3_600_000, maxAgeMs: 8 * 3_600_000, requireTwoFactorRoles: ['admin', 'dispatcher'] },
      },
    });
    const admin = await w.login('admin');
    const session = (await admin.get('/api/auth/session')).json() as { twoFactorRequired: boolean };
    expect(session.twoFactorRequired).toBe(true);
    for (const [method, url] of [
      ['GET', '/api/vehicles'],
      ['GET', '/api/accounts'],
      ['POST', '/api/accounts'],
      ['GET', '/api/auth/sessions'],
    ] as const) {
      const res = await admin.request(
        method,
        url,
        method === 'POST' ? { id: 'x.y', name: 'x', role: 'engineer' } : undefined,
      );
      expect(codeOf(res), `${method} ${url}`).toBe('TWO_FACTOR_REQUIRED');
    }
    // an engineer is not required to
    expect((await (await w.login('engineer')).get('/api/vehicles')).statusCode).toBe(200);
    await enrol(w, admin);
    expect((await admin.get('/api/accounts')).statusCode).toBe(200);
  });

  it('re-authentication: admin actions need the password or a code from the last REAUTH_WINDOW_MS', async () => {
    w = await startWeb({ options: { reauthWindowMs: 10 * 60_000 } });
    const admin = await w.login('admin');
    const { secret } = await enrol(w, admin);
    expect((await admin.post('/api/accounts/engineer/reset-link')).statusCode).toBe(200);
    w.advance(11 * 60_000);
    for (const [method, url, body] of [
      ['POST', '/api/accounts', { id: 'late.one', name: 'Late', role: 'engineer' }],
      ['POST', '/api/accounts/engineer/reset-link', undefined],
      ['POST', '/api/accounts/engineer/reset-password', undefined],
      ['PATCH', '/api/accounts/engineer', { name: 'x' }],
      ['DELETE', '/api/accounts/cust-b', undefined],
      ['POST', '/api/admin/api-tokens', { accountId: 'cust-a', name: 'x', scopes: ['tickets:read'] }],
      ['DELETE', '/api/admin/accounts/engineer/two-factor', undefined],
      ['DELETE', '/api/auth/two-factor', undefined],
    ] as const) {
      const res = await admin.request(method, url, body);
      expect(codeOf(res), `${method} ${url}`).toBe('REAUTH_REQUIRED');
    }
    // reading is not an admin action
    expect((await admin.get('/api/accounts')).statusCode).toBe(200);
    expect(codeOf(await admin.post('/api/auth/reauth', { password: 'not the password' }))).toBe('LOGIN_FAILED');
    expect(codeOf(await admin.post('/api/auth/reauth', { code: '000000' }))).toBe('TWO_FACTOR_FAILED');
    const ok = await admin.post('/api/auth/reauth', { code: codeAt(secret, w.now()) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((ok.json() as { authenticatedAt: number }).authenticatedAt).toBe(w.now());
    expect((await admin.post('/api/accounts', { id: 'late.one', name: 'Late', role: 'engineer' })).statusCode).toBe(
      201,
    );
    w.advance(11 * 60_000);
    expect((await admin.post('/api/auth/reauth', { password: PASSWORD })).statusCode).toBe(200);
    expect((await admin.post('/api/accounts/engineer/reset-link')).statusCode).toBe(200);
    const actions = (await w.ctx.audit.list({ actor: 'admin' })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['reauth.succeeded', 'reauth.failed']));
  });

  it('an admin can turn off a user’s second factor (lost device); the user’s sessions end', async () => {
    w = await startWeb();
    const eng = await w.login('engineer');
    await enrol(w, eng);
    const admin = await w.login('admin');
    expect((await admin.delete('/api/admin/accounts/engineer/two-factor')).statusCode).toBe(204);
    expect((await eng.get('/api/auth/session')).statusCode).toBe(401);
    expect(cookieOf(await passwordStep(w, 'engineer'))).toBeDefined();
    expect(codeOf(await admin.delete('/api/admin/accounts/engineer/two-factor'))).toBe('TWO_FACTOR_STATE');
  });
});
