/// <reference lib="dom" />
/**
 * The resource register in real Chromium against the whole platform: the demo register seeded, an
 * engineer (the keeper of the overdue instrument) sees the tools with their due flags in Chinese,
 * the reminder sweep puts a calibration reminder in the engineer's inbox through the bus, the
 * outbox and the dispatcher, and a customer gets no Resources entry (and 403 from the API).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoResources } from '../../simulators/demo-resources.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const PASSWORD = 'browser-test-password-1';

describe('resource register in Chromium', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let base: string;
  let consoleDir: string;

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
    await tp.platform.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: { log2N: 10, r: 8, p: 1 } });
    await accounts.add({
      id: 'engineer',
      name: 'Li Na',
      role: 'engineer',
      password: PASSWORD,
      mustChangePassword: false,
    });
    await accounts.add({
      id: 'cust-a',
      name: 'Crew A',
      role: 'customer',
      customerId: 'UNIT-A',
      password: PASSWORD,
      mustChangePassword: false,
    });
    await seedDemoResources(tp.platform.resourceRegister);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  async function signIn(username: string, lang: 'en' | 'zh'): Promise<Page> {
    const context = await browser.newContext({ locale: lang === 'zh' ? 'zh-CN' : 'en-GB' });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser ${username}] ${err.message}`));
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    return page;
  }

  it('shows the tools with their due flags in Chinese and reminds the keeper in the inbox', async () => {
    const page = await signIn('engineer', 'zh');
    await page.click('a[href="#/resources"]');
    await page.waitForSelector('[data-testid=resources-view] tr[data-code="TL-INS-01"]');
    const overdue = await page.textContent('tr[data-code="TL-INS-01"]');
    expect(overdue).toContain('已过期');
    expect(await page.getAttribute('tr[data-code="TL-INS-01"]', 'class')).toContain('overdue');
    expect(await page.textContent('tr[data-code="TL-CLAMP-02"]')).toContain('即将到期');
    await page.click('text=修理厂/拖车公司');
    await page.waitForSelector('text=长沙专用车修理厂');
    await page.click('text=人员');
    await page.waitForSelector('text=市场部');

    // the sweep announces both instruments; the engineer keeps them: two reminders arrive in the inbox
    expect(await tp.platform.resourceRegister.reminders.sweep()).toBe(2);
    await page.waitForFunction(
      () => document.querySelector('[data-testid=inbox-count]')?.textContent?.trim() === '2',
      undefined,
      { timeout: 15_000 },
    );
    await page.click('[data-testid=inbox-bell]');
    await page.waitForSelector('[data-testid=inbox-panel] >> text=校准已过期');
    await page.context().close();
  });

  it('gives a customer no Resources entry', async () => {
    const page = await signIn('cust-a', 'en');
    expect(await page.$('a[href="#/resources"]')).toBeNull();
    const status = await page.evaluate(async () => (await fetch('/api/tools')).status);
    expect(status).toBe(403);
    await page.context().close();
  });
});
