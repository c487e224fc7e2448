/// <reference lib="dom" />
/**
 * How the console calls the duty desk, in real Chromium and in Chinese (web/console/src/alert.ts,
 * components/queue-summary.tsx, components/escalation-alert.tsx): the tab's title counts the
 * extra-urgent tickets ("(1) 特急 · PowerWatch 电源监控"); a deadline at risk, a new extra-urgent ticket and a
 * missed deadline escalated to this account each show a browser notification (permission granted
 * through the helper's `prepare`, the notifications recorded); the escalation also shows a banner
 * and marks the title with "(!)" until it is dismissed.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { addAccounts, DESK, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];
type Shown = { title: string; body: string };

describe('the console calls the duty desk (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;

  beforeAll(async () => {
    web = await startConsole();
    tp = web.tp;
    await tp.platform.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    // the only dispatcher: a missed deadline escalates to every dispatcher (ESCALATION_ROLE's default)
    await addAccounts(tp.platform, [{ id: 'lead', name: '李值班', role: 'dispatcher' }]);
    await tp.addVehicle('VX-1', 'UNIT-A');
    await tp.addVehicle('VX-2', 'UNIT-A');
  }, 120_000);

  afterAll(() => web?.close());

  const open = (vehicleId: string, level: Ticket['level'], title: string) =>
    tp.platform.tickets.open(
      { source: 'hotline', vehicleId, customerId: 'UNIT-A', level, title, need: title, contacts },
      'lead',
    );
  /** Moves a ticket's work-content deadline (and its queue column) to `at`. */
  const dueAt = (id: number, at: number) =>
    tp.platform.records
      .updateTable('tickets')
      .set({ work_content_due_at: at, queue_due_at: at })
      .where('id', '=', id)
      .execute();

  const signIn = (): Promise<Page> =>
    web.signIn('lead', {
      locale: 'zh-CN',
      viewport: DESK,
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
  const shown = (page: Page) =>
    page.evaluate(() => (window as unknown as { shownNotifications: Shown[] }).shownNotifications);
  const waitShown = (page: Page, title: string) =>
    page.waitForFunction(
      (t) =>
        (window as unknown as { shownNotifications: Shown[] }).shownNotifications.some((n) => n.title.startsWith(t)),
      title,
    );

  it('a deadline at risk, a new extra-urgent ticket and an escalation: notifications, the tab title and a banner', async () => {
    // an extra-urgent ticket whose work-content deadline is 5 minutes away
    const first = await open('VX-1', 'extra_urgent', '发电机无法启动');
    await dueAt(first.id, Date.now() + 5 * 60_000);

    const page = await signIn();
    await page.waitForFunction(() => document.title === '(1) 特急 · PowerWatch 电源监控');
    await waitShown(page, '时限将到');
    const atRisk = (await shown(page)).find((n) => n.title.startsWith('时限将到'))!;
    expect(atRisk.title).toMatch(/^时限将到：剩余 [45]:\d\d$/);
    expect(atRisk.body).toBe(`工单 ${first.number}: 发电机无法启动`);

    // the first ticket's deadline passes; a second extra-urgent ticket opens (which re-arms the deadline timer)
    await dueAt(first.id, Date.now() - 1000);
    const second = await open('VX-2', 'extra_urgent', '市电中断');
    await waitShown(page, '新工单');
    expect((await shown(page)).find((n) => n.title.startsWith('新工单'))).toEqual({
      title: '新工单 · 特急',
      body: `工单 ${second.number}: 市电中断`,
    });

    // the breach is escalated to this dispatcher: a notification, a banner, "(!)" before the count
    await waitShown(page, '已上报给您');
    expect((await shown(page)).filter((n) => n.title === '已上报给您')).toEqual([
      { title: '已上报给您', body: `${first.number} 超出时限，已上报给您` },
    ]);
    const banner = page.locator('[data-testid=escalation-alert]');
    await banner.waitFor();
    expect(await banner.innerText()).toContain(`${first.number} 超出时限，已上报给您`);
    expect(await banner.locator('a').getAttribute('href')).toBe(`#/tickets/${first.id}`);
    await page.waitForFunction(() => document.title === '(!) (2) 特急 · PowerWatch 电源监控');
    expect((await tp.platform.tickets.get(first.id)).escalatedAccounts).toEqual(['lead']);

    // dismissed: the banner goes and the title counts again
    await banner.locator('button').click();
    await banner.waitFor({ state: 'detached' });
    await page.waitForFunction(() => document.title === '(2) 特急 · PowerWatch 电源监控');
  }, 90_000);
});
