/// <reference lib="dom" />
/**
 * The console's notification parts in real Chromium against the whole platform: the inbox bell
 * (unread count, live arrival, a browser notification once allowed, mark read) and the admin's
 * Deliveries view (a failed delivery with its last error, re-sent from the page). The browser app
 * is built from source first (Vite).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

const item = (key: string, extra: Partial<NewNotification>): NewNotification => ({
  key,
  channel: 'inbox',
  target: 'boss',
  kind: 'ticket.opened',
  language: 'en',
  urgent: true,
  subject: 'Ticket 7 opened',
  text: 'Mains lost at VA-1',
  ...extra,
});

describe('console notifications in Chromium', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;

  beforeAll(async () => {
    web = await startConsole();
    tp = web.tp;
    await addAccounts(tp.platform, [{ id: 'boss', name: 'Ada Admin', role: 'admin' }]);
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (lang: 'en' | 'zh'): Promise<Page> =>
    web.signIn('boss', {
      locale: lang === 'zh' ? 'zh-CN' : 'en-GB',
      live: true,
      async prepare(page) {
        await page.context().grantPermissions(['notifications'], { origin: web.base });
        // record the browser notifications the page shows (headless Chromium draws none)
        await page.addInitScript(() => {
          const shown: { title: string; body: string }[] = [];
          (window as unknown as { shownNotifications: typeof shown }).shownNotifications = shown;
          const Real = window.Notification;
          class Recording extends Real {
            constructor(title: string, options?: NotificationOptions) {
              super(title, options);
              shown.push({ title, body: options?.body ?? '' });
            }
          }
          Object.defineProperty(window, 'Notification', { value: Recording });
        });
      },
    });

  it('a new inbox item raises the bell’s count live, shows a browser notification, and is marked read from the list', async () => {
    const page = await signIn('en');
    expect(await page.locator('[data-testid=inbox-count]').count()).toBe(0);
    await enqueue(tp.platform.records, [item('bell-1', { ticketId: 7 })], Date.now());
    tp.platform.bus.emit('notification.enqueued', { count: 1 });
    await page.waitForSelector('[data-testid=inbox-count]');
    expect(await page.textContent('[data-testid=inbox-count]')).toBe('1');
    await page.waitForFunction(
      () => (window as unknown as { shownNotifications: unknown[] }).shownNotifications.length > 0,
    );
    expect(
      await page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications),
    ).toEqual([{ title: 'Ticket 7 opened', body: 'Mains lost at VA-1' }]);

    await page.click('[data-testid=inbox-bell]');
    await page.waitForSelector('[data-testid=inbox-panel] li.unread');
    expect(await page.textContent('[data-testid=inbox-panel] li.unread .subject')).toBe('Ticket 7 opened');
    await page.click('[data-testid=inbox-read]');
    await page.waitForSelector('[data-testid=inbox-count]', { state: 'detached' });
    const inbox = await tp.platform.notifications.deliveries.inbox('boss', { limit: 10 });
    expect(inbox.unread).toBe(0);
    expect(inbox.items[0]!.readAt).not.toBeNull();
  });

  it('the Deliveries view shows a failed delivery with its last error and re-sends it (in Chinese)', async () => {
    // no channels file: the email row fails at once with "channel not configured: email"
    const failed = new Promise<void>((resolve) => tp.platform.bus.on('notification.failed', () => resolve()));
    await enqueue(tp.platform.records, [item('mail-1', { channel: 'email', target: 'duty@example.com' })], Date.now());
    tp.platform.bus.emit('notification.enqueued', { count: 1 });
    await failed;

    const page = await signIn('zh');
    expect(await page.textContent('nav a[href="#/deliveries"]')).toBe('通知投递');
    await page.click('nav a[href="#/deliveries"]');
    await page.waitForSelector('[data-testid=deliveries-view] tr[data-delivery=mail-1][data-status=failed]');
    const row = page.locator('tr[data-delivery=mail-1]');
    expect(await row.textContent()).toContain('channel not configured: email');
    expect(await row.textContent()).toContain('邮件');
    const again = new Promise<void>((resolve) => tp.platform.bus.on('notification.failed', () => resolve()));
    await row.locator('button').click();
    await again; // re-sent: tried once more (and failed again: still no SMTP)
    // the route writes the audit row after the resend, which the dispatcher may have tried already
    const audit = () =>
      tp.platform.records.selectFrom('audit_log').selectAll().where('action', '=', 'notification.resend').execute();
    await expect.poll(audit).toMatchObject([{ actor: 'boss' }]);
    await page.waitForSelector('tr[data-delivery=mail-1][data-status=failed][data-tries="1"]');
  });
});
