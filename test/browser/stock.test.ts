/// <reference lib="dom" />
/**
 * The spare-parts views in real Chromium against the whole platform: supply chain lands on the
 * stock (no fleet, no tickets), sees the store stock from the ledger and the stock-take; the duty
 * desk reserves a ticket's plan parts from the ticket page, nearest store with stock first; supply
 * chain marks a shortage task (缺件) done with its outcome, and ships a transfer between stores,
 * receives it short and books the missing part, and cancels a draft one.
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
  let shortageId = 0;

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
    // a part no store has and no contract covers: the 缺件 path, a purchase list to work through
    await p.stock.catalogue.addPart({
      partNo: 'GOV-CTL-7',
      name: { en: 'Governor controller', zh: '调速控制器' },
      unit: 'pc',
      wearing: false,
      machinable: false,
      fitsModels: [],
      fitsModules: ['generator'],
      leadTimeDays: 30,
      suppliers: [],
    });
    shortageId = (
      await p.stock.replenishment.raiseShortage(
        { partNo: 'GOV-CTL-7', qty: 1, ticketId: null, note: 'no stock, no contract' },
        'test',
      )
    ).id;
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
    const picked = panel.locator('[data-part=FF-5421] [data-testid=store-choice] input[type=radio]:checked');
    await picked.waitFor();
    expect(await picked.inputValue()).toBe('SP-NORTH');
    await panel.locator('[data-testid=reserve]').click();
    await panel.locator('table.grid tbody tr').first().waitFor();
    const balances = await tp.platform.stock.balances({ partNo: 'FF-5421', storeId: 'SP-NORTH' });
    expect(balances[0]?.reserved).toBe(1);
  });

  it('supply chain marks an open shortage task (缺件) done with its outcome', async () => {
    const page = await signIn('sup');
    await page.waitForSelector('[data-testid=stock-view]');
    await page.getByRole('button', { name: 'Shortages (缺件)' }).click();
    const row = page.locator(`[data-testid=stock-shortages] [data-shortage="${shortageId}"]`);
    await row.waitFor();
    expect(await page.locator('[data-testid=stock-shortages]').textContent()).toContain('purchase list (采购清单)');
    await row.locator('input[name=outcome]').fill('bought 1 from Hunan Power, PO-X-17');
    await row.getByRole('button', { name: 'Done' }).click();
    // gone from the open tasks, listed as done with its outcome
    await row.waitFor({ state: 'detached' });
    await page.getByText('bought 1 from Hunan Power, PO-X-17').waitFor();
    const task = (await tp.platform.stock.replenishment.shortages()).find((x) => x.id === shortageId);
    expect(task).toMatchObject({ status: 'done', doneBy: 'sup', outcome: 'bought 1 from Hunan Power, PO-X-17' });
  });

  it('supply chain ships a transfer, receives it short and books the missing part with a reason', async () => {
    const p = tp.platform;
    const page = await signIn('sup');
    await page.waitForSelector('[data-testid=stock-view]');
    await page.getByRole('button', { name: 'Transfers' }).click();
    const form = page.locator('[data-testid=new-transfer]');
    await form.waitFor();
    await form.locator('select[name=from]').selectOption('CENTRAL');
    await form.locator('select[name=to]').selectOption('SP-NORTH');
    await form.locator('select[name=part]').selectOption('FF-5421');
    await form.locator('input[name=qty]').fill('3');
    await form.getByRole('button', { name: 'Add line' }).click();
    await form.getByRole('button', { name: 'Create transfer' }).click();
    const list = page.locator('[data-testid=stock-transfers] table.grid tbody tr');
    await list.filter({ hasText: 'draft' }).waitFor();
    const [tr] = await p.stock.transfers.list();
    expect(tr).toMatchObject({ from: 'CENTRAL', to: 'SP-NORTH', status: 'draft' });
    const central = (await p.stock.balances({ partNo: 'FF-5421', storeId: 'CENTRAL' }))[0]!.onHand;

    await list.filter({ hasText: tr!.number }).getByRole('button', { name: 'Ship' }).click();
    const ship = page.locator('[data-testid=ship-transfer]');
    await ship.locator('input[name=carrier]').fill('SF Express');
    await ship.locator('input[name=tracking]').fill('SF778899');
    await ship.locator('input[name=eta]').fill('2030-01-02 10:30');
    await ship.getByRole('button', { name: 'Ship' }).click();
    await list.filter({ hasText: 'in transit' }).filter({ hasText: 'SF778899' }).waitFor();
    expect((await p.stock.transfers.get(tr!.id)).etaAt).toBe(new Date('2030-01-02T10:30').getTime());
    expect((await p.stock.balances({ partNo: 'FF-5421', storeId: 'CENTRAL' }))[0]!.onHand).toBe(central - 3);

    await list.filter({ hasText: tr!.number }).getByRole('button', { name: 'Receive' }).click();
    const receive = page.locator('[data-testid=receive-transfer]');
    await receive.locator('input[name="got-FF-5421"]').fill('2');
    await receive.getByRole('button', { name: 'Receive' }).click();
    await list.filter({ hasText: 'partly received' }).waitFor();
    await receive.locator('input[name="reason-FF-5421"]').fill('carton damaged, carrier claim');
    await receive.getByRole('button', { name: 'Book missing parts' }).click();
    await list
      .filter({ hasText: tr!.number })
      .filter({ hasText: 'received' })
      .filter({ hasNotText: 'partly' })
      .waitFor();
    expect((await p.stock.transfers.get(tr!.id)).lines[0]).toMatchObject({ shipped: 3, received: 2, lost: 1 });
  });

  it('supply chain cancels a draft transfer with a reason; nothing moves', async () => {
    const p = tp.platform;
    const draft = await p.stock.transfers.create(
      { from: 'CENTRAL', to: 'SP-NORTH', lines: [{ partNo: 'FF-5421', qty: 1 }], reason: null },
      'sup',
    );
    const central = (await p.stock.balances({ partNo: 'FF-5421', storeId: 'CENTRAL' }))[0]!;
    const page = await signIn('sup');
    await page.waitForSelector('[data-testid=stock-view]');
    await page.getByRole('button', { name: 'Transfers' }).click();
    const row = page.locator('[data-testid=stock-transfers] table.grid tbody tr').filter({ hasText: draft.number });
    await row.getByRole('button', { name: 'Cancel transfer' }).click();
    const form = page.locator('[data-testid=cancel-transfer-form]');
    await form.locator('input[name=cancel-reason]').fill('restocked from a local supplier');
    await form.getByRole('button', { name: 'Cancel this draft' }).click();
    await row.filter({ hasText: 'cancelled' }).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect((await p.stock.transfers.get(draft.id)).status).toBe('cancelled');
    expect((await p.stock.balances({ partNo: 'FF-5421', storeId: 'CENTRAL' }))[0]).toEqual(central);
  });
});
