/// <reference lib="dom" />
/**
 * The spare-parts views in real Chromium against the whole platform: supply chain lands on the
 * stock (no fleet, no tickets), sees the store stock from the ledger and the stock-take; the duty
 * desk reserves a ticket's plan parts from the ticket page, nearest store with stock first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoStock } from '../../simulators/demo-stock.ts';
import { addAccounts, startConsole, type ConsoleUnderTest } from '../helpers/browser.ts';
import type { TestPlatform } from '../helpers/platform.ts';

describe('spare parts in the console (Chromium)', () => {
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
      { id: 'sup', role: 'supply' },
      { id: 'desk', role: 'dispatcher' },
    ]);
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
  }, 120_000);

  afterAll(() => web?.close());

  const signIn = (username: string) => web.signIn(username);

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
