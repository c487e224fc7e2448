import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteRecords } from '../../records/db.ts';
import { createStock } from '../../resources/stock/stock.ts';
import { seedDemoStock } from '../../simulators/demo-stock.ts';

describe('the demo’s spare parts', () => {
  const dbP = openSqliteRecords({ file: ':memory:' });
  afterAll(async () => (await dbP).destroy());

  it('a catalogue of every plan part, a central store and two service points with stock, once', async () => {
    const db = await dbP;
    const stock = createStock({ db, log: pino({ level: 'silent' }), planParts: () => undefined });
    await seedDemoStock({ stock, vehicleIds: ['DEMO0001', 'DEMO0002'] });
    await seedDemoStock({ stock, vehicleIds: ['DEMO0001', 'DEMO0002'] });
    expect((await stock.catalogue.stores()).map((s) => s.kind)).toEqual(['central', 'service_point', 'service_point']);
    const parts = await stock.catalogue.parts();
    expect(parts.map((p) => p.partNo)).toContain('FF-5421');
    const central = await stock.balances({ storeId: 'CENTRAL' });
    expect(central).toHaveLength(parts.length);
    expect(central.every((b) => b.onHand === 8 && b.available === 8)).toBe(true);
    expect((await stock.balances({ storeId: 'SP-NORTH' })).length).toBeGreaterThan(0);
    // some service-point stock is below its minimum: replenishment proposals, some against the demo contract
    const proposals = await stock.replenishment.proposals();
    expect(proposals.some((p) => p.path === 'order')).toBe(true);
  });
});
