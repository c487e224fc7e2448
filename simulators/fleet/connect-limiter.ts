import type { ConnectLimiter } from '../gateway/gateway.ts';

/** At most `concurrent` CONNECTs outstanding at once across a fleet (the broker hashes every secret). */
export function createConnectLimiter(concurrent: number): ConnectLimiter & { inUse(): number } {
  let inUse = 0;
  return {
    tryAcquire() {
      if (inUse >= concurrent) return false;
      inUse++;
      return true;
    },
    release() {
      inUse = Math.max(0, inUse - 1);
    },
    inUse: () => inUse,
  };
}
