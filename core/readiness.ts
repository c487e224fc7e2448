import type { Logger } from './logger.ts';

/**
 * One dependency `/readyz` asks about: resolves when it can serve, rejects (or throws) when not.
 * `draining` tells the reason when the node is stopping on purpose.
 */
export interface ReadinessCheck {
  name: string;
  check(): Promise<unknown> | unknown;
}

/** Why a check failed, without its error text: `/readyz` is public, a database error is not. */
export type CheckFailure = 'failed' | 'timeout' | 'draining';

export interface CheckResult {
  ok: boolean;
  ms: number;
  failure?: CheckFailure;
}

export interface ReadinessReport {
  ready: boolean;
  /** `draining` from the start of a graceful stop on, whatever the checks say. */
  status: 'ready' | 'not_ready' | 'draining';
  node: string;
  /** The names of the checks that failed (`[]` when ready). */
  failing: string[];
  checks: Record<string, CheckResult>;
}

/** Thrown by a check that fails because the node drains (the broker after SIGTERM). */
export class DrainingError extends Error {
  constructor() {
    super('draining');
  }
}

/**
 * Readiness (`GET /readyz`): every check at once, each bounded by `timeoutMs`, a failing one named.
 * While `draining()` the node is not ready whatever the checks say. A check that starts or stops
 * failing is logged once, with its error, at the change (a balancer asks every few seconds).
 */
export function createReadiness(
  deps: { checks: readonly ReadinessCheck[]; draining: () => boolean; log: Logger; now?: () => number },
  options: { node: string; timeoutMs: number },
) {
  const now = deps.now ?? Date.now;
  const failingBefore = new Set<string>();

  async function run(c: ReadinessCheck): Promise<CheckResult> {
    const start = now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
      timer.unref();
    });
    let failure: CheckFailure | undefined;
    let error: unknown;
    try {
      const outcome = await Promise.race([Promise.resolve().then(() => c.check()), timeout]);
      if (outcome === 'timeout') failure = 'timeout';
    } catch (err) {
      failure = err instanceof DrainingError ? 'draining' : 'failed';
      error = err;
    } finally {
      clearTimeout(timer);
    }
    const ms = now() - start;
    if (failure && !failingBefore.has(c.name)) {
      failingBefore.add(c.name);
      if (failure !== 'draining') deps.log.warn({ check: c.name, failure, err: error, ms }, 'readiness check failing');
    } else if (!failure && failingBefore.delete(c.name))
      deps.log.info({ check: c.name }, 'readiness check passing again');
    return failure ? { ok: false, ms, failure } : { ok: true, ms };
  }

  return {
    async report(): Promise<ReadinessReport> {
      const results = await Promise.all(deps.checks.map(run));
      const checks = Object.fromEntries(deps.checks.map((c, i) => [c.name, results[i]!]));
      const failing = deps.checks.filter((_, i) => !results[i]!.ok).map((c) => c.name);
      const draining = deps.draining();
      const ready = failing.length === 0 && !draining;
      return {
        ready,
        status: draining ? 'draining' : ready ? 'ready' : 'not_ready',
        node: options.node,
        failing,
        checks,
      };
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;
