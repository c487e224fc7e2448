/**
 * `npm run screenshots`: PNGs of the console as a reviewer should see it. Starts the platform
 * in-process on ephemeral ports (127.0.0.1) with a fresh data directory and the demo's units,
 * accounts and fleet (simulators/demo*.ts), plays the fleet from 10 minutes ago at 20× speed until
 * it catches up with the clock (so charts have history and the demo's first faults have happened),
 * waits for the first emergency ticket, then photographs in Chromium (/usr/bin/chromium via
 * playwright-core):
 *   - fleet, vehicle, ticket and queue as the engineer, in English and 简体中文, at 1440×900;
 *   - fleet, vehicle and ticket as the ticket's customer unit, in both languages, at 390×844.
 * Whole pages (`fullPage`), named `<lang>-<view>.png` and `<lang>-customer-<view>.png`.
 *
 *   npm run screenshots                    # writes ./screenshots/ (gitignored)
 *   npm run screenshots -- --out /tmp/pw   # another folder
 *
 * The console is built from source first (Vite) into a temp dir; everything started is stopped and
 * the temp dirs removed at the end, also on an error.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { silentLogger } from '../core/logger.ts';
import { loadConfig } from '../platform/config.ts';
import { createPlatform } from '../platform/platform.ts';
import type { Clock } from '../simulators/clock.ts';
import { DEMO_CUSTOMERS, seedDemoAccounts } from '../simulators/demo-accounts.ts';
import { demoSchedule } from '../simulators/demo-schedule.ts';
import { createFleet } from '../simulators/fleet/fleet.ts';
import { provisionFleet } from '../simulators/fleet/provision.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const VEHICLES = 12;
/** How far back the fleet starts, and how fast it plays until it has caught up. */
const PAST_MS = 10 * 60_000;
const SPEED = 20;
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

function outDir(argv: string[]): string {
  const i = argv.indexOf('--out');
  return resolve(i >= 0 && argv[i + 1] ? argv[i + 1]! : 'screenshots');
}

/** Plays `speed`× faster than real time from `startTs` until it has caught up with the wall clock. */
function catchUpClock(startTs: number, speed: number): Clock {
  const realStart = Date.now();
  return { now: () => Math.min(Date.now(), Math.floor(startTs + (Date.now() - realStart) * speed)) };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
    p.then(
      (v) => (clearTimeout(timer), ok(v)),
      (e: unknown) => (clearTimeout(timer), fail(e)),
    );
  });
}

