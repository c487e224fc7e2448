import type { Logger } from '../core/logger.ts';

/**
 * One timer armed for the earliest due time of the open sessions (a ring to move on, an abandon
 * clock to run out). The due times live in the database, so the timer is recomputed from it after
 * every change and at start, which makes it survive restarts.
 */
export function createSessionTimer(deps: {
  nextDue: () => Promise<number | null>;
  check: () => Promise<void>;
  now: () => number;
  log: Logger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function fire(): Promise<void> {
    await deps.check();
    await reschedule();
  }

  async function reschedule(): Promise<void> {
    if (!running) return;
    const next = await deps.nextDue();
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (next === null || !running) return;
    const delay = Math.min(Math.max(0, next - deps.now()), 2 ** 31 - 1);
    timer = setTimeout(
      () => void fire().catch((err: unknown) => deps.log.error({ err }, 'session timer check failed')),
      delay,
    );
  }

  return {
    reschedule,
    async start(): Promise<void> {
      running = true;
      await fire();
    },
    stop(): void {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
