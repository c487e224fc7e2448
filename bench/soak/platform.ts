export { startPlatform, type PlatformProcess } from '../platform-process.ts';

/** GET a JSON document (with a bearer token when given), or undefined when it does not answer (in time). */
export async function getJson<T = Record<string, unknown>>(
  url: string,
  timeoutMs = 5000,
  bearer?: string,
): Promise<T | undefined> {
  try {
    const res = await fetch(url, {
      ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

export interface PlatformMetrics {
  totals?: Record<string, number>;
  connectedClients?: number;
  liveConnections?: number;
  eventLoop?: { windowMs: number; last: EventLoopWindow | null; sinceStart: EventLoopWindow | null };
}

export interface EventLoopWindow {
  at: number;
  spanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  utilization: number;
}
