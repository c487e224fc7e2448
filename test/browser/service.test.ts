/// <reference lib="dom" />
/**
 * The plan's service rules in real Chromium (issue 13, docs/service.md): the duty desk reclassifies
 * a level a customer proposed; the customer side confirms the repair (双方确认); a service order
 * (巡检巡修) requested by a customer and scheduled by the duty desk; the customer file (客户信息系统)
 * with the unit's service orders and report links.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

describe('the service plan’s rules in the console (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;

  beforeAll(async () => {
    web = await startConsole();
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(p, [
      { id: 'desk', name: 'Di Desk', role: 'dispatcher' },
      { id: 'cust-a', name: 'Ann of Unit A', role: 'customer', customerId: 'UNIT-A' },
    ]);
    await tp.addVehicle('VA-1', 'UNIT-A');
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string): Promise<Page> => web.signIn(username);

  const customerTicket = (level: 'extra_urgent' | 'urgent', title: string) =>
    tp.platform.tickets.open(
      { source: 'customer', vehicleId: 'VA-1', customerId: 'UNIT-A', level, title, need: 'no power', contacts: [] },
      'cust-a',
    );

  it('the duty desk reclassifies the level a customer proposed, with the reason on the timeline', async () => {
    const t = await customerTicket('extra_urgent', 'Inverter alarm');
    await tp.platform.tickets.setTeam(
      t.id,
      [{ accountId: 'desk', role: 'leader', duty: '现场勘查 site survey' }],
      'desk',
    );
    const page = await signIn('desk');
    await page.goto(`${base}/#/tickets/${t.id}`);
    const card = page.locator('[data-testid=classification]');
    await card.waitFor();
    expect(await card.getAttribute('data-confirmed')).toBe('no');
    expect(await page.locator('[data-testid=classified-state]').innerText()).toBe(
      'Not yet classified by the duty desk',
    );
    await page.selectOption('[data-testid=classify-form] select[name=level]', 'urgent');
    await page.fill('[data-testid=classify-form] input[name=reason]', 'generator runs; only the charger is down');
    await page.click('[data-testid=classify-form] button[type=submit]');
    await page.waitForSelector('[data-testid=classification][data-confirmed=yes]');
    expect(await page.locator('[data-testid=classified-state]').innerText()).toMatch(/^Classified by desk at /);
    expect(await page.locator('[data-testid=timeline]').innerText()).toContain(
      'extra_urgent → urgent: generator runs; only the charger is down',
    );
    expect((await tp.platform.tickets.get(t.id)).level).toBe('urgent');
    // the response team is shown on the ticket, with each member's duty
    expect(await page.locator('[data-testid=ticket-team] li[data-role=leader]').innerText()).toBe(
      'Leader desk — 现场勘查 site survey',
    );
  }, 60_000);

  it('the customer confirms the repair of its unit’s ticket (双方确认)', async () => {
    const t = await customerTicket('extra_urgent', 'No mains');
    for (const a of ['determine_work_content', 'start_service'] as const)
      await tp.platform.tickets.transition(t.id, a, 'desk');
    await tp.platform.tickets.transition(t.id, 'mark_repaired', 'desk', undefined, 'customer', {
      resolution: { rootCause: 'transfer switch contactor stuck', workDone: 'contactor replaced', partsUsed: [] },
    });
    const page = await signIn('cust-a');
    await page.goto(`${base}/#/tickets/${t.id}`);
    await page.waitForSelector('[data-testid=ticket-view][data-status=repaired]');
    await page.fill('[data-testid=confirm-repair] input[name=note]', 'switching mains ↔ generator works again');
    await page.click('[data-testid=confirm-repair] button[type=submit]');
    await page.waitForSelector('[data-testid=ticket-view][data-status=verified]');
    expect(await page.locator('[data-testid=timeline]').innerText()).toContain(
      'switching mains ↔ generator works again',
    );
    expect((await tp.platform.tickets.get(t.id)).status).toBe('verified');
  }, 60_000);

  it('a customer requests a patrol inspection; the duty desk schedules it; no ticket, no clock', async () => {
    const cust = await signIn('cust-a');
    await cust.goto(`${base}/#/orders/new`);
    const form = cust.locator('[data-testid=order-form]');
    await form.waitFor();
    await form.locator('select[name=kind]').selectOption('patrol_inspection');
    await form.locator('input[name=title]').fill('Winter patrol inspection');
    await form.locator('textarea[name=details]').fill('Generator sets and batteries of 3 shelters');
    await form.locator('input[name=place]').fill('Yueyang depot, gate 2');
    await form.locator('input[name=date]').fill('2026-12-20');
    await form.locator('input[name=people]').fill('2');
    await form.locator('input[name=contact-phone]').fill('0730-7650002');
    await form.locator('button[type=submit]').click();
    await cust.waitForSelector('[data-testid=order-view][data-status=requested]');
    const id = /#\/orders\/(\d+)/.exec(cust.url())![1]!;

    const desk = await signIn('desk');
    await desk.goto(`${base}/#/orders`);
    await desk.locator(`[data-testid=orders-table] a[href="#/orders/${id}"]`).click();
    const schedule = desk.locator('[data-testid=order-schedule]');
    await schedule.waitFor();
    await schedule.locator('input[name=start]').fill('2026-12-20T09:00');
    await schedule.locator('input[name=team]').fill('Wang (leader), Zhou (technician)');
    await schedule.locator('button[type=submit]').click();
    await desk.waitForSelector('[data-testid=order-view][data-status=scheduled]');
    expect(await desk.locator('[data-testid=order-team]').innerText()).toBe('Wang (leader), Zhou (technician)');

    await cust.goto(`${base}/#/orders`);
    const row = cust.locator('[data-testid=orders-table] tr[data-status=scheduled]');
    await row.waitFor();
    expect(await row.innerText()).toContain('Patrol inspection and repair');
    const order = await tp.platform.records
      .selectFrom('service_orders')
      .select(['status', 'team'])
      .where('id', '=', Number(id))
      .executeTakeFirstOrThrow();
    expect(order).toEqual({ status: 'scheduled', team: 'Wang (leader), Zhou (technician)' });
    expect(await tp.platform.tickets.list()).toHaveLength(2); // the two tickets above only
  }, 60_000);

  it('the customer file (客户信息系统) shows the unit’s service orders and the reports with working links', async () => {
    // after the tests above: a verified ticket (its 《售后服务报告》) and a scheduled patrol order
    const page = await signIn('cust-a');
    await page.goto(`${base}/#/files`);
    await page.waitForSelector('[data-testid=file-unit]');
    const order = page.locator('[data-testid=file-order]').first();
    await order.waitFor();
    expect(await order.innerText()).toContain('Patrol inspection and repair');
    const so = await order.locator('a[href^="#/orders/"]').innerText();
    expect(so).toMatch(/^SO-UNIT-A-\d{4}$/);
    const report = page.locator('[data-testid=file-report]').first();
    expect(await report.innerText()).toContain('《售后服务报告》 After-sales service report');
    const href = await report.locator('[data-testid=file-report-links] a[target=_blank]').getAttribute('href');
    expect(href).toMatch(/^\/api\/tickets\/\d+\/report\.html\?lang=en$/);
    const res = await page.request.get(`${base}${href}`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/html');
    // search by the service order number
    await page.fill('[data-testid=customer-file-view] form input', so);
    await page.click('[data-testid=customer-file-view] form button[type=submit]');
    const match = page.locator('[data-testid=file-matches] li').first();
    await match.waitFor();
    expect(await match.innerText()).toBe(`Unit A service order: ${so}`);
  }, 60_000);
});
