import { createFailureBackoff, type FailureOutcome } from '../core/failure-backoff.ts';
import { sourceKey } from '../core/source-address.ts';

export interface ConnectThrottleOptions {
  /** Failed CONNECTs of one client id from one address before it is throttled (then 1 s, doubling…). */
  freePerSource: number;
  /** Failed CONNECTs from one address, whatever the id, before the address is throttled. */
  freePerAddress: number;
  /** A record is forgotten this long after its last failure or the end of its block. */
  windowMs: number;
  baseBlockMs: number;
  maxBlockMs: number;
  /** Records kept at most in each table; beyond, the least recently failed go. */
  maxEntries: number;
  /** CONNECTs of one address being verified at once; more are refused as busy. */
  maxPendingPerAddress: number;
}

export const CONNECT_THROTTLE_DEFAULTS: ConnectThrottleOptions = {
  freePerSource: 5,
  freePerAddress: 20,
  windowMs: 60_000,
  baseBlockMs: 1_000,
  maxBlockMs: 5 * 60_000,
  maxEntries: 100_000,
  maxPendingPerAddress: 1000,
};

/**
 * How a CONNECT may be checked: `full` — the secret is verified (scrypt, unless the authenticator
 * has verified this very secret before); `cached` — the source is throttled: only a secret
 * verified before is accepted, nothing is computed for any other (no scrypt); `busy` — too many
 * CONNECTs of this address are being verified already.
 */
export type ConnectGate = 'full' | 'cached' | 'busy';

/**
 * The MQTT login throttle. Verify first, throttle the failures: failures are counted per
 * (client id, address) and per address, never per id alone, so someone else's failures never
 * refuse a vehicle's secret from its own address, and a secret verified before is accepted even
 * from a throttled source. Memory: two bounded tables and one counter per address with
 * verifications in flight.
 */
export function createConnectThrottle(options: Partial<ConnectThrottleOptions> = {}, now: () => number = Date.now) {
  const o = { ...CONNECT_THROTTLE_DEFAULTS, ...options };
  const table = (freeFailures: number) =>
    createFailureBackoff(
      {
        freeFailures,
        windowMs: o.windowMs,
        baseBlockMs: o.baseBlockMs,
        maxBlockMs: o.maxBlockMs,
        maxEntries: o.maxEntries,
      },
      now,
    );
  const sources = table(o.freePerSource);
  const addresses = table(o.freePerAddress);
  const pending = new Map<string, number>();
  const sourceOf = (id: string, address: string) => `${address} ${id}`;

  return {
    /** How the CONNECT of `id` from `address` (an IP, no port) may be checked. */
    gate(id: string, address: string | null): ConnectGate {
      const a = sourceKey(address);
      if ((pending.get(a) ?? 0) >= o.maxPendingPerAddress) return 'busy';
      return addresses.blockedFor(a) > 0 || sources.blockedFor(sourceOf(id, a)) > 0 ? 'cached' : 'full';
    },
    /** A verification of a CONNECT from `address` begins; call the returned function when it ends. */
    begin(address: string | null): () => void {
      const a = sourceKey(address);
      pending.set(a, (pending.get(a) ?? 0) + 1);
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        const n = (pending.get(a) ?? 1) - 1;
        if (n > 0) pending.set(a, n);
        else pending.delete(a);
      };
    },
    /** A wrong secret or an unknown id: counted for the source and its address. */
    failed(id: string, address: string | null): { source: FailureOutcome; address: FailureOutcome } {
      const a = sourceKey(address);
      return { source: sources.fail(sourceOf(id, a)), address: addresses.fail(a) };
    },
    /** The right secret: the source's record is cleared (the address's is not: one good login does not hide many bad ones). */
    succeeded(id: string, address: string | null): void {
      sources.clear(sourceOf(id, sourceKey(address)));
    },
    size: () => ({ sources: sources.size(), addresses: addresses.size(), pending: pending.size }),
  };
}

export type ConnectThrottle = ReturnType<typeof createConnectThrottle>;
