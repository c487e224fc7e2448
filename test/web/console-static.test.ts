import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type TestWeb } from './helpers.ts';

describe('the browser console served by the platform', () => {
  let dir: string;
  let w: TestWeb | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-static-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><script type="module" src="/assets/app-abc123.js"></script>',
    );
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log("app")');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => w?.close());

  it('serves index.html at / (revalidated every load) and hashed assets cached for good, with the security headers', async () => {
    w = await startWeb({ options: { consoleDir: dir } });
    const index = await w.app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const asset = await w.app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // a file written after start (a rebuild) is served too
    writeFileSync(join(dir, 'assets', 'app-def456.js'), 'console.log("new build")');
    expect((await w.app.inject({ method: 'GET', url: '/assets/app-def456.js' })).statusCode).toBe(200);
  });

  it('serves the same app at /guest (an invited guest’s page), public and never stored', async () => {
    w = await startWeb({ options: { consoleDir: dir } });
    const res = await w.app.inject({ method: 'GET', url: '/guest' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('/assets/app-abc123.js');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('keeps the API’s JSON 404 for unknown API routes and answers 404 for missing files; no path escapes the folder', async () => {
    w = await startWeb({ options: { consoleDir: dir } });
    const api = await w.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(api.statusCode).toBe(404);
    expect(codeOf(api)).toBe('NOT_FOUND');
    expect((await w.app.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
    const escape = await w.app.inject({ method: 'GET', url: '/..%2f..%2fetc%2fpasswd' });
    expect([400, 403, 404]).toContain(escape.statusCode);
    expect(escape.body).not.toContain('root:');
  });

  it('without a build, / answers 503 naming the command, and the API still works', async () => {
    w = await startWeb({ options: { consoleDir: join(dir, 'not-built') } });
    const res = await w.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:console');
    expect((await w.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('lists active staff (whom tickets can be assigned to) for staff only', async () => {
    w = await startWeb();
    const dispatcher = await w.login('dispatcher');
    const res = await dispatcher.get('/api/staff');
    expect(res.statusCode).toBe(200);
    expect(
      res
        .json()
        .staff.map((s: { id: string }) => s.id)
        .sort(),
    ).toEqual(['admin', 'dispatcher', 'engineer']);
    expect(res.body).not.toContain('password');
    const admin = await w.login('admin');
    await admin.patch('/api/accounts/engineer', { disabled: true });
    expect((await dispatcher.get('/api/staff')).json().staff.map((s: { id: string }) => s.id)).not.toContain(
      'engineer',
    );
    const customer = await w.login('cust-a');
    expect(codeOf(await customer.get('/api/staff'))).toBe('FORBIDDEN');
    expect((await w.app.inject({ method: 'GET', url: '/api/staff' })).statusCode).toBe(401);
  });
});
