import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A dependency loaded at its first use rather than when the platform starts: the clients of what an
 * embedded platform may never use (PostgreSQL, Redis, InfluxDB, SMTP, two-factor codes) would
 * otherwise take 15–20 MB of its heap from start-up on (docs/benchmarks.md, "What an idle connection
 * costs"). Loads with `require` (each has a CommonJS build), so the first caller is synchronous and
 * waits for the load once; an `import type` of the same package keeps the types.
 */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}
