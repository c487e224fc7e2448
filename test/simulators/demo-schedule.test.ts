import { describe, expect, it } from 'vitest';
import { createRuleEngine, type RuleTransition } from '../../diagnostics/engine/engine.ts';
import { severityRank } from '../../diagnostics/rules/schema.ts';
import { DEFAULT_POWER_PROFILE } from '../../protocol/index.ts';
import { DEMO_FAULT_EVERY_S, demoSchedule } from '../../simulators/demo-schedule.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { RULES } from '../diagnostics/harness.ts';

const START = Date.UTC(2026, 11, 3, 9, 0, 0);
/** The one vehicle a demo fault names. */
const target = (e: { vehicles: unknown }): string => (e.vehicles as string[])[0]!;
const fleet = Array.from({ length: 20 }, (_, i) => ({
  id: `DEMO${String(i + 1).padStart(4, '0')}`,
  profile: { hasGenerator: i % 5 !== 4 },
}));

describe('the demo’s faults', () => {
  it('start with an emergency: the first fault raises a critical alarm (an extra-urgent ticket) within 2 minutes of the start', () => {
    const [first] = demoSchedule(fleet);
    expect(first).toMatchObject({ name: 'generator-start-failure' });
    const vehicle = fleet.find((v) => v.id === target(first!))!;
    expect(vehicle.profile.hasGenerator).toBe(true);

    // the demo's vehicle model from its start, the fault at its onset, through the default rules
    const model = createVehicleModel({
      vehicleId: vehicle.id,
      profile: DEFAULT_POWER_PROFILE,
      seed: 1,
      startTs: START,
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    const onset = START + first!.atS * 1000;
    model.addFault(toModelFault(plannedFault(first!.name, onset, first!.durationS, first!.params), model.profile));
    const raised: RuleTransition[] = [];
    let wall = START;
    const engine = createRuleEngine(
      { rules: RULES, emit: () => undefined, now: () => wall },
      { staleAfterMs: 5 * 60_000 },
    );
    for (let t = START + 1000; t <= START + 120_000; t += 1000) {
      model.advanceTo(t);
      wall = t;
      const found = engine.onFrames(vehicle.id, { model: 'demo', profile: model.profile }, [model.sample(t)], t);
      raised.push(...found.filter((x) => x.type === 'raised'));
    }
    const critical = raised.filter((x) => severityRank(x.rule.severity) === severityRank('critical'));
    expect(critical.map((x) => x.rule.id)).toContain('generator_start_failed');
    expect(critical[0]!.at - START).toBeLessThanOrEqual(120_000);
  });

  it('then a new fault every 3 minutes, round the whole catalogue, generator faults only on vehicles that have one', () => {
    const entries = demoSchedule(fleet);
    expect(entries).toHaveLength((24 * 3600) / DEMO_FAULT_EVERY_S);
    expect(entries[1]!.atS - entries[0]!.atS).toBe(DEMO_FAULT_EVERY_S);
    expect(new Set(entries.slice(0, 13).map((e) => e.name)).size).toBe(13);
    const noGenerator = new Set(fleet.filter((v) => !v.profile.hasGenerator).map((v) => v.id));
    for (const e of entries.filter((x) => x.name.startsWith('generator-') || x.name === 'low-oil-pressure'))
      expect(noGenerator.has(target(e))).toBe(false);
  });
});
