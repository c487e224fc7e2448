import { expect } from 'vitest';
import type { Agent } from './helpers.ts';

/** The parts of the GEN-START-FAIL plan, three stores (Changsha central, Beijing and Guangzhou service points). */
export async function seedStock(supply: Agent) {
  for (const p of [
    { partNo: 'FF-5421', name: { en: 'Fuel filter', zh: '燃油滤清器' }, unit: 'pc', wearing: true, leadTimeDays: 7 },
    {
      partNo: 'RLY-24V-ST',
      name: { en: 'Start relay 24 V', zh: '启动继电器 24V' },
      unit: 'pc',
      wearing: true,
      leadTimeDays: 14,
    },
    {
      partNo: 'CB-63A-2P',
      name: { en: 'Input breaker 63 A 2P', zh: '输入断路器 63A 2P' },
      unit: 'pc',
      machinable: false,
      leadTimeDays: 21,
    },
  ])
    expect(
      (await supply.post('/api/stock/parts', { ...p, suppliers: [{ id: 'S-1', name: 'Hunan Filters' }] })).statusCode,
    ).toBe(201);
  for (const s of [
    {
      id: 'CENTRAL',
      kind: 'central',
      name: { en: 'Central store', zh: '中心备件库' },
      lat: 28.23,
      lon: 112.94,
      address: 'Changsha',
    },
    {
      id: 'SP-N',
      kind: 'service_point',
      name: { en: 'North service point', zh: '北方服务站' },
      lat: 39.9,
      lon: 116.4,
      address: 'Beijing',
    },
    {
      id: 'SP-S',
      kind: 'service_point',
      name: { en: 'South service point', zh: '南方服务站' },
      lat: 23.13,
      lon: 113.26,
      address: 'Guangzhou',
    },
  ])
    expect((await supply.post('/api/stock/stores', s)).statusCode).toBe(201);
}
