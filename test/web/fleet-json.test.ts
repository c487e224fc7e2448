import { serializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_POWER_PROFILE } from '../../protocol/index.ts';
import { createFleetBytes, fleetJson, fleetSerializerCompiler, type FleetList } from '../../web/fleet-json.ts';
import { fleetCountsOut, vehicleStateOut } from '../../web/schemas.ts';
import type { VehicleState } from '../../web/vehicle-state.ts';

/** What every other route writes: the zod serializer of the response schema. */
const schema = z.object({ vehicles: z.array(vehicleStateOut), counts: fleetCountsOut });
const zodJson = serializerCompiler({ schema, method: 'GET', url: '/api/vehicles', httpStatus: '200' });

function vehicle(i: number, over: Partial<VehicleState> = {}): VehicleState {
  return {
    id: `VF${i}`,
    name: `Power car ${i} "电源车" \\ \u2028`,
    model: 'DC-200',
    customerId: `C${i % 3}`,
    profile: {
      hasGenerator: i % 2 === 0,
      battery: { nominalV: 24, capacityAh: 200 + i },
      mains: { nominalV: 220, frequencyHz: 50 },
    },
    createdAt: 1_700_000_000_000 + i,
    online: i % 3 !== 0,
    presenceChangedAt: i % 4 === 0 ? null : 1_700_000_100_000 + i,
    disconnectReason: i % 5 === 0 ? 'keepalive timeout' : null,
    latest:
      i % 6 === 0
        ? null
        : {
            receivedAt: 1_700_000_200_000 + i,
            ts: 1_700_000_199_000 + i,
            source: i % 2 ? 'mains' : 'battery',
            batterySocPct: i % 7 === 0 ? null : 50.5 + i,
            timeToEmptyMin: i % 2 ? null : 123.25,
          },
    openTickets: i % 3,
    openTicket:
      i % 3
        ? { id: i, number: `T-2026-${i}`, level: '特急', status: 'open', nextDueAt: i % 2 ? null : 1_700_000_300_000 }
        : null,
    activeAlarms: i % 4,
    worstAlarm:
      i % 4
        ? { id: 10 + i, code: 'BATT_LOW', severity: 'critical', title: { en: 'Battery low', zh: '电池电量低' } }
        : null,
    ...over,
  };
}

function list(n: number): FleetList {
  const vehicles = Array.from({ length: n }, (_, i) => vehicle(i));
  return {
    vehicles,
    counts: {
      total: n,
      online: vehicles.filter((v) => v.online).length,
      offline: 1,
      bySource: { mains: 3, battery: 2, offline: 1 },
      withAlarms: 2,
    },
  };
}

