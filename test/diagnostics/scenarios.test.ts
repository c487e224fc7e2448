import { describe, expect, it } from 'vitest';
import { createRuleEngine, type RuleTransition } from '../../diagnostics/engine/engine.ts';
import { DEFAULT_POWER_PROFILE, type PowerProfile } from '../../protocol/index.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { scenario, type ScenarioName } from '../../simulators/scenarios/catalogue.ts';
import { plannedFault, toModelFault } from '../../simulators/scenarios/plan.ts';
import { RULES } from './harness.ts';

const START = Date.UTC(2026, 5, 2, 2, 0, 0); // 10:00 local
const ONSET_S = 120;

interface Case {
  scenario: ScenarioName;
  params?: Record<string, unknown>;
  durationS: number;
  afterS: number;
  rule: string;
  severity: 'minor' | 'major' | 'critical';
  /** Seconds after the onset by which the rule must have fired: the scenario's documented time plus the rule's hold. */
  withinS: number;
  clears: boolean;
  initialSocPct?: number;
}

/** Runs the simulator's model with one scenario at 1 Hz of accelerated time through the default rules. */
function run(
  c: {
    scenario: ScenarioName;
    params?: Record<string, unknown>;
    durationS: number;
    afterS: number;
    initialSocPct?: number;
  },
  profile: PowerProfile = DEFAULT_POWER_PROFILE,
) {
  const model = createVehicleModel({
    vehicleId: 'S1',
    profile,
    seed: 5,
    startTs: START,
    mainsOutagesPerDay: 0,
    drivesPerDay: 0,
    initialSocPct: c.initialSocPct ?? 95,
  });
  const onset = START + ONSET_S * 1000;
  model.addFault(toModelFault(plannedFault(c.scenario, onset, c.durationS, c.params ?? {}), model.profile));
  const out: RuleTransition[] = [];
  let wall = START;
  const engine = createRuleEngine(
    { rules: RULES, emit: (t) => out.push(t), now: () => wall },
    { staleAfterMs: 5 * 60_000 },
  );
  for (let t = START + 1000; t <= onset + (c.durationS + c.afterS) * 1000; t += 1000) {
    model.advanceTo(t);
    wall = t;
    engine.onFrames('S1', { model: 'Shelter-PS24', profile: model.profile }, [model.sample(t)], t);
  }
  return { out, onset, end: onset + c.durationS * 1000 };
}

const hold = (id: string) => RULES.rules.find((r) => r.id === id)!.for / 1000;
const documented = (name: ScenarioName, params: Record<string, unknown> = {}) => {
  const s = scenario(name);
  return s.withinS(s.params.parse(params));
};

const CASES: Case[] = [
  {
    scenario: 'mains-outage',
    durationS: 600,
    afterS: 300,
    rule: 'mains_lost',
    severity: 'minor',
    withinS: documented('mains-outage') + hold('mains_lost'),
    clears: true,
  },
  {
    scenario: 'generator-start-failure',
    durationS: 1800,
    afterS: 300,
    rule: 'generator_start_failed',
    severity: 'critical',
    withinS: documented('generator-start-failure') + hold('generator_start_failed'),
    clears: true,
  },
  {
    scenario: 'generator-overheat',
    durationS: 2400,
    afterS: 900,
    rule: 'generator_overheating',
    severity: 'critical',
    withinS: documented('generator-overheat') + hold('generator_overheating'),
    clears: true,
  },
  {
    scenario: 'generator-low-fuel',
    durationS: 600,
    afterS: 300,
    rule: 'generator_low_fuel',
    severity: 'minor',
    withinS: documented('generator-low-fuel') + hold('generator_low_fuel'),
    clears: false,
  },
  // drift: the set starts ≈ 30 s after the onset, then drifts at the scenario's default rate until the
  // rule's band is crossed (4 % of 50 Hz at 0.3 Hz/min; 7 % of 220 V at 2 V/min), then the 30 s hold
  {
    scenario: 'generator-drift',
    params: { voltageVPerMin: 0 },
    durationS: 1200,
    afterS: 300,
    rule: 'generator_frequency_out_of_tolerance',
    severity: 'major',
    withinS: 30 + (2 / 0.3) * 60 + hold('generator_frequency_out_of_tolerance') + 30,
    clears: true,
  },
  {
    scenario: 'generator-drift',
    params: { frequencyHzPerMin: 0 },
    durationS: 1200,
    afterS: 300,
    rule: 'generator_voltage_out_of_tolerance',
    severity: 'major',
    withinS: 30 + (15.4 / 2) * 60 + hold('generator_voltage_out_of_tolerance') + 30,
    clears: true,
  },
  {
    scenario: 'low-oil-pressure',
    durationS: 900,
    afterS: 300,
    rule: 'generator_low_oil_pressure',
    severity: 'critical',
    withinS: documented('low-oil-pressure') + hold('generator_low_oil_pressure'),
    clears: true,
  },
  {
    scenario: 'battery-over-temperature',
    params: { riseC: 80 },
    durationS: 2400,
    afterS: 3600,
    rule: 'battery_over_temperature',
    severity: 'major',
    withinS: documented('battery-over-temperature') + hold('battery_over_temperature'),
    clears: true,
  },
  {
    scenario: 'alternator-failure',
    durationS: 900,
    afterS: 300,
    rule: 'chassis_charging_failure',
    severity: 'major',
    withinS: documented('alternator-failure') + hold('chassis_charging_failure'),
    clears: true,
    initialSocPct: 80,
  },
  {
    scenario: 'regulator-over-voltage',
    durationS: 600,
    afterS: 300,
    rule: 'charging_over_voltage',
    severity: 'critical',
    withinS: documented('regulator-over-voltage') + hold('charging_over_voltage'),
    clears: true,
    initialSocPct: 80,
  },
  {
    scenario: 'stuck-sensor',
    params: { field: 'battery.voltageV' },
    durationS: 2400,
    afterS: 300,
    rule: 'stuck_sensor',
    severity: 'minor',
    withinS: 30 * 60 + documented('stuck-sensor'),
    clears: true,
  },
];

