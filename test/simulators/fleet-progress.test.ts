import { describe, expect, it } from 'vitest';
import { DEFAULT_POWER_PROFILE } from '../../protocol/index.ts';
import { createManualClock } from '../../simulators/clock.ts';
import { createFleet } from '../../simulators/fleet/fleet.ts';
import { createGateway } from '../../simulators/gateway/gateway.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';

/**
 * What a run follows every second is cheap: `fleet.progress()` (connected, acknowledged) instead of
 * the whole `stats()`, and a gateway's faults without building its model's whole state. No broker
 * here: the gateways are never started.
 */
const START = Date.UTC(2026, 11, 6, 12);

describe('the fleet figures a run follows', () => {
  it('progress() counts the connected gateways and the frames acknowledged, as stats() does', () => {
    const fleet = createFleet(
      { clock: { now: () => START }, realNow: () => START },
      {
        vehicles: Array.from({ length: 5 }, (_, i) => ({ id: `S${i}`, secret: 'x' })),
        brokerUrl: 'mqtt://127.0.0.1:9',
        rateHz: 1,
        seed: 1,
        startTs: START,
      },
    );
    expect(fleet.progress()).toEqual({ vehicles: 5, connected: 0, framesAcked: 0 });
    // three of them online, with frames acknowledged (the gateways' own accessors, replaced)
    fleet.gateways.forEach((g, i) => {
      g.state = () => (i < 3 ? 'online' : 'offline');
      g.framesAcked = () => i * 10;
    });
    expect(fleet.progress()).toEqual({ vehicles: 5, connected: 3, framesAcked: 0 + 10 + 20 + 30 + 40 });
  });

  it("a gateway's active faults are its model's active now, and its own", () => {
    const clock = createManualClock(START);
    const model = createVehicleModel({
      vehicleId: 'F1',
      profile: DEFAULT_POWER_PROFILE,
      seed: 1,
      startTs: START,
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    const gw = createGateway(
      { clock, model },
      {
        vehicleId: 'F1',
        secret: 'x',
        brokerUrl: 'mqtt://127.0.0.1:9',
        rateHz: 1,
        faults: [plannedFault('link-loss', START + 30_000, 60)],
      },
    );
    model.addFault(toModelFault(plannedFault('mains-outage', START + 10_000, 40), model.profile));
    model.addFault(toModelFault(plannedFault('generator-overheat', START + 20_000, 100), model.profile));
    const at = (s: number) => {
      clock.advance(START + s * 1000 - clock.now());
      model.advanceTo(clock.now());
      return gw.stats().activeFaults;
    };
    expect(at(5)).toEqual([]);
    expect(at(15)).toEqual(['mains-outage']);
    expect(at(35).sort()).toEqual(['generator-overheat', 'link-loss', 'mains-outage']);
    expect(model.state().activeFaults.sort()).toEqual(['generator-overheat', 'mains-outage']);
    expect(model.activeFaults().sort()).toEqual(model.state().activeFaults.sort());
    expect(at(60).sort()).toEqual(['generator-overheat', 'link-loss']); // the outage ended at 50 s
    expect(at(200)).toEqual([]);
  });
});
