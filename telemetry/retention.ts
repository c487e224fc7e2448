import type { Logger } from '../core/logger.ts';
import type { TelemetryStore } from './store.ts';

/** Deletes telemetry older than the retention period, at start and then every interval. */
export function createRetention(
  deps: {
    store: TelemetryStore;
    log: Logger;
    now?: () => number;
    /** Cluster mode: only the leader deletes (cluster/leader.ts); default always. */
    gate?: () => boolean;
  },
  options: { days: number; intervalMs?: number },
) {
  const now = deps.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const run = async (): Promise<number> => {
    const cutoff = now() - options.days * 86_400_000;
    const removed = await deps.store.deleteOlderThan(cutoff);
    if (removed > 0) deps.log.info({ removed, cutoff }, 'telemetry retention applied');
    return removed;
  };
  const tick = () => {
    if (deps.gate && !deps.gate()) return;
    running = run().catch((err: unknown) => {
      deps.log.error({ err }, 'telemetry retention failed');
      return 0;
    });
    void running.finally(() => {
      running = undefined;
    });
  };

  return {
    run,
    start() {
      tick();
      timer = setInterval(tick, options.intervalMs ?? 3_600_000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
