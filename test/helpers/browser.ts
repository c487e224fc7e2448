/**
 * The console in real Chromium for the browser tests (test/browser/): the browser app built from
 * source (Vite, what `npm run build:console` ships), the whole platform serving it on ephemeral
 * ports, and Debian's chromium driven by playwright-core. One call starts it all, one stops it all.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { Platform } from '../../platform/platform.ts';
import type { Clock } from '../../simulators/clock.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { Role } from '../../web/auth/roles.ts';
import { consoleBuild } from './console-build.ts';
import { startTestPlatform, type TestPlatform } from './platform.ts';

export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
/** Every browser test account's password. */
export const PASSWORD = 'browser-test-password-1';
/** The viewports the tests use: a phone in a crew's hand, an engineer's desk. */
export const PHONE = { width: 390, height: 844 };
export const DESK = { width: 1440, height: 900 };

export interface PageOptions extends BrowserContextOptions {
  /** Names the page in the page errors logged (default: the account signed in, or "browser"). */
  who?: string;
}

export interface SignInOptions extends PageOptions {
  /** Also waits for the live connection (`[data-testid=live-status].on`) after signing in. */
  live?: boolean;
  /** Runs on the fresh page before it opens the console (permissions, init scripts). */
  prepare?: (page: Page) => Promise<void>;
}

export interface ConsoleUnderTest {
  tp: TestPlatform;
  browser: Browser;
  /** `http://127.0.0.1:PORT`, the console's origin. */
  base: string;
  /** A page in a fresh browser context (default locale en-GB) that logs its page errors; closed by close(). */
  openPage(options?: PageOptions): Promise<Page>;
  /** A fresh page signed in as `username`: waits for the signed-in header (and, with `live`, the live connection). */
  signIn(username: string, options?: SignInOptions): Promise<Page>;
  /** Closes the contexts, the browser and the platform, and removes the built console. */
  close(): Promise<void>;
}

/**
 * Builds the console (or reuses the run's build of the same sources), starts the platform serving it (`env` on top of CONSOLE_DIR) and launches
 * Chromium; fails at once when Debian's chromium is not installed.
 */
export async function startConsole(env: Record<string, string> = {}): Promise<ConsoleUnderTest> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`);
  const contexts: BrowserContext[] = [];
  let tp: TestPlatform | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await tp?.close();
  };
  try {
    // one build shared by the run's browser tests (test/helpers/console-build.ts)
    tp = await startTestPlatform({ CONSOLE_DIR: await consoleBuild(), ...env });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  const started = { tp, browser, base: `http://127.0.0.1:${tp.platform.ports.http}` };
  const openPage = async ({ who = 'browser', ...options }: PageOptions = {}) => {
    const context = await started.browser.newContext({ locale: 'en-GB', ...options });
    contexts.push(context);
    const page = await context.newPage();
    logPageErrors(page, who);
    return page;
  };
  return {
    ...started,
    openPage,
    async signIn(username, { live = false, prepare, ...options } = {}) {
      const page = await openPage({ who: username, ...options });
      await prepare?.(page);
      await submitLogin(page, started.base, username);
      await page.waitForSelector('[data-testid=who]');
      if (live) await page.waitForSelector('[data-testid=live-status].on');
      return page;
    },
    close,
  };
}

/** GET an API path with the page's session (what the console's account may read); throws on a non-2xx. */
export function apiGet<T>(page: Page, path: string): Promise<T> {
  return page.evaluate(async (p) => {
    const res = await fetch(p);
    if (!res.ok) throw new Error(`${p}: ${res.status}`);
    return (await res.json()) as unknown;
  }, path) as Promise<T>;
}

/** Logs the page's uncaught errors, named after `who`, so that a failing test shows them. */
export function logPageErrors(page: Page, who: string): void {
  page.on('pageerror', (err) => console.error(`[browser ${who}] ${err.message}`));
}

/** Opens the console's login form and submits `username` with the tests' password (no waiting after). */
export async function submitLogin(page: Page, base: string, username: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
}

export interface TestAccount {
  id: string;
  role: Role;
  /** Default: the id. */
  name?: string;
  displayName?: string;
  /** A customer account's unit. */
  customerId?: string;
}

/** Adds console accounts with the tests' password, none of them asked to change it. */
export async function addAccounts(platform: Platform, accounts: readonly TestAccount[]): Promise<void> {
  const store = createAccounts({ db: platform.records }, { passwordCost: { log2N: 10, r: 8, p: 1 } });
  for (const { id, name = id, ...rest } of accounts)
    await store.add({ id, name, ...rest, password: PASSWORD, mustChangePassword: false });
}

/**
 * A clock for the simulated fleets the console shows: runs `speed`× faster than real time from
 * `startTs` until it has caught up with the wall clock, then in real time.
 */
export function catchUpClock(startTs: number, speed: number): Clock {
  const realStart = Date.now();
  return { now: () => Math.min(Date.now(), Math.floor(startTs + (Date.now() - realStart) * speed)) };
}
