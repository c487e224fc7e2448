import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../core/logger.ts';
import { createReadiness, DrainingError } from '../../core/readiness.ts';

describe('readiness checks (core/readiness.ts)', () => {
  it('names a failing, a hanging and a draining check; ready only when all pass and not draining', async () => {
    vi.useFakeTimers();
    try {
      let draining = false;
      let recordsUp = true;
      const readiness = createReadiness(
        {
          checks: [
            {
              name: 'records',
              check: () => {
                if (!recordsUp) throw new Error('connection refused');
              },
            },
            { name: 'redis', check: () => (recordsUp ? undefined : new Promise(() => undefined)) },
            {
              name: 'broker',
              check: () => {
                if (draining) throw new DrainingError();
              },
            },
          ],
          draining: () => draining,
          log: silentLogger(),
        },
        { node: 'n1', timeoutMs: 500 },
      );
      expect(await readiness.report()).toMatchObject({ ready: true, status: 'ready', node: 'n1', failing: [] });
      recordsUp = false;
      const pending = readiness.report();
      await vi.advanceTimersByTimeAsync(500);
      const down = await pending;
      expect(down).toMatchObject({ ready: false, status: 'not_ready', failing: ['records', 'redis'] });
      expect(down.checks.records).toMatchObject({ ok: false, failure: 'failed' });
      expect(down.checks.redis).toMatchObject({ ok: false, failure: 'timeout' });
      recordsUp = true;
      draining = true;
      const drain = await readiness.report();
      expect(drain).toMatchObject({ ready: false, status: 'draining', failing: ['broker'] });
      expect(drain.checks.broker).toMatchObject({ ok: false, failure: 'draining' });
    } finally {
      vi.useRealTimers();
    }
  });
});
