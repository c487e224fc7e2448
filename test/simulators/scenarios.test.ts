import { describe, expect, it } from 'vitest';
import type { TelemetryFrame, VehicleEvent } from '../../protocol/index.ts';
import { createVehicleModel } from '../../simulators/model/vehicle.ts';
import { SCENARIOS, scenario, type ScenarioName } from '../../simulators/scenarios/catalogue.ts';
import { plannedFault, planScenarios, toModelFault } from '../../simulators/scenarios/plan.ts';
import { parseScenarioText, ScenarioFileError } from '../../simulators/scenarios/scenario-file.ts';

const START = Date.UTC(2025, 5, 2, 2, 0, 0); // 10:00 local (UTC+8)
const ONSET_S = 120;

interface Run {
  before: TelemetryFrame[];
  after: TelemetryFrame[];
  events: VehicleEvent[];
  withinS: number;
}

/** Runs one vehicle with the given scenarios starting at ONSET_S, sampling at 1 Hz until the first scenario's documented time. */
function runScenario(combo: { name: ScenarioName; params?: Record<string, unknown> }[], extraS = 0, seed = 11): Run {
  const model = createVehicleModel({
    vehicleId: 'S1',
    seed,
    startTs: START,
    mainsOutagesPerDay: 0,
    drivesPerDay: 0,
    initialSocPct: 95,
  });
  const onset = START + ONSET_S * 1000;
  combo.forEach((c, i) =>
    model.addFault(toModelFault(plannedFault(c.name, onset, undefined, c.params ?? {}, i), model.profile)),
  );
  const first = scenario(combo[0]!.name);
  const withinS = first.withinS(first.params.parse(combo[0]!.params ?? {}));
  const before: TelemetryFrame[] = [];
  const after: TelemetryFrame[] = [];
  const events: VehicleEvent[] = [];
  for (let t = START + 1000; t <= onset + (withinS + extraS) * 1000; t += 1000) {
    model.advanceTo(t);
    (t < onset ? before : after).push(model.sample(t));
    events.push(...model.drainEvents());
  }
  return { before, after, events, withinS };
}

const codes = (r: Run) => r.events.map((e) => e.code);

