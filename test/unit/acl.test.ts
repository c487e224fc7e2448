import { describe, expect, it } from 'vitest';
import {
  authorizePublish,
  authorizeSubscribe,
  authorizeWill,
  retainDecision,
  telemetryReach,
  type Principal,
} from '../../broker/acl.ts';
import { createTelemetryListeners } from '../../broker/telemetry-listeners.ts';
import { parseVehicleTopic, TOPIC_KINDS, vehicleTopic } from '../../protocol/index.ts';
import { DEFAULT_SERVICE_SCOPE } from '../../registry/service-accounts.ts';

const v1: Principal = { kind: 'vehicle', id: 'V1', customerId: 'C1' };
/** A service account of every unit and every topic kind. */
const svc: Principal = { kind: 'service', id: 'svc-diag', scope: { topics: TOPIC_KINDS } };

describe('topics', () => {
  it('parses only concrete vehicle topics', () => {
    expect(parseVehicleTopic('v1/vehicles/V1/commands/ack')).toEqual({ vehicleId: 'V1', kind: 'commands/ack' });
    expect(parseVehicleTopic('v1/vehicles/V1/telemetry/extra')).toBeNull();
    expect(parseVehicleTopic('v1/vehicles/+/telemetry')).toBeNull();
    expect(parseVehicleTopic('v2/vehicles/V1/telemetry')).toBeNull();
    expect(parseVehicleTopic('v1/vehicles//telemetry')).toBeNull();
  });
});

describe('vehicle ACL (default deny)', () => {
  it.each(['telemetry', 'status', 'events', 'commands/ack'] as const)('allows publishing its own %s', (kind) => {
    expect(authorizePublish(v1, vehicleTopic('V1', kind))).toEqual({
      allow: true,
      vehicleMessage: { vehicleId: 'V1', kind },
    });
  });
  it.each([
    'v1/vehicles/V2/telemetry',
    'v1/vehicles/V1/commands',
    'v1/vehicles/V1/errors',
    '$SYS/broker/x',
    'anything',
    'v1/vehicles/V1/telemetry/x',
  ])('denies publishing %s', (topic) => {
    expect(authorizePublish(v1, topic).allow).toBe(false);
  });
  it('allows subscribing only to its own commands and errors, exactly', () => {
    expect(authorizeSubscribe(v1, 'v1/vehicles/V1/commands').allow).toBe(true);
    expect(authorizeSubscribe(v1, 'v1/vehicles/V1/errors').allow).toBe(true);
    for (const t of [
      '#',
      'v1/vehicles/V1/#',
      'v1/vehicles/+/commands',
      'v1/vehicles/V2/commands',
      '$SYS/#',
      'v1/vehicles/V1/telemetry',
    ]) {
      expect(authorizeSubscribe(v1, t).allow).toBe(false);
    }
  });
  it('subscribes to its own delivery confirmation, never publishes it', () => {
    expect(parseVehicleTopic('v1/vehicles/V1/telemetry/confirmed')).toEqual({
      vehicleId: 'V1',
      kind: 'telemetry/confirmed',
    });
    expect(authorizeSubscribe(v1, 'v1/vehicles/V1/telemetry/confirmed').allow).toBe(true);
    expect(authorizeSubscribe(v1, 'v1/vehicles/V2/telemetry/confirmed').allow).toBe(false);
    expect(authorizePublish(v1, 'v1/vehicles/V1/telemetry/confirmed').allow).toBe(false);
  });
  it('allows a last will only on its own status topic', () => {
    const offline = JSON.stringify({ online: false, ts: 1 });
    expect(authorizeWill(v1, { topic: 'v1/vehicles/V1/status', payload: offline, retain: true })).toBe(true);
    expect(authorizeWill(v1, { topic: 'v1/vehicles/V2/status', payload: offline, retain: true })).toBe(false);
  });
});

