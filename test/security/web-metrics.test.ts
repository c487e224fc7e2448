import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeb, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 10: `GET /metrics` gave anyone the platform's totals (fleet size, message rates,
 * logins refused…). Now it answers a staff session or a scraper with `METRICS_TOKEN` only.
 */
const TOKEN = 'a-scrape-token-of-some-length-0123456789';

let w: TestWeb;
beforeAll(async () => {
  w = await startWeb({ options: { metricsToken: TOKEN } });
  w.counters.inc('ingest.rejected', 'VB1');
});
afterAll(async () => {
  await w.app.close();
});

const get = (headers: Record<string, string> = {}, url = '/metrics') => w.app.inject({ method: 'GET', url, headers });

describe('GET /metrics', () => {
  it('without a session or token: 401, no counters', async () => {
    const res = await get();
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    expect(res.body).not.toContain('totals');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('a wrong, empty or differently-cased token: 401', async () => {
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      'Bearer ',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN.toUpperCase()}`,
      TOKEN,
    ]) {
      const res = await get({ authorization });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.body).not.toContain('totals');
    }
  });

  it('a customer session: 403', async () => {
    const res = await (await w.login('cust-a')).get('/metrics');
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('VB1');
  });

  it('the scrape token or a staff session: every counter (JSON, per key) and the Prometheus form (no vehicle)', async () => {
    for (const res of [
      await get({ authorization: `Bearer ${TOKEN}` }, '/metrics.json'),
      await (await w.login('engineer')).get('/metrics.json'),
    ]) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ totals: { 'ingest.rejected': 1 }, byKey: { 'ingest.rejected': { VB1: 1 } } });
    }
    for (const res of [
      await get({ authorization: `Bearer ${TOKEN}` }),
      await (await w.login('engineer')).get('/metrics'),
    ]) {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.body).toMatch(/^# TYPE powerwatch_ingest_rejected_total counter$/m);
      expect(res.body).not.toContain('VB1');
    }
  });

  it('/metrics.json refuses like /metrics', async () => {
    expect((await get({}, '/metrics.json')).statusCode).toBe(401);
    expect((await get({ authorization: `Bearer ${TOKEN}x` }, '/metrics.json')).statusCode).toBe(401);
    expect((await (await w.login('cust-a')).get('/metrics.json')).statusCode).toBe(403);
  });

  it('without METRICS_TOKEN configured no bearer is accepted', async () => {
    const bare = await startWeb({ seed: false });
    try {
      const res = await bare.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer ' } });
      expect(res.statusCode).toBe(401);
      const undef = await bare.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer undefined' },
      });
      expect(undef.statusCode).toBe(401);
    } finally {
      await bare.app.close();
    }
  });
});
