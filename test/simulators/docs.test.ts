import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES } from '../../simulators/gateway/commands.ts';
import { SCENARIOS } from '../../simulators/scenarios/catalogue.ts';

const doc = readFileSync(new URL('../../docs/simulators.md', import.meta.url), 'utf8');

describe('docs/simulators.md stays true to the code', () => {
  it.each(Object.values(SCENARIOS).map((d) => [d.name, d] as const))(
    'documents scenario %s with its signature and finding',
    (name, d) => {
      expect(doc).toContain(`### \`${name}\``);
      expect(doc).toContain(d.signature);
      expect(doc).toContain(d.finding);
    },
  );
  it.each([...COMMAND_NAMES])('documents command %s', (name) => {
    expect(doc).toContain(`| \`${name}\` |`);
  });
});
