import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccounts } from '../../web/auth/accounts.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { apiAs, connectRefused, httpLogin, openConsole, openLive, type LiveClient } from '../helpers/live-client.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

/**
 * Issue 16, item 13 (ASVS V3.3.4): a user whose password leaked could not see nor end the sessions
 * someone else opened with it; nor could an admin. Now `GET /api/auth/sessions` lists them and
 * revoking one ends it at once — its live connections are cut within a second, like logout. Over
 * the real platform (HTTP, socket.io).
 */
describe('session list and revoke', () => {
  let tp: TestPlatform;
  let base: string;
  const open: LiveClient[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform({ REQUIRE_2FA_ROLES: 'dispatcher' });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CA', name: 'Unit A' });
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['boss', 'admin', null],
      ['victim', 'customer', 'CA'],
      ['other', 'customer', 'CA'],
      ['desk', 'dispatcher', null],
    ] as const)
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
  });
  afterAll(async () => {
    for (const s of open) s.disconnect();
    await tp?.close();
  });

  type Listed = { id: string; current: boolean; ip: string | null; userAgent: string | null; lastSeenAt: number };
  const list = async (login: Parameters<typeof apiAs>[1], path = '/api/auth/sessions') =>
    ((await (await apiAs(base, login, 'GET', path)).json()) as { sessions: Listed[] }).sessions;

  function cutWithinASecond(s: LiveClient): Promise<string> {
    return withTimeout(
      new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason))),
      1000,
      'the disconnect of the revoked session’s socket',
    );
  }

  it('the attack: a session opened elsewhere with a leaked password is listed, and ending it cuts its socket within a second', async () => {
    const mine = await httpLogin(base, 'victim', PASSWORD, { 'user-agent': 'Victim Browser' });
    const thief = await openConsole(base, 'victim', PASSWORD, { opened: open });
    const sessions = await list(mine);
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.find((s) => s.current)!.userAgent).toBe('Victim Browser');
    expect(JSON.stringify(sessions)).not.toContain(mine.token);
    expect(JSON.stringify(sessions)).not.toContain(thief.login.token);
    const theirs = sessions.find((s) => !s.current)!;
    const gone = cutWithinASecond(thief.s);
    const res = await apiAs(base, mine, 'DELETE', `/api/auth/sessions/${theirs.id}`);
    expect(res.status).toBe(204);
    expect(await gone).toBe('io server disconnect');
    expect(thief.rec.got.some((g) => g.event === 'session.ended')).toBe(true);
    expect((await apiAs(base, thief.login, 'GET', '/api/auth/session')).status).toBe(401);
    expect((await connectRefused(openLive(base, { cookie: thief.login.cookie }))).data?.code).toBe('UNAUTHENTICATED');
    // the own session is untouched; the handle is not found a second time
    expect((await apiAs(base, mine, 'GET', '/api/auth/session')).status).toBe(200);
    const twice = await apiAs(base, mine, 'DELETE', `/api/auth/sessions/${theirs.id}`);
    expect(twice.status).toBe(404);
  });

  it('another account’s session cannot be ended through the own list (404 like a missing one)', async () => {
    const mine = await httpLogin(base, 'victim', PASSWORD);
    const other = await httpLogin(base, 'other', PASSWORD);
    const [otherSession] = await list(other);
    const res = await apiAs(base, mine, 'DELETE', `/api/auth/sessions/${otherSession!.id}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('LOGIN_SESSION_NOT_FOUND');
    expect((await apiAs(base, other, 'GET', '/api/auth/session')).status).toBe(200);
  });

  it('an admin lists and ends anyone’s sessions, one or all; sockets are cut; audited', async () => {
    const boss = await httpLogin(base, 'boss', PASSWORD);
    const a = await openConsole(base, 'other', PASSWORD, { opened: open });
    const b = await openConsole(base, 'other', PASSWORD, { opened: open });
    const listed = await list(boss, '/api/admin/accounts/other/sessions');
    expect(listed.length).toBeGreaterThanOrEqual(2);
    const first = (await list(a.login)).find((s) => s.current)!;
    const goneA = cutWithinASecond(a.s);
    expect((await apiAs(base, boss, 'DELETE', `/api/admin/accounts/other/sessions/${first.id}`)).status).toBe(204);
    expect(await goneA).toBe('io server disconnect');
    expect(b.s.connected).toBe(true);
    const goneB = cutWithinASecond(b.s);
    const all = await apiAs(base, boss, 'DELETE', '/api/admin/accounts/other/sessions');
    expect(((await all.json()) as { ended: number }).ended).toBeGreaterThanOrEqual(1);
    expect(await goneB).toBe('io server disconnect');
    const audit = await tp.platform.records
      .selectFrom('audit_log')
      .select(['actor', 'action', 'subject'])
      .where('subject', '=', 'account:other')
      .execute();
    expect(audit).toEqual(
      expect.arrayContaining([
        { actor: 'boss', action: 'session.revoked', subject: 'account:other' },
        { actor: 'boss', action: 'session.revoked_all', subject: 'account:other' },
      ]),
    );
  });

  it('REQUIRE_2FA_ROLES holds on the live channel too: a dispatcher without a second factor is refused', async () => {
    const desk = await httpLogin(base, 'desk', PASSWORD);
    const err = await connectRefused(openLive(base, { cookie: desk.cookie }));
    expect(err.data?.code).toBe('TWO_FACTOR_REQUIRED');
    const res = await apiAs(base, desk, 'GET', '/api/vehicles');
    expect(res.status).toBe(403);
  });
});
