import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, PASSWORD, startWeb, type Agent, type TestWeb } from './helpers.ts';

describe('accounts, customers, audit log, plans', () => {
  let w: TestWeb;
  let admin: Agent;
  beforeEach(async () => {
    w = await startWeb();
    admin = await w.login('admin');
  });
  afterEach(async () => w.close());

  it('creates an account with a generated one-time password, shown once; the new user must change it', async () => {
    const res = await admin.post('/api/accounts', { id: 'Wang.Fang', name: '王芳', role: 'dispatcher' });
    expect(res.statusCode, res.body).toBe(201);
    const { account, password } = res.json();
    expect(account).toMatchObject({
      id: 'wang.fang',
      name: '王芳',
      role: 'dispatcher',
      customerId: null,
      mustChangePassword: true,
      disabled: false,
    });
    expect(password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect((await admin.get('/api/accounts/wang.fang')).body).not.toContain(password);
    const user = await w.login('wang.fang', password);
    expect(codeOf(await user.get('/api/tickets'))).toBe('PASSWORD_CHANGE_REQUIRED');
    const chosen = await admin.post('/api/accounts', {
      id: 'zhao',
      name: 'Zhao',
      role: 'engineer',
      password: 'chosen by the admin',
    });
    expect(chosen.json().password).toBeUndefined();
    expect(codeOf(await admin.post('/api/accounts', { id: 'zhao', name: 'Zhao', role: 'engineer' }))).toBe(
      'ACCOUNT_EXISTS',
    );
    expect(
      codeOf(await admin.post('/api/accounts', { id: 'qian', name: 'Qian', role: 'engineer', password: 'short' })),
    ).toBe('PASSWORD_TOO_SHORT');
    const audit = await w.ctx.audit.list({ action: 'account.created' });
    expect(audit.map((e) => e.subject).sort()).toEqual(['account:wang.fang', 'account:zhao']);
    expect(JSON.stringify(audit)).not.toContain(password);
  });

  it('binds customer accounts to an existing unit, and only customer accounts', async () => {
    const noUnit = await admin.post('/api/accounts', { id: 'sun', name: 'Sun', role: 'customer' });
    expect(noUnit.statusCode).toBe(400);
    expect(noUnit.json().error).toEqual({
      code: 'INVALID_ARGUMENT',
      message: 'a customer account must be bound to a customer unit (customerId)',
    });
    expect(
      codeOf(await admin.post('/api/accounts', { id: 'sun', name: 'Sun', role: 'customer', customerId: 'CZ' })),
    ).toBe('CUSTOMER_NOT_FOUND');
    expect(
      codeOf(await admin.post('/api/accounts', { id: 'sun', name: 'Sun', role: 'engineer', customerId: 'CA' })),
    ).toBe('INVALID_ARGUMENT');
    const ok = await admin.post('/api/accounts', { id: 'sun', name: 'Sun', role: 'customer', customerId: 'CB' });
    expect(ok.json().account).toMatchObject({ role: 'customer', customerId: 'CB' });
    // becoming staff drops the binding
    const staff = await admin.patch('/api/accounts/sun', { role: 'engineer', customerId: null });
    expect(staff.json()).toMatchObject({ role: 'engineer', customerId: null });
    expect(
      (await admin.get('/api/accounts?role=customer'))
        .json()
        .accounts.map((a: { id: string }) => a.id)
        .sort(),
    ).toEqual(['cust-a', 'cust-b']);
    expect((await admin.get('/api/accounts?customerId=CA')).json().accounts.map((a: { id: string }) => a.id)).toEqual([
      'cust-a',
    ]);
  });

  it('a change of role or unit ends the account’s sessions; a rename does not; all audited with what changed', async () => {
    const cust = await w.login('cust-a');
    expect((await admin.patch('/api/accounts/cust-a', { name: 'Customer A' })).statusCode).toBe(200);
    expect((await cust.get('/api/vehicles')).statusCode).toBe(200);
    expect((await admin.patch('/api/accounts/cust-a', { customerId: 'CB' })).json()).toMatchObject({
      customerId: 'CB',
    });
    expect((await cust.get('/api/vehicles')).statusCode).toBe(401);
    const moved = await w.login('cust-a');
    expect((await moved.get('/api/vehicles')).json().vehicles.map((v: { id: string }) => v.id)).toEqual(['VB1']);
    const audit = await w.ctx.audit.list({ action: 'account.updated', subject: 'account:cust-a' });
    expect(audit.map((e) => e.details)).toEqual([
      { customerId: { from: 'CA', to: 'CB' } },
      { name: { from: 'cust-a', to: 'Customer A' } },
    ]);
    expect(codeOf(await admin.patch('/api/accounts/nobody', { name: 'x' }))).toBe('ACCOUNT_NOT_FOUND');
  });

  it('keeps the last enabled admin: it can be neither removed, disabled nor demoted (409 LAST_ADMIN)', async () => {
    for (const res of [
      await admin.delete('/api/accounts/admin'),
      await admin.patch('/api/accounts/admin', { role: 'engineer' }),
    ]) {
      expect(res.statusCode).toBe(409);
      expect(codeOf(res)).toBe('LAST_ADMIN');
    }
    // nor does an admin disable its own account, last or not (409 ADMIN_LOCKOUT)
    const self = await admin.patch('/api/accounts/admin', { disabled: true });
    expect([self.statusCode, codeOf(self)]).toEqual([409, 'ADMIN_LOCKOUT']);
    await admin.post('/api/accounts', { id: 'admin2', name: 'Second', role: 'admin' });
    const again = await admin.patch('/api/accounts/admin', { disabled: true });
    expect([again.statusCode, codeOf(again)]).toEqual([409, 'ADMIN_LOCKOUT']);
    expect((await admin.get('/api/accounts/admin')).json()).toMatchObject({ disabled: false });
    expect((await admin.patch('/api/accounts/admin2', { disabled: true })).statusCode).toBe(200);
    expect((await admin.patch('/api/accounts/admin2', { disabled: false })).statusCode).toBe(200);
    expect((await admin.patch('/api/accounts/admin', { role: 'dispatcher' })).statusCode).toBe(200);
    expect((await admin.get('/api/accounts')).statusCode).toBe(401); // its own sessions ended with the role change
  });

  it('resets a password: a one-time password once, the sessions end, the old password stops working', async () => {
    const eng = await w.login('engineer');
    const res = await admin.post('/api/accounts/engineer/reset-password');
    expect(res.statusCode).toBe(200);
    const { password, account } = res.json();
    expect(account.mustChangePassword).toBe(true);
    expect((await eng.get('/api/vehicles')).statusCode).toBe(401);
    expect(
      codeOf(
        await w.app.inject({
          method: 'POST',
          url: '/api/auth/login',
          payload: { username: 'engineer', password: PASSWORD },
        }),
      ),
    ).toBe('LOGIN_FAILED');
    await w.login('engineer', password);
    expect(codeOf(await admin.post('/api/accounts/nobody/reset-password'))).toBe('ACCOUNT_NOT_FOUND');
  });

  it('removes an account: its sessions end and it can no longer log in', async () => {
    const eng = await w.login('engineer');
    expect((await admin.delete('/api/accounts/engineer')).statusCode).toBe(204);
    expect((await eng.get('/api/vehicles')).statusCode).toBe(401);
    expect(codeOf(await admin.delete('/api/accounts/engineer'))).toBe('ACCOUNT_NOT_FOUND');
    expect((await w.ctx.audit.list({ action: 'account.removed' })).map((e) => e.subject)).toEqual(['account:engineer']);
  });

  it('manages customer units; a customer reads only its own unit', async () => {
    const res = await admin.post('/api/customers', { id: 'CC', name: '第三保障大队' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: 'CC', name: '第三保障大队', vehicleCount: 0 });
    expect(codeOf(await admin.post('/api/customers', { id: 'CC', name: 'again' }))).toBe('CUSTOMER_EXISTS');
    expect(codeOf(await admin.post('/api/customers', { id: 'bad id', name: 'x' }))).toBe('VALIDATION_FAILED');
    expect((await admin.patch('/api/customers/CC', { name: 'Third unit' })).json().name).toBe('Third unit');
    expect(codeOf(await admin.patch('/api/customers/CZ', { name: 'x' }))).toBe('CUSTOMER_NOT_FOUND');
    const disp = await w.login('dispatcher');
    const list = (await disp.get('/api/customers')).json().customers;
    expect(list.map((c: { id: string; vehicleCount: number }) => [c.id, c.vehicleCount])).toEqual([
      ['CA', 1],
      ['CB', 1],
      ['CC', 0],
    ]);
    const cust = await w.login('cust-a');
    expect((await cust.get('/api/customers/CA')).json()).toMatchObject({ id: 'CA', vehicleCount: 1 });
    expect(codeOf(await cust.get('/api/customers/CC'))).toBe('CUSTOMER_NOT_FOUND');
    expect(codeOf(await cust.get('/api/customers'))).toBe('FORBIDDEN');
  });

  it('the audit log lists logins, account changes and ticket actions, newest first, with filters', async () => {
    await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: 'not the password' },
    });
    const t = await w.ticket('VA1');
    const disp = await w.login('dispatcher');
    await disp.post(`/api/tickets/${t.id}/transitions`, { action: 'determine_work_content' });
    const all = (await admin.get('/api/audit')).json().entries as {
      action: string;
      actor: string;
      at: number;
      ip: string | null;
    }[];
    expect(all.map((e) => e.action)).toEqual([
      'ticket.transition',
      'login.succeeded',
      'login.failed',
      'login.succeeded',
    ]);
    expect(all[0]).toMatchObject({ actor: 'dispatcher', ip: expect.any(String) });
    expect(
      (await admin.get('/api/audit?actor=engineer')).json().entries.map((e: { action: string }) => e.action),
    ).toEqual(['login.failed']);
    expect((await admin.get('/api/audit?action=login.succeeded&limit=1')).json().entries).toHaveLength(1);
    expect((await admin.get(`/api/audit?since=${w.now() + 1}`)).json().entries).toEqual([]);
  });

  it('serves the emergency plans with review dates; overdue ones; 404 for an unknown code', async () => {
    const eng = await w.login('engineer');
    const plans = (await eng.get('/api/plans')).json().plans as {
      code: string;
      reviewDueAt: number;
      overdue: boolean;
    }[];
    expect(plans.length).toBeGreaterThan(3);
    expect(plans.map((p) => p.code)).toContain('GEN-START-FAIL');
    const one = (await eng.get('/api/plans/GEN-START-FAIL')).json();
    expect(one).toMatchObject({
      code: 'GEN-START-FAIL',
      title: { en: expect.any(String), zh: expect.any(String) },
      recommendedMode: expect.any(String),
    });
    expect(one.reviewDueAt).toBe(Date.parse(one.reviewedAt) + one.reviewEveryDays * 86_400_000);
    expect((await eng.get('/api/plans/overdue')).json().plans).toEqual([]);
    w.advance(3 * 365 * 86_400_000);
    const later = await w.login('engineer'); // the old session has long ended
    const overdue = (await later.get('/api/plans/overdue')).json().plans as { overdue: boolean }[];
    expect(overdue).toHaveLength(plans.length);
    expect(overdue.every((p) => p.overdue)).toBe(true);
    const missing = await later.get('/api/plans/NO-SUCH-PLAN');
    expect(missing.json().error).toEqual({ code: 'PLAN_NOT_FOUND', message: 'no emergency plan for NO-SUCH-PLAN' });
  });

  it('answers the vocabulary with Chinese and English labels', async () => {
    const cust = await w.login('cust-a');
    const meta = (await cust.get('/api/meta')).json();
    expect(meta.ticketLevels.extra_urgent).toEqual({ en: 'Extra urgent', zh: '特急' });
    expect(meta.ticketLevels.urgent.zh).toBe('加急');
    expect(meta.serviceModes.remote_support.zh).toBe('远程技术支援');
    expect(meta.ticketActions.close.roles).toEqual(['admin', 'dispatcher']);
  });
});