describe('the fleet list JSON (web/fleet-json.ts)', () => {
  /** The route's bytes (createFleetBytes), as text: each case below holds them to zod's JSON too. */
  const bytesOf = (body: FleetList, fleetBytes = createFleetBytes()) => fleetBytes(body).toString('utf8');

  it('writes exactly what the zod serializer writes', () => {
    for (const body of [
      list(25),
      list(0),
      { vehicles: [], counts: { total: 0, online: 0, offline: 0, bySource: {}, withAlarms: 0 } },
    ]) {
      expect(fleetJson(body)).toBe(zodJson(body));
      expect(bytesOf(body)).toBe(zodJson(body));
    }
    // the default profile as the registry parses it
    const withDefault = list(1);
    withDefault.vehicles[0]!.profile = DEFAULT_POWER_PROFILE;
    expect(fleetJson(withDefault)).toBe(zodJson(withDefault));
    expect(bytesOf(withDefault)).toBe(zodJson(withDefault));
  });

  it('keeps each vehicle’s registry part as bytes, and writes it again when the vehicle changed', () => {
    const fleetBytes = createFleetBytes();
    const body = list(12);
    // two vehicles on one shared profile object
    body.vehicles[3]!.profile = DEFAULT_POWER_PROFILE;
    body.vehicles[4]!.profile = DEFAULT_POWER_PROFILE;
    expect(bytesOf(body, fleetBytes)).toBe(zodJson(body));
    const changes: [string, (b: FleetList) => void][] = [
      ['the latest values', (b) => (b.vehicles[1]!.latest!.batterySocPct = 12.5)],
      ['presence', (b) => (b.vehicles[2]!.online = !b.vehicles[2]!.online)],
      ['a name', (b) => (b.vehicles[1]!.name = 'Renamed 车')],
      ['a model', (b) => (b.vehicles[2]!.model = 'DC-300')],
      ['a unit', (b) => (b.vehicles[5]!.customerId = 'C-other')],
      ['createdAt (the id added again)', (b) => (b.vehicles[6]!.createdAt += 1)],
      [
        'a new profile object',
        (b) => (b.vehicles[3]!.profile = { ...DEFAULT_POWER_PROFILE, battery: { nominalV: 12, capacityAh: 90 } }),
      ],
      ['a vehicle gone and the rest moved up', (b) => b.vehicles.splice(0, 1)],
      [
        'a vehicle with its whole frame (the copy)',
        (b) => (b.vehicles[7]!.latest!.frame = { v: 1, seq: 1, ts: 2, source: 'mains' } as never),
      ],
    ];
    for (const [what, change] of changes) {
      change(body);
      expect(bytesOf(body, fleetBytes), what).toBe(zodJson(body));
    }
    // a unit's short list between two of the whole fleet's: each answer its own, all as zod writes them
    const unit = { ...body, vehicles: body.vehicles.slice(0, 2) };
    expect(bytesOf(unit, fleetBytes)).toBe(zodJson(unit));
    expect(bytesOf(body, fleetBytes)).toBe(zodJson(body));
  });

  it('writes the whole latest frame (?frames=true) as zod does: its own keys first, then the rest as sent', () => {
    const body = list(3);
    const frame = {
      battery: { socPct: 80, voltageV: 26.4 },
      v: 1,
      ts: 5,
      seq: 9,
      source: 'generator',
      loadKw: 2.5,
      none: undefined,
    };
    body.vehicles[1]!.latest!.frame = frame as never;
    expect(fleetJson(body)).toBe(zodJson(body));
    expect(bytesOf(body)).toBe(zodJson(body));
    expect(JSON.parse(fleetJson(body)).vehicles[1].latest.frame).toEqual({
      v: 1,
      seq: 9,
      ts: 5,
      source: 'generator',
      battery: frame.battery,
      loadKw: 2.5,
    });
  });

  it('leaves out keys the schema does not name, as zod strips them', () => {
    const body = list(2);
    Object.assign(body.vehicles[0]!, { secretHash: 'x' });
    Object.assign(body.vehicles[0]!.profile.battery, { serial: 'y' });
    Object.assign(body.counts, { also: 1 });
    expect(fleetJson(body)).toBe(zodJson(body));
    expect(bytesOf(body)).toBe(zodJson(body));
    expect(fleetJson(body)).not.toMatch(/secretHash|serial|also/);
  });

  it('refuses what the zod serializer refuses', () => {
    const broken: [string, (b: FleetList) => void][] = [
      ['vehicles[1].createdAt', (b) => (b.vehicles[1]!.createdAt = Number.NaN)],
      ['vehicles[1].name', (b) => (b.vehicles[1]!.name = 7 as never)],
      ['vehicles[1].online', (b) => (b.vehicles[1]!.online = 'yes' as never)],
      ['vehicles[1].latest.source', (b) => (b.vehicles[1]!.latest!.source = 'solar' as never)],
      ['vehicles[1].latest.batterySocPct', (b) => (b.vehicles[1]!.latest!.batterySocPct = Number.POSITIVE_INFINITY)],
      [
        'vehicles[1].profile.battery',
        (b) => (b.vehicles[1]!.profile = { ...b.vehicles[1]!.profile, battery: null as never }),
      ],
      ['vehicles[1].openTicket.number', (b) => (b.vehicles[1]!.openTicket!.number = undefined as never)],
      ['vehicles[1].worstAlarm.severity', (b) => (b.vehicles[1]!.worstAlarm!.severity = 'bad' as never)],
      ['vehicles[1].worstAlarm.title.zh', (b) => (b.vehicles[1]!.worstAlarm!.title = { en: 'x' } as never)],
      ['counts.bySource.mains', (b) => (b.counts.bySource.mains = '3' as never)],
      ['counts.total', (b) => (b.counts.total = null as never)],
    ];
    for (const [what, breakIt] of broken) {
      const body = list(3);
      breakIt(body);
      expect(() => zodJson(body), what).toThrow();
      expect(() => fleetJson(body), what).toThrow(`fleet list does not match its schema: ${what}`);
      expect(() => bytesOf(body), what).toThrow(`fleet list does not match its schema: ${what}`);
    }
  });

  it('the route serializer: fleetJson for the 200 answer, the zod serializer for the others', () => {
    const ok = fleetSerializerCompiler({ schema, method: 'GET', url: '/api/vehicles', httpStatus: '200' });
    const body = list(4);
    expect(ok(body)).toBe(zodJson(body));
    const errorSchema = z.object({ error: z.object({ code: z.string() }) });
    const bad = fleetSerializerCompiler({
      schema: errorSchema,
      method: 'GET',
      url: '/api/vehicles',
      httpStatus: '400',
    });
    expect(bad({ error: { code: 'INVALID_ARGUMENT', message: 'x' } })).toBe('{"error":{"code":"INVALID_ARGUMENT"}}');
  });
});