describe('fault scenarios produce their documented signature within their documented time', () => {
  it('mains-outage: mains absent, battery bridges, generator takes the load', () => {
    const r = runScenario([{ name: 'mains-outage' }]);
    expect(r.after.every((f) => !f.mains!.present && f.mains!.voltageV === 0)).toBe(true);
    expect(r.after[0]!.source).toBe('battery');
    expect(r.after[0]!.battery!.currentA!).toBeLessThan(0);
    const onGen = r.after.find((f) => f.source === 'generator');
    expect(onGen?.generator).toMatchObject({ running: true });
    expect(onGen!.generator!.currentA!).toBeGreaterThan(0);
    expect(Math.abs(onGen!.generator!.frequencyHz! - 50)).toBeLessThan(0.5);
    expect(codes(r)).toEqual(expect.arrayContaining(['MAINS_LOST', 'SOURCE_CHANGED']));
  });

  it('mains-outage ends: back to mains, generator cools down unloaded and stops', () => {
    const model = createVehicleModel({
      vehicleId: 'S1',
      seed: 3,
      startTs: START,
      mainsOutagesPerDay: 0,
      drivesPerDay: 0,
    });
    model.addFault(toModelFault(plannedFault('mains-outage', START + 60_000, 600), model.profile));
    const frames: TelemetryFrame[] = [];
    for (let t = START + 1000; t <= START + 1200_000; t += 1000) {
      model.advanceTo(t);
      frames.push(model.sample(t));
    }
    const back = frames.findIndex((f, i) => i > 100 && f.mains!.present);
    const toMains = frames.findIndex((f, i) => i > back && f.source === 'mains');
    expect((frames[toMains]!.ts - frames[back]!.ts) / 1000).toBeGreaterThanOrEqual(29);
    expect(frames[toMains + 60]!.generator).toMatchObject({ running: true, currentA: 0 }); // cool-down, unloaded
    expect(frames.at(-1)!.generator!.running).toBe(false);
  });

  it('generator-start-failure: cranks, latches GEN_START_FAIL, stays on battery', () => {
    const r = runScenario([{ name: 'generator-start-failure' }]);
    expect(codes(r)).toContain('GEN_START_FAIL');
    expect(r.after.every((f) => !f.generator!.running && f.source === 'battery')).toBe(true);
    expect(r.after.some((f) => f.generator!.rpm! > 100)).toBe(true); // cranking
    expect(r.after.at(-1)!.battery!.socPct!).toBeLessThan(r.after[0]!.battery!.socPct!);
  });

  it('generator-overheat: coolant past 105 °C, shutdown at 110 °C, load to battery', () => {
    const r = runScenario([{ name: 'generator-overheat' }]);
    expect(r.after.some((f) => f.generator!.coolantC! >= 105)).toBe(true);
    expect(codes(r)).toEqual(expect.arrayContaining(['GEN_COOLANT_HIGH', 'GEN_OVERHEAT_SHUTDOWN']));
    expect(r.after.at(-1)).toMatchObject({ source: 'battery', generator: { running: false } });
  });

  it('generator-low-fuel: fuel at 12 % and falling while running', () => {
    const r = runScenario([{ name: 'generator-low-fuel' }], 600);
    const inWindow = r.after.slice(0, r.withinS);
    expect(inWindow.some((f) => f.generator!.fuelPct! <= 15)).toBe(true);
    expect(r.after.at(-1)!.generator!.fuelPct!).toBeLessThan(r.after[0]!.generator!.fuelPct!);
    expect(codes(r)).toContain('GEN_LOW_FUEL');
  });

  it('generator-low-fuel with a leak: runs dry, GEN_OUT_OF_FUEL, battery takes over', () => {
    const r = runScenario([{ name: 'generator-low-fuel', params: { fuelPct: 2, leakPctPerH: 60 } }], 300);
    expect(codes(r)).toContain('GEN_OUT_OF_FUEL');
    expect(r.after.at(-1)).toMatchObject({ source: 'battery', generator: { running: false, fuelPct: 0 } });
  });

  it('generator-drift: voltage > 5 % and frequency > 1 Hz off nominal', () => {
    const r = runScenario([{ name: 'generator-drift' }]);
    const running = r.after.filter((f) => f.generator!.running);
    expect(running.some((f) => Math.abs(f.generator!.voltageV! - 220) > 11)).toBe(true);
    expect(running.some((f) => Math.abs(f.generator!.frequencyHz! - 50) > 1)).toBe(true);
  });

  it('low-oil-pressure: oil under 100 kPa, GEN_LOW_OIL_SHUTDOWN', () => {
    const r = runScenario([{ name: 'low-oil-pressure' }]);
    expect(r.after.some((f) => f.generator!.running && f.generator!.oilKpa! < 150)).toBe(true);
    expect(codes(r)).toContain('GEN_LOW_OIL_SHUTDOWN');
    expect(r.after.at(-1)!.generator!.running).toBe(false);
  });

  it('battery-ageing: SOC falls as if the capacity were remainingPct of nominal', () => {
    const r = runScenario([
      { name: 'battery-ageing', params: { remainingPct: 40 } },
      { name: 'mains-outage' },
      { name: 'generator-start-failure' },
    ]);
    const d = r.after;
    let ah = 0;
    for (let i = 1; i < d.length; i++) ah += d[i]!.battery!.currentA! / 3600;
    const dSoc = d[0]!.battery!.socPct! - d.at(-1)!.battery!.socPct!;
    const effectiveAh = (-ah / dSoc) * 100;
    expect(effectiveAh / 200).toBeGreaterThan(0.36);
    expect(effectiveAh / 200).toBeLessThan(0.44);
  });

  it('battery-over-temperature: temperature rises > 15 °C within 30 min', () => {
    const r = runScenario([{ name: 'battery-over-temperature' }]);
    expect(r.after.at(-1)!.battery!.tempC! - r.before.at(-1)!.battery!.tempC!).toBeGreaterThan(15);
  });

  it('alternator-failure: engine running, no alternator voltage or current', () => {
    const r = runScenario([{ name: 'alternator-failure' }]);
    expect(r.after.length).toBeGreaterThan(0);
    expect(
      r.after.every((f) => f.charging!.engineRunning && f.charging!.alternatorV === 0 && f.charging!.currentA === 0),
    ).toBe(true);
  });

  it('regulator-over-voltage: alternator and battery above 15 V per 12 V block', () => {
    const r = runScenario([{ name: 'regulator-over-voltage' }]);
    const last = r.after.at(-1)!;
    expect(last.charging!.alternatorV!).toBeGreaterThan(30);
    expect(last.battery!.voltageV!).toBeGreaterThan(30);
    expect(last.charging!.currentA!).toBeGreaterThan(0);
  });

  it('stuck-sensor: the field repeats one value while it normally varies', () => {
    const r = runScenario([{ name: 'stuck-sensor', params: { field: 'mains.voltageV' } }]);
    const after = new Set(r.after.map((f) => f.mains!.voltageV));
    const before = new Set(r.before.slice(-60).map((f) => f.mains!.voltageV));
    expect(after.size).toBe(1);
    expect(before.size).toBeGreaterThan(5);
  });

  it('every scenario has documentation, a default duration rule and a time bound', () => {
    for (const def of Object.values(SCENARIOS)) {
      expect(def.signature.length).toBeGreaterThan(40);
      expect(def.finding.length).toBeGreaterThan(20);
      expect(def.withinS(def.params.parse({}) as never)).toBeGreaterThan(0);
      expect(def.target === 'gateway' || typeof def.effect === 'function').toBe(true);
    }
  });
});

