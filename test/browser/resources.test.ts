/// <reference lib="dom" />
/**
 * The resource register in real Chromium against the whole platform: the demo register seeded, an
 * engineer (the keeper of the overdue instrument) sees the tools with their due flags in Chinese,
 * the reminder sweep puts a calibration reminder in the engineer's inbox through the bus, the
 * outbox and the dispatcher, and a customer gets no Resources entry (and 403 from the API).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoResources } from '../../simulators/demo-resources.ts';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

describe('resource register in Chromium', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;

  beforeAll(async () => {
    web = await startConsole();
    tp = web.tp;
    await tp.platform.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(tp.platform, [
      { id: 'engineer', name: 'Li Na', role: 'engineer' },
      { id: 'cust-a', name: 'Crew A', role: 'customer', customerId: 'UNIT-A' },
    ]);
    await seedDemoResources(tp.platform.resourceRegister);
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string, lang: 'en' | 'zh'): Promise<Page> =>
    web.signIn(username, { locale: lang === 'zh' ? 'zh-CN' : 'en-GB' });

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
