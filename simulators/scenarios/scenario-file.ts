import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SCENARIO_NAMES, scenario, type ScenarioName } from './catalogue.ts';

/**
 * A scenario file (JSON or YAML): a list of named faults, each with parameters, a start time
 * relative to the start of the run, an optional duration and the vehicles it hits.
 *
 *   scenarios:
 *     - name: mains-outage
 *       at: 2m            # seconds, or "90s", "5m", "1h30m", "1d"
 *       duration: 20m     # default per scenario; null = until the end
 *       vehicles: { count: 5 }   # "all" (default), [V0001, V0002], { count: N } or { fraction: 0.1 }
 *     - name: generator-overheat
 *       at: 10m
 *       vehicles: [V0003]
 *       params: { riseC: 45 }
 */
export interface ScenarioEntry {
  name: ScenarioName;
  /** Seconds after the start of the run. */
  atS: number;
  /** Seconds; null = until the end. */
  durationS: number | null;
  vehicles: 'all' | string[] | { count: number } | { fraction: number };
  params: Record<string, unknown>;
}

export class ScenarioFileError extends Error {
  /** The stable code (core/errors.ts) of every refused scenario file. */
  readonly code = 'INVALID_ARGUMENT' as const;
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'ScenarioFileError';
  }
}

const UNIT_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86_400 };

/** Parses 90, "90", "90s", "5m", "1h30m", "1d"; returns seconds or null when not a duration. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|min|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_S[m[2]!]!;
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : null;
}

const duration = (what: string) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = parseDuration(v);
    if (s === null) {
      ctx.addIssue({ code: 'custom', message: `${what} must be seconds or a duration like "90s", "5m", "1h30m"` });
      return z.NEVER;
    }
    return s;
  });

const entrySchema = z
  .object({
    name: z.enum(SCENARIO_NAMES, { error: `must be one of ${SCENARIO_NAMES.join(', ')}` }),
    at: duration('at').default(0),
    duration: z.union([duration('duration'), z.null()]).optional(),
    vehicles: z
      .union(
        [
          z.literal('all'),
          z
            .array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'must be a vehicle id' }))
            .min(1, { error: 'must name at least one vehicle' }),
          z.object({ count: z.number().int().min(1, { error: 'must be at least 1' }) }).strict(),
          z.object({ fraction: z.number().gt(0, { error: 'must be > 0' }).max(1, { error: 'must be ≤ 1' }) }).strict(),
        ],
        { error: 'must be "all", a list of vehicle ids, { count: N } or { fraction: F }' },
      )
      .default('all'),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const fileSchema = z.union([z.array(z.unknown()), z.object({ scenarios: z.array(z.unknown()) }).strict()], {
  error: 'a scenario file is a list of scenarios or { scenarios: [...] }',
});

const pathOf = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join('.') : '(entry)');

/** Validates parsed scenario data; throws ScenarioFileError naming the scenario index and field of every problem. */
export function validateScenarios(data: unknown, source = 'scenarios'): ScenarioEntry[] {
  const top = fileSchema.safeParse(data);
  if (!top.success)
    throw new ScenarioFileError(`${source}: ${top.error.issues[0]?.message ?? 'invalid'}`, [
      top.error.issues[0]?.message ?? 'invalid',
    ]);
  const items = Array.isArray(top.data) ? top.data : top.data.scenarios;
  const problems: string[] = [];
  const entries: ScenarioEntry[] = [];
  items.forEach((item, i) => {
    const name = typeof (item as { name?: unknown })?.name === 'string' ? (item as { name: string }).name : undefined;
    const label = `scenario ${i}${name ? ` (${name})` : ''}`;
    const base = entrySchema.safeParse(item);
    if (!base.success) {
      for (const issue of base.error.issues) problems.push(`${label}: ${pathOf(issue.path)}: ${issue.message}`);
      return;
    }
    const def = scenario(base.data.name);
    const params = def.params.safeParse(base.data.params);
    if (!params.success) {
      for (const issue of params.error.issues) {
        const msg =
          issue.code === 'unrecognized_keys' ? `unknown parameter(s) ${issue.keys.join(', ')}` : issue.message;
        problems.push(`${label}: params${issue.path.length ? '.' + pathOf(issue.path) : ''}: ${msg}`);
      }
      return;
    }
    const durationS = base.data.duration === undefined ? def.defaultDurationS : base.data.duration;
    if (durationS !== null && durationS <= 0) {
      problems.push(`${label}: duration: must be > 0`);
      return;
    }
    entries.push({
      name: base.data.name,
      atS: base.data.at,
      durationS,
      vehicles: base.data.vehicles,
      params: params.data,
    });
  });
  if (problems.length)
    throw new ScenarioFileError(`${source}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, problems);
  return entries;
}

/** Parses JSON or YAML text (YAML is a superset of JSON). */
export function parseScenarioText(text: string, source = 'scenarios'): ScenarioEntry[] {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ScenarioFileError(`${source}: not valid JSON/YAML: ${(err as Error).message}`, ['syntax']);
  }
  return validateScenarios(data, source);
}

export function loadScenarioFile(file: string): ScenarioEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioFileError(
      `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      ['read'],
    );
  }
  return parseScenarioText(text, file);
}
