/// <reference lib="dom" />
/**
 * The support plan document (应急保障工作计划) in real Chromium against the whole platform: the duty
 * desk drafts the plan on the ticket page with a spare part reserved from the stock and a
 * milestone, issues it (the ticket's issue_plan step), issues a new version with a reason, and the
 * customer of the unit sees the issued version without the internal note.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoStock } from '../../simulators/demo-stock.ts';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

describe('the support plan in the console (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;
  let ticketId = 0;

  beforeAll(async () => {
    web = await startConsole();
    ({ tp, base } = web);
    const p = tp.platform;
    await p.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await tp.addVehicle('VA-1', 'UNIT-A');
    await addAccounts(p, [
      { id: 'desk', role: 'dispatcher' },
      { id: 'eng', role: 'engineer' },
      { id: 'cust', role: 'customer', customerId: 'UNIT-A' },
    ]);
    await seedDemoStock({ stock: p.stock, vehicleIds: ['VA-1'] });
    await p.stock.reservations.receive('FF-5421', 'SP-NORTH', 2, 'test stock', 'test');
    await p.stock.reservations.setVehiclePosition('VA-1', { lat: 40.0, lon: 116.5 }, 'test', 'test');
    // an urgent (加急) task: the plan has its 30-minute deadline; the work content is determined, the team set
    ticketId = (
      await p.tickets.open(
        {
          source: 'rule',
          vehicleId: 'VA-1',
          customerId: 'UNIT-A',
          level: 'urgent',
          title: 'VA-1: generator failed to start',
          need: 'GEN-START-FAIL',
          faultCode: 'GEN-START-FAIL',
        },
        'system',
      )
    ).id;
    await p.tickets.transition(ticketId, 'determine_work_content', 'desk');
    await p.tickets.setTeam(ticketId, [{ accountId: 'eng', role: 'leader', duty: '故障排查' }], 'desk');
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string) => web.signIn(username);

  it('the duty desk drafts and issues the plan with a reserved part and a milestone, then issues a new version', async () => {
    const page = await signIn('desk');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const panel = page.locator('[data-testid=support-plan]');
    const editor = panel.locator('[data-testid=support-plan-editor]');
    await editor.waitFor();
    // the note-only step is gone from the actions: the plan is issued here
    expect(await page.locator('[data-testid=ticket-actions] [data-action=issue_plan]').count()).toBe(0);
    // the work content starts from the diagnosis and the emergency plan
    expect(await editor.locator('[data-testid=plan-work]').inputValue()).toContain('GEN-START-FAIL');
    await editor.locator('[data-testid=plan-part]').selectOption('p:FF-5421');
    await editor.locator('[data-testid=plan-add-part]').click();
    await editor.locator('[data-testid=plan-milestone-label]').fill('到达现场 On site');
    await editor.locator('[data-testid=plan-add-milestone]').click();
    await editor.locator('[data-testid=plan-transport]').selectOption('service_vehicle');
    await editor.locator('[data-testid=plan-vehicle]').fill('湘A-12345');
    await editor.locator('[data-testid=plan-internal]').fill('INTERNAL-ONLY-4411');
    await editor.locator('[data-testid=plan-save]').click();
    // the draft is saved: the part is reserved in the stock ledger
    await panel.locator('[data-testid=plan-issue]').waitFor();
    const reserved = await tp.platform.stock.balances({ partNo: 'FF-5421', storeId: 'SP-NORTH' });
    expect(reserved[0]?.reserved).toBe(1);
    await panel.locator('[data-testid=plan-issue]').click();
    await panel.locator('[data-testid=support-plan-current][data-version="1"]').waitFor();
    expect(await panel.locator('[data-testid=support-plan-milestones]').textContent()).toContain('到达现场 On site');
    expect(await panel.locator('[data-testid=support-plan-materials]').textContent()).toContain('FF-5421');
    const issued = await tp.platform.tickets.get(ticketId);
    expect(issued.status).toBe('plan_issued');
    expect(issued.planDoneAt).not.toBeNull();

    // a new version: the vehicle changes, the reason is asked for, the old version stays readable
    await panel.locator('[data-testid=plan-vehicle]').fill('湘A-67890');
    await panel.locator('[data-testid=plan-save]').click();
    await panel.locator('[data-testid=plan-reason]').fill('service vehicle changed');
    await panel.locator('[data-testid=plan-issue]').click();
    await panel.locator('[data-testid=support-plan-current][data-version="2"]').waitFor();
    const versions = panel.locator('[data-testid=support-plan-versions]');
    await versions.locator('summary').click();
    expect(await versions.locator('li').count()).toBe(2);
    expect(await versions.locator('li[data-version="2"]').textContent()).toContain('service vehicle changed');
    // still one reservation: the part line kept its reservation
    const after = await tp.platform.stock.balances({ partNo: 'FF-5421', storeId: 'SP-NORTH' });
    expect(after[0]?.reserved).toBe(1);
  });

  it('the customer sees the issued version of its own ticket, without the internal note, and cannot edit', async () => {
    const page = await signIn('cust');
    await page.goto(`${base}/#/tickets/${ticketId}`);
    const panel = page.locator('[data-testid=support-plan]');
    await panel.locator('[data-testid=support-plan-current][data-version="2"]').waitFor();
    const text = (await panel.textContent()) ?? '';
    expect(text).toContain('湘A-67890');
    expect(text).toContain('到达现场 On site');
    expect(text).not.toContain('INTERNAL-ONLY-4411');
    // people by public names, never the login id
    expect(text).not.toMatch(/Leader: eng\b/);
    expect(await panel.locator('[data-testid=support-plan-editor]').count()).toBe(0);
    expect(await panel.locator('[data-testid=support-plan-versions]').count()).toBe(0);
    // the contact letter opens for the customer
    const href = await panel.locator('[data-testid=plan-form-contact-letter-html]').getAttribute('href');
    const res = await page.request.get(`${base}${href}`);
    expect(res.status()).toBe(200);
    expect(await res.text()).toContain('湘A-67890');
  });
});
