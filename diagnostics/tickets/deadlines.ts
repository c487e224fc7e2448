import type { Logger } from '../../core/logger.ts';

/**
 * One timer armed for the earliest deadline still to meet. The deadlines live in the database, so
 * the timer is recomputed from it (`reschedule`) after every change that can move them and at
 * start, which makes it survive restarts; `check` records what is due and then reschedules.
 */
export function createDeadlineTimer(deps: {
  /** The earliest deadline not yet met nor recorded as breached, or null. */
  nextDue: () => Promise<number | null>;
  /** Records the breaches due by now. */
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
      () => void fire().catch((err: unknown) => deps.log.error({ err }, 'deadline check failed')),
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

export type DeadlineTimer = ReturnType<typeof createDeadlineTimer>;
