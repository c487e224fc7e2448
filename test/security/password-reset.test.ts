import { afterEach, describe, expect, it } from 'vitest';
import { codeOf, PASSWORD, startWeb, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 12 (ASVS V2.5): password reset by an admin-issued one-time link. Before, the only
 * reset was an admin reading out a password (the admin knew it). The link's token is 256 random
 * bits, stored as a hash, works once and until it expires, a newer link cancels it, guessing is
 * throttled, and using it ends every session of the account.
 */
const reset = (w: TestWeb, token: string, newPassword = 'a sturdy new passphrase', ip = '10.2.0.1') =>
  w.app.inject({ method: 'POST', url: '/api/auth/reset', payload: { token, newPassword }, remoteAddress: ip });
const check = (w: TestWeb, token: string, ip = '10.2.0.1') =>
  w.app.inject({ method: 'POST', url: '/api/auth/reset/check', payload: { token }, remoteAddress: ip });

describe('password reset links', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  it('an admin issues a link; the admin never learns the new password; it works once and ends the sessions', async () => {
    w = await startWeb();
    const admin = await w.login('admin');
    const victim = await w.login('engineer');
    const issued = await admin.post('/api/accounts/engineer/reset-link');
    expect(issued.statusCode).toBe(200);
    const { token, path, expiresAt } = issued.json() as { token: string; path: string; expiresAt: number };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(path).toBe(`/#/reset?token=${token}`); // in the fragment: never sent to a server or a log
    expect(expiresAt).toBe(w.now() + 24 * 3_600_000);
    expect(JSON.stringify(await w.db.selectFrom('password_resets').selectAll().execute())).not.toContain(token);
    // the old password still works until the link is used
    await w.login('engineer');
    expect((await check(w, token)).json()).toEqual({ accountId: 'engineer', expiresAt });
    expect((await reset(w, token)).statusCode).toBe(204);
    expect((await victim.get('/api/auth/session')).statusCode).toBe(401);
    await w.login('engineer', 'a sturdy new passphrase');
    await expect(w.login('engineer', PASSWORD)).rejects.toThrow(/401/);
    // once only
    expect(codeOf(await reset(w, token, 'yet another passphrase'))).toBe('RESET_LINK_INVALID');
    expect(codeOf(await check(w, token))).toBe('RESET_LINK_INVALID');
    const actions = (await w.ctx.audit.list({ subject: 'account:engineer' })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['account.reset_link_issued', 'account.password_reset_by_link']));
  });

  it('expires, and a newer link cancels the older one', async () => {
    w = await startWeb({ options: { resetLinkTtlMs: 60 * 60_000 } });
    const first = await w.ctx.resets.issue('engineer', 'admin');
    const second = await w.ctx.resets.issue('engineer', 'admin');
    expect(codeOf(await reset(w, first.token))).toBe('RESET_LINK_INVALID');
    w.advance(60 * 60_000);
    expect(codeOf(await reset(w, second.token))).toBe('RESET_LINK_INVALID');
    await w.login('engineer');
  });

  it('guessing links is throttled per address (429 + Retry-After), and a guessed link is just not found', async () => {
    w = await startWeb();
    const real = await w.ctx.resets.issue('engineer', 'admin');
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await reset(w, `${'g'.repeat(40)}${String(i).padStart(3, '0')}`)).statusCode);
    // like failed logins: the 5th failure from one address makes it wait (LOGIN_MAX_FAILURES)
    expect(codes).toEqual([404, 404, 404, 404, 404, 429]);
    const limited = await reset(w, real.token, 'a sturdy new passphrase', '10.2.0.1');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    // another address uses the real link
    expect((await reset(w, real.token, 'a sturdy new passphrase', '10.2.0.2')).statusCode).toBe(204);
  });

  it('only an admin issues links, and only with a recent proof of identity', async () => {
    w = await startWeb({ options: { reauthWindowMs: 5 * 60_000 } });
    expect(codeOf(await (await w.login('dispatcher')).post('/api/accounts/engineer/reset-link'))).toBe('FORBIDDEN');
    const admin = await w.login('admin');
    w.advance(6 * 60_000);
    expect(codeOf(await admin.post('/api/accounts/engineer/reset-link'))).toBe('REAUTH_REQUIRED');
    expect(codeOf(await admin.post('/api/accounts/nobody.here/reset-link'))).toBe('REAUTH_REQUIRED');
    await admin.post('/api/auth/reauth', { password: PASSWORD });
    expect(codeOf(await admin.post('/api/accounts/nobody.here/reset-link'))).toBe('ACCOUNT_NOT_FOUND');
  });
});
