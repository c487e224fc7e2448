import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The packages a module loads when it is loaded: its static, non-type imports and re-exports,
 * followed through the project's own files (a dynamic `import()` or a `lazyModule` is not followed:
 * it loads later, if ever).
 */
function packagesLoadedBy(entry: string): Map<string, string> {
  const packages = new Map<string, string>(); // package → the first project file importing it
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const statements = /^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
    for (const [, spec] of text.matchAll(statements)) {
      if (!spec) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, file.slice(ROOT.length + 1));
      }
    }
  };
  visit(resolve(ROOT, entry));
  return packages;
}

/** Loaded only where they are used (core/lazy-module.ts; docs/benchmarks.md, "What an idle connection costs"). */
const OPTIONAL = [
  'pg',
  'ioredis',
  'mqemitter-redis',
  'aedes-persistence-redis',
  '@influxdata/influxdb-client',
  'nodemailer',
  'otplib',
  'qrcode',
  'pdfkit',
  '@zxcvbn-ts/language-common',
];

describe('what loads at start-up', () => {
  it('the platform loads no client of a part that is not configured, nor the PDF renderer', () => {
    const loaded = packagesLoadedBy('platform/main.ts');
    // the walk sees the platform's own packages
    expect([...loaded.keys()]).toEqual(expect.arrayContaining(['aedes', 'better-sqlite3', 'fastify', 'zod']));
    for (const name of OPTIONAL) expect(loaded.get(name), `${name} loaded at start-up`).toBeUndefined();
  });

  it('the telemetry writer thread loads SQLite, not the wire contract’s schemas (zod)', () => {
    const loaded = packagesLoadedBy('telemetry/sqlite-writer-worker.ts');
    expect([...loaded.keys()]).toEqual(['better-sqlite3']);
  });
});
