import { describe, expect, it } from 'vitest';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { createRuleEngine, type RuleTransition, type VehicleInfo } from '../../diagnostics/engine/engine.ts';
import { loadRuleFile } from '../../diagnostics/rules/load.ts';
import { PROFILE_12V, PROFILE_24V, T0, healthy, onBattery } from './fixtures.ts';

const rules = loadRuleFile(new URL('../../diagnostics/rules/default-rules.yaml', import.meta.url).pathname);
const V24: VehicleInfo = { model: 'XJ-24', profile: PROFILE_24V };

/** Runs frames at 1 Hz through a fresh engine; the wall clock follows the frames (live data). */
function run(frames: (i: number, ts: number) => TelemetryFrame, seconds: number, info: VehicleInfo = V24, start = T0) {
  let wall = start;
  const out: RuleTransition[] = [];
  const engine = createRuleEngine({ rules, emit: (t) => out.push(t), now: () => wall }, { staleAfterMs: 5 * 60_000 });
  for (let i = 0; i < seconds; i++) {
    const ts = start + i * 1000;
    wall = ts;
    engine.onFrames('V1', info, [frames(i, ts)], ts);
  }
  return { out, engine, setWall: (t: number) => (wall = t) };
}
const fired = (out: RuleTransition[]) => out.map((t) => `${t.type}:${t.rule.id}@${(t.at - T0) / 1000}`);

