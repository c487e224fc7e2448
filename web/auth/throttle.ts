import { createFailureBackoff, type FailureOutcome } from '../../core/failure-backoff.ts';
import { sourceKey } from '../../core/source-address.ts';

/**
 * Failed-login throttle of the console. It throttles failing sources, never an account for
 * everyone: failures are counted per (account, client address) and per client address. The
 * `maxPerAccount`-th failure of one account from one address, or the `maxPerIp`-th from one
 * address in all, makes that source wait `baseBlockMs` (1 s), doubling with every further failure
 * up to `maxBlockMs` (the window). A source that waits is refused before its password is checked (no
 * scrypt work, a correct guess is not told apart); every other source is checked, so the right
 * password from an address that is not itself throttled always logs in, however many strangers
 * guess. A key is forgotten `windowMs` after its last failure or the end of its block; a
 * successful login clears its (account, address) record. Memory is bounded (`maxKeys` per table,
 * the least recently failed go first).
 */
export interface LoginThrottleOptions {
  /** Failures of one account from one address before that source waits. */
  maxPerAccount: number;
  /** Failures from one address, across accounts, before that address waits. */
  maxPerIp: number;
  windowMs: number;
  /** The first wait; default 1 s. */
  baseBlockMs?: number;
  /** The longest wait; default `windowMs`. */
  maxBlockMs?: number;
  maxKeys?: number;
}

export function createLoginThrottle(options: LoginThrottleOptions, now: () => number = Date.now) {
  const table = (freeFailures: number) =>
    createFailureBackoff(
      {
        freeFailures,
        windowMs: options.windowMs,
        baseBlockMs: options.baseBlockMs ?? 1000,
        maxBlockMs: options.maxBlockMs ?? options.windowMs,
        maxEntries: options.maxKeys ?? 50_000,
      },
      now,
    );
  // the n-th failure starts the first wait: n - 1 are free
  const pairs = table(options.maxPerAccount - 1);
  const addresses = table(options.maxPerIp - 1);
  const pair = (account: string, ip: string) => `${sourceKey(ip)} ${account}`;

  return {
    /** Seconds this source must wait, or 0 when a login may be tried now. */
    check(account: string, ip: string): number {
      const ms = Math.max(pairs.blockedFor(pair(account, ip)), addresses.blockedFor(sourceKey(ip)));
      return ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0;
    },
    /** Counts a failure of this source; tells what it started (`firstBlock`: a lockout begins, worth one warning). */
    fail(account: string, ip: string): { source: FailureOutcome; address: FailureOutcome } {
      return { source: pairs.fail(pair(account, ip)), address: addresses.fail(sourceKey(ip)) };
    },
    succeeded(account: string, ip: string): void {
      pairs.clear(pair(account, ip));
    },
    size: () => ({ sources: pairs.size(), addresses: addresses.size() }),
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
