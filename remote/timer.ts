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
      () => void fire().catch((err: unknown) => deps.log.error({ err }, 'session timer check failed')),
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
