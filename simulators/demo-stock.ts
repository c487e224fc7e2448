import { loadPlanFile } from '../diagnostics/plans/plans.ts';
import type { Stock } from '../resources/stock/stock.ts';

const DAY_MS = 86_400_000;

/** Demo stores: the central spare-parts store at the service point in Yueyang, and two service points. */
const STORES = [
  {
    id: 'CENTRAL',
    kind: 'central' as const,
    name: { en: 'Central spare-parts store (Yueyang)', zh: '中心备件库（岳阳）' },
    lat: 29.37,
    lon: 113.09,
    address: 'Chengnan Avenue, Rongjiawan town, Yueyang county',
  },
  {
    id: 'SP-NORTH',
    kind: 'service_point' as const,
    name: { en: 'North service point (Beijing)', zh: '北方服务站（北京）' },
    lat: 39.9,
    lon: 116.4,
    address: 'Beijing',
  },
  {
    id: 'SP-WEST',
    kind: 'service_point' as const,
    name: { en: 'West service point (Chengdu)', zh: '西部服务站（成都）' },
    lat: 30.66,
    lon: 104.07,
    address: 'Chengdu',
  },
];

/**
 * Demo only: a parts catalogue of every part the emergency plans list, the central store and two
 * service-point stores with stock and min/max levels, an order contract for half of the parts, and
 * a last known position for each demo vehicle near one of the stores (so that a ticket's proposed
 * reservation shows distances and ETAs before the vehicle's first frame; then the position its
 * simulated gateway sends, near its home base, replaces it: simulators/model/gps.ts). Seeds once: a data directory with stores is left alone.
 */
export async function seedDemoStock(deps: { stock: Stock; vehicleIds: string[]; now?: () => number }): Promise<void> {
  const { stock } = deps;
  const now = deps.now ?? Date.now;
  if ((await stock.catalogue.stores()).length > 0) return;
  const plans = loadPlanFile(new URL('../diagnostics/plans/default-plans.yaml', import.meta.url).pathname);
  const parts = new Map<string, { en: string; zh: string }>();
  for (const p of plans.all()) for (const part of p.parts) parts.set(part.partNo, part.name);
  for (const s of STORES) await stock.catalogue.addStore(s);
  let i = 0;
  const contractItems: { partNo: string; unitPriceCents: number; leadTimeDays: number }[] = [];
  for (const [partNo, name] of parts) {
    await stock.catalogue.addPart({
      partNo,
      name,
      unit: 'pc',
      wearing: true,
      machinable: i % 3 === 2,
      fitsModels: [],
      fitsModules: [],
      leadTimeDays: 7 + (i % 3) * 7,
      suppliers: [{ id: 'SUP-DEMO', name: 'Demo Power Parts Co.' }],
    });
    // the central store has most; the service points a few, one of them below its minimum
    await stock.reservations.receive(partNo, 'CENTRAL', 8, 'demo opening stock', 'system');
    await stock.catalogue.setLevel(partNo, 'CENTRAL', 4, 12);
    const local = i % 2 === 0 ? 'SP-NORTH' : 'SP-WEST';
    await stock.reservations.receive(partNo, local, 1 + (i % 3), 'demo opening stock', 'system');
    await stock.catalogue.setLevel(partNo, local, 2, 4);
    if (i % 2 === 0) contractItems.push({ partNo, unitPriceCents: 5_000 + i * 1_500, leadTimeDays: 7 });
    i++;
  }
  if (contractItems.length)
    await stock.replenishment.addContract(
      {
        number: 'DH-DEMO-001',
        supplierId: 'SUP-DEMO',
        supplierName: 'Demo Power Parts Co.',
        currency: 'CNY',
        validFrom: now() - DAY_MS,
        validTo: now() + 365 * DAY_MS,
        items: contractItems,
      },
      'system',
    );
  for (const [n, id] of deps.vehicleIds.entries()) {
    const s = STORES[n % STORES.length]!;
    await stock.reservations.setVehiclePosition(
      id,
      { lat: s.lat + 0.3 + (n % 5) * 0.1, lon: s.lon + 0.2 },
      'demo',
      'system',
    );
  }
}
