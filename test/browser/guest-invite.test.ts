/// <reference lib="dom" />
/**
 * A guest (a crew member without an account) in real Chromium against the whole platform on real
 * ports: the engineer invites from the session view, a fresh phone-sized context opens the link and
 * gets the session's crew layout, chats with the engineer and sends a photo the engineer sees; the
 * same link opened again is refused (one use).
 */
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../simulators/clock.ts';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import { addAccounts, DESK, PHONE, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A real w×h PNG (8-bit RGB, one colour) that a browser decodes. */
function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Real time, from now on. */
const wallClock: Clock = { now: () => Date.now() };

describe('guest invitation in Chromium', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let sessionId: number;
  let fleet: ReturnType<typeof createFleet> | undefined;

  beforeAll(async () => {
    web = await startConsole();
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(p, [{ id: 'eng', name: 'Eve Engineer', displayName: 'Eve Engineer', role: 'engineer' }]);
    const v1 = await tp.addVehicle('VS-1', 'UNIT-A');
    const ticket = await p.tickets.open(
      {
        source: 'hotline',
        vehicleId: 'VS-1',
        customerId: 'UNIT-A',
        level: 'urgent',
        title: 'VS-1: no power',
        need: 'no power on the vehicle',
      },
      'eng',
    );
    // staff start a session from the ticket: live at once, the engineer leads it
    const { session } = await p.remote.request(
      { id: 'eng', role: 'engineer', customerId: null },
      { ticketId: ticket.id, description: 'no power' },
    );
    sessionId = session.id;
    // the vehicle publishes: the session's frames reach the guest's key values
    fleet = createFleet(
      { clock: wallClock },
      { vehicles: [v1], brokerUrl: tp.mqttUrl, rateHz: 1, seed: 'guest', startTs: Date.now() },
    );
    fleet.start();
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop(2000).catch(() => undefined);
    await web?.close();
  });

  const phone = () =>
    web.openPage({ who: 'guest', viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

  it('the engineer invites, the guest chats and sends a photo from a phone; the link then no longer works', async () => {
    const eng = await web.signIn('eng', { viewport: DESK, live: true });
    await eng.goto(`${base}/#/sessions/${sessionId}`);
    await eng.waitForSelector(`[data-testid=session-view][data-layout=engineer][data-session="${sessionId}"]`);
    await eng.waitForSelector('[data-testid=session-status][data-status=live]');

    // the invitation: its link shown once, with its expiry, and listed as open
    await eng.click('[data-testid=invite-create]');
    const link = (await eng.locator('[data-testid=invite-link]').innerText()).trim();
    expect(link).toMatch(new RegExp(`^${base}/guest#token=[A-Za-z0-9_-]{20,}$`));
    expect(await eng.locator('[data-testid=invite-made]').innerText()).toContain('works once and expires');
    await eng.waitForSelector('[data-testid=invite-list] li[data-status=open]');

    // a fresh phone opens it: the session's crew layout, the token gone from the address bar
    const guest = await phone();
    await guest.goto(link);
    await guest.waitForSelector(`[data-testid=session-view][data-layout=crew][data-session="${sessionId}"]`);
    expect(guest.url()).toBe(`${base}/guest`);
    await guest.waitForFunction(() =>
      document.querySelector('[data-testid=key-values] [data-field=loadKw]')?.textContent?.includes('kW'),
    );
    expect(await guest.locator('[data-testid=crew-state]').innerText()).toContain('Eve Engineer is with you');
    // the engineer's list shows the link used (the guest's joining brings it up to date)
    await eng.waitForSelector('[data-testid=invite-list] li[data-status=used]');

    // chat: the engineer sees the guest's message, as a guest's
    await guest.fill('[data-testid=chat-input]', 'Guest here, the panel is dark');
    await guest.click('[data-testid=chat-send]');
    await eng.waitForFunction(() =>
      document.querySelector('[data-testid=session-chat]')?.textContent?.includes('Guest here, the panel is dark'),
    );
    expect(await eng.locator('[data-testid=session-chat] li').last().innerText()).toContain('guest');

    // a photo from the phone, with a caption; the engineer sees the image itself
    await guest.fill('[data-testid=photo-caption]', 'The display');
    await guest.setInputFiles('[data-testid=photo-input]', {
      name: 'panel.png',
      mimeType: 'image/png',
      buffer: png(4, 3, [200, 30, 30]),
    });
    await guest.waitForSelector('[data-testid=chat-photo] img');
    await eng.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid=session-chat] [data-testid=chat-photo] img');
      return img !== null && img.complete && img.naturalWidth === 4;
    });
    expect(await eng.locator('[data-testid=chat-photo] figcaption').innerText()).toBe('The display');
    expect(await guest.locator('[data-testid=photo-error]').count()).toBe(0);
    const photos = (await tp.platform.remote.timeline(sessionId)).filter((e) => e.kind === 'photo');
    expect(photos).toHaveLength(1);

    // the same link again, in another fresh context: no longer valid
    const again = await phone();
    await again.goto(link);
    await again.waitForSelector('[data-testid=guest-refused]');
    expect(await again.locator('[data-testid=guest-refused]').innerText()).toContain('no longer valid');
    expect(again.url()).toBe(`${base}/guest`);
  }, 60_000);
});
