import { describe, expect, it } from 'vitest';
import { fieldLimits, type FieldLimit } from '../../diagnostics/limits.ts';
import { loadRuleFile, parseRuleFile } from '../../diagnostics/rules/load.ts';
import { powerProfileSchema } from '../../protocol/index.ts';

const RULES = loadRuleFile(new URL('../../diagnostics/rules/default-rules.yaml', import.meta.url).pathname);
const P24 = powerProfileSchema.parse({});
const P12 = powerProfileSchema.parse({
  battery: { nominalV: 12, capacityAh: 100 },
  mains: { nominalV: 230, frequencyHz: 60 },
});
const NO_GEN = powerProfileSchema.parse({ hasGenerator: false });

const pick = (limits: FieldLimit[], ruleId: string, field: string) =>
  limits.filter((l) => l.ruleId === ruleId && l.field === field).map(({ low, high }) => ({ low, high }));

describe('a vehicle’s limits from the rules that apply to it', () => {
  it('resolves profile multiples: a 220 V / 50 Hz, 24 V vehicle', () => {
    const l = fieldLimits(RULES.forModel('any'), P24);
    expect(pick(l, 'generator_voltage_out_of_tolerance', 'generator.voltageV')).toEqual([{ low: 204.6, high: 235.4 }]);
    expect(pick(l, 'generator_frequency_out_of_tolerance', 'generator.frequencyHz')).toEqual([{ low: 48, high: 52 }]);
    // 1.8 V per cell on a 24 V battery (12 cells); over-voltage above 1.25 × nominal
    expect(pick(l, 'battery_under_voltage', 'battery.voltageV')).toEqual([{ low: 21.6, high: null }]);
    expect(pick(l, 'charging_over_voltage', 'battery.voltageV')).toEqual([{ low: null, high: 30 }]);
    expect(pick(l, 'charging_over_voltage', 'charging.alternatorV')).toEqual([{ low: null, high: 30 }]);
    expect(pick(l, 'battery_low_soc', 'battery.socPct')).toEqual([{ low: 30, high: null }]);
    expect(pick(l, 'battery_very_low_soc', 'battery.socPct')).toEqual([{ low: 15, high: null }]);
    expect(pick(l, 'generator_overheating', 'generator.coolantC')).toEqual([{ low: null, high: 105 }]);
    const v = l.find((x) => x.ruleId === 'generator_voltage_out_of_tolerance')!;
    expect(v).toMatchObject({ code: 'GEN-VOLTAGE', severity: 'major', title: { zh: '发电机组输出电压超差' } });
    // it counts only while the generator turns: a stopped generator's 0 V is past no limit
    expect(v.onlyWhile).toEqual([
      { field: 'generator.running', op: '==', value: true },
      { field: 'generator.rpm', op: '>', value: 1000 },
    ]);
    expect(l.find((x) => x.ruleId === 'battery_low_soc')!.onlyWhile).toEqual([]);
    expect(l.find((x) => x.ruleId === 'chassis_charging_failure')!.onlyWhile).toEqual([
      { field: 'charging.engineRunning', op: '==', value: true },
      { field: 'battery.socPct', op: '<', value: 95 },
    ]);
  });

  it('follows the profile: a 230 V / 60 Hz, 12 V vehicle gets its own numbers', () => {
    const l = fieldLimits(RULES.forModel('any'), P12);
    expect(pick(l, 'generator_voltage_out_of_tolerance', 'generator.voltageV')).toEqual([{ low: 213.9, high: 246.1 }]);
    expect(pick(l, 'generator_frequency_out_of_tolerance', 'generator.frequencyHz')).toEqual([
      { low: 57.6, high: 62.4 },
    ]);
    expect(pick(l, 'battery_under_voltage', 'battery.voltageV')).toEqual([{ low: 10.8, high: null }]);
    expect(pick(l, 'charging_over_voltage', 'battery.voltageV')).toEqual([{ low: null, high: 15 }]);
  });

  it('a gating comparison is no limit; clear conditions and equality are none either', () => {
    const l = fieldLimits(RULES.forModel('any'), P24);
    // the generator rules compare rpm > 1000 only to say the engine turns
    expect(l.filter((x) => x.field === 'generator.rpm')).toEqual([]);
    // chassis charging failure watches the current, not the SOC it is gated on
    expect(pick(l, 'chassis_charging_failure', 'charging.currentA')).toEqual([{ low: 1, high: null }]);
    expect(pick(l, 'chassis_charging_failure', 'battery.socPct')).toEqual([]);
    // mains lost compares booleans only; predicted power loss a derived time, not a field
    expect(l.filter((x) => x.ruleId === 'mains_lost' || x.ruleId === 'predicted_power_loss')).toEqual([]);
    // hysteresis: the clear thresholds (95 °C) are not limits
    expect(l.filter((x) => x.field === 'generator.coolantC').map((x) => x.high)).toEqual([105]);
  });

  it('a vehicle without a generator has no generator limits', () => {
    const l = fieldLimits(RULES.forModel('any'), NO_GEN);
    expect(l.filter((x) => x.field.startsWith('generator.'))).toEqual([]);
    expect(pick(l, 'battery_under_voltage', 'battery.voltageV')).toEqual([{ low: 21.6, high: null }]);
  });

  it('per model: a disabled rule gives none, an override moves the limit', () => {
    const set = parseRuleFile(
      `version: 1
rules:
  - id: hot_coolant
    code: GEN-HOT
    severity: critical
    title: { en: Hot, zh: 过热 }
    when: { field: generator.coolantC, op: ">", value: 105 }
  - id: low_fuel
    code: GEN-FUEL
    severity: minor
    title: { en: Fuel, zh: 燃油 }
    when: { field: generator.fuelPct, op: "<", value: 15 }
  - id: both
    code: GEN-BOTH
    severity: major
    title: { en: Both, zh: 两者 }
    when:
      any:
        - { field: generator.oilKpa, op: "<", value: 150 }
        - { field: generator.coolantC, op: ">=", value: 110 }
models:
  XJ-9:
    disable: [low_fuel]
    override: { hot_coolant: { when: { field: generator.coolantC, op: ">", value: 98 } } }
`,
      'models.yaml',
    );
    const base = fieldLimits(set.forModel('other'), P24);
    expect(pick(base, 'hot_coolant', 'generator.coolantC')).toEqual([{ low: null, high: 105 }]);
    expect(pick(base, 'low_fuel', 'generator.fuelPct')).toEqual([{ low: 15, high: null }]);
    // two signals and no `watches`: which one is the alarm about is not guessed
    expect(base.filter((x) => x.ruleId === 'both')).toEqual([]);
    const xj = fieldLimits(set.forModel('XJ-9'), P24);
    expect(pick(xj, 'hot_coolant', 'generator.coolantC')).toEqual([{ low: null, high: 98 }]);
    expect(xj.filter((x) => x.ruleId === 'low_fuel')).toEqual([]);
  });
});
