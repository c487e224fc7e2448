import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { PlatformEvents } from '../../core/events.ts';
import { localTime } from '../../remote/roster.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { TEST_COST } from '../web/helpers.ts';

/** The next `remote.ringing` of a platform that matches. */
function nextRing(
  tp: TestPlatform,
  match: (e: PlatformEvents['remote.ringing']) => boolean,
): Promise<PlatformEvents['remote.ringing']> {
  return withTimeout(
    new Promise((resolve) => {
      const off = tp.platform.bus.on('remote.ringing', (e) => {
        if (!match(e)) return;
        off();
        resolve(e);
      });
    }),
    10_000,
    'a ring',
  );
}

describe('remote sessions in the platform', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-remote-'));
  let tp: TestPlatform | undefined;
  afterEach(async () => {
    await tp?.close();
    tp = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the platform wires the records: a request rings, the ring moves on by SESSION_RING_MS, and a restart keeps the session and its ring', async () => {
    const env = { SESSION_RING_MS: '1000', DUTY_LEAD: 'lead-on-call' };
    tp = await startTestPlatform(env, { dataDir: dir });
    await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
    await tp.addVehicle('V1', 'C1');
    const crew = { id: 'crew-1', role: 'customer' as const, customerId: 'C1' };
    const first = nextRing(tp, () => true);
    const { session } = await tp.platform.remote.request(crew, { vehicleId: 'V1', description: 'no power' });
    // no roster: the configured duty lead, at once
    expect(await first).toMatchObject({ step: 'duty_lead', accounts: ['lead-on-call'], session: { id: session.id } });
    // and again after SESSION_RING_MS, from the platform's own timer
    await nextRing(tp, (e) => e.session.id === session.id);
    await tp.close();

    tp = await startTestPlatform(env, { dataDir: dir });
    expect(await tp.platform.remote.get(session.id)).toMatchObject({ status: 'ringing', ticketId: session.ticketId });
    const again = await nextRing(tp, (e) => e.session.id === session.id);
    expect(again.step).toBe('duty_lead');
    const t = await tp.platform.tickets.get(session.ticketId);
    expect(t).toMatchObject({ source: 'customer', vehicleId: 'V1', serviceMode: 'remote_support' });
  });

  it('over real HTTP: the desk rosters an engineer, a crew asks for help, the engineer is rung and answers, the record prints', async () => {
    tp = await startTestPlatform({ SESSION_RING_MS: '60000' });
    await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
    await tp.addVehicle('V1', 'C1');
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    const password = 'correct horse battery staple';
    await accounts.add({ id: 'desk', name: 'desk', role: 'dispatcher', password });
    await accounts.add({ id: 'eng', name: 'eng', displayName: 'Engineer Li', role: 'engineer', password });
    await accounts.add({ id: 'crew-1', name: 'crew', role: 'customer', customerId: 'C1', password });
    const base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const login = async (username: string) => {
      const res = await fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(res.status).toBe(200);
      const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
      const { csrfToken } = (await res.json()) as { csrfToken: string };
      const headers = { cookie, 'x-csrf-token': csrfToken };
      return (method: string, path: string, body?: unknown) =>
        fetch(`${base}${path}`, {
          method,
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
    };
    const desk = await login('desk');
    const eng = await login('eng');
    const crew = await login('crew-1');

    // a whole-day shift for today in the service time zone (an end at the start runs to the next midnight)
    const today = localTime(Date.now(), 'Asia/Shanghai').weekday;
    const shift = await desk('POST', '/api/roster/shifts', {
      weekday: today,
      start: '00:00',
      end: '00:00',
      primary: 'eng',
      dutyLead: 'desk',
    });
    expect(shift.status).toBe(201);

    const rung = nextRing(tp, () => true);
    const requested = await crew('POST', '/api/sessions', { vehicleId: 'V1', description: 'no power at all' });
    expect(requested.status).toBe(201);
    const { session } = (await requested.json()) as { session: { id: number; status: string } };
    expect(session.status).toBe('ringing');
    expect(await rung).toMatchObject({ step: 'primary', accounts: ['eng'] });

    const answered = await eng('POST', `/api/sessions/${session.id}/answer`);
    expect(answered.status).toBe(200);
    expect((await crew('POST', `/api/sessions/${session.id}/chat`, { text: 'hello' })).status).toBe(201);
    const ended = await eng('POST', `/api/sessions/${session.id}/end`, { outcome: 'resolved_remotely' });
    expect(ended.status).toBe(200);
    const html = await crew('GET', `/api/sessions/${session.id}/record.html`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    const page = await html.text();
    expect(page).toContain('Engineer Li');
    expect(page).toContain('no power at all');
    // another unit's customer: nothing
    await tp.platform.customers.add({ id: 'C2', name: 'Unit 2' });
    await accounts.add({ id: 'crew-2', name: 'crew two', role: 'customer', customerId: 'C2', password });
    const other = await login('crew-2');
    expect((await other('GET', `/api/sessions/${session.id}/record.html`)).status).toBe(404);
  });

  it('refuses a bad SERVICE_TIME_ZONE at start-up', async () => {
    await expect(startTestPlatform({ SERVICE_TIME_ZONE: 'Mars/Olympus' }, { dataDir: dir })).rejects.toThrow(
      'SERVICE_TIME_ZONE must be an IANA time zone',
    );
  });
});
