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
  /**
   * Whether this process may act now (cluster mode: the leader, cluster/leader.ts); checked at each
   * fire. Closed, nothing is checked and the timer looks again after `pollMs`. Default: always open.
   */
  gate?: () => boolean;
  /**
   * At most this long between two looks at the database (cluster mode: the due times another node
   * wrote do not re-arm this node's timer). Default: none, the timer waits for the earliest due time.
   */
  pollMs?: number;
}) {
  const gate = deps.gate ?? (() => true);
  const pollMs = deps.pollMs ?? Number.POSITIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function fire(): Promise<void> {
    if (!gate()) return arm(pollMs);
    await deps.check();
    await reschedule();
  }

  function arm(delay: number): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!running || delay === Number.POSITIVE_INFINITY) return;
    timer = setTimeout(
      () => void fire().catch((err: unknown) => deps.log.error({ err }, 'deadline check failed')),
      Math.min(Math.max(0, delay), 2 ** 31 - 1),
    );
  }

  async function reschedule(): Promise<void> {
    if (!running) return;
    // not the leader: no need to read the due times; look again later
    if (!gate()) return arm(pollMs);
    const next = await deps.nextDue();
    if (!running) return;
    arm(Math.min(next === null ? Number.POSITIVE_INFINITY : next - deps.now(), pollMs));
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
