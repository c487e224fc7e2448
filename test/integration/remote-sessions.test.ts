import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { PlatformEvents } from '../../core/events.ts';
import { startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

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

  it('refuses a bad SERVICE_TIME_ZONE at start-up', async () => {
    await expect(startTestPlatform({ SERVICE_TIME_ZONE: 'Mars/Olympus' }, { dataDir: dir })).rejects.toThrow(
      'SERVICE_TIME_ZONE must be an IANA time zone',
    );
  });
});
