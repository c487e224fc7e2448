import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { loadPlanFile } from '../../diagnostics/plans/plans.ts';
import { loadRuleFile, parseRuleFile } from '../../diagnostics/rules/load.ts';
import { configSchema, loadConfig } from '../../platform/config.ts';
import { createPlatform } from '../../platform/platform.ts';
import { loadScenarioFile, parseScenarioText, ScenarioFileError } from '../../simulators/scenarios/scenario-file.ts';
import { readSummaryLine } from '../../simulators/fleet/summary-line.ts';

/**
 * Issue 6, bad files: a rule file, a scenario file or a setting that is wrong is refused when it is
 * loaded, with a stable code and a message that names the place: the file, the line (syntax) or the
 * path in it and the key, the setting and its value. What test/diagnostics/rule-files.test.ts,
 * test/simulators/scenarios.test.ts and test/unit/platform-parts.test.ts already cover (bad values
 * inside a well-formed file, several bad settings at once) is not repeated here.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pw-bad-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The error a call throws (fails the test if it does not throw). */
function refusal(load: () => unknown): Error & { code?: string } {
  try {
    load();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('the bad input was accepted');
}

/** Runs a CLI entry point in a child process; resolves with its exit code and output. */
function run(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within 15 s:\n${stdout}\n${stderr}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const GOOD_RULE = `
  - id: hot_battery
    code: BAT-HOT
    severity: major
    title: { en: Hot, zh: 热 }
    when: { field: battery.tempC, op: ">", value: 50 }
`;

describe('rule files', () => {
  it.each([
    [
      'a broken indentation',
      `version: 1\nrules:\n  - id: a\n   code: X\n`,
      /bad\.yaml is not valid YAML\/JSON: .* at line 4, column 1/,
    ],
    [
      'a key twice in one rule',
      `version: 1\nrules:${GOOD_RULE}    severity: minor\n`,
      /bad\.yaml is not valid YAML\/JSON: Map keys must be unique at line 8/,
    ],
    [
      'an unclosed JSON array',
      `{"version": 1, "rules": [{"id": "a"}`,
      /bad\.yaml is not valid YAML\/JSON: .* at line 1/,
    ],
    ['a tab for indentation', `version: 1\nrules:\n\t- id: a\n`, /bad\.yaml is not valid YAML\/JSON: .* at line 3/],
  ])('refuses %s, naming the file and the line', (_what, text, message) => {
    const err = refusal(() => loadRuleFile(file('bad.yaml', text)));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(join(dir, 'bad.yaml'));
    expect(err.message).toMatch(message);
  });

  it.each([
    ['an empty file', '', /empty\.yaml: .*expected object/],
    ['a list instead of a map', '- 1\n', /empty\.yaml: .*expected object, received array/],
    ['a rule that is not a map', `version: 1\nrules:\n  - hello\n`, /empty\.yaml at rules\.0: .*expected object/],
    [
      'a key the format does not have',
      `version: 1\nrules:${GOOD_RULE}colour: red\n`,
      /empty\.yaml: Unrecognized key: "colour"/,
    ],
    ['models that are not a map', `version: 1\nrules:${GOOD_RULE}models: [XJ-12]\n`, /empty\.yaml at models: /],
    [
      'a model key the format does not have',
      `version: 1\nrules:${GOOD_RULE}models:\n  XJ-12:\n    mute: [hot_battery]\n`,
      /empty\.yaml at models\.XJ-12: Unrecognized key: "mute"/,
    ],
  ])('refuses %s, naming the file and the path', (_what, text, message) => {
    const err = refusal(() => loadRuleFile(file('empty.yaml', text)));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
  });

  it('refuses a file that cannot be read, naming it', () => {
    const err = refusal(() => loadRuleFile(join(dir, 'missing.yaml')));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(err.message).toContain(`rule file ${join(dir, 'missing.yaml')} cannot be read: ENOENT`);
  });

  it('names every bad field of a rule in a JSON file, with the rule id', () => {
    const err = refusal(() =>
      parseRuleFile(
        '{"version": 1, "rules": [{"id": "hot_battery", "code": "BAT-HOT", "severity": "huge", "title": {"en": "a"}}]}',
        'rules.json',
      ),
    );
    expect(err.message).toContain(
      'rules.json rule "hot_battery" at rules.0.severity: must be one of minor, major, critical',
    );
    expect(err.message).toContain('rules.json rule "hot_battery" at rules.0.title.zh');
    expect(err.message).toContain('rules.json rule "hot_battery" at rules.0.when');
  });
});

describe('the platform with a bad RULES_FILE or PLANS_FILE', () => {
  const badRules = () =>
    file('rules.yaml', `version: 1\nrules:${GOOD_RULE.replace('severity: major', 'severity: huge')}`);
  const badPlans = () => file('plans.yaml', 'version: 1\nplans:\n  - { code: X-1, version: 1 }\n');

  it('refuses to be built, naming the file, the rule and the field', async () => {
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const config = loadConfig({ DATA_DIR: dataDir, RULES_FILE: badRules(), MQTT_PORT: '0', HTTP_PORT: '0' });
    await expect(createPlatform(config, { log: silentLogger() })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(
        `${join(dir, 'rules.yaml')} rule "hot_battery" at rules.0.severity: must be one of minor, major, critical`,
      ),
    });
    // nothing left open: each SQLite database's last connection to close removes its WAL files, and
    // the stores were opened before the rules file was read
    expect(readdirSync(dataDir).filter((f) => /-(wal|shm)$/.test(f))).toEqual([]);
    const plans = refusal(() => loadPlanFile(badPlans()));
    expect(plans).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(`${join(dir, 'plans.yaml')} plan "X-1" at plans.0.reviewedAt`),
    });
  });

  it.each([
    ['RULES_FILE', badRules, `rule "hot_battery" at rules.0.severity: must be one of minor, major, critical`],
    ['PLANS_FILE', badPlans, 'plan "X-1" at plans.0.reviewedAt'],
  ])(
    'npm start with a bad %s stops with the place named and exit code 2, as a bad setting does',
    async (key, make, where) => {
      const path = make();
      const dataDir = mkdtempSync(join(dir, 'data-'));
      const r = await run('platform/main.ts', [], {
        [key]: path,
        DATA_DIR: dataDir,
        MQTT_PORT: '0',
        HTTP_PORT: '0',
        MQTT_HOST: '127.0.0.1',
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${path} ${where}`);
      // a message for the operator, not a crash
      expect(r.stderr).not.toMatch(/^\s+at /m);
    },
  );
});

describe('scenario files', () => {
  it.each([
    [
      'a key twice in one scenario',
      `scenarios:\n  - name: link-loss\n    at: 5\n    at: 6\n`,
      /s\.yaml: not valid JSON\/YAML: Map keys must be unique at line 4/,
    ],
    [
      'a broken indentation',
      `scenarios:\n  - name: link-loss\n     at: 5\n`,
      /s\.yaml: not valid JSON\/YAML: .* at line 2/,
    ],
    ['an unclosed JSON object', `[{"name": "link-loss", "at": "5s"`, /s\.yaml: not valid JSON\/YAML: .* at line 1/],
  ])('refuses %s, naming the file and the line', (_what, text, message) => {
    const err = refusal(() => loadScenarioFile(file('s.yaml', text)));
    expect(err).toBeInstanceOf(ScenarioFileError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(join(dir, 's.yaml'))).toBe(true);
  });

  it.each([
    ['an empty file', '', /^x\.yaml: a scenario file is a list of scenarios or \{ scenarios: \[\.\.\.\] \}/],
    [
      'a key the format does not have',
      `scenarios:\n  - name: link-loss\nextra: 1\n`,
      /^x\.yaml: Unrecognized key: "extra"/,
    ],
    [
      'a scenario that is not a map',
      `- link-loss\n`,
      /x\.yaml: 1 problem\(s\):\n {2}scenario 0: \(entry\): .*expected object/,
    ],
    [
      'a key a scenario does not have',
      `- name: link-loss\n  when: 5m\n`,
      /scenario 0 \(link-loss\): \(entry\): Unrecognized key: "when"/,
    ],
  ])('refuses %s, naming the file and the place', (_what, text, message) => {
    const err = refusal(() => parseScenarioText(text, 'x.yaml'));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(err.message).toMatch(message);
  });

  it('names the index and field of every bad vehicle pick, start and duration, in one error', () => {
    const err = refusal(() =>
      parseScenarioText(
        [
          '- name: link-loss',
          '  vehicles: { count: 0 }',
          '- name: link-loss',
          '  vehicles: { count: 1, fraction: 0.5 }',
          '- name: link-loss',
          '  vehicles: [V1, "bad id!"]',
          '- name: mains-outage',
          '  vehicles: { fraction: 2 }',
          '- name: link-loss',
          '  at: -5',
          '- name: link-loss',
          '  duration: 0',
          '- name: link-loss',
          '  params: [1, 2]',
        ].join('\n'),
        'v.yaml',
      ),
    ) as ScenarioFileError;
    expect(err.problems).toEqual([
      'scenario 0 (link-loss): vehicles.count: must be at least 1',
      'scenario 1 (link-loss): vehicles: must be "all", a list of vehicle ids, { count: N } or { fraction: F }',
      'scenario 2 (link-loss): vehicles.1: must be a vehicle id',
      'scenario 3 (mains-outage): vehicles.fraction: must be ≤ 1',
      'scenario 4 (link-loss): at: at must be seconds or a duration like "90s", "5m", "1h30m"',
      'scenario 5 (link-loss): duration: must be > 0',
      expect.stringMatching(/^scenario 6 \(link-loss\): params: /),
    ]);
    expect(err.message.startsWith('v.yaml: 7 problem(s):')).toBe(true);
  });

  it('refuses a file that cannot be read, naming it', () => {
    const err = refusal(() => loadScenarioFile(join(dir, 'nope.yaml')));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: `${join(dir, 'nope.yaml')}: cannot read: ENOENT` });
  });

  it('npm run simulate with a bad scenario file stops before connecting, with the place named and exit code 2', async () => {
    const path = file('bad-scenarios.yaml', '- name: mains-outage\n  at: soon\n');
    const r = await run(
      'simulators/cli.ts',
      ['--scenario', path, '--vehicles', '1', '--broker', 'mqtt://127.0.0.1:9'],
      {},
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${path}: 1 problem(s):`);
    expect(r.stderr).toContain('scenario 0 (mains-outage): at: at must be seconds or a duration');
  });

  it('npm run simulate against a broker nobody answers on ends with exit code 3, saying nothing was acknowledged', async () => {
    const creds = file('creds.json', JSON.stringify({ vehicles: [{ id: 'SIM0001', secret: 'not-used-here' }] }));
    const r = await run(
      'simulators/cli.ts',
      [
        '--credentials',
        creds,
        '--vehicles',
        '1',
        '--rate',
        '5',
        '--duration',
        '1',
        '--drain',
        '0',
        '--quiet',
        '--broker',
        'mqtt://127.0.0.1:9',
      ],
      {},
    );
    expect(r.code, r.stderr).toBe(3);
    const summary = readSummaryLine<Record<string, number>>(r.stdout);
    expect(summary.framesSampled).toBeGreaterThan(0);
    expect(summary).toMatchObject({ framesAcked: 0, lost: 0, unacked: summary.framesSampled });
    expect(r.stderr).toContain(
      `run failed: no frame was acknowledged: ${summary.framesSampled} sampled by 1 vehicle(s), ${summary.connectFailures} failed connection attempts to mqtt://127.0.0.1:9`,
    );
  });
});

describe('configuration', () => {
  const defaults = loadConfig({});
  const numeric = Object.keys(configSchema.shape).filter(
    (k) => typeof (defaults as Record<string, unknown>)[k] === 'number',
  );
  /** Settings holding a secret: refused without repeating the value. */
  const secrets = [
    'METRICS_TOKEN',
    'TOTP_SECRET_KEY',
    'PAGE_SECRET',
    'DATABASE_URL',
    'TELEMETRY_DATABASE_URL',
    'REDIS_URL',
  ];
  /** Certificate and key files: refused alone (they come in pairs) or when missing; test/integration/tls.test.ts. */
  const tlsFiles = [
    'MQTT_TLS_CERT_FILE',
    'MQTT_TLS_KEY_FILE',
    'MQTT_TLS_CA_FILE',
    'MQTT_TLS_CRL_FILE',
    'HTTP_TLS_CERT_FILE',
    'HTTP_TLS_KEY_FILE',
    // the report font: any file path (docs/service-reports.md)
    'REPORT_FONT_FILE',
  ];
  /** The other settings that do not take any text: a choice among a few words. */
  const enums = Object.keys(configSchema.shape).filter(
    (k) =>
      !numeric.includes(k) &&
      !secrets.includes(k) &&
      !tlsFiles.includes(k) &&
      refuses(() => loadConfig({ [k]: 'sometimes' })),
  );
  function refuses(load: () => unknown): boolean {
    try {
      load();
      return false;
    } catch {
      return true;
    }
  }

  it('has numeric and enumerated settings to check', () => {
    expect(numeric).toEqual(
      expect.arrayContaining([
        'MQTT_PORT',
        'HTTP_PORT',
        'MQTT_MAX_PAYLOAD_BYTES',
        'INGEST_FLUSH_MS',
        'DEAD_LETTER_MAX',
      ]),
    );
    expect(enums).toEqual(expect.arrayContaining(['LOG_LEVEL', 'TELEMETRY_SYNC', 'HTTP_TRUST_PROXY', 'LOG_PRETTY']));
  });

  // what Number() would quietly turn into something: a blank into 0, hex, exponents, fractions
  it.each(['abc', ' ', '0x10', '1e3', '1.5', '12abc', '1_000', 'Infinity', 'NaN', '--1'])(
    'refuses %j for every numeric setting, naming the setting and the value',
    (value) => {
      for (const key of numeric) {
        const err = refusal(() => loadConfig({ [key]: value }));
        expect(err.code, key).toBe('CONFIG_INVALID');
        expect(err.message, key).toContain(`${key}=${JSON.stringify(value)}: ${key} must be`);
      }
    },
  );

  it('refuses every numeric setting below its minimum and above its maximum, naming the bound', () => {
    for (const key of numeric) {
      for (const value of ['-1', '99999999999999']) {
        const err = refusal(() => loadConfig({ [key]: value }));
        expect(err.message, `${key}=${value}`).toMatch(
          new RegExp(`${key}="${value}": ${key} must be (at least|at most|0–65535)`),
        );
      }
    }
  });

  it('refuses a value outside every enumerated setting, naming the choices', () => {
    for (const key of enums) {
      const err = refusal(() => loadConfig({ [key]: 'sometimes' }));
      expect(err.message, key).toMatch(new RegExp(`${key}="sometimes": ${key}\\b[^\\n]* must be (one of )?\\w+`));
    }
  });

  it('accepts a whole number with spaces around it, and treats an empty value as unset', () => {
    expect(loadConfig({ MQTT_PORT: ' 1884 ', INGEST_FLUSH_MS: '' })).toMatchObject({
      MQTT_PORT: 1884,
      INGEST_FLUSH_MS: defaults.INGEST_FLUSH_MS,
    });
  });

  it('refuses a bad secret setting without repeating its value', () => {
    for (const key of secrets) {
      const err = refusal(() => loadConfig({ [key]: 'short secret' }));
      expect(err.message, key).toContain(`${key}=(not shown): ${key} must be`);
      expect(err.message, key).not.toContain('short secret');
    }
  });

  it('refuses a duty lead name over 100 characters', () => {
    expect(refusal(() => loadConfig({ DUTY_LEAD: 'x'.repeat(101) })).message).toContain(
      `DUTY_LEAD="${'x'.repeat(101)}"`,
    );
  });

  it('npm start with bad settings lists each of them and exits with code 2 before opening anything', async () => {
    const dataDir = join(dir, 'never-created');
    const r = await run('platform/main.ts', [], {
      DATA_DIR: dataDir,
      MQTT_PORT: ' ',
      HTTP_PORT: '0x50',
      INGEST_BATCH_FRAMES: '1e3',
      TELEMETRY_SYNC: 'sometimes',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid configuration:');
    for (const line of [
      'MQTT_PORT=" ": MQTT_PORT must be a whole number',
      'HTTP_PORT="0x50": HTTP_PORT must be a whole number',
      'INGEST_BATCH_FRAMES="1e3"',
      'TELEMETRY_SYNC="sometimes"',
    ]) {
      expect(r.stderr).toContain(line);
    }
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
