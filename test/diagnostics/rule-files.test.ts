import { describe, expect, it } from 'vitest';
import { parseRuleFile } from '../../diagnostics/rules/load.ts';
import { parsePlanFile } from '../../diagnostics/plans/plans.ts';
import { PLANS, RULES } from './harness.ts';

const rule = (extra: string) => `
version: 1
rules:
  - id: hot_battery
    code: BAT-HOT
    severity: major
    title: { en: Hot, zh: 热 }
    when: { field: battery.tempC, op: ">", value: 50 }
${extra}`;

describe('rule files', () => {
  it('the default rule set covers the power system, each rule with a code, severity and both languages', () => {
    expect(RULES.rules.map((r) => r.id)).toEqual([
      'mains_lost',
      'generator_start_failed',
      'generator_voltage_out_of_tolerance',
      'generator_frequency_out_of_tolerance',
      'generator_overheating',
      'generator_low_oil_pressure',
      'generator_low_fuel',
      'battery_low_soc',
      'battery_very_low_soc',
      'battery_under_voltage',
      'battery_over_temperature',
      'chassis_charging_failure',
      'charging_over_voltage',
      'predicted_power_loss',
      'vehicle_offline',
      'stuck_sensor',
    ]);
    for (const r of RULES.rules) expect(r.title.zh.length).toBeGreaterThan(0);
  });

  it.each([
    [
      'an unknown signal',
      rule('').replace('battery.tempC', 'battery.temperature'),
      /rule "hot_battery" at rules\.0\.when/,
    ],
    ['a bad operator', rule('').replace('">"', '"=>"'), /rule "hot_battery" at rules\.0\.when/],
    [
      'a bad duration',
      rule('    for: 5 minutes'),
      /rule "hot_battery" at rules\.0\.for: "5 minutes" is not a duration/,
    ],
    [
      'a bad severity',
      rule('').replace('severity: major', 'severity: huge'),
      /rule "hot_battery" at rules\.0\.severity: must be one of minor, major, critical/,
    ],
    ['an unknown key', rule('    hold: 5s'), /rule "hot_battery" at rules\.0: Unrecognized key: "hold"/],
    ['an unknown cause', rule('    causedBy: [nope]'), /rule "hot_battery" at rules\.0\.causedBy: unknown rule "nope"/],
    [
      'a missing title',
      rule('').replace('    title: { en: Hot, zh: 热 }\n', ''),
      /rule "hot_battery" at rules\.0\.title/,
    ],
    [
      'an unknown profile parameter',
      rule('').replace('value: 50', 'value: { profile: battery.size }'),
      /rule "hot_battery" at rules\.0\.when/,
    ],
    ['not YAML', 'rules: [', /not valid YAML/],
    ['no version', 'rules: []', /at version/],
  ])('refuses %s, naming the rule and the field', (_what, text, message) => {
    expect(() => parseRuleFile(text, 'test.yaml')).toThrow(message);
    try {
      parseRuleFile(text, 'test.yaml');
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('refuses duplicate ids', () => {
    const text = rule('') + rule('').split('rules:\n')[1]!;
    expect(() => parseRuleFile(text, 'dup.yaml')).toThrow(/rule "hot_battery" at rules\.1\.id: duplicate rule id/);
  });

  it('applies per-model overrides and disables, and refuses overrides that break a rule', () => {
    const set = parseRuleFile(
      rule('') +
        `models:\n  XJ-12:\n    override:\n      hot_battery: { severity: critical, for: 2m }\n  TX-1:\n    disable: [hot_battery]\n`,
    );
    expect(set.forModel('XJ-24')[0]).toMatchObject({ severity: 'major', for: 0 });
    expect(set.forModel('XJ-12')[0]).toMatchObject({ severity: 'critical', for: 120_000 });
    expect(set.forModel('TX-1')).toEqual([]);
    expect(() =>
      parseRuleFile(rule('') + `models:\n  XJ-12:\n    override:\n      hot_battery: { for: soon }\n`),
    ).toThrow(/rule "hot_battery" at models\.XJ-12\.override\.for/);
    expect(() => parseRuleFile(rule('') + `models:\n  XJ-12:\n    disable: [ghost]\n`)).toThrow(/unknown rule "ghost"/);
  });
});

describe('emergency plans', () => {
  it('has a plan for every default rule code with steps in both languages', () => {
    for (const r of RULES.rules) {
      const plan = PLANS.get(r.code);
      expect(plan, r.code).toBeDefined();
      expect(plan!.remoteChecks.length).toBeGreaterThan(0);
    }
  });

  it('lists plans overdue for review', () => {
    const book = parsePlanFile(`
version: 1
plans:
  - { code: OLD-ONE, version: 3, reviewedAt: 2025-01-01, reviewEveryDays: 180, faultType: electrical, title: { en: a, zh: 甲 },
      likelyCauses: [{ en: x, zh: 乙 }], remoteChecks: [{ en: y, zh: 丙 }], recommendedMode: remote_support }
  - { code: NEW-ONE, version: 1, reviewedAt: 2026-11-01, reviewEveryDays: 180, faultType: electrical, title: { en: b, zh: 丁 },
      likelyCauses: [{ en: x, zh: 乙 }], remoteChecks: [{ en: y, zh: 丙 }], recommendedMode: on_site_repair }
`);
    const overdue = book.overdueForReview(Date.UTC(2026, 10, 27));
    expect(overdue.map((o) => o.plan.code)).toEqual(['OLD-ONE']);
    expect(new Date(overdue[0]!.dueAt).toISOString().slice(0, 10)).toBe('2025-06-30');
  });

  it('refuses a bad plan naming it and the field', () => {
    expect(() => parsePlanFile('version: 1\nplans:\n  - { code: X-1, version: 1 }\n', 'p.yaml')).toThrow(
      /p\.yaml plan "X-1" at plans\.0\.reviewedAt/,
    );
  });
});
