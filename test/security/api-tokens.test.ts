import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../web/auth/sessions.ts';
import { codeOf, startWeb, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 14 (ASVS V3.5, V4.1): API tokens for integrations. Before, an integration had to
 * log in as a person (a password in a config file, the person's whole role, CSRF tokens). A token
 * is scoped, optionally limited to one unit, expiring, revocable, shown once and stored hashed,
 * passes the same guard and tenant checks as a session, is rate-limited and audited. The tenant
 * matrix (web-tenant-matrix.test.ts) runs every route with tokens too.
 */
const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];

describe('API tokens', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  async function create(body: object): Promise<{ token: string; info: { id: string; lastUsedAt: number | null } }> {
    const admin = await w.login('admin');
    const res = await admin.post('/api/admin/api-tokens', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const bearer = (token: string, method: string, url: string, payload?: object, headers: Record<string, string> = {}) =>
    w.app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(payload ? { payload } : {}),
    });
  const code = (r: LightMyRequestResponse) => codeOf(r);

  it('shown once, stored as a hash; opens only its scopes’ routes, as its account, without CSRF', async () => {
    w = await startWeb();
    const { token, info } = await create({
      accountId: 'cust-a',
      name: 'ERP',
      scopes: ['tickets:create', 'tickets:read'],
    });
    expect(token).toMatch(/^pwt_[A-Za-z0-9_-]{43}$/);
    const stored = JSON.stringify(await w.db.selectFrom('api_tokens').selectAll().execute());
    expect(stored).not.toContain(token);
    const listed = await (await w.login('admin')).get('/api/admin/api-tokens');
    expect(listed.body).not.toContain(token);
    expect(listed.body).toContain(info.id);
    // a ticket for its own unit, no CSRF token needed
    const made = await bearer(token, 'POST', '/api/tickets', {
      vehicleId: 'VA1',
      title: 'No power',
      need: 'help',
      contacts,
    });
    expect(made.statusCode, made.body).toBe(201);
    expect((await bearer(token, 'GET', '/api/tickets')).statusCode).toBe(200);
    // not its scopes
    expect(code(await bearer(token, 'GET', '/api/vehicles'))).toBe('FORBIDDEN');
    expect(code(await bearer(token, 'GET', '/api/vehicles/VA1/telemetry'))).toBe('FORBIDDEN');
    // not routes for sessions
    for (const [m, u] of [
      ['GET', '/api/auth/session'],
      ['GET', '/api/auth/sessions'],
      ['POST', '/api/auth/logout'],
      ['GET', '/api/accounts'],
      ['POST', '/api/tickets/1/comments'],
    ] as const)
      expect(code(await bearer(token, m, u, m === 'POST' ? { text: 'x' } : undefined)), `${m} ${u}`).toBe('FORBIDDEN');
    // the tenant rule of its account: unit B is not found
    expect(
      code(await bearer(token, 'POST', '/api/tickets', { vehicleId: 'VB1', title: 't', need: 'n', contacts })),
    ).toBe('VEHICLE_NOT_FOUND');
  });

  it('a staff token limited to one unit sees only that unit, like its customer', async () => {
    w = await startWeb();
    const { token } = await create({
      accountId: 'dispatcher',
      name: 'BI',
      scopes: ['vehicles:read', 'telemetry:read'],
      customerId: 'CA',
    });
    const fleet = (await bearer(token, 'GET', '/api/vehicles')).json() as { vehicles: { id: string }[] };
    expect(fleet.vehicles.map((v) => v.id)).toEqual(['VA1']);
    expect(code(await bearer(token, 'GET', '/api/vehicles/VB1'))).toBe('VEHICLE_NOT_FOUND');
    expect(code(await bearer(token, 'GET', '/api/vehicles/VB1/telemetry'))).toBe('VEHICLE_NOT_FOUND');
    expect((await bearer(token, 'GET', '/api/vehicles/VA1/telemetry')).statusCode).toBe(200);
    // a customer's token cannot be limited to another unit
    const admin = await w.login('admin');
    const bad = await admin.post('/api/admin/api-tokens', {
      accountId: 'cust-a',
      name: 'x',
      scopes: ['vehicles:read'],
      customerId: 'CB',
    });
    expect(code(bad)).toBe('INVALID_ARGUMENT');
    const unknownScope = await admin.post('/api/admin/api-tokens', {
      accountId: 'cust-a',
      name: 'x',
      scopes: ['accounts:write'],
    });
    expect(code(unknownScope)).toBe('VALIDATION_FAILED');
  });

  it('expires, is revoked at once, and dies with its account; unknown tokens are 401', async () => {
    w = await startWeb();
    const { token, info } = await create({
      accountId: 'cust-a',
      name: 'ERP',
      scopes: ['vehicles:read'],
      expiresInDays: 1,
    });
    const { token: other } = await create({ accountId: 'cust-b', name: 'ERP', scopes: ['vehicles:read'] });
    expect((await bearer(token, 'GET', '/api/vehicles')).statusCode).toBe(200);
    const admin = await w.login('admin');
    expect((await admin.delete(`/api/admin/api-tokens/${info.id}`)).statusCode).toBe(200);
    expect(code(await bearer(token, 'GET', '/api/vehicles'))).toBe('UNAUTHENTICATED');
    expect(code(await bearer(`${token.slice(0, -1)}A`, 'GET', '/api/vehicles'))).toBe('UNAUTHENTICATED');
    expect(code(await bearer('pwt_nothing', 'GET', '/api/vehicles'))).toBe('UNAUTHENTICATED');
    expect((await bearer(other, 'GET', '/api/vehicles')).statusCode).toBe(200);
    await admin.patch('/api/accounts/cust-b', { disabled: true });
    expect(code(await bearer(other, 'GET', '/api/vehicles'))).toBe('UNAUTHENTICATED');
    const { token: short } = await create({
      accountId: 'cust-a',
      name: 'short',
      scopes: ['vehicles:read'],
      expiresInDays: 1,
    });
    w.advance(86_400_000);
    expect(code(await bearer(short, 'GET', '/api/vehicles'))).toBe('UNAUTHENTICATED');
    const actions = (await w.ctx.audit.list({ actor: 'admin' })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['api_token.created', 'api_token.revoked']));
  });

  it('a bearer request is never also a cookie request: both at once is refused', async () => {
    w = await startWeb();
    const { token } = await create({ accountId: 'cust-a', name: 'ERP', scopes: ['vehicles:read'] });
    const admin = await w.login('admin');
    const both = await w.app.inject({
      method: 'GET',
      url: '/api/accounts',
      headers: { authorization: `Bearer ${token}`, 'x-csrf-token': admin.csrf },
      cookies: { [SESSION_COOKIE]: admin.cookie },
    });
    expect(both.statusCode).toBe(401);
    expect(both.body).not.toContain('"accounts"');
    // a garbage Authorization header does not fall back to the cookie either
    const basic = await w.app.inject({
      method: 'GET',
      url: '/api/accounts',
      headers: { authorization: 'Basic YWRtaW46eA==' },
      cookies: { [SESSION_COOKIE]: admin.cookie },
    });
    expect(basic.statusCode).toBe(401);
  });

  it('rate-limited per token (429 + Retry-After, counted), other tokens unaffected; writes audited as api-token; last use recorded', async () => {
    w = await startWeb({ options: { apiTokenRatePerMin: 10 } });
    const { token, info } = await create({
      accountId: 'cust-a',
      name: 'ERP',
      scopes: ['vehicles:read', 'tickets:create'],
    });
    const { token: other } = await create({ accountId: 'cust-a', name: 'other', scopes: ['vehicles:read'] });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await bearer(token, 'GET', '/api/vehicles')).statusCode);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    const limited = await bearer(token, 'GET', '/api/vehicles');
    expect(limited.headers['retry-after']).toBe('6');
    expect(w.counters.get('web.api_token_limited', info.id)).toBe(2);
    expect((await bearer(other, 'GET', '/api/vehicles')).statusCode).toBe(200);
    w.advance(6_000);
    const made = await bearer(token, 'POST', '/api/tickets', {
      vehicleId: 'VA1',
      title: 'No power',
      need: 'help',
      contacts,
    });
    expect(made.statusCode).toBe(201);
    const entry = (await w.ctx.audit.list({ action: 'api_token.request' }))[0]!;
    expect(entry.actor).toBe(`token:${info.id}`);
    expect(entry.source).toBe('api_token');
    expect(entry.details).toMatchObject({ method: 'POST', route: '/api/tickets', status: 201 });
    // the ticket the token made is audited as the token's too
    const created = (await w.ctx.audit.list({ action: 'ticket.created' }))[0]!;
    expect(created.source).toBe('api_token');
    const row = await w.db.selectFrom('api_tokens').selectAll().where('id', '=', info.id).executeTakeFirstOrThrow();
    expect(Number(row.last_used_at)).toBeGreaterThan(0);
  });
});