describe('service account ACL', () => {
  it('may publish commands and subscribe across vehicles, never publish under $', () => {
    expect(authorizePublish(svc, 'v1/vehicles/V1/commands')).toEqual({
      allow: true,
      command: { vehicleId: 'V1' },
    });
    expect(authorizePublish(svc, '$SYS/x').allow).toBe(false);
    expect(authorizeSubscribe(svc, 'v1/vehicles/+/telemetry').allow).toBe(true);
    expect(authorizeSubscribe(svc, '#').allow).toBe(true);
    expect(authorizeSubscribe(svc, '$SYS/broker/clients').allow).toBe(true);
    expect(authorizeSubscribe(svc, '$platform/refused').allow).toBe(false);
  });
  it('never speaks for a vehicle, nor publishes outside vehicle topics', () => {
    for (const kind of ['telemetry', 'status', 'events', 'commands/ack'] as const)
      expect(authorizePublish(svc, vehicleTopic('V1', kind)).allow).toBe(false);
    expect(authorizePublish(svc, 'bridge/x').allow).toBe(false);
  });
  it('by default reads telemetry, status, events and acks, and publishes nothing', () => {
    const plain: Principal = { kind: 'service', id: 'svc-plain', scope: DEFAULT_SERVICE_SCOPE };
    expect(authorizePublish(plain, 'v1/vehicles/V1/commands').allow).toBe(false);
    expect(authorizePublish(plain, 'v1/vehicles/V1/errors').allow).toBe(false);
    expect(authorizeSubscribe(plain, 'v1/vehicles/+/telemetry').allow).toBe(true);
    expect(authorizeSubscribe(plain, 'v1/vehicles/+/commands/ack').allow).toBe(true);
    expect(authorizeSubscribe(plain, 'v1/vehicles/+/commands').allow).toBe(false);
    expect(authorizeSubscribe(plain, 'v1/vehicles/V1/#').allow).toBe(false); // reaches commands too
    expect(authorizeSubscribe(plain, '#').allow).toBe(false);
    expect(authorizeSubscribe(plain, 'other/x').allow).toBe(false);
  });
  it('limited to units: one vehicle at a time, its unit checked by the broker', () => {
    const unitA: Principal = {
      kind: 'service',
      id: 'svc-a',
      scope: { units: ['CA'], topics: ['commands', 'commands/ack', 'telemetry'] },
    };
    expect(authorizePublish(unitA, 'v1/vehicles/VA1/commands')).toEqual({
      allow: true,
      unitOf: { vehicleId: 'VA1', units: ['CA'] },
      command: { vehicleId: 'VA1' },
    });
    expect(authorizeSubscribe(unitA, 'v1/vehicles/VA1/telemetry')).toEqual({
      allow: true,
      unitOf: { vehicleId: 'VA1', units: ['CA'] },
    });
    expect(authorizeSubscribe(unitA, 'v1/vehicles/+/telemetry').allow).toBe(false);
    expect(authorizeSubscribe(unitA, 'v1/#').allow).toBe(false);
  });
});

describe('retain rules', () => {
  it('refuses retained commands from anyone, strips a vehicle’s retain where the protocol retains nothing, keeps status', () => {
    expect(retainDecision(svc, 'v1/vehicles/V1/commands', true)).toBe('refuse');
    expect(retainDecision(svc, 'v1/vehicles/V1/commands', false)).toBe('keep');
    for (const kind of ['telemetry', 'events', 'commands/ack'] as const)
      expect(retainDecision(v1, vehicleTopic('V1', kind), true)).toBe('strip');
    expect(retainDecision(v1, vehicleTopic('V1', 'status'), true)).toBe('keep');
    expect(retainDecision(v1, 'bridge/x', true)).toBe('keep');
  });
  it('checks a will’s payload and retain flag, not only its topic', () => {
    const topic = 'v1/vehicles/V1/status';
    const will = (payload: string, retain = true) => authorizeWill(v1, { topic, payload, retain });
    expect(will(JSON.stringify({ online: false, ts: 1 }))).toBe(true);
    expect(will(Buffer.from(JSON.stringify({ online: false, ts: 1, dropped: 3 })).toString())).toBe(true);
    expect(will(JSON.stringify({ online: false, ts: 1 }), false)).toBe(false);
    expect(will(JSON.stringify({ online: true, ts: 1 }))).toBe(false);
    expect(will('{')).toBe(false);
    expect(will(JSON.stringify({ online: false }))).toBe(false);
    expect(authorizeWill(svc, { topic: 'v1/vehicles/V1/commands', payload: '{}', retain: true })).toBe(false);
    // a will goes out when nobody is there to record it: never a command
    expect(authorizeWill(svc, { topic: 'v1/vehicles/V1/commands', payload: '{}', retain: false })).toBe(false);
    expect(authorizeWill(svc, { topic: 'v1/vehicles/V1/errors', payload: '{}', retain: false })).toBe(true);
  });
});

describe('whose telemetry a subscription can receive', () => {
  it.each([
    ['#', 'all'],
    ['v1/#', 'all'],
    ['v1/vehicles/#', 'all'],
    ['v1/vehicles/+/telemetry', 'all'],
    ['v1/vehicles/+/+', 'all'],
    ['+/+/+/telemetry', 'all'],
    ['v1/+/+/#', 'all'],
    ['v1/vehicles/V1/telemetry', { vehicleId: 'V1' }],
    ['v1/vehicles/V1/#', { vehicleId: 'V1' }],
    ['v1/vehicles/V1/+', { vehicleId: 'V1' }],
    ['+/+/V1/telemetry', { vehicleId: 'V1' }],
    ['v1/vehicles/V1/commands', null],
    ['v1/vehicles/+/status', null],
    ['v1/vehicles/+/telemetry/x', null],
    ['v1/vehicles/+', null],
    ['v2/vehicles/+/telemetry', null],
    ['$SYS/#', null],
  ] as const)('%s → %j', (filter, reach) => {
    expect(telemetryReach(filter)).toEqual(reach);
  });

  it('keeps what granted subscriptions can hear, for the life of the process', () => {
    const listeners = createTelemetryListeners();
    expect(listeners.heard('V1')).toBe(false);
    listeners.granted('v1/vehicles/V1/commands');
    listeners.granted('$SYS/#');
    expect(listeners.heard('V1')).toBe(false);
    listeners.granted('v1/vehicles/V1/#');
    expect([listeners.heard('V1'), listeners.heard('V2')]).toEqual([true, false]);
    listeners.granted('v1/vehicles/+/telemetry');
    expect([listeners.heard('V1'), listeners.heard('V2')]).toEqual([true, true]);
  });
});
