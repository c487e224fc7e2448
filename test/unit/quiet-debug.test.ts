import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { QUIET_DEBUG } from '../../core/quiet-debug.ts';

const require = createRequire(import.meta.url);
type Debug = ((...args: unknown[]) => void) & { enabled: boolean; namespace: string; extend(s: string): Debug };
const debug = require('debug') as ((ns: string) => Debug) & {
  enable(ns: string): void;
  disable(): string;
  enabled(ns: string): boolean;
  [QUIET_DEBUG]?: boolean;
};

describe('quiet debug (core/quiet-debug.ts)', () => {
  it('gives a disabled namespace a function that does nothing, and an enabled one the real logger', () => {
    expect(debug[QUIET_DEBUG]).toBe(true);
    const off = debug('pw-test:off');
    expect(off.enabled).toBe(false);
    expect(off.namespace).toBe('pw-test:off');
    expect(off('%o', { a: 1 })).toBeUndefined();
    expect(off.extend('sub').namespace).toBe('pw-test:off:sub');
    // not debug's own disabled logger (which gathers its arguments at every call)
    expect(off.toString()).not.toContain('args');

    const written: unknown[][] = [];
    debug.enable('pw-test:on*');
    try {
      const on = debug('pw-test:on');
      expect(on.enabled).toBe(true);
      (on as unknown as { log: (...a: unknown[]) => void }).log = (...a) => void written.push(a);
      on('hello %s', 'there');
      expect(written.flat().join(' ')).toContain('hello');
      // the package's own functions pass through
      expect(debug.enabled('pw-test:on')).toBe(true);
    } finally {
      debug.disable();
    }
  });
});
