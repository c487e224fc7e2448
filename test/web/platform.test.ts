import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPlatform } from '../helpers/platform.ts';
import { captureLogger } from './helpers.ts';

/** The console inside the whole platform, over real HTTP on 127.0.0.1. */
describe('the web console in the platform', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pw-web-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves health, metrics, docs and the API on HTTP_PORT; the setup password is printed once, ever', async () => {
    const cap = captureLogger('info');
    const metricsToken = 'scrape-token-for-the-platform-test';
    const tp = await startTestPlatform({ METRICS_TOKEN: metricsToken }, { log: cap.log, dataDir });
    const base = `http://127.0.0.1:${tp.platform.ports.http}`;
    try {
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', connectedClients: 0 });
      // /metrics: not public; the scrape token reads it
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await metrics.text()).toMatch(/^powerwatch_mqtt_connected_clients\{node="[^"]+"\} 0$/m);
      const json = await fetch(`${base}/metrics.json`, { headers: { authorization: `Bearer ${metricsToken}` } });
      expect(await json.json()).toHaveProperty('totals');
      const doc = (await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/api/tickets/{id}/transitions');
      expect((await fetch(`${base}/api/vehicles`)).status).toBe(401);

      const setup = cap.lines().filter((l) => String(l.msg).includes('setup password'));
      expect(setup).toHaveLength(1);
      expect(setup[0]!.level).toBe(40);
      const password = /setup password (\S+)/.exec(String(setup[0]!.msg))![1]!;
      const login = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const headers = { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' };
      expect((await fetch(`${base}/api/accounts`, { headers })).status).toBe(403);
      const changed = await fetch(`${base}/api/auth/password`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ currentPassword: password, newPassword: 'the admin’s own password' }),
      });
      expect(changed.status).toBe(200);
      expect(await (await fetch(`${base}/metrics.json`, { headers })).json()).toHaveProperty('byKey');
      const added = await fetch(`${base}/api/vehicles`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ id: 'WEB-1', customerId: 'C9' }),
      });
      expect(added.status).toBe(201);
      const { secret } = (await added.json()) as { secret: string };
      // the secret works over MQTT
      const gw = await tp.connect('WEB-1', secret);
      await gw.endAsync();
      const list = (await (await fetch(`${base}/api/vehicles`, { headers })).json()) as { vehicles: { id: string }[] };
      expect(list.vehicles.map((v) => v.id)).toEqual(['WEB-1']);
      expect(cap.text()).not.toContain(secret);
      expect(cap.text()).not.toContain('the admin’s own password');
      expect(cap.text()).not.toContain(metricsToken);
    } finally {
      await tp.close();
    }

    const again = captureLogger('info');
    const tp2 = await startTestPlatform({}, { log: again.log, dataDir });
    try {
      expect(again.text()).not.toContain('setup password');
      const res = await fetch(`http://127.0.0.1:${tp2.platform.ports.http}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'the admin’s own password' }),
      });
      expect(res.status).toBe(200);
    } finally {
      await tp2.close();
    }
  });
});
