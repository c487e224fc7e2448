import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appTiming } from '../../bench/live/stats.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import type { TelemetryStore } from '../../telemetry/store.ts';
import { startWeb, type TestWeb } from './helpers.ts';

/** The platform's own time over a request, as its `Server-Timing` header gives it (docs/api.md). */
function durOf(res: LightMyRequestResponse, what = ''): number {
  const header = res.headers['server-timing'];
  expect(typeof header, what).toBe('string');
  expect(header, what).toMatch(/^app;dur=\d+\.\d$/);
  return appTiming(header as string)!;
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

  it('is on API answers, errors, probes and the console’s files, each within the request’s wall time', async () => {
    w = await startWeb({ options: { consoleDir: dir } });
    const dispatcher = await w.login('dispatcher');
    const requests: [string, () => Promise<LightMyRequestResponse>, number][] = [
      ['fleet list', () => dispatcher.get('/api/vehicles'), 200],
      ['unknown API route', () => w!.app.inject({ method: 'GET', url: '/api/nothing-here' }), 404],
      ['without a session', () => w!.app.inject({ method: 'GET', url: '/api/vehicles' }), 401],
      ['bad query', () => dispatcher.get('/api/vehicles?online=maybe'), 400],
      ['liveness probe', () => w!.app.inject({ method: 'GET', url: '/healthz' }), 200],
      ['console page', () => w!.app.inject({ method: 'GET', url: '/' }), 200],
      ['console asset', () => w!.app.inject({ method: 'GET', url: '/assets/app-abc123.js' }), 200],
      ['unreadable URL', () => w!.app.inject({ method: 'GET', url: '/api/vehicles/%E0%A4%A' }), 400],
    ];
    for (const [what, send, status] of requests) {
      const t0 = performance.now();
      const res = await send();
      const wall = performance.now() - t0;
      expect(res.statusCode, what).toBe(status);
      const dur = durOf(res, what);
      expect(dur, what).toBeGreaterThanOrEqual(0);
      expect(dur, what).toBeLessThanOrEqual(wall + 0.1);
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

describe('appTiming (bench/live): the app metric of a Server-Timing header', () => {
  it('reads app’s dur among other metrics and parameters, and nothing else', () => {
    expect(appTiming('app;dur=12.5')).toBe(12.5);
    expect(appTiming('db;dur=3, app;desc="the platform";dur=7')).toBe(7);
    expect(appTiming('cache;desc=hit, app ; dur=0.4')).toBe(0.4);
    expect(appTiming('apps;dur=9')).toBeUndefined();
    expect(appTiming('db;dur=3')).toBeUndefined();
    expect(appTiming('app')).toBeUndefined();
    expect(appTiming('app;dur=x')).toBeUndefined();
    expect(appTiming(null)).toBeUndefined();
  });
});
