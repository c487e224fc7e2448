import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveInbox } from '../../web/live/events.ts';
import { apiAs, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { startTestPlatform, withTimeout } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';
import { startReceiver } from './receivers.ts';

const inboxRow = (key: string, accountId: string, subject: string): NewNotification => ({
  key,
  channel: 'inbox',
  target: accountId,
  accountId,
  kind: 'ticket.opened',
  language: 'en',
  urgent: true,
  ticketId: 7,
  subject,
  text: `${subject}: mains lost`,
});

/** Delivery inside the whole platform: the channels file, the dispatcher woken by the bus, the inbox pushed live, a restart. */
describe('notifications in the platform', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function channelsFile(dir: string, hookUrl: string): string {
    const file = join(dir, 'channels.yaml');
    writeFileSync(join(dir, 'hook-secret'), 'platform-hook-secret-4455\n');
    writeFileSync(file, `webhooks:\n  - id: ops-hook\n    url: ${hookUrl}\n    secretFile: hook-secret\n`);
    return file;
  }

  it('pushes a new inbox item to its account’s open consoles only; the API lists, counts and marks it read', async () => {
    const tp = await startTestPlatform({ NOTIFY_POLL_MS: '600000' });
    cleanup.push(() => tp.close());
    const p = tp.platform;
    await p.customers.add({ id: 'CA', name: 'Unit A' });
    await p.customers.add({ id: 'CB', name: 'Unit B' });
    const accounts = createAccounts({ db: p.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'cust-a', name: 'A', role: 'customer', customerId: 'CA', password: PASSWORD });
    await accounts.add({ id: 'cust-b', name: 'B', role: 'customer', customerId: 'CB', password: PASSWORD });
    const base = `http://127.0.0.1:${p.ports.http}`;
    const opened: LiveClient[] = [];
    cleanup.push(() => opened.forEach((s) => s.disconnect()));
    const a = await openConsole(base, 'cust-a', PASSWORD, { opened, on: 'welcome' });
    const b = await openConsole(base, 'cust-b', PASSWORD, { opened, on: 'welcome' });

    await enqueue(p.records, [inboxRow('in-a-1', 'cust-a', 'For A')], Date.now());
    p.bus.emit('notification.enqueued', { count: 1 });
    const got = await a.rec.next<LiveInbox>('inbox');
    expect(got.item).toMatchObject({
      subject: 'For A',
      text: 'For A: mains lost',
      ticketId: 7,
      urgent: true,
      readAt: null,
    });
    // B's console gets B's own item, and never A's
    await enqueue(p.records, [inboxRow('in-b-1', 'cust-b', 'For B')], Date.now());
    p.bus.emit('notification.enqueued', { count: 1 });
    expect((await b.rec.next<LiveInbox>('inbox')).item.subject).toBe('For B');
    expect(b.rec.got.filter((g) => g.event === 'inbox').map((g) => (g.payload as LiveInbox).item.subject)).toEqual([
      'For B',
    ]);
    expect(a.rec.got.filter((g) => g.event === 'inbox').map((g) => (g.payload as LiveInbox).item.subject)).toEqual([
      'For A',
    ]);

    const inbox = (await (await apiAs(base, a.login, 'GET', '/api/inbox')).json()) as {
      items: { id: number }[];
      unread: number;
    };
    expect(inbox).toMatchObject({ unread: 1, items: [{ id: got.item.id }] });
    const other = b.rec.got.find((g) => g.event === 'inbox')!.payload as LiveInbox;
    expect((await apiAs(base, a.login, 'POST', `/api/inbox/${other.item.id}/read`)).status).toBe(404);
    const read = await apiAs(base, a.login, 'POST', `/api/inbox/${got.item.id}/read`);
    expect(await read.json()).toMatchObject({ item: { id: got.item.id }, unread: 0 });
    const count = (await (await apiAs(base, b.login, 'GET', '/api/inbox/unread-count')).json()) as { unread: number };
    expect(count.unread).toBe(1);
  });

  it('delivers a webhook row left pending by a platform that stopped mid-send after a restart, with the same key, and counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-notify-platform-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let answering = false;
    const receiver = await startReceiver(() => (answering ? { status: 200 } : 'hang'));
    cleanup.push(() => receiver.close());
    const env = {
      NOTIFY_CHANNELS_FILE: channelsFile(dir, `${receiver.url}/hook`),
      NOTIFY_POLL_MS: '600000',
      NOTIFY_STOP_TIMEOUT_MS: '50',
    };
    const dataDir = join(dir, 'data');

    const first = await startTestPlatform(env, { dataDir });
    const arrived = receiver.next();
    await enqueue(
      first.platform.records,
      [{ ...inboxRow('hook-1', 'x', 'Hook'), channel: 'webhook', target: 'ops-hook' }],
      Date.now(),
    );
    first.platform.bus.emit('notification.enqueued', { count: 1 });
    await arrived;
    await first.close(); // the send is still in flight: it stays pending

    answering = true;
    const second = await startTestPlatform(env, { dataDir });
    cleanup.push(() => second.close());
    const delivered = new Promise<void>((resolve) => second.platform.bus.on('notification.delivered', () => resolve()));
    // rows left pending are due at once on start: no wake-up needed
    const row = await second.platform.records
      .selectFrom('notifications')
      .selectAll()
      .where('key', '=', 'hook-1')
      .executeTakeFirstOrThrow();
    if (row.status !== 'delivered') await withTimeout(delivered, 5000, 'the webhook delivery after the restart');
    expect(receiver.received.map((r) => r.headers['x-powerwatch-id'])).toEqual(['hook-1', 'hook-1']);
    const metrics = second.platform.counters.snapshot();
    expect(metrics.byKey['notify.delivered']).toEqual({ webhook: 1 });
    expect(second.platform.notifications.dispatcher.stats().pending.webhook).toBe(0);
  });

  it('refuses to start with an invalid channels file, naming the file and the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-notify-bad-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'channels.yaml');
    writeFileSync(
      file,
      'webhooks:\n  - id: ops-hook\n    url: ftp://example.com/x\n    secret: a-secret-that-is-long-enough\n',
    );
    await expect(startTestPlatform({ NOTIFY_CHANNELS_FILE: file })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(`${file}: webhooks.0.url: must be an http(s) URL`),
    });
    writeFileSync(
      file,
      'robots:\n  - id: g\n    kind: dingtalk\n    url: https://oapi.dingtalk.com/robot/send?access_token=x\n    secretFile: missing-file\n',
    );
    await expect(startTestPlatform({ NOTIFY_CHANNELS_FILE: file })).rejects.toMatchObject({
      message: expect.stringContaining('robots.0.secretFile: cannot read missing-file (ENOENT)'),
    });
  });
});
