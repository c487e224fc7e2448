import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The bearer token a metrics scraper (Prometheus, a bench) sends to `GET /metrics` instead of a
 * staff session (`METRICS_TOKEN`). Compared in constant time over its SHA-256, so neither its
 * length nor its prefix shows in the answer time. Without a configured token, no bearer is accepted.
 */
export function createScrapeToken(token: string | undefined) {
  const want = token ? digest(token) : null;
  return {
    configured: want !== null,
    /** Whether an `Authorization` header carries the token (`Bearer <token>`). */
    matches(authorization: string | undefined): boolean {
      if (!want || !authorization) return false;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      return !!m && timingSafeEqual(digest(m[1]!), want);
    },
  };
}

export type ScrapeToken = ReturnType<typeof createScrapeToken>;

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
