import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Counters } from '../core/counters.ts';
import { PlatformError } from '../core/errors.ts';
import { who } from './auth/guard.ts';
import { errorBody } from './schemas.ts';

/**
 * Rate limits on what a user can create (issue 16, item 8). A route names what it creates in its
 * config (`config: { access: …, rateLimit: 'tickets' }`); the hook below, after the guard, takes
 * one from the caller's buckets before the body is even read:
 *
 * - per **account** (a guest: its own guest id; an API token: the account it acts as),
 * - per **customer unit** (all the unit's accounts, tokens and guests together) — staff belong to
 *   no unit and have the per-account limit only.
 *
 * Each is a token bucket holding `perMin` requests, refilled continuously (`perMin` a minute): a
 * burst up to the full minute's allowance, then one every `60 / perMin` s. A refusal is 429
 * `RATE_LIMITED` with `Retry-After` (whole seconds), counted as `web.rate_limited` with the key
 * `<kind>:account` or `<kind>:unit`; nothing is taken from either bucket then. Memory is bounded:
 * at most `maxKeys` buckets per kind and scope, the least recently used go first, and a bucket
 * idle long enough to be full again is dropped (it is the same as none).
 */
export const RATE_LIMIT_KINDS = ['tickets', 'comments', 'acks', 'sessions', 'chat', 'photos', 'invites'] as const;
export type RateLimitKind = (typeof RATE_LIMIT_KINDS)[number];

export interface RateLimitRule {
  /** Requests a minute one account may make. */
  perMin: number;
  /** Requests a minute one customer unit's accounts and guests may make together; none: no unit limit. */
  unitPerMin?: number;
}

export type RateLimitOptions = Record<RateLimitKind, RateLimitRule>;

/** Well above what people do by hand; platform/config.ts takes its RATE_* defaults from here. */
export const RATE_LIMIT_DEFAULTS = {
  /** POST /api/tickets */
  tickets: { perMin: 10, unitPerMin: 30 },
  /** ticket and alarm comments, service-mode steps */
  comments: { perMin: 30, unitPerMin: 90 },
  /** alarm acknowledgements (staff: a mass outage raises many alarms at once) */
  acks: { perMin: 120 },
  /** remote session requests (POST /api/sessions) */
  sessions: { perMin: 10, unitPerMin: 30 },
  /** chat messages in sessions */
  chat: { perMin: 60, unitPerMin: 300 },
  /** photos in sessions */
  photos: { perMin: 20, unitPerMin: 60 },
  /** guest invitations (staff) */
  invites: { perMin: 10 },
} as const satisfies RateLimitOptions;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route creates: each call takes one from the caller's rate limit of that kind (web/rate-limits.ts). */
    rateLimit?: RateLimitKind;
  }
}

/** Token buckets by key, `perMin` each; bounded (least recently used first) and idle keys dropped. */
export function createBuckets(options: { perMin: number; maxKeys: number }, now: () => number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const rate = options.perMin / 60_000; // tokens per ms
  const full = options.perMin;
  const level = (key: string, at: number): number => {
    const b = buckets.get(key);
    return b ? Math.min(full, b.tokens + (at - b.at) * rate) : full;
  };
  /** Drops the least recently used bucket when it has refilled (amortised sweep of idle keys). */
  const sweep = (at: number) => {
    const oldest = buckets.keys().next();
    if (!oldest.done && level(oldest.value, at) >= full) buckets.delete(oldest.value);
  };
  return {
    /** Milliseconds until one request is available for `key`; 0 when one is there now. */
    waitMs(key: string): number {
      const tokens = level(key, now());
      return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / rate);
    },
    /** Takes one request (call after waitMs said 0). */
    take(key: string): void {
      const at = now();
      const tokens = level(key, at) - 1;
      buckets.delete(key);
      buckets.set(key, { tokens, at });
      while (buckets.size > options.maxKeys) buckets.delete(buckets.keys().next().value!);
      sweep(at);
    },
    size: () => buckets.size,
  };
}

export interface RateLimitCaller {
  /** The account (or `guest:<id>`) the request counts against. */
  account: string;
  /** Its customer unit; null for staff. */
  unit: string | null;
}

/** The rate limits of every kind: `take` refuses with RATE_LIMITED (and counts it) or takes one. */
export function createRateLimits(
  deps: { counters: Counters; now: () => number },
  options: Partial<RateLimitOptions> & { maxKeys?: number } = {},
) {
  const maxKeys = options.maxKeys ?? 10_000;
  const tables = new Map<
    RateLimitKind,
    { account: ReturnType<typeof createBuckets>; unit: ReturnType<typeof createBuckets> | null }
  >();
  for (const kind of RATE_LIMIT_KINDS) {
    const rule: RateLimitRule = options[kind] ?? RATE_LIMIT_DEFAULTS[kind];
    tables.set(kind, {
      account: createBuckets({ perMin: rule.perMin, maxKeys }, deps.now),
      unit: rule.unitPerMin ? createBuckets({ perMin: rule.unitPerMin, maxKeys }, deps.now) : null,
    });
  }
  return {
    take(kind: RateLimitKind, caller: RateLimitCaller): void {
      const t = tables.get(kind)!;
      const refuse = (scope: 'account' | 'unit', ms: number): never => {
        deps.counters.inc('web.rate_limited', `${kind}:${scope}`);
        const s = Math.max(1, Math.ceil(ms / 1000));
        throw new PlatformError(
          'RATE_LIMITED',
          scope === 'account'
            ? `too many ${kind} requests from this account; try again in ${s} s`
            : `too many ${kind} requests from your unit's accounts together; try again in ${s} s`,
          { details: { retryAfterS: s } },
        );
      };
      const mine = t.account.waitMs(caller.account);
      if (mine > 0) refuse('account', mine);
      if (t.unit && caller.unit !== null) {
        const ours = t.unit.waitMs(caller.unit);
        if (ours > 0) refuse('unit', ours);
        t.unit.take(caller.unit);
      }
      t.account.take(caller.account);
    },
    /** Buckets held (for tests and /metrics-minded readers). */
    size(): number {
      let n = 0;
      for (const t of tables.values()) n += t.account.size() + (t.unit?.size() ?? 0);
      return n;
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;

/** Who a guarded request counts as: its guest, or the account of its session or token and that account's unit. */
function callerOf(req: FastifyRequest): RateLimitCaller {
  if (req.guest) return { account: `guest:${req.guest.principal.id}`, unit: req.guest.principal.customerId };
  const a = who(req);
  return { account: a.id, unit: a.customerId };
}

/**
 * Applies each route's `rateLimit` after the guard (so the caller is known, and a refused caller
 * never reaches the body parser: a photo over the limit is not even read).
 */
export function installRateLimits(app: FastifyInstance, limits: RateLimits): void {
  // the routes registered from now on that have a limit document their 429
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (route.config?.rateLimit && response && !('429' in response)) response['429'] = errorBody;
  });
  app.addHook('onRequest', async (req) => {
    const kind = req.routeOptions.config.rateLimit;
    if (!kind) return;
    limits.take(kind, callerOf(req));
  });
}
