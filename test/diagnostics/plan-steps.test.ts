import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POWER_PROFILE } from '../../protocol/index.ts';
import { compileExpectation } from '../../diagnostics/plans/expectations.ts';
import { loadPlanFile, parsePlanFile } from '../../diagnostics/plans/plans.ts';
import { frame, startTestPlatform } from '../helpers/platform.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';

const DEFAULT_PLANS = fileURLToPath(new URL('../../diagnostics/plans/default-plans.yaml', import.meta.url));

const plan = (steps: string) => `version: 1
plans:
  - code: GEN-START-FAIL
    version: 1
    reviewedAt: 2026-11-01
    reviewEveryDays: 180
    faultType: mechanical
    title: { en: a, zh: 甲 }
    likelyCauses: [{ en: x, zh: 乙 }]
    remoteChecks: [{ en: y, zh: 丙 }]
    recommendedMode: remote_support
    steps:
${steps}`;

const running = (rpm: number, extra: Record<string, unknown> = {}) =>
  frame(1, 1_000, {
    source: 'generator',
    generator: {
      running: true,
      voltageV: 229,
      frequencyHz: 50,
      currentA: 10,
      rpm,
      fuelPct: 60,
      coolantC: 70,
      oilKpa: 300,
    },
    ...extra,
  }) as unknown as TelemetryFrame;

describe('plan steps', () => {
  it('the default plans load with ordered steps; generator start failure expects rpm > 1400 within 60 s', () => {
    const book = loadPlanFile(DEFAULT_PLANS);
    const steps = book.get('GEN-START-FAIL')!.steps;
    expect(steps.map((s) => s.id)).toContain('start-generator');
    const start = steps.find((s) => s.id === 'start-generator')!;
    expect(start).toMatchObject({
      actor: 'engineer',
      command: { name: 'startGenerator', args: {} },
      expect: { condition: 'generator.rpm > 1400', withinS: 60, text: 'generator.rpm > 1400' },
    });
    expect(steps.find((s) => s.id === 'reset-trip')!.command).toEqual({
      name: 'resetFault',
      args: { code: 'GEN_START_FAIL' },
    });
    // a plan without steps has none
    expect(book.get('SENSOR-STUCK')!.steps).toEqual([]);
  });

  it('a bad condition fails the load naming the file, the plan, the key and the line', () => {
    const bad = plan(`      - id: start
        actor: engineer
        instruction: { en: start it, zh: 启动 }
        expect: { condition: "generator.rppm > 1400", withinS: 60 }
`);
    expect(() => parsePlanFile(bad, 'plans.yaml')).toThrow(
      /plans\.yaml plan "GEN-START-FAIL" at plans\.0\.steps\.0\.expect\.condition \(line 16\): "generator\.rppm" is not a known signal/,
    );
    const objectForm = plan(`      - id: start
        actor: engineer
        instruction: { en: start it, zh: 启动 }
        expect: { condition: { field: generator.rpm, op: "=>", value: 1 }, withinS: 60 }
`);
    expect(() => parsePlanFile(objectForm, 'p.yaml')).toThrow(/steps\.0\.expect\.condition .*must be one condition/);
    const noData = plan(`      - id: start
        actor: engineer
        instruction: { en: start it, zh: 启动 }
        expect: { condition: { noDataFor: 30s }, withinS: 60 }
`);
    expect(() => parsePlanFile(noData, 'p.yaml')).toThrow(/noDataFor cannot be observed/);
    const tooLong = plan(`      - id: start
        actor: crew
        instruction: { en: start it, zh: 启动 }
        expect: { condition: "generator.rpm > 1", withinS: 601 }
`);
    expect(() => parsePlanFile(tooLong, 'p.yaml')).toThrow(/steps\.0\.expect\.withinS \(line \d+\)/);
    const badActor = plan(`      - id: start
        actor: pilot
        instruction: { en: start it, zh: 启动 }
`);
    expect(() => parsePlanFile(badActor, 'p.yaml')).toThrow(
      /steps\.0\.actor \(line 14\): must be one of crew, engineer/,
    );
    const dup = plan(`      - { id: one, actor: crew, instruction: { en: a, zh: 甲 } }
      - { id: one, actor: crew, instruction: { en: b, zh: 乙 } }
`);
    expect(() => parsePlanFile(dup, 'p.yaml')).toThrow(/steps\.1\.id .*duplicate step id one/);
  });
});

describe('a bad condition in PLANS_FILE', () => {
  it('stops the platform start naming the file, plan, key and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-plans-'));
    const file = join(dir, 'plans.yaml');
    writeFileSync(
      file,
      readFileSync(DEFAULT_PLANS, 'utf8').replace('"generator.rpm > 1400"', '"generator.rpm >> 1400"'),
    );
    try {
      await expect(startTestPlatform({ PLANS_FILE: file }, { dataDir: join(dir, 'data') })).rejects.toThrow(
        /plans\.yaml plan "GEN-START-FAIL" at plans\.1\.steps\.\d\.expect\.condition \(line \d+\): "> 1400" is not a value/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('expected observations', () => {
  it('a one-line condition holds on a frame and reports the values that decided it', () => {
    const e = compileExpectation('generator.rpm > 1400 and source == generator');
    expect(e.fields).toEqual(['generator.rpm', 'source']);
    const check = e.checker(DEFAULT_POWER_PROFILE);
    expect(check(running(900))).toEqual({ holds: false, values: { 'generator.rpm': 900, source: 'generator' } });
    expect(check(running(1500))).toEqual({ holds: true, values: { 'generator.rpm': 1500, source: 'generator' } });
  });

  it('the rules form with profile thresholds, and "or"', () => {
    const e = compileExpectation({
      all: [{ field: 'generator.voltageV', op: '>', value: { profile: 'mains.nominalV', times: 0.93 } }],
    });
    expect(e.text).toBe('generator.voltageV > 0.93 × mains.nominalV');
    expect(e.checker(DEFAULT_POWER_PROFILE)(running(1500)).holds).toBe(true);
    const or = compileExpectation('generator.rpm > 5000 or mains.present == true');
    expect(or.condition).toHaveProperty('any');
    expect(or.checker(DEFAULT_POWER_PROFILE)(running(1500))).toMatchObject({
      holds: true,
      values: { 'mains.present': true },
    });
  });

  it('refuses text it cannot read, with the reason', () => {
    expect(() => compileExpectation('generator.rpm >')).toThrow(/has no value/);
    expect(() => compileExpectation('rpm > 1')).toThrow(/not a known signal/);
    expect(() => compileExpectation('a > 1 and b < 2 or c == 3')).toThrow(/either "and" or "or"/);
    expect(() => compileExpectation('generator.rpm ~ 3')).toThrow(/not a comparison/);
  });
});