describe('each default rule against the simulator scenario that should trigger it', () => {
  it.each(CASES.map((c) => [`${c.scenario}${c.params ? ' ' + JSON.stringify(c.params) : ''} → ${c.rule}`, c] as const))(
    '%s',
    (_name, c) => {
      const { out, onset, end } = run(c);
      const mine = out.filter((t) => t.rule.id === c.rule);
      const raised = mine.filter((t) => t.type === 'raised');
      expect(raised, 'fires exactly once').toHaveLength(1);
      expect(raised[0]!.rule.severity).toBe(c.severity);
      expect(raised[0]!.live).toBe(true);
      const after = (raised[0]!.at - onset) / 1000;
      expect(after, 'not before the fault').toBeGreaterThanOrEqual(0);
      expect(after, `within ${c.withinS} s of the onset`).toBeLessThanOrEqual(c.withinS);
      if (c.clears) {
        const cleared = mine.find((t) => t.type === 'cleared');
        expect(cleared, 'clears once the fault is gone').toBeDefined();
        expect(cleared!.at).toBeGreaterThan(raised[0]!.at);
      }
      // nothing is raised before the fault starts
      expect(out.filter((t) => t.at < onset)).toEqual([]);
      expect(end).toBeGreaterThan(onset);
    },
  );

  it('a long generator start failure drains the battery: low SOC, then predicted power loss before it is flat, then very low SOC', () => {
    const { out, onset } = run({ scenario: 'generator-start-failure', durationS: 5400, afterS: 60, initialSocPct: 60 });
    const first = (id: string) => out.find((t) => t.type === 'raised' && t.rule.id === id);
    const loss = first('predicted_power_loss')!;
    expect(first('battery_low_soc')).toBeDefined();
    expect(loss).toBeDefined();
    expect(loss.rule.severity).toBe('critical');
    expect(loss.frame!.battery!.socPct!).toBeGreaterThan(5);
    expect(loss.derived!.timeToEmptyMin!).toBeLessThan(30);
    const veryLow = first('battery_very_low_soc');
    if (veryLow) expect(veryLow.at).toBeGreaterThan(loss.at);
    expect(first('generator_start_failed')!.at - onset).toBeLessThanOrEqual(90_000);
  });

  it('battery ageing (capacity fade) shows as the battery running down much faster than a healthy one', () => {
    const noGen: PowerProfile = { ...DEFAULT_POWER_PROFILE, hasGenerator: false };
    const lowSocAt = (scenarioName: ScenarioName, params: Record<string, unknown>) => {
      const { out, onset } = run({ scenario: scenarioName, params, durationS: 7200, afterS: 0 }, noGen);
      const t = out.find((x) => x.type === 'raised' && x.rule.id === 'battery_low_soc');
      return t ? (t.at - onset) / 1000 : Infinity;
    };
    const aged = lowSocAt('battery-ageing', { remainingPct: 40, withOutage: true });
    const healthy = lowSocAt('mains-outage', {});
    expect(aged).toBeLessThan(0.6 * healthy);
  });
});

describe('link loss (a gateway scenario: no frames reach the platform)', () => {
  it('raises vehicle offline once after 5 min without data and clears with the first frame after the link returns', () => {
    const model = createVehicleModel({
      vehicleId: 'S1',
      seed: 5,
      startTs: START,
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    const out: RuleTransition[] = [];
    let wall = START;
    const engine = createRuleEngine(
      { rules: RULES, emit: (t) => out.push(t), now: () => wall },
      { staleAfterMs: 5 * 60_000 },
    );
    const lossFrom = START + ONSET_S * 1000;
    const lossTo = lossFrom + 600_000; // the scenario's default 10 min
    for (let t = START + 1000; t <= lossTo + 120_000; t += 1000) {
      model.advanceTo(t);
      wall = t;
      const frame = model.sample(t);
      if (t < lossFrom || t >= lossTo)
        engine.onFrames('S1', { model: 'Shelter-PS24', profile: model.profile }, [frame], t);
      if (t % 5000 === 0) engine.tick(t); // the diagnostics ticker
    }
    const offline = out.filter((t) => t.rule.id === 'vehicle_offline');
    expect(offline.map((t) => t.type)).toEqual(['raised', 'cleared']);
    expect((offline[0]!.at - lossFrom) / 1000).toBeGreaterThanOrEqual(300);
    expect((offline[0]!.at - lossFrom) / 1000).toBeLessThanOrEqual(306);
    expect(offline[1]!.at).toBe(lossTo);
  });
});
