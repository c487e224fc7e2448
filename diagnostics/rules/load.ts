import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { ruleFileSchema, ruleSchema, type Rule } from './schema.ts';

export interface RuleSet {
  version: number;
  rules: Rule[];
  /** Rules for one vehicle model: disabled ones removed, overrides applied. */
  forModel(model: string): Rule[];
}

function where(source: string, path: PropertyKey[], ruleId?: string): string {
  const p = path.map(String).join('.');
  return `${source}${ruleId ? ` rule "${ruleId}"` : ''}${p ? ` at ${p}` : ''}`;
}

function fail(source: string, issues: z.core.$ZodIssue[], prefix: PropertyKey[] = [], ruleId?: string): never {
  const lines = issues.slice(0, 10).map((i) => `${where(source, [...prefix, ...i.path], ruleId)}: ${i.message}`);
  throw new PlatformError('INVALID_ARGUMENT', `invalid rule file: ${lines.join('; ')}`, { details: lines });
}

/** Parses and validates rule file text (YAML or JSON). Errors name the file, the rule id and the field. */
export function parseRuleFile(text: string, source = 'rules'): RuleSet {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PlatformError(
      'INVALID_ARGUMENT',
      `invalid rule file: ${source} is not valid YAML/JSON: ${(err as Error).message}`,
    );
  }
  const file = ruleFileSchema.safeParse(raw);
  if (!file.success) fail(source, file.error.issues);
  const rules: Rule[] = [];
  const ids = new Set<string>();
  file.data.rules.forEach((item, index) => {
    const id = typeof (item as { id?: unknown })?.id === 'string' ? (item as { id: string }).id : undefined;
    const r = ruleSchema.safeParse(item);
    if (!r.success) fail(source, r.error.issues, ['rules', index], id);
    if (ids.has(r.data.id))
      fail(
        source,
        [{ code: 'custom', path: ['id'], message: 'duplicate rule id', input: r.data.id }],
        ['rules', index],
        r.data.id,
      );
    ids.add(r.data.id);
    rules.push(r.data);
  });
  for (const [index, rule] of rules.entries()) {
    for (const cause of rule.causedBy) {
      if (!ids.has(cause))
        fail(
          source,
          [{ code: 'custom', path: ['causedBy'], message: `unknown rule "${cause}"`, input: cause }],
          ['rules', index],
          rule.id,
        );
    }
  }
  const models = file.data.models;
  for (const [model, m] of Object.entries(models)) {
    for (const id of [...m.disable, ...Object.keys(m.override)]) {
      if (!ids.has(id))
        fail(source, [{ code: 'custom', path: ['models', model], message: `unknown rule "${id}"`, input: id }]);
    }
    for (const [id, patch] of Object.entries(m.override)) {
      const base = rules.find((r) => r.id === id)!;
      const r = ruleSchema.safeParse({ ...base, ...patch, id });
      if (!r.success) fail(source, r.error.issues, ['models', model, 'override'], id);
    }
  }
  const cache = new Map<string, Rule[]>();
  return {
    version: file.data.version,
    rules: rules.filter((r) => r.enabled),
    forModel(model) {
      let list = cache.get(model);
      if (!list) {
        const m = models[model];
        list = rules
          .filter((r) => r.enabled && !m?.disable.includes(r.id))
          .map((r) => (m?.override[r.id] ? ruleSchema.parse({ ...r, ...m.override[r.id], id: r.id }) : r));
        cache.set(model, list);
      }
      return list;
    },
  };
}

export function loadRuleFile(path: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PlatformError('INVALID_ARGUMENT', `rule file ${path} cannot be read: ${(err as Error).message}`);
  }
  return parseRuleFile(text, path);
}