async function main(argv: string[]): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const out = outDir(argv);
  mkdirSync(out, { recursive: true });
  const temp = mkdtempSync(join(tmpdir(), 'pw-screenshots-'));
  const consoleDir = join(temp, 'console');
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    console.log('building the console…');
    await build({
      configFile: fileURLToPath(new URL('../web/console/vite.config.ts', import.meta.url)),
      logLevel: 'warn',
      build: { outDir: consoleDir, emptyOutDir: true, sourcemap: false },
    });

    const config = loadConfig({
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: join(temp, 'data'),
      CONSOLE_DIR: consoleDir,
      LOG_LEVEL: 'silent',
    });
    const platform = await createPlatform(config, { log: silentLogger() });
    const prov = await provisionFleet(platform.vehicles, {
      count: VEHICLES,
      prefix: 'DEMO',
      customers: DEMO_CUSTOMERS.length,
      customerIds: DEMO_CUSTOMERS.map((c) => c.id),
      seed: 'demo',
    });
    const accounts = await seedDemoAccounts({ records: platform.records, customers: platform.customers });
    const ports = await platform.start();
    cleanup.unshift(() => platform.stop());
    const base = `http://127.0.0.1:${ports.http}`;
    console.log(`platform at ${base}; ${VEHICLES} vehicles streaming from ${PAST_MS / 60_000} min ago at ${SPEED}×`);

    const opened = new Promise<{ id: number; vehicleId: string; customerId: string }>((ok) =>
      platform.bus.on('ticket.opened', ({ ticket }) => {
        if (ticket.level === 'extra_urgent' && ticket.vehicleId && ticket.customerId)
          ok({ id: ticket.id, vehicleId: ticket.vehicleId, customerId: ticket.customerId });
      }),
    );
    const startTs = Date.now() - PAST_MS;
    const fleet = createFleet(
      { clock: catchUpClock(startTs, SPEED) },
      {
        vehicles: prov.vehicles,
        brokerUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
        rateHz: 1,
        seed: 'demo',
        startTs,
        scenarios: demoSchedule(prov.vehicles),
      },
    );
    fleet.start();
    cleanup.unshift(() => fleet.stop(2000));
    const ticket = await withTimeout(opened, 180_000, 'the first extra-urgent ticket');
    // the fleet has caught up with the clock: live data from here on
    await new Promise((r) => setTimeout(r, Math.max(0, PAST_MS / SPEED - (Date.now() - (startTs + PAST_MS))) + 2000));
    console.log(`ticket ${ticket.id} opened for ${ticket.vehicleId}`);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    cleanup.unshift(() => browser.close());
    const password = (id: string) => accounts.find((a) => a.id === id)!.password;
    const customer = accounts.find((a) => a.role === 'customer' && a.customerId === ticket.customerId)!;

    const zone = config.SERVICE_TIME_ZONE;
    const shots: string[] = [];
    for (const lang of ['en', 'zh'] as const) {
      const eng = await signIn(browser, base, 'engineer', password('engineer'), lang, DESKTOP, zone);
      const shoot = async (page: Page, name: string, hash: string, ready: string) => {
        await page.goto(`${base}/${hash}`);
        await page.waitForSelector(ready, { timeout: 30_000 });
        await settle(page);
        const file = join(out, `${lang}-${name}.png`);
        await page.screenshot({ path: file, fullPage: true });
        shots.push(file);
      };
      await shoot(eng, 'fleet', '#/fleet', `[data-testid=open-ticket-${ticket.vehicleId}]`);
      await shoot(eng, 'vehicle', `#/vehicles/${ticket.vehicleId}`, '[data-testid=chart-battery][data-points]');
      await shoot(eng, 'ticket', `#/tickets/${ticket.id}`, '[data-testid=plan]');
      await shoot(eng, 'queue', '#/tickets', 'tr[data-level=extra_urgent]');
      await eng.context().close();

      const cust = await signIn(browser, base, customer.id, customer.password, lang, PHONE, zone);
      await shoot(cust, 'customer-fleet', '#/fleet', `[data-testid=fleet-table] tr[data-vehicle=${ticket.vehicleId}]`);
      await shoot(
        cust,
        'customer-vehicle',
        `#/vehicles/${ticket.vehicleId}`,
        '[data-testid=chart-battery][data-points]',
      );
      await shoot(cust, 'customer-ticket', `#/tickets/${ticket.id}`, '[data-testid=timeline]');
      await cust.context().close();
    }
    console.log(`${shots.length} screenshots in ${out}:\n  ${shots.map((s) => s.slice(out.length + 1)).join('\n  ')}`);
  } finally {
    for (const c of cleanup) await c().catch(() => undefined);
    rmSync(temp, { recursive: true, force: true });
  }
}

async function signIn(
  browser: Browser,
  base: string,
  username: string,
  password: string,
  lang: 'en' | 'zh',
  viewport: { width: number; height: number },
  timezoneId: string,
): Promise<Page> {
  // the browser in the service centre's time zone: the console's times and the platform's agree
  const context = await browser.newContext({ locale: lang === 'zh' ? 'zh-CN' : 'en-GB', viewport, timezoneId });
  await context.addInitScript((l) => localStorage.setItem('pw.lang', l), lang);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[browser ${username}] ${err.message}`));
  await page.goto(`${base}/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=who]');
  await page.waitForSelector('[data-testid=live-status].on');
  return page;
}

/** Waits until nothing says "loading" and the charts have points, then a moment for the last paint. */
async function settle(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      !/Loading|加载中/.test(document.querySelector('.content')?.textContent ?? '') &&
      Array.from(document.querySelectorAll('[data-testid^=chart-]')).every(
        (c) => Number(c.getAttribute('data-points') ?? '1') > 0,
      ),
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForTimeout(800);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
