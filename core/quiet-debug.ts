import { createRequire } from 'node:module';

/**
 * The `debug` package (used by mqtt-packet, aedes, socket.io, ioredis …) as seen by the modules loaded
 * after this one: a namespace that is not enabled (`DEBUG`, read by `debug` itself) gets a plain
 * function that does nothing, instead of debug's own logger, which — disabled — still gathers its
 * arguments into a fresh array at every call before it returns. mqtt-packet and aedes call it several
 * times per packet, formatted objects included: ≈ 1.7 KB of garbage per telemetry frame, 13–15 % of
 * the main thread's allocation in bench:ingest (docs/benchmarks.md). A namespace enabled by `DEBUG`
 * at start-up gets the real logger; one enabled later with `debug.enable()` does not, in the modules
 * that created theirs before.
 *
 * Import it first in the composition root (platform/main.ts), before anything that loads `debug`.
 */
interface Debugger {
  (...args: unknown[]): void;
  namespace: string;
  enabled: boolean;
  extend(sub: string, delimiter?: string): Debugger;
  destroy(): boolean;
  log: (...args: unknown[]) => void;
}
interface CreateDebug {
  (namespace: string): Debugger;
  enabled(namespace: string): boolean;
}

const require = createRequire(import.meta.url);
const path = require.resolve('debug');
const createDebug = require('debug') as CreateDebug;

function quiet(namespace: string): Debugger {
  const noop = (() => undefined) as unknown as Debugger;
  noop.namespace = namespace;
  noop.enabled = false;
  noop.extend = (sub, delimiter = ':') => quietable(`${namespace}${delimiter}${sub}`);
  noop.destroy = () => false;
  noop.log = () => undefined;
  return noop;
}

function quietable(namespace: string): Debugger {
  return createDebug.enabled(namespace) ? createDebug(namespace) : quiet(namespace);
}

/** Whether `debug` is already the quiet one (this module ran). */
export const QUIET_DEBUG = Symbol.for('powerwatch.quiet-debug');

const cached = require.cache[path];
if (cached && !(cached.exports as Record<symbol, unknown>)[QUIET_DEBUG]) {
  cached.exports = new Proxy(createDebug, {
    apply: (_target, _this, args: unknown[]) => quietable(String(args[0])),
    get: (target, key, receiver) => (key === QUIET_DEBUG ? true : Reflect.get(target, key, receiver)),
  });
}
