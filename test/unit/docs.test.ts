import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NUMERIC_FIELDS, REJECTION_CODES, TOPICS } from '../../protocol/index.ts';
import { configSchema } from '../../platform/config.ts';

const protocolDoc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const configDoc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

describe('docs stay true to the code', () => {
  it.each(NUMERIC_FIELDS.map((f) => [f.path, f] as const))(
    'docs/protocol.md lists %s with its unit and range',
    (_path, f) => {
      expect(protocolDoc).toContain(`| \`${f.path}\` | ${f.unit} | ${f.min} … ${f.max} |`);
    },
  );
  it.each([...REJECTION_CODES])('docs/protocol.md explains error code %s', (code) => {
    expect(protocolDoc).toContain(`\`${code}\``);
  });
  it.each(Object.entries(TOPICS))('docs/protocol.md lists topic %s with its QoS and retained flag', (kind, rule) => {
    expect(protocolDoc).toMatch(
      new RegExp(`\\| \`${kind}\` \\| [^|]+ \\| ${rule.qos} \\| ${rule.retain ? '\\*\\*yes\\*\\*' : 'no'} \\|`),
    );
  });
  it.each(Object.keys(configSchema.shape))('docs/configuration.md documents %s', (key) => {
    expect(configDoc).toContain(`\`${key}\``);
  });
});
