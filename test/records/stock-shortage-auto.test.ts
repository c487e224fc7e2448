import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { RecordsDb } from '../../records/db.ts';
import { post } from '../../resources/stock/ledger.ts';
import { createStock, type Stock } from '../../resources/stock/stock.ts';
import { openTestRecords } from '../helpers/records.ts';

const NOW = Date.UTC(2026, 11, 4, 8, 0, 0);
const DAY = 86_400_000;

/** The plan's 缺件 path raised by the reservation proposal itself (issue 14 §4, docs/resources.md). */
describe('a part with no stock anywhere and no order contract raises its shortage task automatically', () => {
  let db: RecordsDb;
  let stock: Stock;
  const plan = [
    { partNo: 'NOWHERE-1', name: { en: 'Exciter', zh: '励磁机' }, qty: 1 },
    { partNo: 'ELSEWHERE-2', name: { en: 'Relay', zh: '继电器' }, qty: 1 },
    { partNo: 'CONTRACT-3', name: { en: 'Filter', zh: '滤清器' }, qty: 2 },
    { partNo: 'BOUGHT-4', name: { en: 'Sensor', zh: '传感器' }, qty: 1 },
    // a plan part the catalogue does not know: shown short, nothing to raise a task against
    { partNo: 'UNKNOWN-9', name: { en: 'Bracket', zh: '支架' }, qty: 1 },
  ];
  const ticket = (id: number) => ({
    id,
    customerId: 'c1',
    vehicleId: null,
    faultCode: 'GEN-X',
    planRef: { code: 'GEN-X', version: 1 },
  });
  const tasks = async () =>
    (await stock.replenishment.shortages()).filter((t) => t.automatic).sort((a, b) => a.id - b.id);

  beforeEach(async () => {
    db = await openTestRecords();
    stock = createStock({
      db,
      log: silentLogger(),
      now: () => NOW,
      planParts: (code) => (code === 'GEN-X' ? plan : undefined),
    });
    const part = (partNo: string, machinable: boolean) =>
      stock.catalogue.addPart({
        partNo,
        name: { en: partNo, zh: partNo },
        unit: 'pc',
        wearing: false,
        machinable,
        fitsModels: [],
        fitsModules: [],
        leadTimeDays: 10,
        suppliers: [],
      });
    await part('NOWHERE-1', true);
    await part('ELSEWHERE-2', false);
    await part('CONTRACT-3', false);
    await part('BOUGHT-4', false);
    for (const id of ['central', 'north'])
      await stock.catalogue.addStore({
        id,
        kind: id === 'central' ? 'central' : 'service_point',
        name: { en: id, zh: id },
        lat: 39.9,
        lon: id === 'central' ? 116.4 : 116.9,
        address: id,
      });
    await post(db, [{ kind: 'receipt', partNo: 'ELSEWHERE-2', storeId: 'north', qty: 3, actor: 'test', at: NOW }]);
    await stock.replenishment.addContract(
      {
        number: 'OC-1',
        supplierId: 'S1',
        supplierName: 'Supplier',
        currency: 'CNY',
        validFrom: NOW - DAY,
        validTo: NOW + 365 * DAY,
        items: [{ partNo: 'CONTRACT-3', unitPriceCents: 1000, leadTimeDays: 7 }],
      },
      'test',
    );
  });
  afterEach(async () => {
    await stock.stop();
    await db.destroy();
  });

  it('no stock and no contract → exactly one task of the 缺件 kind; stock elsewhere or a contract → none; re-proposal → still one', async () => {
    const first = await stock.reservations.proposal(ticket(7));
    const line = (partNo: string) => first.lines.find((l) => l.partNo === partNo)!;
    expect(line('NOWHERE-1').shortage).toMatchObject({ missing: 1, elsewhere: [], contract: false });
    expect(line('NOWHERE-1').shortage!.task).toMatchObject({
      kind: 'machining_documents',
      status: 'open',
      automatic: true,
    });
    expect(line('BOUGHT-4').shortage!.task).toMatchObject({ kind: 'purchase_list', automatic: true });
    // in stock at another store (reserve or transfer it) and under contract (order it): no task
    expect(line('ELSEWHERE-2').shortage).toBeNull();
    expect(line('CONTRACT-3').shortage).toMatchObject({ contract: true, task: null });
    expect(line('UNKNOWN-9').shortage).toMatchObject({ missing: 1, elsewhere: [], contract: false, task: null });

    let list = await tasks();
    expect(list.map((t) => [t.partNo, t.ticketId, t.kind, t.qty, t.createdBy])).toEqual([
      ['NOWHERE-1', 7, 'machining_documents', 1, 'system'],
      ['BOUGHT-4', 7, 'purchase_list', 1, 'system'],
    ]);

    // proposed again, also at the same time, and after the task is done: still one per (ticket, part)
    await Promise.all([stock.reservations.proposal(ticket(7)), stock.reservations.proposal(ticket(7))]);
    await stock.replenishment.completeShortage(list[0]!.id, 'drawing D-1 issued', 'eng');
    const again = await stock.reservations.proposal(ticket(7));
    expect(again.lines.find((l) => l.partNo === 'NOWHERE-1')!.shortage!.task).toMatchObject({
      id: list[0]!.id,
      status: 'done',
    });
    list = await tasks();
    expect(list.map((t) => [t.partNo, t.ticketId])).toEqual([
      ['NOWHERE-1', 7],
      ['BOUGHT-4', 7],
    ]);

    // another ticket needing the same parts gets its own
    await stock.reservations.proposal(ticket(8));
    expect((await tasks()).filter((t) => t.ticketId === 8).map((t) => t.partNo)).toEqual(['NOWHERE-1', 'BOUGHT-4']);
  });

  it('a part back in stock before the proposal raises nothing', async () => {
    await post(db, [{ kind: 'receipt', partNo: 'NOWHERE-1', storeId: 'central', qty: 1, actor: 'test', at: NOW }]);
    await post(db, [{ kind: 'receipt', partNo: 'BOUGHT-4', storeId: 'north', qty: 1, actor: 'test', at: NOW }]);
    const p = await stock.reservations.proposal(ticket(9));
    expect(p.lines.every((l) => l.shortage === null || l.shortage.task === null)).toBe(true);
    expect(await tasks()).toEqual([]);
  });

  it('a ticket opened with the plan raises its tasks without anyone opening its parts', async () => {
    const bus = createInProcessBus<PlatformEvents>(silentLogger());
    await stock.stop();
    stock = createStock({
      db,
      bus,
      log: silentLogger(),
      now: () => NOW,
      planParts: (code) => (code === 'GEN-X' ? plan : undefined),
    });
    await stock.start();
    bus.emit('ticket.opened', { ticket: ticket(11) as never });
    bus.emit('ticket.opened', { ticket: ticket(11) as never });
    await stock.proposalsIdle();
    expect((await tasks()).map((t) => [t.partNo, t.ticketId])).toEqual([
      ['NOWHERE-1', 11],
      ['BOUGHT-4', 11],
    ]);
  });
});
