/**
 * Failed-login limiter: at most `maxPerAccount` failures per login name and `maxPerIp` per client
 * address within a sliding window. While over a limit, logins from there are refused before the
 * password is even checked (so a correct guess is not told apart). A successful login clears
 * its account's count. Memory is bounded: the oldest keys go first.
 */
export interface LoginThrottleOptions {
  maxPerAccount: number;
  maxPerIp: number;
  windowMs: number;
  maxKeys?: number;
}

export function createLoginThrottle(options: LoginThrottleOptions, now: () => number = Date.now) {
  const failures = new Map<string, number[]>();
  const maxKeys = options.maxKeys ?? 50_000;

  const recent = (key: string, at: number): number[] => {
    const list = (failures.get(key) ?? []).filter((t) => t > at - options.windowMs);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };
  const retryAfter = (list: number[], max: number, at: number): number => {
    // blocked until enough failures leave the window for one more try
    const oldestThatMatters = list[list.length - max]!;
    return Math.max(1, Math.ceil((oldestThatMatters + options.windowMs - at) / 1000));
  };

  return {
    /** Seconds to wait, or 0 when a login may be tried now. */
    check(account: string, ip: string): number {
      const at = now();
      const a = recent(`a:${account}`, at);
      const i = recent(`i:${ip}`, at);
      let wait = 0;
      if (a.length >= options.maxPerAccount) wait = Math.max(wait, retryAfter(a, options.maxPerAccount, at));
      if (i.length >= options.maxPerIp) wait = Math.max(wait, retryAfter(i, options.maxPerIp, at));
      return wait;
    },
    /** Counts a failure; tells which limits this failure has just reached (a lockout begins). */
    fail(account: string, ip: string): { accountLocked: boolean; ipLocked: boolean } {
      const at = now();
      const reached: boolean[] = [];
      for (const [key, max] of [
        [`a:${account}`, options.maxPerAccount],
        [`i:${ip}`, options.maxPerIp],
      ] as const) {
        const list = recent(key, at);
        const before = list.length;
        list.push(at);
        if (list.length > max) list.splice(0, list.length - max);
        reached.push(before < max && list.length >= max);
        failures.delete(key); // re-insert: the map's order is the eviction order
        failures.set(key, list);
      }
      while (failures.size > maxKeys) failures.delete(failures.keys().next().value!);
      return { accountLocked: reached[0]!, ipLocked: reached[1]! };
    },
    succeeded(account: string): void {
      failures.delete(`a:${account}`);
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
