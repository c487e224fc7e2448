/// <reference lib="dom" />
/**
 * Issue 15, items 1 and 2 in real Chromium against the whole platform: two open tickets of one
 * vehicle side by side and merged from the ticket page; a ticket whose alarm is still active is
 * refused verification until the dispatcher gives an override reason; a closed ticket's assign,
 * service-mode and ETA controls are read-only. The console is built from source first (Vite).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuleFile } from '../../diagnostics/rules/load.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { addAccounts, DESK, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';
const RULES = loadRuleFile(new URL('../../diagnostics/rules/default-rules.yaml', import.meta.url).pathname);
const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];

describe('closing only what is fixed, merging tickets of one vehicle (Chromium)', () => {
  let web: ConsoleUnderTest;
  let tp: TestPlatform;
  let base: string;

  beforeAll(async () => {
    web = await startConsole();
    ({ tp, base } = web);
    await tp.platform.customers.add({ id: 'UNIT-A', name: 'Unit A' });
    await addAccounts(tp.platform, [
      { id: 'desk', name: 'Di Desk', role: 'dispatcher' },
      { id: 'eng', name: 'Eve Engineer', role: 'engineer' },
    ]);
    await tp.addVehicle('VX-1', 'UNIT-A');
    await tp.addVehicle('VX-2', 'UNIT-A');
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string): Promise<Page> => web.signIn(username, { viewport: DESK });

  const open = (vehicleId: string, level: Ticket['level'], title: string) =>
    tp.platform.tickets.open(
      { source: 'hotline', vehicleId, customerId: 'UNIT-A', level, title, need: title, contacts },
      'desk',
    );

  it('two open tickets of one vehicle: marked in the queue, side by side on the ticket, merged by the dispatcher', async () => {
    const first = await open('VX-1', 'extra_urgent', 'Generator will not start');
    const second = await open('VX-1', 'urgent', 'Battery low on the same shelter');
    const page = await signIn('desk');
    await page.goto(`${base}/#/tickets`);
    await page.waitForSelector(`tr[data-ticket="${second.number}"] [data-testid=same-vehicle-mark]`);
    expect(await page.locator(`tr[data-ticket="${first.number}"] [data-testid=same-vehicle-mark]`).textContent()).toBe(
      '2 open on this vehicle',
    );

    await page.goto(`${base}/#/tickets/${second.id}`);
    await page.waitForSelector(`[data-testid="same-vehicle-${first.number}"]`);
    page.once('dialog', (d) => void d.accept());
    await page.click(`[data-testid="merge-into-${first.number}"]`);
    await page.waitForSelector('[data-testid=ticket-view][data-status=merged]');
    expect(await page.locator('[data-testid=merged-into]').textContent()).toBe(`Merged into ${first.number}`);
    // its timeline stays readable and says where it went
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain(`merged into ${first.number}`);
    // staff read who acted by name, the login id in the tooltip
    const actors = page.locator('[data-testid=timeline-actor]');
    expect(await actors.allTextContents()).toEqual(expect.arrayContaining(['Di Desk']));
    expect(await actors.allTextContents()).not.toContain('desk');
    expect(await actors.first().getAttribute('title')).toBe('desk');

    await page.click('[data-testid=merged-into] a');
    await page.waitForSelector(`[data-testid=ticket-view][data-status=received]`);
    expect(await page.locator('[data-testid=merged-from]').textContent()).toContain(second.number);
    expect(await page.locator('[data-testid=timeline]').textContent()).toContain(
      `${second.number} merged into this ticket`,
    );
    expect(await tp.platform.tickets.get(second.id)).toMatchObject({ status: 'merged', mergedInto: first.id });
  });

  it('verify is refused while the alarm is active, accepted with an override reason; a closed ticket is read-only', async () => {
    const t = await open('VX-2', 'extra_urgent', 'Mains lost, generator did not start');
    // the ticket's incident with an active alarm, as the rules would link them
    const rule = RULES.rules.find((r) => r.id === 'mains_lost')!;
    const { alarm } = await tp.platform.diagnostics.alarms.raise('VX-2', rule, Date.now(), true, null);
    await tp.platform.records.updateTable('tickets').set({ incident_id: 9100 }).where('id', '=', t.id).execute();
    await tp.platform.records.updateTable('alarms').set({ incident_id: 9100 }).where('id', '=', alarm.id).execute();
    for (const a of ['determine_work_content', 'start_service'] as const)
      await tp.platform.tickets.transition(t.id, a, 'eng');

    // the engineer marks it repaired with the resolution
    const eng = await signIn('eng');
    await eng.goto(`${base}/#/tickets/${t.id}`);
    await eng.waitForSelector('[data-testid=resolution-form]');
    await eng.fill('[data-testid=resolution-root-cause]', 'ATS contactor welded');
    await eng.fill('[data-testid=resolution-work-done]', 'contactor replaced, transfer tested twice');
    await eng.fill('[data-testid=resolution-parts]', '1× contactor KM-40');
    await eng.click('[data-action=mark_repaired]');
    await eng.waitForSelector('[data-testid=ticket-view][data-status=repaired]');
    expect(await eng.locator('[data-testid=resolution]').textContent()).toContain('ATS contactor welded');
    // four-eyes: the one who repaired it is offered no verify
    expect(await eng.locator('[data-action=verify]').count()).toBe(0);

    // the dispatcher verifies: refused while the alarm is active, then with a reason
    const desk = await signIn('desk');
    await desk.goto(`${base}/#/tickets/${t.id}`);
    await desk.waitForSelector('[data-testid=alarm-override]');
    expect(
      await desk.locator(`[data-testid=ticket-alarms] [data-alarm="${alarm.id}"]`).getAttribute('data-state'),
    ).toBe('active');
    await desk.click('[data-action=verify]');
    await desk.waitForSelector('[data-testid=ticket-actions] [role=alert]');
    expect(await desk.locator('[data-testid=ticket-actions] [role=alert]').textContent()).toContain(
      'alarms are still active',
    );
    expect(await desk.locator('[data-testid=ticket-view]').getAttribute('data-status')).toBe('repaired');
    await desk.fill('[data-testid=alarm-override-reason]', 'mains back; the alarm is latched in the controller');
    await desk.click('[data-action=verify]');
    await desk.waitForSelector('[data-testid=ticket-view][data-status=verified]');
    await tp.platform.diagnostics.alarms.clear('VX-2', 'mains_lost', Date.now());
    await desk.reload();
    await desk.waitForSelector('[data-action=close]');
    expect(await desk.locator('[data-testid=alarm-override]').count()).toBe(0);
    await desk.click('[data-action=close]');
    await desk.waitForSelector('[data-testid=ticket-view][data-status=closed]');
    expect(await desk.locator('[data-testid=timeline]').textContent()).toContain(
      'mains back; the alarm is latched in the controller',
    );

    // closed: assign, service mode and ETA are read-only (the server refuses too: test/web)
    await desk.waitForSelector('[data-testid=ticket-read-only]');
    expect(await desk.locator('[data-testid=assign-select]').isDisabled()).toBe(true);
    expect(await desk.locator('[data-testid=service-mode-select]').isDisabled()).toBe(true);
    expect(await desk.locator('[data-testid=eta-form] button[type=submit]').isDisabled()).toBe(true);
  });
});
