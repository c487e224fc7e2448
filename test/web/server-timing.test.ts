import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import type { TelemetryStore } from '../../telemetry/store.ts';
import { startWeb, type TestWeb } from './helpers.ts';

/** The platform's own time over a request, as its `Server-Timing` header gives it (docs/api.md). */
function durOf(res: LightMyRequestResponse, what = ''): number {
  const header = res.headers['server-timing'];
  expect(typeof header, what).toBe('string');
  expect(header, what).toMatch(/^app;dur=\d+\.\d$/);
  return Number((header as string).slice('app;dur='.length));
}

/** The work of a slow store read: the main thread busy for `ms` (not a timer: the request's own time). */
function busy(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Server-Timing: the platform’s own time over each request', () => {
  let w: TestWeb | undefined;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-server-timing-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets', 'app-abc123.js'), 'console.log("app")');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => w?.close());

  it('is on the answers to a signed-in caller, each within the request’s wall time, and on no public answer', async () => {
    w = await startWeb({ options: { consoleDir: dir } });
    const dispatcher = await w.login('dispatcher');
    const customer = await w.login('cust-a');
    const signedIn: [string, () => Promise<LightMyRequestResponse>, number][] = [
      ['fleet list', () => dispatcher.get('/api/vehicles'), 200],
      ['a customer’s fleet list', () => customer.get('/api/vehicles'), 200],
      ['bad query', () => dispatcher.get('/api/vehicles?online=maybe'), 400],
      ['another unit’s vehicle', () => customer.get('/api/vehicles/VB1'), 404],
      ['a change', () => dispatcher.post('/api/auth/logout'), 204],
    ];
    for (const [what, send, status] of signedIn) {
      const t0 = performance.now();
      const res = await send();
      const wall = performance.now() - t0;
      expect(res.statusCode, what).toBe(status);
      const dur = durOf(res, what);
      expect(dur, what).toBeGreaterThanOrEqual(0);
      expect(dur, what).toBeLessThanOrEqual(wall + 0.1);
    }
    // public answers would time the checks of passwords, reset links and tokens for anyone
    const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
      w!.app.inject({ method, url, ...(payload ? { payload } : {}) });
    const anyone: [string, () => Promise<LightMyRequestResponse>, number][] = [
      [
        'a failed login',
        () => inject('POST', '/api/auth/login', { username: 'nobody', password: 'wrong password!' }),
        401,
      ],
      ['a reset link', () => inject('POST', '/api/auth/reset/check', { token: 'x'.repeat(43) }), 404],
      ['without a session', () => inject('GET', '/api/vehicles'), 401],
      ['unknown API route', () => inject('GET', '/api/nothing-here'), 404],
      ['liveness probe', () => inject('GET', '/healthz'), 200],
      ['console page', () => inject('GET', '/'), 200],
      ['console asset', () => inject('GET', '/assets/app-abc123.js'), 200],
      ['unreadable URL', () => inject('GET', '/api/vehicles/%E0%A4%A'), 400],
    ];
    for (const [what, send, status] of anyone) {
      const res = await send();
      expect(res.statusCode, what).toBe(status);
      expect(res.headers['server-timing'], what).toBeUndefined();
    }
  });

  it('counts the handler’s work: a fleet list over a slow store read says so', async () => {
    const inner = createMemoryTelemetryStore();
    const slow: TelemetryStore = Object.assign(Object.create(inner) as TelemetryStore, {
      latestMany: async (ids: string[]) => {
        busy(40);
        return inner.latestMany(ids);
      },
    });
    w = await startWeb({ telemetry: slow });
    const dispatcher = await w.login('dispatcher');
    const t0 = performance.now();
    const res = await dispatcher.get('/api/vehicles');
    const wall = performance.now() - t0;
    expect(res.statusCode).toBe(200);
    const dur = durOf(res);
    expect(dur).toBeGreaterThanOrEqual(40);
    expect(dur).toBeLessThanOrEqual(wall + 0.1);
    await inner.close();
  });
});