describe('scenario files', () => {
  it('loads YAML and JSON with durations, vehicle picks and parameter defaults', () => {
    const yaml = `
scenarios:
  - name: mains-outage
    at: 2m
    duration: 1h30m
    vehicles: [V1, V3]
  - name: generator-overheat
    at: 90
    vehicles: { count: 2 }
    params: { riseC: 45 }
  - name: gateway-reboot
    vehicles: { fraction: 0.5 }
`;
    const entries = parseScenarioText(yaml);
    expect(entries[0]).toMatchObject({ name: 'mains-outage', atS: 120, durationS: 5400, vehicles: ['V1', 'V3'] });
    expect(entries[1]).toMatchObject({ atS: 90, durationS: 3600, params: { riseC: 45, rampS: 600, withOutage: true } });
    expect(entries[2]).toMatchObject({ atS: 0, durationS: null, params: { downS: 30, seq: 'auto' } });
    const json = JSON.stringify([{ name: 'link-loss', at: '30s', duration: '10m' }]);
    expect(parseScenarioText(json)[0]).toMatchObject({ name: 'link-loss', atS: 30, durationS: 600, vehicles: 'all' });

    const ids = ['V1', 'V2', 'V3', 'V4'];
    const plan = planScenarios(entries, ids, 1_000_000, 5);
    expect(plan.get('V1')!.map((p) => p.name)).toContain('mains-outage');
    expect(plan.get('V2')!.map((p) => p.name)).not.toContain('mains-outage');
    expect([...plan.values()].filter((ps) => ps.some((p) => p.name === 'generator-overheat'))).toHaveLength(2);
    expect(planScenarios(entries, ids, 1_000_000, 5)).toEqual(plan);
    expect(plan.get('V1')!.find((p) => p.name === 'mains-outage')).toMatchObject({
      startTs: 1_120_000,
      endTs: 1_120_000 + 5_400_000,
    });
  });

  it('names the scenario index and field of every problem', () => {
    const bad = `
- name: mains-outage
  at: soon
- name: generator-overheat
  params: { riseC: -3, colour: red }
- name: teleport
- name: stuck-sensor
  params: { field: battery.colour }
`;
    try {
      parseScenarioText(bad, 'bad.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioFileError);
      const msg = (err as Error).message;
      expect(msg).toContain('bad.yaml');
      expect(msg).toContain('scenario 0 (mains-outage): at: at must be seconds or a duration');
      expect(msg).toContain('scenario 1 (generator-overheat): params.riseC: must be > 0');
      expect(msg).toContain('scenario 1 (generator-overheat): params: unknown parameter(s) colour');
      expect(msg).toContain('scenario 2 (teleport): name: must be one of mains-outage');
      expect(msg).toContain('scenario 3 (stuck-sensor): params.field: must be one of');
    }
    expect(() => parseScenarioText('{ scenarios: 3 }')).toThrow(ScenarioFileError);
    expect(() => parseScenarioText('- [unclosed')).toThrow(/not valid JSON\/YAML/);
  });
});
