import type { PlatformProcess } from '../platform-process.ts';

export { startPlatform, type PlatformProcess } from '../platform-process.ts';

/** The platform's counters (`GET /metrics` with its scrape token), or undefined when it does not answer. */
export async function metricsOf(
  platform: Pick<PlatformProcess, 'baseUrl' | 'metricsToken'>,
): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`${platform.baseUrl}/metrics.json`, {
      headers: { authorization: `Bearer ${platform.metricsToken}` },
      signal: AbortSignal.timeout(10_000),
    });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
