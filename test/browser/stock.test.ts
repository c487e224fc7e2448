/// <reference lib="dom" />
/**
 * The spare-parts views in real Chromium against the whole platform: supply chain lands on the
 * stock (no fleet, no tickets), sees the store stock from the ledger and the stock-take; the duty
 * desk reserves a ticket's plan parts from the ticket page, nearest store with stock first.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoStock } from '../../simulators/demo-stock.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'browser-test-password-1';

describe('spare parts in the console (Chromium)', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let base: string;
  let consoleDir: string;
  let ticketId = 0;
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
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await tp.addVehicle('VA-1', 'UNIT-A');
    const accounts = createAccounts({ db: p.records }, { passwordCost: { log2N: 10, r: 8, p: 1 } });
    for (const [id, role] of [
      ['sup', 'supply'],
      ['desk', 'dispatcher'],
    ] as const)
      await accounts.add({ id, name: id, role, password: PASSWORD, mustChangePassword: false });
    // the demo's stores and stock; VA-1 placed near Beijing (the north service point)
    await seedDemoStock({ stock: p.stock, vehicleIds: ['VA-1'] });
    await p.stock.reservations.receive('FF-5421', 'SP-NORTH', 2, 'test stock', 'test');
    await p.stock.reservations.setVehiclePosition('VA-1', { lat: 40.0, lon: 116.5 }, 'test', 'test');
    ticketId = (
      await p.tickets.open(
        {
          source: 'rule',
          vehicleId: 'VA-1',
          customerId: 'UNIT-A',
          level: 'extra_urgent',
          title: 'VA-1: generator failed to start',
          need: 'GEN-START-FAIL',
          faultCode: 'GEN-START-FAIL',
        },
        'system',
      )
    ).id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await tp?.close();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
  });

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({ locale: 'en-GB' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`[browser ${username}] ${err.message}`));
    await page.goto(`${base}/`);
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=who]');
    return page;
  }

  it('supply chain lands on the spare parts: store stock from the ledger, no fleet or tickets in the menu', async () => {
    const page = await signIn('sup');
    await page.waitForSelector('[data-testid=stock-view]');
    const nav = await page.locator('header nav a').allTextContents();
    expect(nav).toContain('Spare parts');
    expect(nav).not.toContain('Fleet');
    expect(nav).not.toContain('Tickets');
    await page.waitForSelector('[data-testid=stock-view] table.grid tbody tr');
    expect(await page.locator('[data-testid=stock-view]').textContent()).toContain('FF-5421');
  });

  it('the duty desk reserves the plan’s parts on the ticket page, the north service point proposed', async () => {
    const page = await signIn('desk');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const panel = page.locator('[data-testid=ticket-stock]');
    await panel.waitFor();
    const filter = panel.locator('[data-part=FF-5421] select');
    await filter.waitFor();
    expect(await filter.inputValue()).toBe('SP-NORTH');
    await panel.locator('[data-testid=reserve]').click();
    await panel.locator('table.grid tbody tr').first().waitFor();
    const balances = await tp.platform.stock.balances({ partNo: 'FF-5421', storeId: 'SP-NORTH' });
    expect(balances[0]?.reserved).toBe(1);
  });
});
