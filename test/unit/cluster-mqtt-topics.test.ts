import { describe, expect, it } from 'vitest';
import { isVehicleUplink, mayMatchUplink } from '../../cluster/mqtt.ts';

describe('which MQTT traffic stays on its node in cluster mode (cluster/mqtt.ts)', () => {
  it('a vehicle’s uplink kinds are uplink; the platform’s downlink and other topics are not', () => {
    for (const kind of ['telemetry', 'status', 'events', 'commands/ack'])
      expect(isVehicleUplink(`v1/vehicles/V1/${kind}`)).toBe(true);
    for (const topic of [
      'v1/vehicles/V1/commands',
      'v1/vehicles/V1/errors',
      'v1/vehicles/V1/telemetry/confirmed',
      '$SYS/x/new/clients',
      '$platform/refused',
      'other/topic',
    ])
      expect(isVehicleUplink(topic)).toBe(false);
  });

  it('filters that can match some vehicle’s uplink are registered; vehicles’ own downlink subscriptions are not', () => {
    for (const filter of ['#', 'v1/#', 'v1/vehicles/+/telemetry', 'v1/vehicles/V1/#', '+/vehicles/+/status'])
      expect(mayMatchUplink(filter)).toBe(true);
    for (const filter of [
      'v1/vehicles/V1/commands',
      'v1/vehicles/V1/errors',
      'v1/vehicles/+/telemetry/confirmed',
      '$SYS/+/new/clients',
      '$platform/cluster/uplink-filters',
    ])
      expect(mayMatchUplink(filter)).toBe(false);
  });
});
