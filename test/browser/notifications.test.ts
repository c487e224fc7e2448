/// <reference lib="dom" />
/**
 * The console's notification parts in real Chromium against the whole platform: the inbox bell
 * (unread count, live arrival, a browser notification once allowed, mark read) and the admin's
 * Deliveries view (a failed delivery with its last error, re-sent from the page). The browser app
 * is built from source first (Vite).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-component-update'];
const PASSWORD = 'browser-test-password-1';

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
  let tp: TestPlatform;
  let browser: Browser;
  let base: string;
  let consoleDir: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium`);
    consoleDir = mkdtempSync(join(tmpdir(), 'pw-console-'));
    await build({
      configFile: fileURLToPath(new URL('../../web/console/vite.config.ts', import.meta.url)),
      logLevel: 'warn',
      build: { outDir: consoleDir, emptyOutDir: true, sourcemap: false },
    });
    tp = await startTestPlatform({ CONSOLE_DIR: consoleDir });
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: { log2N: 10, r: 8, p: 1 } });
    await accounts.add({ id: 'boss', name: 'Ada Admin', role: 'admin', password: PASSWORD, mustChangePassword: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await tp?.close();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  async function signIn(lang: 'en' | 'zh'): Promise<Page> {
    const context = await browser.newContext({ locale: lang === 'zh' ? 'zh-CN' : 'en-GB' });
    contexts.push(context);
    await context.grantPermissions(['notifications'], { origin: base });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser] ${err.message}`));
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
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', 'boss');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    await page.waitForSelector('[data-testid=live-status].on');
    return page;
  }

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
    const audit = await tp.platform.records
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'notification.resend')
      .execute();
    expect(audit).toMatchObject([{ actor: 'boss' }]);
    await page.waitForSelector('tr[data-delivery=mail-1][data-status=failed][data-tries="1"]');
  });
});