describe('default rules on synthetic frames (1 Hz, event time)', () => {
  it('a healthy vehicle raises nothing over an hour', () => {
    expect(run((i, ts) => healthy(i, ts), 3600).out).toEqual([]);
  });

  it('mains lost while expected: after 10 s, clears 30 s after mains returns; a covering generator raises nothing else', () => {
    const { out } = run((i, ts) => {
      if (i < 60 || i >= 600) return healthy(i, ts);
      const genUp = i >= 75;
      return healthy(i, ts, {
        source: genUp ? 'generator' : 'battery',
        mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
        generator: genUp
          ? {
              running: true,
              voltageV: 221 + (i % 3) / 10,
              frequencyHz: 50,
              currentA: 12,
              rpm: 1500,
              coolantC: 80 + (i % 5) / 10,
              oilKpa: 400,
            }
          : {},
        battery: genUp ? {} : { currentA: -30 },
      });
    }, 900);
    expect(fired(out)).toEqual(['raised:mains_lost@70', 'cleared:mains_lost@630']);
    expect(out[0]!.rule.severity).toBe('minor');
  });

  it('generator fails to start: raised 90 s after mains loss, critical, with predicted power loss and low battery later', () => {
    const { out } = run(
      (i, ts) => (i < 10 ? healthy(i, ts) : onBattery(i, ts, Math.max(0, 40 - (i - 10) / 30), -60)),
      1200,
    );
    const ids = fired(out);
    expect(ids).toContain('raised:mains_lost@20');
    expect(ids).toContain('raised:generator_start_failed@100');
    expect(out.find((t) => t.rule.id === 'generator_start_failed')!.rule.severity).toBe('critical');
    // 40 % of 200 Ah at 60 A is 80 min; it falls under 30 min as SOC drops below 15 %
    expect(ids.some((x) => x.startsWith('raised:predicted_power_loss@'))).toBe(true);
    expect(ids.some((x) => x.startsWith('raised:battery_low_soc@'))).toBe(true);
    expect(ids.filter((x) => x.startsWith('raised:generator_start_failed')).length).toBe(1);
  });

  it.each([
    ['generator_voltage_out_of_tolerance', { voltageV: 180 }, 30],
    ['generator_frequency_out_of_tolerance', { frequencyHz: 46 }, 30],
    ['generator_overheating', { coolantC: 110 }, 15],
    ['generator_low_oil_pressure', { oilKpa: 60 }, 5],
    ['generator_low_fuel', { fuelPct: 10 }, 60],
  ])('%s fires once after its hold time and clears when the generator is healthy again', (ruleId, fault, holdS) => {
    const running = {
      running: true,
      voltageV: 220,
      frequencyHz: 50,
      currentA: 12,
      rpm: 1500,
      fuelPct: 60,
      coolantC: 80,
      oilKpa: 400,
    };
    const { out } = run((i, ts) => {
      const gen = i >= 100 && i < 400 ? { ...running, ...fault } : running;
      return healthy(i, ts, {
        source: 'generator',
        mains: { present: false, voltageV: 0, frequencyHz: 0, currentA: 0 },
        generator: { ...gen, coolantC: gen.coolantC + (i % 3) / 10 },
      });
    }, 700);
    const mine = out.filter((t) => t.rule.id === ruleId);
    expect(mine.map((t) => t.type)).toEqual(['raised', 'cleared']);
    expect((mine[0]!.at - T0) / 1000).toBe(100 + holdS);
    expect(out.filter((t) => t.rule.id !== ruleId && t.rule.id !== 'mains_lost')).toEqual([]);
  });

  it('battery rules follow the profile: under-voltage at 10.8 V on 12 V, 21.6 V on 24 V', () => {
    const at = (profile: typeof PROFILE_12V, v: number) =>
      run(
        (i, ts) => healthy(i, ts, { battery: { voltageV: i >= 10 ? v : profile.battery.nominalV * 1.1 } }, profile),
        100,
        { model: 'm', profile },
      ).out.map((t) => t.rule.id);
    expect(at(PROFILE_12V, 10.7)).toContain('battery_under_voltage');
    expect(at(PROFILE_12V, 11.0)).not.toContain('battery_under_voltage');
    expect(at(PROFILE_24V, 21.4)).toContain('battery_under_voltage');
    expect(at(PROFILE_24V, 22.0)).not.toContain('battery_under_voltage');
  });

  it('battery over-temperature after 60 s above 50 °C, cleared only below 45 °C (hysteresis)', () => {
    const { out } = run(
      (i, ts) => healthy(i, ts, { battery: { tempC: i < 10 ? 30 : i < 300 ? 55 : i < 500 ? 47 : 40 } }),
      800,
    );
    expect(fired(out)).toEqual(['raised:battery_over_temperature@70', 'cleared:battery_over_temperature@620']);
  });

  it('chassis charging failure: engine runs, no charge current, battery not full', () => {
    const { out } = run(
      (i, ts) =>
        healthy(i, ts, {
          source: 'battery',
          mains: { present: false },
          charging: { engineRunning: i >= 10, alternatorV: 0, currentA: 0 },
          battery: { socPct: 70, currentA: -10 },
        }),
      300,
    );
    expect(fired(out).filter((x) => x.includes('charging'))).toEqual(['raised:chassis_charging_failure@130']);
  });

  it('charging over-voltage at 1.25 × nominal', () => {
    const { out } = run(
      (i, ts) => healthy(i, ts, { charging: { engineRunning: true, alternatorV: i >= 10 ? 31 : 28.2, currentA: 20 } }),
      60,
    );
    expect(fired(out)).toEqual(['raised:charging_over_voltage@20']);
  });

  it('predicted power loss before the battery is flat, from SOC, capacity and current', () => {
    // 200 Ah at 100 A: 30 min left at 25 % SOC
    const { out } = run(
      (i, ts) =>
        onBattery(i, ts, 60 - i / 20, -100, {
          generator: { running: true, voltageV: 220, frequencyHz: 50, rpm: 1500, oilKpa: 400, coolantC: 80 },
        }),
      900,
    );
    const raise = out.find((t) => t.rule.id === 'predicted_power_loss')!;
    expect(raise).toBeDefined();
    expect(raise.derived!.timeToEmptyMin).toBeLessThan(30);
    expect(raise.frame!.battery!.socPct).toBeGreaterThan(20);
  });

  it('vehicle offline after 5 min without data, cleared by the next frame', () => {
    const { engine, out, setWall } = run((i, ts) => healthy(i, ts), 10);
    setWall(T0 + 9000 + 299_000);
    engine.tick();
    expect(out).toEqual([]);
    setWall(T0 + 9000 + 300_000);
    engine.tick();
    expect(fired(out)).toEqual([`raised:vehicle_offline@${9 + 300}`]);
    engine.onFrames('V1', V24, [healthy(11, T0 + 320_000)], T0 + 320_000);
    expect(fired(out)[1]).toBe('cleared:vehicle_offline@320');
  });

  it('a stuck sensor after 30 min of an identical reading', () => {
    const { out } = run((i, ts) => healthy(i, ts, { battery: { voltageV: 26.9 } }), 1900);
    expect(fired(out)).toEqual(['raised:stuck_sensor@1800']);
  });

  it('replayed frames older than the staleness window raise only historical alarms, promoted when still true live', () => {
    let wall = T0 + 3600_000;
    const out: RuleTransition[] = [];
    const engine = createRuleEngine({ rules, emit: (t) => out.push(t), now: () => wall }, { staleAfterMs: 5 * 60_000 });
    const frames = Array.from({ length: 400 }, (_, i) =>
      healthy(i, T0 + i * 1000, { battery: { tempC: i >= 10 ? 60 : 25 } }),
    );
    engine.onFrames('V1', V24, frames, wall);
    expect(out.map((t) => [t.rule.id, t.live])).toEqual([['battery_over_temperature', false]]);
    wall = T0 + 3600_000 + 1000;
    engine.onFrames('V1', V24, [healthy(400, wall, { battery: { tempC: 60 } })], wall);
    expect(out.map((t) => [t.type, t.rule.id, t.live])).toEqual([
      ['raised', 'battery_over_temperature', false],
      ['raised', 'battery_over_temperature', true],
    ]);
  });

  it('a replayed fault that came and went during the outage stays history', () => {
    const wall = T0 + 7200_000;
    const out: RuleTransition[] = [];
    const engine = createRuleEngine({ rules, emit: (t) => out.push(t), now: () => wall }, { staleAfterMs: 5 * 60_000 });
    const frames = Array.from({ length: 600 }, (_, i) =>
      healthy(i, T0 + i * 1000, { battery: { tempC: i >= 10 && i < 200 ? 60 : 25 } }),
    );
    engine.onFrames('V1', V24, frames, wall);
    expect(out.map((t) => [t.type, t.live])).toEqual([
      ['raised', false],
      ['cleared', false],
    ]);
  });

  it('skips frames older than one already evaluated', () => {
    const out: RuleTransition[] = [];
    const engine = createRuleEngine(
      { rules, emit: (t) => out.push(t), now: () => T0 + 100_000 },
      { staleAfterMs: 5 * 60_000 },
    );
    engine.onFrames('V1', V24, [healthy(100, T0 + 100_000)], T0);
    engine.onFrames(
      'V1',
      V24,
      Array.from({ length: 90 }, (_, i) => healthy(i, T0 + i * 1000, { battery: { tempC: 70 } })),
      T0,
    );
    expect(out).toEqual([]);
  });

  it('rules that need a generator do not run on vehicles without one', () => {
    const noGen: VehicleInfo = { model: 'm', profile: { ...PROFILE_24V, hasGenerator: false } };
    const { out } = run((i, ts) => (i < 10 ? healthy(i, ts) : onBattery(i, ts, 90, -5)), 300, noGen);
    expect(out.map((t) => t.rule.id)).toEqual(['mains_lost']);
  });
});
