import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { seedStock } from './stock-helpers.ts';

interface Bal {
  partNo: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
  inTransit: number;
}
interface Line {
  partNo: string;
  qty: number;
  shipped: number;
  received: number;
  lost: number;
  outstanding: number;
}

/** Transfers between stores as a document: draft → shipped (in transit) → partial receipt → discrepancy booked. */
describe('stock transfers in transit', () => {
  let w: TestWeb;
  let supply: Agent;
  let dispatcher: Agent;
  let engineer: Agent;
  let customer: Agent;

  const bal = async (partNo: string, storeId: string) => {
    const list = (await supply.get(`/api/stock/balances?partNo=${partNo}&storeId=${storeId}`)).json() as {
      balances: Bal[];
    };
    const b = list.balances[0];
    return b
      ? { onHand: b.onHand, reserved: b.reserved, available: b.available, inTransit: b.inTransit }
      : { onHand: 0, reserved: 0, available: 0, inTransit: 0 };
  };
  const lineOf = (t: { lines: Line[] }, partNo: string) => {
    const l = t.lines.find((x) => x.partNo === partNo)!;
    return { shipped: l.shipped, received: l.received, lost: l.lost, outstanding: l.outstanding };
  };

  beforeAll(async () => {
    w = await startWeb();
    supply = await w.login('supply');
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    customer = await w.login('cust-a');
    await seedStock(supply);
    for (const [partNo, qty] of [
      ['FF-5421', 6],
      ['RLY-24V-ST', 2],
    ] as const)
      expect(
        (await supply.post('/api/stock/receipts', { partNo, storeId: 'CENTRAL', qty, reason: 'opening stock' }))
          .statusCode,
      ).toBe(201);
    expect(
      (await supply.request('PUT', '/api/stock/levels', { partNo: 'FF-5421', storeId: 'SP-N', min: 3, max: 6 }))
        .statusCode,
    ).toBe(204);
  });
  afterAll(async () => w?.close());

  it('ship → in transit → partial receipt → discrepancy booked, with the balances right at each step', async () => {
    // a draft moves nothing
    const created = await supply.post('/api/stock/transfers', {
      from: 'CENTRAL',
      to: 'SP-N',
      lines: [
        { partNo: 'FF-5421', qty: 4 },
        { partNo: 'RLY-24V-ST', qty: 1 },
      ],
      reason: 'stock the north service point',
    });
    expect(created.statusCode, created.body).toBe(201);
    const t = created.json() as { id: number; number: string; status: string };
    expect(t.number).toMatch(/^TR-\d{4}-\d{6}$/);
    expect(t.status).toBe('draft');
    expect(await bal('FF-5421', 'CENTRAL')).toEqual({ onHand: 6, reserved: 0, available: 6, inTransit: 0 });
    // the north service point is below its min: a replenishment proposal
    const before = (await supply.get('/api/stock/replenishment')).json().proposals as {
      partNo: string;
      storeId: string;
    }[];
    expect(before.some((p) => p.partNo === 'FF-5421' && p.storeId === 'SP-N')).toBe(true);

    // shipped: the parts leave the central store and are on hand nowhere, in transit to SP-N
    const shipped = await supply.post(`/api/stock/transfers/${t.id}/ship`, {
      carrier: 'SF Express',
      trackingNo: 'SF123',
    });
    expect(shipped.statusCode, shipped.body).toBe(200);
    const s = shipped.json();
    expect(s).toMatchObject({ status: 'in_transit', carrier: 'SF Express', trackingNo: 'SF123', shippedBy: 'supply' });
    // no ETA given: the fastest delivery time between the stores, Changsha → Beijing (~1340 km) by air, 10.2 h
    expect(s.etaAt - s.shippedAt).toBe(10.2 * 3_600_000);
    expect(await bal('FF-5421', 'CENTRAL')).toEqual({ onHand: 2, reserved: 0, available: 2, inTransit: 0 });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 0, reserved: 0, available: 0, inTransit: 4 });
    expect(await bal('RLY-24V-ST', 'SP-N')).toEqual({ onHand: 0, reserved: 0, available: 0, inTransit: 1 });
    // what is in transit is not offered for reservation at the receiving store
    const ticket = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    // the dispatcher sees it, per store with the transfer's ETA, next to on hand and available
    const view = (await dispatcher.get(`/api/tickets/${ticket.id}/stock?lat=40.0&lon=116.3`)).json();
    const filterLine = view.proposal.lines.find((l: { partNo: string }) => l.partNo === 'FF-5421');
    const optionAt = (storeId: string) =>
      filterLine.options.find((o: { storeId: string }) => o.storeId === storeId) as {
        onHand: number;
        available: number;
        inTransit: { transferNo: string; qty: number; etaAt: number | null }[];
      };
    expect(optionAt('SP-N')).toMatchObject({
      onHand: 0,
      available: 0,
      inTransit: [{ transferNo: t.number, qty: 4, etaAt: s.etaAt }],
    });
    expect(optionAt('CENTRAL')).toMatchObject({ onHand: 2, available: 2, inTransit: [] });
    const refused = await dispatcher.post(`/api/tickets/${ticket.id}/reservations`, {
      lines: [{ partNo: 'FF-5421', storeId: 'SP-N', qty: 1 }],
    });
    expect(refused.statusCode).toBe(409);
    expect(codeOf(refused)).toBe('INSUFFICIENT_STOCK');
    // the stock on its way counts against the min: no replenishment proposal for SP-N any more
    const during = (await supply.get('/api/stock/replenishment')).json().proposals as {
      partNo: string;
      storeId: string;
    }[];
    expect(during.some((p) => p.partNo === 'FF-5421' && p.storeId === 'SP-N')).toBe(false);
    // listed as in transit to SP-N
    const inbound = (await supply.get('/api/stock/transfers?storeId=SP-N&status=in_transit')).json().transfers;
    expect(inbound.map((x: { id: number }) => x.id)).toEqual([t.id]);
    // shipped once only
    const again = await supply.post(`/api/stock/transfers/${t.id}/ship`, { carrier: 'SF', trackingNo: 'X' });
    expect(again.statusCode).toBe(409);
    expect(codeOf(again)).toBe('STOCK_INVALID_STATE');

    // a short receipt: 3 filters of 4 and the relay arrive
    const got = await supply.post(`/api/stock/transfers/${t.id}/receipts`, {
      lines: [
        { partNo: 'FF-5421', qty: 3 },
        { partNo: 'RLY-24V-ST', qty: 1 },
      ],
    });
    expect(got.statusCode, got.body).toBe(200);
    const g = got.json();
    expect(g).toMatchObject({ status: 'partially_received', discrepancy: 1 });
    expect(lineOf(g, 'FF-5421')).toEqual({ shipped: 4, received: 3, lost: 0, outstanding: 1 });
    expect(lineOf(g, 'RLY-24V-ST')).toEqual({ shipped: 1, received: 1, lost: 0, outstanding: 0 });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 3, reserved: 0, available: 3, inTransit: 1 });
    // the proposal shows what is still on its way
    const after = (await dispatcher.get(`/api/tickets/${ticket.id}/stock?lat=40.0&lon=116.3`)).json();
    expect(
      after.proposal.lines
        .find((l: { partNo: string }) => l.partNo === 'FF-5421')
        .options.find((o: { storeId: string }) => o.storeId === 'SP-N'),
    ).toMatchObject({ onHand: 3, available: 3, inTransit: [{ transferNo: t.number, qty: 1 }] });
    expect(await bal('RLY-24V-ST', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1, inTransit: 0 });
    // no more than is outstanding can be received or booked
    const over = await supply.post(`/api/stock/transfers/${t.id}/receipts`, { lines: [{ partNo: 'FF-5421', qty: 2 }] });
    expect(over.statusCode).toBe(409);
    expect(codeOf(over)).toBe('STOCK_INVALID_STATE');
    const overBooked = await supply.post(`/api/stock/transfers/${t.id}/discrepancies`, {
      lines: [{ partNo: 'RLY-24V-ST', qty: 1, reason: 'x' }],
    });
    expect(overBooked.statusCode).toBe(409);

    // the missing filter is booked with a reason: the transfer is settled, nothing is in transit
    const booked = await supply.post(`/api/stock/transfers/${t.id}/discrepancies`, {
      lines: [{ partNo: 'FF-5421', qty: 1, reason: 'carton crushed in transit, carrier claim SF-C-77' }],
    });
    expect(booked.statusCode, booked.body).toBe(200);
    const b = booked.json();
    expect(b).toMatchObject({ status: 'received', discrepancy: 0 });
    expect(lineOf(b, 'FF-5421')).toEqual({ shipped: 4, received: 3, lost: 1, outstanding: 0 });
    expect(await bal('FF-5421', 'CENTRAL')).toEqual({ onHand: 2, reserved: 0, available: 2, inTransit: 0 });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 3, reserved: 0, available: 3, inTransit: 0 });
    const closed = await supply.post(`/api/stock/transfers/${t.id}/receipts`, {
      lines: [{ partNo: 'FF-5421', qty: 1 }],
    });
    expect(codeOf(closed)).toBe('STOCK_INVALID_STATE');

    // the ledger: every movement carries the transfer's id; the loss moves no stock and keeps its reason
    const moves = (await supply.get('/api/stock/movements?partNo=FF-5421&limit=50')).json().movements as {
      kind: string;
      storeId: string;
      qty: number;
      onHandDelta: number;
      transferId: number | null;
      reason: string | null;
    }[];
    const mine = moves.filter((m) => m.transferId === t.id);
    expect(mine.map((m) => [m.kind, m.storeId, m.qty, m.onHandDelta]).sort()).toEqual(
      [
        ['transfer_in', 'SP-N', 3, 3],
        ['transfer_loss', 'SP-N', 1, 0],
        ['transfer_out', 'CENTRAL', 4, -4],
      ].sort(),
    );
    expect(mine.find((m) => m.kind === 'transfer_loss')?.reason).toContain('carton crushed');
  });

  it('shipping takes available stock under the position lock: never below zero, all lines or none', async () => {
    // 2 filters left at CENTRAL: 5 transfers of 1 each shipped at once → exactly 2 go
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await supply.post('/api/stock/transfers', {
        from: 'CENTRAL',
        to: 'SP-S',
        lines: [{ partNo: 'FF-5421', qty: 1 }],
      });
      ids.push(r.json().id as number);
    }
    const results = await Promise.all(
      ids.map((id) => supply.post(`/api/stock/transfers/${id}/ship`, { carrier: 'SF', trackingNo: `T${id}` })),
    );
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(2);
    const refused = results.filter((r) => r.statusCode !== 200);
    expect(refused).toHaveLength(3);
    for (const r of refused) expect(codeOf(r)).toBe('INSUFFICIENT_STOCK');
    expect(await bal('FF-5421', 'CENTRAL')).toEqual({ onHand: 0, reserved: 0, available: 0, inTransit: 0 });
    expect(await bal('FF-5421', 'SP-S')).toEqual({ onHand: 0, reserved: 0, available: 0, inTransit: 2 });

    // a transfer whose second line is short moves nothing
    const mixed = await supply.post('/api/stock/transfers', {
      from: 'CENTRAL',
      to: 'SP-S',
      lines: [
        { partNo: 'RLY-24V-ST', qty: 1 },
        { partNo: 'CB-63A-2P', qty: 1 },
      ],
    });
    const r = await supply.post(`/api/stock/transfers/${mixed.json().id}/ship`, {
      carrier: 'SF',
      trackingNo: 'T9',
      etaAt: Date.now() + 86_400_000,
    });
    expect(codeOf(r)).toBe('INSUFFICIENT_STOCK');
    expect(r.json().error.message).toContain('CB-63A-2P');
    expect(await bal('RLY-24V-ST', 'CENTRAL')).toMatchObject({ onHand: 1, available: 1 });
    expect((await supply.get(`/api/stock/transfers/${mixed.json().id}`)).json().status).toBe('draft');
  });

  it('a draft is cancelled with a reason (nothing moved); a shipped one cannot be', async () => {
    await supply.post('/api/stock/receipts', { partNo: 'RLY-24V-ST', storeId: 'SP-S', qty: 2, reason: 'found' });
    const draft = (
      await supply.post('/api/stock/transfers', {
        from: 'SP-S',
        to: 'SP-N',
        lines: [{ partNo: 'RLY-24V-ST', qty: 1 }],
      })
    ).json() as { id: number };
    const before = await bal('RLY-24V-ST', 'SP-S');
    // the duty desk cannot, a reason is required
    expect((await dispatcher.post(`/api/stock/transfers/${draft.id}/cancel`, { reason: 'x' })).statusCode).toBe(403);
    expect(codeOf(await supply.post(`/api/stock/transfers/${draft.id}/cancel`, {}))).toBe('VALIDATION_FAILED');
    const cancelled = await supply.post(`/api/stock/transfers/${draft.id}/cancel`, {
      reason: 'service point restocked locally',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: draft.id, status: 'cancelled', shippedAt: null });
    expect(await bal('RLY-24V-ST', 'SP-S')).toEqual(before);
    expect(
      (await supply.get(`/api/stock/transfers?status=cancelled`)).json().transfers.map((x: { id: number }) => x.id),
    ).toEqual([draft.id]);
    const moves = (await supply.get('/api/stock/movements?partNo=RLY-24V-ST&limit=50')).json().movements as {
      transferId: number | null;
    }[];
    expect(moves.filter((m) => m.transferId === draft.id)).toEqual([]);
    // a cancelled transfer is neither shipped nor cancelled again
    const ship = await supply.post(`/api/stock/transfers/${draft.id}/ship`, { carrier: 'SF', trackingNo: 'X' });
    expect(codeOf(ship)).toBe('STOCK_INVALID_STATE');
    expect(codeOf(await supply.post(`/api/stock/transfers/${draft.id}/cancel`, { reason: 'again' }))).toBe(
      'STOCK_INVALID_STATE',
    );

    // a shipped transfer: its parts left the store, so it is received or booked as lost, never cancelled
    const sent = (
      await supply.post('/api/stock/transfers', { from: 'SP-S', to: 'SP-N', lines: [{ partNo: 'RLY-24V-ST', qty: 1 }] })
    ).json() as { id: number };
    expect(
      (await supply.post(`/api/stock/transfers/${sent.id}/ship`, { carrier: 'SF', trackingNo: 'C1' })).statusCode,
    ).toBe(200);
    const refused = await supply.post(`/api/stock/transfers/${sent.id}/cancel`, { reason: 'changed my mind' });
    expect(refused.statusCode).toBe(409);
    expect(codeOf(refused)).toBe('STOCK_INVALID_STATE');
    expect((await supply.get(`/api/stock/transfers/${sent.id}`)).json().status).toBe('in_transit');
    expect(await bal('RLY-24V-ST', 'SP-N')).toMatchObject({ inTransit: 1 });
    expect(codeOf(await supply.post('/api/stock/transfers/999999/cancel', { reason: 'x' }))).toBe('TRANSFER_NOT_FOUND');
  });

  it('refuses bad documents, and only supply chain and admins move stock; customers see none of it', async () => {
    const same = await supply.post('/api/stock/transfers', {
      from: 'SP-N',
      to: 'SP-N',
      lines: [{ partNo: 'FF-5421', qty: 1 }],
    });
    expect(codeOf(same)).toBe('STOCK_INVALID_STATE');
    const twice = await supply.post('/api/stock/transfers', {
      from: 'SP-N',
      to: 'SP-S',
      lines: [
        { partNo: 'FF-5421', qty: 1 },
        { partNo: 'FF-5421', qty: 1 },
      ],
    });
    expect(codeOf(twice)).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(
        await supply.post('/api/stock/transfers', { from: 'SP-N', to: 'NOPE', lines: [{ partNo: 'FF-5421', qty: 1 }] }),
      ),
    ).toBe('STORE_NOT_FOUND');
    expect(codeOf(await supply.get('/api/stock/transfers/999999'))).toBe('TRANSFER_NOT_FOUND');
    expect(codeOf(await supply.post('/api/stock/transfers/999999/ship', { carrier: 'x', trackingNo: 'y' }))).toBe(
      'TRANSFER_NOT_FOUND',
    );
    const body = { from: 'SP-N', to: 'SP-S', lines: [{ partNo: 'FF-5421', qty: 1 }] };
    for (const who of [dispatcher, engineer, customer])
      expect((await who.post('/api/stock/transfers', body)).statusCode).toBe(403);
    expect((await dispatcher.get('/api/stock/transfers')).statusCode).toBe(200);
    expect((await customer.get('/api/stock/transfers')).statusCode).toBe(403);
  });
});
