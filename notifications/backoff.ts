/**
 * The wait before try `attempt + 1` after `attempt` failed tries: "full jitter" — uniformly random
 * between 0 and min(maxMs, baseMs × 2^(attempt−1)), so that many deliveries failing together (an
 * endpoint down) do not come back together. `random` is injected for tests.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * cap);
}
