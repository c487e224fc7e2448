export { startPlatform, type PlatformProcess } from '../platform-process.ts';

/** The platform's counters (`GET /metrics`), or undefined when it does not answer. */
export async function metricsOf(baseUrl: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
