import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { apiAs, httpLogin, type Login } from '../helpers/live-client.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

const VEHICLE = 'GS-BJ-1';
/** Where the vehicle is, as its gateway's GPS says in every frame: north of Beijing. */
const SITE = { lat: 40.05, lon: 116.3 };

interface Bal {
  onHand: number;
  reserved: number;
  available: number;
}

/**
 * Issue 14's Done-when test over the whole platform: a fault frame published over MQTT to the real
 * broker → the rules open a ticket → the emergency plan's parts become a proposed reservation, the
 * nearest store with stock measured from the vehicle's GPS position in the frames → reserved →
 * shipped → consumed (and in the service report) → the store below its min → a replenishment
 * proposal → a purchase order against an order contract → receipt; on-hand, reserved and available
 * checked at each step, over real HTTP with logins.
 */
describe('spare parts from a fault frame over MQTT to the receipt of the replenishment', () => {
  let tp: TestPlatform;
  let base: string;
  let desk: Login;
  let eng: Login;
  let sup: Login;
  const api = async (who: Login, method: string, path: string, body?: unknown) => {
    const res = await apiAs(base, who, method, path, body);
    const text = await res.text();
    return { status: res.status, text, json: (): unknown => (text ? JSON.parse(text) : null) };
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked by the expectations
  type Json = Record<string, any>;
  const ok = async (who: Login, method: string, path: string, body?: unknown, status = 200): Promise<Json> => {
    const r = await api(who, method, path, body);
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.json() as Json;
  };
  const bal = async (partNo: string, storeId: string): Promise<Bal> => {
    const b = ((await ok(sup, 'GET', `/api/stock/balances?partNo=${partNo}&storeId=${storeId}`)).balances as Bal[])[0];
    return b
      ? { onHand: b.onHand, reserved: b.reserved, available: b.available }
      : { onHand: 0, reserved: 0, available: 0 };
  };

  beforeAll(async () => {
    tp = await startTestPlatform();
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'C1', name: 'Unit 1' });
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'desk', name: 'desk', role: 'dispatcher', password: PASSWORD });
    await accounts.add({ id: 'eng', name: 'eng', role: 'engineer', password: PASSWORD });
    await accounts.add({ id: 'sup', name: 'sup', role: 'supply', password: PASSWORD });
    desk = await httpLogin(base, 'desk', PASSWORD);
    eng = await httpLogin(base, 'eng', PASSWORD);
    sup = await httpLogin(base, 'sup', PASSWORD);

    // the catalogue, three stores, opening stock and a min level, as supply chain keeps them
    for (const p of [
      { partNo: 'FF-5421', name: { en: 'Fuel filter', zh: '燃油滤清器' }, unit: 'pc', wearing: true, leadTimeDays: 7 },
      { partNo: 'RLY-24V-ST', name: { en: 'Start relay 24 V', zh: '启动继电器 24V' }, unit: 'pc', leadTimeDays: 14 },
    ])
      await ok(sup, 'POST', '/api/stock/parts', { ...p, suppliers: [{ id: 'S-1', name: 'Hunan Filters' }] }, 201);
    for (const s of [
      { id: 'CENTRAL', kind: 'central', name: { en: 'Central store', zh: '中心备件库' }, lat: 28.23, lon: 112.94 },
      { id: 'SP-N', kind: 'service_point', name: { en: 'North', zh: '北方服务站' }, lat: 39.9, lon: 116.4 },
      { id: 'SP-S', kind: 'service_point', name: { en: 'South', zh: '南方服务站' }, lat: 23.13, lon: 113.26 },
    ])
      await ok(sup, 'POST', '/api/stock/stores', { ...s, address: s.name.en }, 201);
    for (const [partNo, storeId, qty] of [
      ['FF-5421', 'CENTRAL', 6],
      ['FF-5421', 'SP-N', 2],
      ['RLY-24V-ST', 'CENTRAL', 1],
      ['RLY-24V-ST', 'SP-S', 2],
    ] as const)
      await ok(sup, 'POST', '/api/stock/receipts', { partNo, storeId, qty, reason: 'opening stock' }, 201);
    await ok(sup, 'PUT', '/api/stock/levels', { partNo: 'FF-5421', storeId: 'SP-N', min: 2, max: 5 }, 204);
  });
  afterAll(async () => tp?.close());

  it('drives fault → ticket → nearest store → shipped → consumed → below min → order → receipt', async () => {
    // 1. the gateway publishes frames (with its GPS position): mains lost, the generator never starts
    const { secret } = await tp.addVehicle(VEHICLE, 'C1');
    const gw = await tp.connect(VEHICLE, secret);
    const opened = withTimeout(
      new Promise<Ticket>((resolve) => {
        const off = tp.platform.bus.on('ticket.opened', (e) => {
          if (e.ticket.vehicleId !== VEHICLE) return;
          off();
          resolve(e.ticket);
        });
      }),
      10_000,
      'the rules to open a ticket',
    );
    const t0 = Date.now() - 150_000;
    const frames = Array.from({ length: 150 }, (_, i) =>
      frame(i, t0 + i * 1000, {
        position: SITE,
        ...(i < 20
          ? {}
          : {
              source: 'battery',
              mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
              generator: {
                running: false,
                voltageV: 0,
                frequencyHz: 0,
                currentA: 0,
                rpm: 0,
                fuelPct: 80,
                coolantC: 25,
                oilKpa: 0,
              },
              battery: { voltageV: 25.1, currentA: -45, socPct: 70 - i / 10, tempC: 26 },
            }),
      }),
    );
    await gw.publishAsync(`v1/vehicles/${VEHICLE}/telemetry`, JSON.stringify({ frames }), { qos: 1 });
    const ticket = await opened;
    expect(ticket).toMatchObject({ faultCode: 'GEN-START-FAIL', planRef: { code: 'GEN-START-FAIL' } });
    await tp.platform.stock.positionsIdle();

    // 2. the plan's parts as a proposed reservation, measured from the vehicle's GPS position
    const view = await ok(desk, 'GET', `/api/tickets/${ticket.id}/stock`);
    const proposal = view.proposal as {
      origin: { lat: number; lon: number; source: string };
      lines: { partNo: string; qty: number; proposedStoreId: string; options: { storeId: string }[] }[];
    };
    expect(proposal.origin).toEqual({ ...SITE, source: 'telemetry' });
    expect(proposal.lines.map((l) => [l.partNo, l.qty, l.proposedStoreId])).toEqual([
      ['FF-5421', 1, 'SP-N'],
      // none in Beijing: Changsha (~1,350 km) is nearer than Guangzhou (~1,900 km)
      ['RLY-24V-ST', 1, 'CENTRAL'],
    ]);
    expect(proposal.lines[1]!.options.map((o) => o.storeId)).toEqual(['SP-N', 'CENTRAL', 'SP-S']);

    // 3. reserved where proposed
    const reserved = await ok(
      desk,
      'POST',
      `/api/tickets/${ticket.id}/reservations`,
      { lines: proposal.lines.map((l) => ({ partNo: l.partNo, storeId: l.proposedStoreId, qty: l.qty })) },
      201,
    );
    const [rFilter, rRelay] = reserved.reservations as { id: number }[];
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 2, reserved: 1, available: 1 });
    expect(await bal('RLY-24V-ST', 'CENTRAL')).toEqual({ onHand: 1, reserved: 1, available: 0 });
    expect(await bal('RLY-24V-ST', 'SP-S')).toEqual({ onHand: 2, reserved: 0, available: 2 });

    // 4. shipped: one shipment per store, each with its shipping notice
    for (const id of [rFilter!.id, rRelay!.id]) {
      const s = await ok(
        sup,
        'POST',
        `/api/tickets/${ticket.id}/shipments`,
        { reservationIds: [id], carrier: 'SF Express', trackingNo: `SF${id}`, consignee: 'Li Wei', address: 'Site' },
        201,
      );
      expect(s.noticeNo).toMatch(/^FY-\d{4}-\d{6}$/);
    }
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1 });
    expect(await bal('RLY-24V-ST', 'CENTRAL')).toEqual({ onHand: 0, reserved: 0, available: 0 });

    // 5. consumed on the ticket: the stores' figures stay, the service report lists the parts
    for (const id of [rFilter!.id, rRelay!.id])
      expect(
        await ok(eng, 'POST', `/api/tickets/${ticket.id}/consumption`, { reservationId: id, qty: 1 }),
      ).toMatchObject({ consumed: 1, inField: 0, reserved: 0 });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1 });
    const report = await api(desk, 'GET', `/api/tickets/${ticket.id}/report.html?lang=zh`);
    expect(report.status).toBe(200);
    expect(report.text).toContain('<td>燃油滤清器</td><td>FF-5421</td><td>1 pc</td>');
    expect(report.text).toContain('<td>启动继电器 24V</td><td>RLY-24V-ST</td><td>1 pc</td>');

    // 6. SP-N is below its min of 2: a replenishment proposal (no contract yet: transfer from stock elsewhere)
    let proposals = (await ok(sup, 'GET', '/api/stock/replenishment')).proposals as Record<string, unknown>[];
    expect(proposals).toEqual([
      expect.objectContaining({ partNo: 'FF-5421', storeId: 'SP-N', available: 1, proposedQty: 4, path: 'transfer' }),
    ]);
    const now = Date.now();
    const contract = await ok(
      sup,
      'POST',
      '/api/stock/contracts',
      {
        number: 'DH-2026-101',
        supplierId: 'S-1',
        supplierName: 'Hunan Filters',
        currency: 'CNY',
        validFrom: now - 86_400_000,
        validTo: now + 365 * 86_400_000,
        items: [{ partNo: 'FF-5421', unitPriceCents: 8_500, leadTimeDays: 7 }],
      },
      201,
    );
    proposals = (await ok(sup, 'GET', '/api/stock/replenishment')).proposals as Record<string, unknown>[];
    expect(proposals[0]).toMatchObject({ path: 'order', contract: { number: 'DH-2026-101' } });

    // 7. the purchase order against the contract, then goods in
    const po = await ok(
      sup,
      'POST',
      '/api/stock/purchase-orders',
      { contractId: contract.id, storeId: 'SP-N', lines: [{ partNo: 'FF-5421', qty: 4 }] },
      201,
    );
    expect(po).toMatchObject({ status: 'ordered', lines: [{ qty: 4, unitPriceCents: 8_500, received: 0 }] });
    expect((await ok(sup, 'GET', '/api/stock/replenishment')).proposals).toEqual([]);
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 1, reserved: 0, available: 1 });
    const received = await ok(sup, 'POST', `/api/stock/purchase-orders/${po.id}/receipts`, {
      lines: [{ partNo: 'FF-5421', qty: 4 }],
    });
    expect(received).toMatchObject({ status: 'received', lines: [{ received: 4 }] });
    expect(await bal('FF-5421', 'SP-N')).toEqual({ onHand: 5, reserved: 0, available: 5 });

    // the ledger of that position holds every step
    const moves = (await ok(sup, 'GET', '/api/stock/movements?partNo=FF-5421&storeId=SP-N')).movements as {
      kind: string;
      ticketId: number | null;
    }[];
    expect(moves.map((m) => m.kind).reverse()).toEqual([
      'receipt',
      'reservation',
      'shipment',
      'consumption',
      'receipt',
    ]);
    expect(moves.filter((m) => m.ticketId === ticket.id)).toHaveLength(3);
  });
});
