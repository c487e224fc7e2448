/// <reference lib="dom" />
/**
 * The spare-parts views in real Chromium against the whole platform: supply chain lands on the
 * stock (no fleet, no tickets), sees the store stock from the ledger and the stock-take; the duty
 * desk reserves a ticket's plan parts from the ticket page, nearest store with stock first; supply
 * chain marks a shortage task (缺件) done with its outcome, and ships a transfer between stores,
 * receives it short and books the missing part, and cancels a draft one; supply chain adds a part,
 * a store, the part's min/max there, an order contract, goods in without an order, a field return
 * and a purchase order by hand received in part, and the duty desk sees none of the edit controls.
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

  it('supply chain adds a part, a store, min/max, an order contract, goods in, a field return and a purchase order; the ledger agrees', async () => {
    const p = tp.platform;
    // the part's supplier and the contract's come from the suppliers register
    await p.resourceRegister.suppliers.add({ id: 'S-9', name: 'Xiangtan Brakes', contact: 'sales@xtb.example' });
    const page = await signIn('sup');
    await page.waitForSelector('[data-testid=stock-view]');
    const tab = (name: string) => page.locator('nav.tabs').getByRole('button', { name, exact: true }).click();

    // a part
    await tab('Parts catalogue');
    const part = page.locator('[data-testid=part-form]');
    await part.locator('input[name=partNo]').fill('BRK-PAD-9');
    await part.locator('input[name=name-en]').fill('Brake pad set');
    await part.locator('input[name=name-zh]').fill('刹车片组');
    await part.locator('input[name=unit]').fill('set');
    await part.locator('input[name=lead]').fill('12');
    await part.locator('input[name=wearing]').check();
    await part.locator('input[name=models]').fill('EPS-300, EPS-500');
    await part.locator('input[name=modules]').fill('chassis');
    await part.locator('select[name=supplier-pick]').selectOption('S-9');
    expect(await part.locator('input[name=suppliers]').inputValue()).toBe('S-9: Xiangtan Brakes');
    await part.getByRole('button', { name: 'Add part' }).click();
    const partRow = page.locator('[data-testid=stock-parts] table.grid tbody tr').filter({ hasText: 'BRK-PAD-9' });
    await partRow.waitFor();
    expect(await p.stock.catalogue.part('BRK-PAD-9')).toMatchObject({
      name: { en: 'Brake pad set', zh: '刹车片组' },
      unit: 'set',
      wearing: true,
      leadTimeDays: 12,
      fitsModels: ['EPS-300', 'EPS-500'],
      fitsModules: ['chassis'],
      suppliers: [{ id: 'S-9', name: 'Xiangtan Brakes' }],
    });
    // changed: the lead time (the number stays)
    await partRow.getByRole('button', { name: 'Edit' }).click();
    await part.locator('input[name=lead]').fill('9');
    await part.getByRole('button', { name: 'Save changes' }).click();
    await partRow.filter({ hasText: 'Brake pad set' }).locator('td', { hasText: /^9$/ }).waitFor();
    expect((await p.stock.catalogue.part('BRK-PAD-9')).leadTimeDays).toBe(9);

    // a store: a service vehicle
    await tab('Stores');
    const store = page.locator('[data-testid=store-form]');
    await store.locator('input[name=store-id]').fill('SV-07');
    await store.locator('select[name=kind]').selectOption('service_vehicle');
    await store.locator('input[name=name-en]').fill('Service vehicle 7');
    await store.locator('input[name=name-zh]').fill('服务车 7 号');
    await store.locator('input[name=lat]').fill('39.95');
    await store.locator('input[name=lon]').fill('116.41');
    await store.locator('input[name=address]').fill('Beijing depot');
    await store.getByRole('button', { name: 'Add store' }).click();
    await page.locator('[data-testid=stock-stores] table.grid tbody tr').filter({ hasText: 'SV-07' }).waitFor();
    expect(await p.stock.catalogue.store('SV-07')).toMatchObject({ kind: 'service_vehicle', lat: 39.95 });

    // min/max of the part on the vehicle
    await tab('Parts catalogue');
    const level = page.locator('[data-testid=level-form]');
    await level.locator('select[name=level-part]').selectOption('BRK-PAD-9');
    await level.locator('select[name=level-store]').selectOption('SV-07');
    await level.locator('input[name=min]').fill('2');
    await level.locator('input[name=max]').fill('6');
    await level.getByRole('button', { name: 'Set min/max' }).click();
    await partRow.filter({ hasText: 'SV-07 2/6' }).waitFor();

    // an order contract (订货合同)
    await tab('Order contracts (订货合同)');
    const contract = page.locator('[data-testid=contract-form]');
    await contract.locator('input[name=number]').fill('DH-BRK-2026-1');
    await contract.locator('select[name=supplier-pick]').selectOption('S-9');
    expect(await contract.locator('input[name=supplier-name]').inputValue()).toBe('Xiangtan Brakes');
    await contract.locator('input[name=valid-from]').fill('2026-01-01');
    await contract.locator('input[name=valid-to]').fill('2030-12-31');
    await contract.locator('select[name=item-part]').selectOption('BRK-PAD-9');
    await contract.locator('input[name=price]').fill('125.50');
    await contract.locator('input[name=item-lead]').fill('10');
    await contract.getByRole('button', { name: 'Add line' }).click();
    await contract.getByRole('button', { name: 'Add order contract' }).click();
    await page
      .locator('[data-testid=stock-contracts] table.grid tbody tr')
      .filter({ hasText: 'DH-BRK-2026-1' })
      .waitFor();
    const [dh] = (await p.stock.replenishment.contracts()).filter((c) => c.number === 'DH-BRK-2026-1');
    expect(dh).toMatchObject({
      supplierId: 'S-9',
      currency: 'CNY',
      items: [{ partNo: 'BRK-PAD-9', unitPriceCents: 12550, leadTimeDays: 10 }],
    });

    // goods in without an order
    await tab('Goods in');
    const receipt = page.locator('[data-testid=receipt-form]');
    await receipt.locator('select[name=receipt-part]').selectOption('BRK-PAD-9');
    await receipt.locator('select[name=receipt-store]').selectOption('SV-07');
    await receipt.locator('input[name=receipt-qty]').fill('5');
    await receipt.locator('input[name=receipt-reason]').fill('opening stock of the vehicle');
    await receipt.getByRole('button', { name: 'Book receipt' }).click();
    await page
      .locator('[data-testid=stock-receipts] table.grid tbody tr')
      .filter({ hasText: 'opening stock of the vehicle' })
      .waitFor();

    // two handed to the engineer for the ticket, one comes back unused: a field return
    const t = { id: ticketId, customerId: 'UNIT-A', vehicleId: 'VA-1', faultCode: 'GEN-START-FAIL', planRef: null };
    const r = (await p.stock.reservations.reserve(t, [{ partNo: 'BRK-PAD-9', storeId: 'SV-07', qty: 2 }], 'desk')).find(
      (x) => x.partNo === 'BRK-PAD-9',
    );
    await p.stock.reservations.dispatch(
      t,
      {
        mode: 'issue',
        reservationIds: [r!.id],
        carrier: 'engineer Li',
        trackingNo: '-',
        consignee: 'Li',
        address: 'site',
      },
      'desk',
    );
    await tab('Field returns');
    const ret = page.locator('[data-testid=return-form]');
    await ret.locator('input[name=return-ticket]').fill(String(ticketId));
    await ret.locator(`select[name=return-reservation] option[value="${r!.id}"]`).waitFor({ state: 'attached' });
    await ret.locator('select[name=return-reservation]').selectOption(String(r!.id));
    await ret.locator('input[name=return-qty]').fill('1');
    await ret.getByRole('button', { name: 'Book return' }).click();
    await expect
      .poll(async () => (await p.stock.reservations.ofTicket(ticketId)).find((x) => x.id === r!.id)?.returned)
      .toBe(1);

    // a purchase order by hand against the new contract, 3 ordered, 2 arrive
    await tab('Purchase orders');
    const order = page.locator('[data-testid=order-form]');
    await order.locator('select[name=order-contract]').selectOption(String(dh!.id));
    await order.locator('select[name=order-store]').selectOption('SV-07');
    await order.locator('input[name="order-qty-BRK-PAD-9"]').fill('3');
    await order.getByRole('button', { name: 'Place order' }).click();
    const orderRow = page
      .locator('[data-testid=stock-orders] table.grid tbody tr')
      .filter({ hasText: 'BRK-PAD-9 0/3' });
    await orderRow.waitFor();
    await orderRow.getByRole('button', { name: 'Receive', exact: true }).click();
    const goods = page.locator('[data-testid=order-receipt]');
    await goods.locator('input[name="got-BRK-PAD-9"]').fill('2');
    await goods.getByRole('button', { name: 'Book receipt' }).click();
    await page.locator('[data-testid=stock-orders] table.grid tbody tr').filter({ hasText: 'BRK-PAD-9 2/3' }).waitFor();
    const [po] = (await p.stock.replenishment.orders()).filter((o) => o.contractId === dh!.id);
    expect(po).toMatchObject({ status: 'partially_received', lines: [{ qty: 3, received: 2, unitPriceCents: 12550 }] });

    // on hand and available through the API: 5 in, 2 out to the field, 1 back, 2 from the order
    const balances = await page.evaluate(async () => {
      const res = await fetch('/api/stock/balances?partNo=BRK-PAD-9&storeId=SV-07');
      return ((await res.json()) as { balances: { onHand: number; reserved: number; available: number }[] }).balances;
    });
    expect(balances).toEqual([expect.objectContaining({ onHand: 6, reserved: 0, available: 6 })]);
  });

  it('the duty desk sees the stock but none of the edit controls (it reserves on the ticket page)', async () => {
    const page = await signIn('desk');
    await page.goto(`${base}/#/stock`);
    await page.waitForSelector('[data-testid=stock-view]');
    const view = page.locator('[data-testid=stock-view]');
    const tabs = [
      ['Parts catalogue', 'stock-parts'],
      ['Stores', 'stock-stores'],
      ['Goods in', 'stock-receipts'],
      ['Order contracts (订货合同)', 'stock-contracts'],
      ['Purchase orders', 'stock-orders'],
      ['Transfers', 'stock-transfers'],
    ] as const;
    for (const [name, id] of tabs) {
      await view.locator('nav.tabs').getByRole('button', { name, exact: true }).click();
      // loaded: the lists have rows (purchase orders: none placed, the component is enough)
      const loaded =
        id === 'stock-orders'
          ? view.locator(`[data-testid=${id}]`)
          : view.locator(`[data-testid=${id}] table.grid tbody tr`);
      await loaded.first().waitFor();
      expect(await view.locator('form').count(), name).toBe(0);
      expect(await view.locator(`[data-testid=${id}] td.actions button`).count(), name).toBe(0);
    }
    // a field return is the duty desk's to book (the API lets it)
    await view.locator('nav.tabs').getByRole('button', { name: 'Field returns', exact: true }).click();
    await view.locator('[data-testid=return-form]').waitFor();
  });
});
