import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { seedStock } from './stock-helpers.ts';

interface Bal {
  partNo: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
}

describe('spare parts: fault → ticket → reservation → shipment → consumption → replenishment → receipt', () => {
  let w: TestWeb;
  let supply: Agent;
  let dispatcher: Agent;
  let engineer: Agent;
  let custA: Agent;
  let custB: Agent;

  const bal = async (partNo: string, storeId: string) => {
    const res = await supply.get(`/api/stock/balances?partNo=${partNo}&storeId=${storeId}`);
    const b = (res.json() as { balances: Bal[] }).balances[0];
    return b
      ? { onHand: b.onHand, reserved: b.reserved, available: b.available }
      : { onHand: 0, reserved: 0, available: 0 };
  };

  beforeAll(async () => {
    w = await startWeb();
    supply = await w.login('supply');
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
    await seedStock(supply);
    const receipts = [
      ['FF-5421', 'CENTRAL', 6],
      ['FF-5421', 'SP-N', 2],
      ['RLY-24V-ST', 'CENTRAL', 1],
    ] as const;
    for (const [partNo, storeId, qty] of receipts)
      expect(
        (await supply.post('/api/stock/receipts', { partNo, storeId, qty, reason: 'opening stock' })).statusCode,
      ).toBe(201);
    expect(
      (await supply.request('PUT', '/api/stock/levels', { partNo: 'FF-5421', storeId: 'SP-N', min: 2, max: 5 }))
        .statusCode,
    ).toBe(204);
  });
  afterAll(async () => w?.close());

  it('drives the whole path with on-hand, reserved and available right at each step', async () => {
    // a fault opens a ticket with the GEN-START-FAIL plan (fuel filter, start relay)
    const ticket = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    // the vehicle is near Beijing: the plan's parts as a proposed reservation, nearest store with stock first
    const view = (await dispatcher.get(`/api/tickets/${ticket.id}/stock?lat=40.0&lon=116.3`)).json();
    expect(view.proposal.planCode).toBe('GEN-START-FAIL');
    const [filter, relay] = view.proposal.lines;
    expect(filter).toMatchObject({ partNo: 'FF-5421', qty: 1, proposedStoreId: 'SP-N', shortage: null });
    expect(filter.options[0]).toMatchObject({ storeId: 'SP-N', available: 2, onHand: 2, inTransit: [] });
    expect(filter.options[0].distanceKm).toBeLessThan(20);
    expect(filter.options[0].etas[0].transport).toBe('courier');
    // the relay: none in Beijing, the central store has one — proposed there, with its ETA
    expect(relay).toMatchObject({ partNo: 'RLY-24V-ST', proposedStoreId: 'CENTRAL', shortage: null });
    expect(relay.options.find((o: { storeId: string }) => o.storeId === 'CENTRAL').etas.length).toBeGreaterThan(0);

    const res = await dispatcher.post(`/api/tickets/${ticket.id}/reservations`, {
      lines: [
        { partNo: 'FF-5421', storeId: 'SP-N', qty: 1, transport: 'courier' },
        { partNo: 'RLY-24V-ST', storeId: 'CENTRAL', qty: 1 },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    const [rFilter, rRelay] = res.json().reservations as { id: number }[];
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 2, reserved: 1, available: 1 });
    expect(await bal('RLY-24V-ST', 'CENTRAL')).toEqual({ onHand: 1, reserved: 1, available: 0 });
    // the proposal now counts them as covered
    const after = (await dispatcher.get(`/api/tickets/${ticket.id}/stock`)).json();
    expect(after.proposal.lines.map((l: { covered: number }) => l.covered)).toEqual([1, 1]);

    // shipped from Beijing with a shipping notice (售后服务发运通知) and tracking number
    const ship = await supply.post(`/api/tickets/${ticket.id}/shipments`, {
      reservationIds: [rFilter!.id],
      carrier: 'SF Express',
      trackingNo: 'SF1234567890',
      consignee: 'Li Wei',
      address: 'Site A',
    });
    expect(ship.statusCode, ship.body).toBe(201);
    expect(ship.json().noticeNo).toMatch(/^FY-\d{4}-\d{6}$/);
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1 });
    // one shipment leaves one store
    const mixed = await supply.post(`/api/tickets/${ticket.id}/shipments`, {
      reservationIds: [rFilter!.id, rRelay!.id],
      carrier: 'x',
      trackingNo: 'x',
      consignee: 'x',
      address: 'x',
    });
    expect(mixed.statusCode).toBe(409);
    // the customer of unit A sees the shipment to it, without the store; unit B sees nothing of it
    const mine = (await custA.get('/api/stock/shipments')).json().shipments;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ trackingNo: 'SF1234567890', lines: [{ partNo: 'FF-5421', qty: 1 }] });
    expect(mine[0].storeId).toBeUndefined();
    expect((await custB.get('/api/stock/shipments')).json().shipments).toEqual([]);
    expect(codeOf(await custB.get(`/api/stock/shipments/${ship.json().id}`))).toBe('SHIPMENT_NOT_FOUND');
    expect((await custA.get(`/api/tickets/${ticket.id}/stock`)).statusCode).toBe(403);

    // consumed on the ticket: the store's figures do not move, the reservation shows it used
    const used = await engineer.post(`/api/tickets/${ticket.id}/consumption`, { reservationId: rFilter!.id, qty: 1 });
    expect(used.statusCode, used.body).toBe(200);
    expect(used.json()).toMatchObject({ reserved: 0, inField: 0, consumed: 1 });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1 });
    // consuming what was never sent is refused
    expect(
      codeOf(await engineer.post(`/api/tickets/${ticket.id}/consumption`, { reservationId: rRelay!.id, qty: 1 })),
    ).toBe('STOCK_INVALID_STATE');

    // SP-N is below its min of 2: a replenishment proposal; no contract yet, but the central store has stock
    let proposals = (await supply.get('/api/stock/replenishment')).json().proposals;
    expect(proposals).toEqual([
      expect.objectContaining({
        partNo: 'FF-5421',
        storeId: 'SP-N',
        available: 1,
        onOrder: 0,
        proposedQty: 4,
        path: 'transfer',
        contract: null,
      }),
    ]);
    // an order contract (订货合同) with the supplier: prices and lead time
    const t0 = w.now();
    const contract = await supply.post('/api/stock/contracts', {
      number: 'DH-2026-017',
      supplierId: 'S-1',
      supplierName: 'Hunan Filters',
      currency: 'CNY',
      validFrom: t0 - 86_400_000,
      validTo: t0 + 365 * 86_400_000,
      items: [{ partNo: 'FF-5421', unitPriceCents: 8_500, leadTimeDays: 7 }],
    });
    expect(contract.statusCode, contract.body).toBe(201);
    proposals = (await supply.get('/api/stock/replenishment')).json().proposals;
    expect(proposals[0]).toMatchObject({ path: 'order', contract: { number: 'DH-2026-017', unitPriceCents: 8_500 } });

    const po = await supply.post('/api/stock/purchase-orders', {
      contractId: contract.json().id,
      storeId: 'SP-N',
      lines: [{ partNo: 'FF-5421', qty: proposals[0].proposedQty }],
    });
    expect(po.statusCode, po.body).toBe(201);
    expect(po.json()).toMatchObject({
      status: 'ordered',
      expectedAt: t0 + 7 * 86_400_000,
      lines: [{ qty: 4, unitPriceCents: 8_500, received: 0 }],
    });
    // on order: no longer proposed, and a ticket's shortage view would show it
    expect((await supply.get('/api/stock/replenishment')).json().proposals).toEqual([]);
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1 });

    // goods in: part, then the rest
    let rec = await supply.post(`/api/stock/purchase-orders/${po.json().id}/receipts`, {
      lines: [{ partNo: 'FF-5421', qty: 3 }],
    });
    expect(rec.json()).toMatchObject({ status: 'partially_received', lines: [{ received: 3 }] });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 4, reserved: 0, available: 4 });
    rec = await supply.post(`/api/stock/purchase-orders/${po.json().id}/receipts`, {
      lines: [{ partNo: 'FF-5421', qty: 2 }],
    });
    expect(codeOf(rec)).toBe('STOCK_INVALID_STATE');
    rec = await supply.post(`/api/stock/purchase-orders/${po.json().id}/receipts`, {
      lines: [{ partNo: 'FF-5421', qty: 1 }],
    });
    expect(rec.json()).toMatchObject({ status: 'received', lines: [{ received: 4 }] });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 5, reserved: 0, available: 5 });

    // the ledger holds every step
    const kinds = (
      (await supply.get('/api/stock/movements?partNo=FF-5421&storeId=SP-N')).json().movements as { kind: string }[]
    )
      .map((m) => m.kind)
      .reverse();
    expect(kinds).toEqual(['receipt', 'reservation', 'shipment', 'consumption', 'receipt', 'receipt']);
  });

  it('a part with no stock anywhere and no contract: the shortage shows at once, and raises the 缺件 task', async () => {
    const ticket = await w.ticket('VA1', 'urgent', 'PWR-MAINS-LOST');
    const view = (await dispatcher.get(`/api/tickets/${ticket.id}/stock?lat=40&lon=116`)).json();
    expect(view.proposal.lines[0]).toMatchObject({
      partNo: 'CB-63A-2P',
      proposedStoreId: null,
      shortage: { missing: 1, elsewhere: [], onOrder: [], contract: false },
    });
    const reserve = await dispatcher.post(`/api/tickets/${ticket.id}/reservations`, {
      lines: [{ partNo: 'CB-63A-2P', storeId: 'SP-N', qty: 1 }],
    });
    expect(reserve.statusCode).toBe(409);
    expect(codeOf(reserve)).toBe('INSUFFICIENT_STOCK');
    expect(reserve.json().error.message).toContain('none available in any store');
    const task = await dispatcher.post('/api/stock/shortages', { partNo: 'CB-63A-2P', qty: 1, ticketId: ticket.id });
    expect(task.statusCode, task.body).toBe(201);
    expect(task.json()).toMatchObject({ kind: 'purchase_list', status: 'open', ticketId: ticket.id });
    // done with its outcome, once
    const done = await supply.post(`/api/stock/shortages/${task.json().id}/done`, {
      outcome: 'bought 2 from the market, invoice CG-2026-88',
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({
      status: 'done',
      doneBy: 'supply',
      outcome: 'bought 2 from the market, invoice CG-2026-88',
    });
    expect(codeOf(await supply.post(`/api/stock/shortages/${task.json().id}/done`, { outcome: 'again' }))).toBe(
      'STOCK_INVALID_STATE',
    );
    expect(codeOf(await supply.post('/api/stock/shortages/999999/done', { outcome: 'x' }))).toBe('SHORTAGE_NOT_FOUND');
    expect((await engineer.post(`/api/stock/shortages/${task.json().id}/done`, { outcome: 'x' })).statusCode).toBe(403);
    // a part in stock somewhere is reserved or transferred, not raised as a shortage
    expect(codeOf(await dispatcher.post('/api/stock/shortages', { partNo: 'FF-5421', qty: 1, ticketId: null }))).toBe(
      'STOCK_INVALID_STATE',
    );
  });

  it('stock-taking (盘点): a count sheet per store, differences booked as adjustments with who and why', async () => {
    // the central store: FF-5421 6 on hand, RLY-24V-ST 1 (reserved by the first ticket)
    const sheet = await supply.post('/api/stock/counts', { storeId: 'CENTRAL' });
    expect(sheet.statusCode, sheet.body).toBe(201);
    const id = sheet.json().id as number;
    expect(sheet.json().lines).toEqual([
      expect.objectContaining({ partNo: 'FF-5421', expected: 6, counted: null }),
      expect.objectContaining({ partNo: 'RLY-24V-ST', expected: 1, counted: null }),
    ]);
    // not everything counted yet
    await supply.post(`/api/stock/counts/${id}/lines`, { lines: [{ partNo: 'FF-5421', counted: 5 }] });
    expect(codeOf(await supply.post(`/api/stock/counts/${id}/book`))).toBe('STOCK_INVALID_STATE');
    await supply.post(`/api/stock/counts/${id}/lines`, { lines: [{ partNo: 'RLY-24V-ST', counted: 0 }] });
    // a difference without a reason is refused
    const noReason = await supply.post(`/api/stock/counts/${id}/book`);
    expect(codeOf(noReason)).toBe('STOCK_INVALID_STATE');
    expect(noReason.json().error.message).toContain('FF-5421');
    await supply.post(`/api/stock/counts/${id}/lines`, {
      lines: [
        { partNo: 'FF-5421', counted: 5, reason: 'one filter damaged, scrapped' },
        { partNo: 'RLY-24V-ST', counted: 0, reason: 'not on the shelf' },
      ],
    });
    const booked = await supply.post(`/api/stock/counts/${id}/book`);
    expect(booked.statusCode, booked.body).toBe(200);
    expect(booked.json()).toMatchObject({ status: 'booked', bookedBy: 'supply' });
    expect(booked.json().lines.map((l: { difference: number }) => l.difference)).toEqual([-1, -1]);
    expect(await bal('FF-5421', 'CENTRAL')).toEqual({ onHand: 5, reserved: 0, available: 5 });
    // the relay was reserved; counted missing, its reservation is released: available never below zero
    expect(await bal('RLY-24V-ST', 'CENTRAL')).toEqual({ onHand: 0, reserved: 0, available: 0 });
    const moves = (await supply.get('/api/stock/movements?storeId=CENTRAL&limit=3')).json().movements as {
      kind: string;
      actor: string;
      reason: string;
      onHandDelta: number;
    }[];
    expect(moves.map((m) => m.kind)).toEqual(['release', 'adjustment', 'adjustment']);
    expect(moves[2]).toMatchObject({ actor: 'supply', onHandDelta: -1 });
    expect(moves[2]!.reason).toContain('one filter damaged');
    // booked once only
    expect(codeOf(await supply.post(`/api/stock/counts/${id}/book`))).toBe('STOCK_INVALID_STATE');
  });

  it('supply chain changes a part, a store and an order contract; the number or id stays, the ledger is untouched', async () => {
    const before = await bal('FF-5421', 'CENTRAL');
    const part = await supply.request('PUT', '/api/stock/parts/FF-5421', {
      name: { en: 'Fuel filter (fine)', zh: '燃油精滤器' },
      unit: 'pc',
      wearing: true,
      fitsModels: ['EPS-300'],
      fitsModules: ['generator'],
      leadTimeDays: 5,
      suppliers: [{ id: 'S-2', name: 'Changsha Filters' }],
    });
    expect(part.statusCode).toBe(200);
    expect(part.json()).toMatchObject({
      partNo: 'FF-5421',
      name: { en: 'Fuel filter (fine)' },
      leadTimeDays: 5,
      fitsModels: ['EPS-300'],
      suppliers: [{ id: 'S-2', name: 'Changsha Filters' }],
    });
    // its min/max levels are kept
    expect((part.json() as { levels: unknown[] }).levels.length).toBeGreaterThan(0);
    const store = await supply.request('PUT', '/api/stock/stores/SP-S', {
      kind: 'service_point',
      name: { en: 'South service point (Shenzhen)', zh: '南方服务站（深圳）' },
      lat: 22.54,
      lon: 114.06,
      address: 'Shenzhen',
    });
    expect(store.statusCode).toBe(200);
    expect(store.json()).toMatchObject({ id: 'SP-S', address: 'Shenzhen', lat: 22.54 });
    const contract = (
      await supply.post('/api/stock/contracts', {
        number: 'DH-EDIT-1',
        supplierId: 'S-2',
        supplierName: 'Changsha Filters',
        currency: 'CNY',
        validFrom: 0,
        validTo: 4_102_444_800_000,
        items: [{ partNo: 'FF-5421', unitPriceCents: 9000, leadTimeDays: 5 }],
      })
    ).json() as { id: number };
    const changed = await supply.request('PUT', `/api/stock/contracts/${contract.id}`, {
      number: 'DH-EDIT-1',
      supplierId: 'S-2',
      supplierName: 'Changsha Filters Co.',
      currency: 'CNY',
      validFrom: 0,
      validTo: 4_102_444_800_000,
      items: [
        { partNo: 'FF-5421', unitPriceCents: 8500, leadTimeDays: 4 },
        { partNo: 'RLY-24V-ST', unitPriceCents: 4000, leadTimeDays: 10 },
      ],
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ id: contract.id, supplierName: 'Changsha Filters Co.' });
    expect((changed.json() as { items: unknown[] }).items).toHaveLength(2);
    expect(await bal('FF-5421', 'CENTRAL')).toEqual(before);
    // unknown ones: 404 with their codes; a number another contract has: 409
    expect(
      codeOf(
        await supply.request('PUT', '/api/stock/parts/NO-SUCH', {
          name: { en: 'x', zh: 'x' },
          unit: 'pc',
          leadTimeDays: 1,
        }),
      ),
    ).toBe('PART_NOT_FOUND');
    expect(
      codeOf(
        await supply.request('PUT', '/api/stock/stores/NO-SUCH', {
          kind: 'central',
          name: { en: 'x', zh: 'x' },
          lat: 0,
          lon: 0,
          address: 'x',
        }),
      ),
    ).toBe('STORE_NOT_FOUND');
    const other = (
      await supply.post('/api/stock/contracts', {
        number: 'DH-EDIT-2',
        supplierId: 'S-2',
        supplierName: 'x',
        currency: 'CNY',
        validFrom: 0,
        validTo: 4_102_444_800_000,
        items: [{ partNo: 'FF-5421', unitPriceCents: 1, leadTimeDays: 1 }],
      })
    ).json() as { id: number };
    const clash = await supply.request('PUT', `/api/stock/contracts/${other.id}`, {
      number: 'DH-EDIT-1',
      supplierId: 'S-2',
      supplierName: 'x',
      currency: 'CNY',
      validFrom: 0,
      validTo: 4_102_444_800_000,
      items: [{ partNo: 'FF-5421', unitPriceCents: 1, leadTimeDays: 1 }],
    });
    expect([clash.statusCode, codeOf(clash)]).toEqual([409, 'STOCK_EXISTS']);
    expect((await dispatcher.request('PUT', `/api/stock/contracts/${other.id}`, {})).statusCode).toBe(403);
  });

  it('roles: supply chain edits stock, dispatchers reserve but do not edit, customers see none of it', async () => {
    expect(
      (await dispatcher.post('/api/stock/receipts', { partNo: 'FF-5421', storeId: 'SP-N', qty: 1, reason: 'x' }))
        .statusCode,
    ).toBe(403);
    expect((await custA.get('/api/stock/parts')).statusCode).toBe(403);
    expect((await custA.get('/api/stock/balances')).statusCode).toBe(403);
    // supply chain works the stock, not the fleet or tickets
    expect((await supply.get('/api/tickets')).statusCode).toBe(403);
    expect((await supply.get('/api/vehicles')).statusCode).toBe(403);
  });
});
