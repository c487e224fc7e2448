import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { PlatformError } from '../core/errors.ts';
import { DEFAULT_COMMAND_ACK_TIMEOUT_MS } from '../commands/service.ts';
import { DEFAULT_MQTT_PORT } from '../protocol/index.ts';
import { ROLES, type Role } from '../web/auth/roles.ts';
import { LIVE_DEFAULTS } from '../web/live/options.ts';
import { DEFAULT_SESSION_RATE_RENEW_MS, SESSION_RATE } from '../remote/telemetry-rate.ts';
import { proxyEntryProblem, splitProxyList } from '../web/proxy-trust.ts';
import { isTimeZone } from '../remote/roster.ts';
import { INVITE_MAX_TTL_MS } from '../remote/invites.ts';
import { RATE_LIMIT_DEFAULTS as RATE, type RateLimitOptions } from '../web/rate-limits.ts';
import { DEFAULT_DATA_DIR } from './data-files.ts';
import { DEFAULT_REPORT_FONT } from '../reports/font.ts';

/**
 * A whole decimal number. Written out, not coerced: `Number()` would read " " as 0 (a random port,
 * no flush delay), "0x50" as 80 and "1e3" as 1000; each of those is refused instead.
 */
const wholeNumber = (name: string) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/, { error: `${name} must be a whole number` })
    .transform(Number);

const port = (name: string, fallback: number) =>
  wholeNumber(name)
    .pipe(
      z
        .number()
        .min(0, { error: `${name} must be 0–65535 (0 picks a free port)` })
        .max(65535, { error: `${name} must be 0–65535` }),
    )
    .default(fallback);

const int = (name: string, fallback: number, min: number, max: number) =>
  wholeNumber(name)
    .pipe(
      z
        .number()
        .min(min, { error: `${name} must be at least ${min}` })
        .max(max, { error: `${name} must be at most ${max}` }),
    )
    .default(fallback);

const DURATION = /^(\d{1,9})(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `assignee:5m,duty_lead:5m,service_manager`: who is paged in turn, and how long each has to acknowledge. */
const pageChain = z.string().transform((s, ctx) => {
  const steps = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const out: { role: 'assignee' | 'duty_lead' | 'service_manager'; waitMs: number | null }[] = [];
  steps.forEach((step, i) => {
    const [role, wait, ...rest] = step.split(':');
    if (role !== 'assignee' && role !== 'duty_lead' && role !== 'service_manager') {
      ctx.addIssue({
        code: 'custom',
        message: `PAGE_CHAIN step ${i + 1} "${step}": the role must be assignee, duty_lead or service_manager`,
      });
      return;
    }
    const last = i === steps.length - 1;
    const d = wait === undefined ? null : DURATION.exec(wait);
    if (rest.length || (wait !== undefined && !d) || (!last && !d)) {
      ctx.addIssue({
        code: 'custom',
        message: `PAGE_CHAIN step ${i + 1} "${step}": write role:time (e.g. duty_lead:5m; ms, s, m or h); only the last step may omit the time`,
      });
      return;
    }
    const waitMs = d ? Number(d[1]) * UNIT_MS[d[2]!]! : null;
    if (waitMs !== null && (waitMs < 1000 || waitMs > 86_400_000)) {
      ctx.addIssue({ code: 'custom', message: `PAGE_CHAIN step ${i + 1} "${step}": the time must be 1 s – 24 h` });
      return;
    }
    out.push({ role, waitMs });
  });
  if (!steps.length) ctx.addIssue({ code: 'custom', message: 'PAGE_CHAIN must name at least one step' });
  return out;
});

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'NOTIFY_TIME_ZONE must be an IANA time zone like Asia/Shanghai' },
);

/** Every setting the platform reads from the environment, with its default. See docs/configuration.md. */
export const configSchema = z.object({
  /** Plain MQTT (TCP); `off`: no plain listener (gateways use MQTT_TLS_PORT or MQTT over WebSocket). */
  MQTT_PORT: z
    .string()
    .trim()
    .default(String(DEFAULT_MQTT_PORT))
    .transform((v, ctx) => {
      if (v === 'off') return null;
      if (!/^[+-]?\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'MQTT_PORT must be a whole number (0–65535) or off (no plain MQTT)' });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < 0 || n > 65535) {
        ctx.addIssue({
          code: 'custom',
          message: 'MQTT_PORT must be 0–65535 (0 picks a free port) or off (no plain MQTT)',
        });
        return z.NEVER;
      }
      return n;
    }),
  MQTT_HOST: z.string().min(1).default('0.0.0.0'),
  /** MQTT over TLS (mqtts) on this port, with MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE; unset: no TLS listener. */
  MQTT_TLS_PORT: wholeNumber('MQTT_TLS_PORT')
    .pipe(
      z
        .number()
        .min(0, { error: 'MQTT_TLS_PORT must be 0–65535 (8883 is usual)' })
        .max(65535, { error: 'MQTT_TLS_PORT must be 0–65535 (8883 is usual)' }),
    )
    .optional(),
  MQTT_TLS_CERT_FILE: z.string().min(1).optional(),
  MQTT_TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * Client certificates on the TLS port (mutual TLS): `optional` asks for one and authenticates a vehicle
   * by its CN (others log in with their secret); `required` accepts no connection without one.
   */
  MQTT_TLS_CLIENT_CERT: z
    .enum(['off', 'optional', 'required'], { error: 'MQTT_TLS_CLIENT_CERT must be off, optional or required' })
    .default('off'),
  /**
   * The CA (PEM, may hold several) whose client certificates are accepted, on the TLS port and over
   * wss; needed with MQTT_TLS_CLIENT_CERT or HTTP_TLS_CLIENT_CERT.
   */
  MQTT_TLS_CA_FILE: z.string().min(1).optional(),
  /**
   * Revoked client certificates: a PEM CRL (one per CA in MQTT_TLS_CA_FILE; `npm run certs -- revoke`
   * or any CA's), checked on the TLS port and over wss, reloaded when the file changes.
   */
  MQTT_TLS_CRL_FILE: z.string().min(1).optional(),
  /** MQTT over WebSocket at /mqtt on HTTP_PORT (ws://, or wss:// with HTTPS). */
  MQTT_WS: z
    .enum(['true', 'false'], { error: 'MQTT_WS must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  HTTP_PORT: port('HTTP_PORT', 8080),
  /** The console over HTTPS directly: both files, or neither (plain HTTP, or TLS at a reverse proxy). */
  HTTP_TLS_CERT_FILE: z.string().min(1).optional(),
  HTTP_TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * `optional`: the HTTPS server asks for a client certificate (MQTT_TLS_CA_FILE's), and a gateway on
   * wss://…/mqtt is authenticated by its CN as on the TLS port; the console ignores certificates.
   */
  HTTP_TLS_CLIENT_CERT: z
    .enum(['off', 'optional'], { error: 'HTTP_TLS_CLIENT_CERT must be off or optional' })
    .default('off'),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  /** Deprecated: `true` now means HTTP_TRUSTED_PROXIES=loopback (a proxy on the same host). */
  HTTP_TRUST_PROXY: z
    .enum(['true', 'false'], { error: 'HTTP_TRUST_PROXY must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  HTTP_TRUSTED_PROXIES: z
    .string()
    .transform(splitProxyList)
    .superRefine((entries, ctx) => {
      if (!entries.length)
        ctx.addIssue({ code: 'custom', message: 'HTTP_TRUSTED_PROXIES must list at least one address or CIDR range' });
      for (const e of entries) {
        const problem = proxyEntryProblem(e);
        if (problem)
          ctx.addIssue({
            code: 'custom',
            message: `HTTP_TRUSTED_PROXIES must be a comma-separated list of the reverse proxies' addresses or CIDR ranges: ${problem}`,
          });
      }
    })
    .optional(),
  SESSION_IDLE_TIMEOUT_MS: int('SESSION_IDLE_TIMEOUT_MS', 8 * 3_600_000, 60_000, 30 * 86_400_000),
  SESSION_MAX_AGE_MS: int('SESSION_MAX_AGE_MS', 24 * 3_600_000, 60_000, 90 * 86_400_000),
  LOGIN_MAX_FAILURES: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
  LOGIN_IP_MAX_FAILURES: int('LOGIN_IP_MAX_FAILURES', 20, 1, 100_000),
  LOGIN_FAILURE_WINDOW_MS: int('LOGIN_FAILURE_WINDOW_MS', 15 * 60_000, 1000, 86_400_000),
  REQUIRE_2FA_ROLES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES, { error: `REQUIRE_2FA_ROLES must be a comma-separated list of ${ROLES.join(', ')}` })))
    .optional()
    .transform((v): Role[] => v ?? []),
  REAUTH_WINDOW_MS: int('REAUTH_WINDOW_MS', 15 * 60_000, 60_000, 86_400_000),
  RESET_LINK_TTL_MS: int('RESET_LINK_TTL_MS', 24 * 3_600_000, 5 * 60_000, 30 * 86_400_000),
  API_TOKEN_RATE_PER_MIN: int('API_TOKEN_RATE_PER_MIN', 120, 1, 100_000),
  // what one account, and one customer unit's accounts together, may create a minute (web/rate-limits.ts)
  RATE_TICKETS_PER_MIN: int('RATE_TICKETS_PER_MIN', RATE.tickets.perMin, 1, 100_000),
  RATE_TICKETS_UNIT_PER_MIN: int('RATE_TICKETS_UNIT_PER_MIN', RATE.tickets.unitPerMin, 1, 100_000),
  RATE_COMMENTS_PER_MIN: int('RATE_COMMENTS_PER_MIN', RATE.comments.perMin, 1, 100_000),
  RATE_COMMENTS_UNIT_PER_MIN: int('RATE_COMMENTS_UNIT_PER_MIN', RATE.comments.unitPerMin, 1, 100_000),
  RATE_ACKS_PER_MIN: int('RATE_ACKS_PER_MIN', RATE.acks.perMin, 1, 100_000),
  RATE_SESSIONS_PER_MIN: int('RATE_SESSIONS_PER_MIN', RATE.sessions.perMin, 1, 100_000),
  RATE_SESSIONS_UNIT_PER_MIN: int('RATE_SESSIONS_UNIT_PER_MIN', RATE.sessions.unitPerMin, 1, 100_000),
  RATE_CHAT_PER_MIN: int('RATE_CHAT_PER_MIN', RATE.chat.perMin, 1, 100_000),
  RATE_CHAT_UNIT_PER_MIN: int('RATE_CHAT_UNIT_PER_MIN', RATE.chat.unitPerMin, 1, 100_000),
  RATE_PHOTOS_PER_MIN: int('RATE_PHOTOS_PER_MIN', RATE.photos.perMin, 1, 100_000),
  RATE_PHOTOS_UNIT_PER_MIN: int('RATE_PHOTOS_UNIT_PER_MIN', RATE.photos.unitPerMin, 1, 100_000),
  RATE_INVITES_PER_MIN: int('RATE_INVITES_PER_MIN', RATE.invites.perMin, 1, 100_000),
  TOTP_SECRET_KEY: z
    .string()
    .regex(/^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/, {
      error: 'TOTP_SECRET_KEY must be 32 bytes as 64 hex digits or base64',
    })
    .optional(),
  LIVE_MAX_RATE_HZ: int('LIVE_MAX_RATE_HZ', LIVE_DEFAULTS.maxRateHz, 1, 50),
  LIVE_FLEET_INTERVAL_MS: int('LIVE_FLEET_INTERVAL_MS', LIVE_DEFAULTS.fleetIntervalMs, 100, 60_000),
  LIVE_MAX_BUFFERED: int('LIVE_MAX_BUFFERED', LIVE_DEFAULTS.maxBuffered, 2, 10_000),
  LIVE_MAX_SUBSCRIPTIONS: int('LIVE_MAX_SUBSCRIPTIONS', LIVE_DEFAULTS.maxSubscriptions, 1, 10_000),
  LIVE_SESSION_CHECK_MS: int('LIVE_SESSION_CHECK_MS', LIVE_DEFAULTS.sessionCheckMs, 100, 3_600_000),
  LIVE_SLOW_TIMEOUT_MS: int('LIVE_SLOW_TIMEOUT_MS', LIVE_DEFAULTS.slowTimeoutMs, 100, 3_600_000),
  LIVE_EVENT_RATE_HZ: int('LIVE_EVENT_RATE_HZ', LIVE_DEFAULTS.eventRateHz, 1, 10_000),
  LIVE_EVENT_BURST: int('LIVE_EVENT_BURST', LIVE_DEFAULTS.eventBurst, 1, 100_000),
  LIVE_FLOOD_MAX_REFUSED: int('LIVE_FLOOD_MAX_REFUSED', LIVE_DEFAULTS.floodMaxRefused, 1, 1_000_000),
  // renewed inside the gateway's durationS (300 s) with room for one lost renewal
  SESSION_RATE_RENEW_MS: int(
    'SESSION_RATE_RENEW_MS',
    DEFAULT_SESSION_RATE_RENEW_MS,
    1000,
    (SESSION_RATE.durationS * 1000) / 2,
  ),
  // a guest link works at most 2 h (issue 11, 7.)
  SESSION_INVITE_TTL_MS: int('SESSION_INVITE_TTL_MS', INVITE_MAX_TTL_MS, 60_000, INVITE_MAX_TTL_MS),
  CONSOLE_DIR: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1, { error: 'DATA_DIR must not be empty' }).default(DEFAULT_DATA_DIR),
  // the records on PostgreSQL instead of the embedded SQLite file in DATA_DIR (telemetry stays there)
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'DATABASE_URL must be a postgres:// or postgresql:// URL' })
    .optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  LOG_PRETTY: z
    .enum(['true', 'false'], { error: 'LOG_PRETTY must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  MQTT_MAX_PAYLOAD_BYTES: int('MQTT_MAX_PAYLOAD_BYTES', 512 * 1024, 1024, 16 * 1024 * 1024),
  MQTT_MAX_CONNECTIONS: int('MQTT_MAX_CONNECTIONS', 50_000, 1, 1_000_000),
  MQTT_DRAIN_TIMEOUT_MS: int('MQTT_DRAIN_TIMEOUT_MS', 10_000, 100, 600_000),
  // this process's name among the nodes: the `node` label of every /metrics sample, /readyz, the logs
  NODE_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
      error: 'NODE_ID must be 1–63 letters, digits, dots, dashes or underscores (default: the host name)',
    })
    .default(hostname().slice(0, 63) || 'node'),
  // graceful drain on SIGTERM (docs/operations.md): /readyz 503 for DRAIN_READY_DELAY_MS while still
  // serving, then no new connections, the MQTT connections closed over DRAIN_MOVE_MS, commits finished
  DRAIN_READY_DELAY_MS: int('DRAIN_READY_DELAY_MS', 0, 0, 300_000),
  DRAIN_MOVE_MS: int('DRAIN_MOVE_MS', 0, 0, 300_000),
  DRAIN_TIMEOUT_MS: int('DRAIN_TIMEOUT_MS', 30_000, 1000, 900_000),
  READY_CHECK_TIMEOUT_MS: int('READY_CHECK_TIMEOUT_MS', 2000, 50, 60_000),
  MQTT_MAX_QUEUED_BYTES: int('MQTT_MAX_QUEUED_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  MQTT_MAX_INFLIGHT: int('MQTT_MAX_INFLIGHT', 32, 2, 65_535),
  MQTT_QOS0_RATE: int('MQTT_QOS0_RATE', 50, 0, 1_000_000),
  INGEST_BATCH_FRAMES: int('INGEST_BATCH_FRAMES', 1000, 1, 100_000),
  // 3 ms, not 5, since the slot-first key made commits and checkpoints cheaper (docs/benchmarks.md, 2026-12-05 16:25)
  INGEST_FLUSH_MS: int('INGEST_FLUSH_MS', 3, 0, 1000),
  // timer: a batch is committed INGEST_FLUSH_MS after its first frame; adaptive: at the end of the
  // event-loop turn when a commit slot is free, else when a commit ends (ingest/writer.ts)
  INGEST_FLUSH: z.enum(['timer', 'adaptive'], { error: 'INGEST_FLUSH must be timer or adaptive' }).default('timer'),
  // group commits under way at once: 0 = the store's own (2 on SQLite, whose writer thread runs them
  // one after another, the next already queued; 4 on PostgreSQL, where round trips and fsyncs overlap)
  INGEST_COMMITS_IN_FLIGHT: int('INGEST_COMMITS_IN_FLIGHT', 0, 0, 16),
  TELEMETRY_CONFIRM_INTERVAL_MS: int('TELEMETRY_CONFIRM_INTERVAL_MS', 1000, 0, 600_000),
  TELEMETRY_GAP_GRACE_MS: int('TELEMETRY_GAP_GRACE_MS', 2000, 10, 3_600_000),
  TELEMETRY_SYNC: z.enum(['full', 'normal'], { error: 'TELEMETRY_SYNC must be full or normal' }).default('full'),
  // where telemetry lives: the embedded SQLite file in DATA_DIR, or PostgreSQL (telemetry/postgres-store.ts)
  TELEMETRY_STORE: z
    .enum(['sqlite', 'postgres'], { error: 'TELEMETRY_STORE must be sqlite or postgres' })
    .default('sqlite'),
  TELEMETRY_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'TELEMETRY_DATABASE_URL must be a postgres:// or postgresql:// URL' })
    .optional(),
  // cluster mode (docs/architecture.md, "Several nodes"): Redis between the nodes; needs the records and
  // telemetry on PostgreSQL, since every node reads and writes the same ones
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, { error: 'REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379' })
    .optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, {
      error: 'REDIS_KEY_PREFIX must be 1–64 letters, digits, colons, dots, dashes or underscores',
    })
    .default('powerwatch:'),
  // cluster mode: the event relay's stream bound (cluster/event-relay.ts) and how often a node renews
  // the vehicles its consoles watch (cluster/live-feed.ts)
  CLUSTER_EVENTS_MAX_LEN: int('CLUSTER_EVENTS_MAX_LEN', 100_000, 1000, 10_000_000),
  CLUSTER_WATCH_REFRESH_MS: int('CLUSTER_WATCH_REFRESH_MS', 5000, 100, 60_000),
  // cluster mode: a node whose relay consumer group has not read for this long is gone; the leader
  // removes its group (cluster/relay-groups.ts)
  CLUSTER_GROUP_EXPIRY_MS: int('CLUSTER_GROUP_EXPIRY_MS', 86_400_000, 60_000, 30 * 86_400_000),
  // cluster mode: a vehicle's diagnostics owner lease (cluster/vehicle-owners.ts), renewed every third of
  // it; a node silent this long loses its vehicles to the stale-presence sweep run every OWNER_SWEEP_MS
  OWNER_LEASE_MS: int('OWNER_LEASE_MS', 15_000, 300, 600_000),
  OWNER_SWEEP_MS: int('OWNER_SWEEP_MS', 5000, 100, 600_000),
  // cluster mode: the leader lease (cluster/leader.ts) — how often a node without it asks again, and how
  // often the leader's timers look at the due times the other nodes wrote
  LEADER_RETRY_MS: int('LEADER_RETRY_MS', 2000, 50, 60_000),
  LEADER_POLL_MS: int('LEADER_POLL_MS', 1000, 50, 60_000),
  TELEMETRY_RETENTION_DAYS: int('TELEMETRY_RETENTION_DAYS', 90, 1, 36_500),
  DEAD_LETTER_MAX: int('DEAD_LETTER_MAX', 10_000, 10, 10_000_000),
  REGISTRY_POLL_MS: int('REGISTRY_POLL_MS', 1000, 50, 60_000),
  RULES_FILE: z.string().min(1).optional(),
  PLANS_FILE: z.string().min(1).optional(),
  DUTY_LEAD: z.string().min(1).max(100).default('duty-lead'),
  // who a missed deadline escalates to when no duty shift covers the moment: every active account of this role
  ESCALATION_ROLE: z
    .enum(['admin', 'dispatcher', 'engineer'], { error: 'ESCALATION_ROLE must be admin, dispatcher or engineer' })
    .default('dispatcher'),
  THIRTY_MINUTE_RULE: z
    .enum(['all', 'in_province'], {
      error: 'THIRTY_MINUTE_RULE must be all (every task) or in_province (省内 tasks only, as the plan states)',
    })
    .default('all'),
  COMMAND_ACK_TIMEOUT_MS: int('COMMAND_ACK_TIMEOUT_MS', DEFAULT_COMMAND_ACK_TIMEOUT_MS, 100, 600_000),
  DIAGNOSTICS_TICK_MS: int('DIAGNOSTICS_TICK_MS', 5000, 100, 600_000),
  DIAGNOSTICS_STALE_AFTER_MS: int('DIAGNOSTICS_STALE_AFTER_MS', 5 * 60_000, 1000, 86_400_000),
  DIAGNOSTICS_RECOVERY_MS: int('DIAGNOSTICS_RECOVERY_MS', 120_000, 0, 3_600_000),
  ALARM_FLAP_WINDOW_MS: int('ALARM_FLAP_WINDOW_MS', 5 * 60_000, 0, 86_400_000),
  NOTIFY_CHANNELS_FILE: z.string().min(1).optional(),
  NOTIFY_MAX_TRIES: int('NOTIFY_MAX_TRIES', 8, 1, 100),
  NOTIFY_BACKOFF_BASE_MS: int('NOTIFY_BACKOFF_BASE_MS', 30_000, 10, 3_600_000),
  NOTIFY_BACKOFF_MAX_MS: int('NOTIFY_BACKOFF_MAX_MS', 3_600_000, 100, 86_400_000),
  NOTIFY_POLL_MS: int('NOTIFY_POLL_MS', 1000, 50, 600_000),
  NOTIFY_CONCURRENCY: int('NOTIFY_CONCURRENCY', 4, 1, 100),
  NOTIFY_SEND_TIMEOUT_MS: int('NOTIFY_SEND_TIMEOUT_MS', 10_000, 100, 300_000),
  NOTIFY_STOP_TIMEOUT_MS: int('NOTIFY_STOP_TIMEOUT_MS', 10_000, 0, 300_000),
  SESSION_RING_MS: int('SESSION_RING_MS', 180_000, 1000, 3_600_000),
  SESSION_ABANDON_MS: int('SESSION_ABANDON_MS', 600_000, 10_000, 86_400_000),
  SERVICE_TIME_ZONE: z
    .string()
    .trim()
    .refine(isTimeZone, { error: 'SERVICE_TIME_ZONE must be an IANA time zone such as Asia/Shanghai' })
    .default('Asia/Shanghai'),
  PUBLIC_URL: z
    .url({
      protocol: /^https?$/,
      error: 'PUBLIC_URL must be the console’s http(s) address, e.g. https://powerwatch.example.com',
    })
    .default('http://localhost:8080'),
  TEMPLATES_FILE: z.string().min(1).optional(),
  // the CJK font service reports are printed with (Debian fonts-wqy-microhei); checked at start (a
  // warning) and at each PDF request (REPORT_FONT_MISSING), so a missing font never stops the platform
  REPORT_FONT_FILE: z
    .string()
    .trim()
    .regex(/\.(ttf|otf|ttc|otc)$/i, { error: 'REPORT_FONT_FILE must name a .ttf, .otf, .ttc or .otc font file' })
    .default(DEFAULT_REPORT_FONT.file),
  REPORT_FONT_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9-]{1,63}$/, { error: 'REPORT_FONT_NAME must be a PostScript font name like WenQuanYiMicroHei' })
    .default(DEFAULT_REPORT_FONT.name),
  NOTIFY_TIME_ZONE: timeZone.default('Asia/Shanghai'),
  NOTIFY_LANGUAGE: z.enum(['en', 'zh'], { error: 'NOTIFY_LANGUAGE must be en or zh' }).default('zh'),
  NOTIFY_MERGE_WINDOW_MS: int('NOTIFY_MERGE_WINDOW_MS', 10 * 60_000, 1000, 86_400_000),
  NOTIFY_RATE_MAX: int('NOTIFY_RATE_MAX', 5, 1, 1000),
  NOTIFY_RATE_WINDOW_MS: int('NOTIFY_RATE_WINDOW_MS', 10 * 60_000, 1000, 86_400_000),
  PAGE_AT_RISK_MS: int('PAGE_AT_RISK_MS', 10 * 60_000, 0, 30 * 60_000),
  PAGE_CHAIN: pageChain.default([
    { role: 'assignee', waitMs: 5 * 60_000 },
    { role: 'duty_lead', waitMs: 5 * 60_000 },
    { role: 'service_manager', waitMs: null },
  ]),
  SERVICE_MANAGER: z.string().min(1).max(100).default('service-manager'),
  /** A survey score at or below this on any question opens a follow-up (满意度回访); 1–5. */
  SURVEY_LOW_SCORE: int('SURVEY_LOW_SCORE', 2, 1, 5),
  /** First-time fix: no ticket for the same vehicle and fault within this many days after closure. */
  FIRST_FIX_DAYS: int('FIRST_FIX_DAYS', 30, 1, 365),
  PAGE_SECRET: z
    .string()
    .regex(/^\S{32,256}$/, { error: 'PAGE_SECRET must be 32–256 characters without spaces' })
    .optional(),
  /** InfluxDB 2 (or anything with its /api/v2/write) to export every stored frame to; unset: no export. */
  INFLUX_URL: z
    .url({ protocol: /^https?$/, error: 'INFLUX_URL must be an http(s) URL, e.g. http://influxdb:8086' })
    .optional(),
  INFLUX_TOKEN: z.string().min(1).optional(),
  INFLUX_ORG: z.string().min(1).default('powerwatch'),
  INFLUX_BUCKET: z.string().min(1).default('telemetry'),
  INFLUX_BATCH_FRAMES: int('INFLUX_BATCH_FRAMES', 5000, 1, 100_000),
  INFLUX_IDLE_MS: int('INFLUX_IDLE_MS', 1000, 10, 600_000),
  INFLUX_BACKOFF_MIN_MS: int('INFLUX_BACKOFF_MIN_MS', 500, 10, 600_000),
  INFLUX_BACKOFF_MAX_MS: int('INFLUX_BACKOFF_MAX_MS', 60_000, 10, 3_600_000),
  INFLUX_TIMEOUT_MS: int('INFLUX_TIMEOUT_MS', 10_000, 100, 600_000),
  METRICS_TOKEN: z
    .string()
    .regex(/^\S{24,256}$/, { error: 'METRICS_TOKEN must be 24–256 characters without spaces' })
    .optional(),
});

/** Settings whose value is a secret: never repeated in an error message. */
const SECRET_KEYS = new Set([
  'DATABASE_URL',
  'TELEMETRY_DATABASE_URL',
  'METRICS_TOKEN',
  'TOTP_SECRET_KEY',
  'PAGE_SECRET',
  'INFLUX_TOKEN',
  'REDIS_URL',
]);

export type PlatformConfig = z.infer<typeof configSchema> & {
  dataDir: string;
  /**
   * The reverse proxies whose X-Forwarded-* headers are believed: HTTP_TRUSTED_PROXIES, else
   * `loopback` for the older HTTP_TRUST_PROXY=true, else none.
   */
  trustedProxies: string[];
  /** The PostgreSQL telemetry store's URL with TELEMETRY_STORE=postgres: TELEMETRY_DATABASE_URL, else DATABASE_URL. */
  telemetryDatabaseUrl?: string;
};

/** Validates the environment; throws one CONFIG_INVALID error listing every bad value. */
export function loadConfig(env: Record<string, string | undefined>): PlatformConfig {
  const picked = Object.fromEntries(
    Object.keys(configSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      const value = SECRET_KEYS.has(key) ? '(not shown)' : JSON.stringify(picked[key] ?? '');
      return `  ${key}=${value}: ${i.message}`;
    });
    throw new PlatformError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  const problems = [
    ...tlsProblems(parsed.data),
    ...drainProblems(parsed.data),
    ...telemetryStoreProblems(parsed.data),
    ...clusterProblems(parsed.data),
  ];
  if (problems.length)
    throw new PlatformError('CONFIG_INVALID', `invalid configuration:\n${problems.map((l) => `  ${l}`).join('\n')}`);
  const trustedProxies = parsed.data.HTTP_TRUSTED_PROXIES ?? (parsed.data.HTTP_TRUST_PROXY ? ['loopback'] : []);
  const telemetryDatabaseUrl =
    parsed.data.TELEMETRY_STORE === 'postgres'
      ? (parsed.data.TELEMETRY_DATABASE_URL ?? parsed.data.DATABASE_URL)
      : undefined;
  return {
    ...parsed.data,
    dataDir: resolve(parsed.data.DATA_DIR),
    trustedProxies,
    ...(telemetryDatabaseUrl ? { telemetryDatabaseUrl } : {}),
  };
}

/** TELEMETRY_STORE=postgres needs a database; TELEMETRY_DATABASE_URL means nothing without it. */
function telemetryStoreProblems(c: z.infer<typeof configSchema>): string[] {
  if (c.TELEMETRY_STORE !== 'postgres') {
    return c.TELEMETRY_DATABASE_URL !== undefined
      ? ['TELEMETRY_DATABASE_URL is used only with TELEMETRY_STORE=postgres']
      : [];
  }
  const out: string[] = [];
  if (c.TELEMETRY_DATABASE_URL === undefined && c.DATABASE_URL === undefined)
    out.push(
      'TELEMETRY_DATABASE_URL is missing: TELEMETRY_STORE=postgres needs a PostgreSQL URL (TELEMETRY_DATABASE_URL, or DATABASE_URL to share the records database)',
    );
  return out;
}

/**
 * TLS settings come in pairs: a listener needs both its certificate and its key, and each file must
 * exist (read again when it changes). A missing one stops the start with the setting's name.
 */
function tlsProblems(c: z.infer<typeof configSchema>): string[] {
  const out: string[] = [];
  const file = (key: string, path: string | undefined, need: string) => {
    if (path === undefined) out.push(`${key} is missing: ${need}`);
    else if (!existsSync(path)) out.push(`${key}=${JSON.stringify(path)}: no such file`);
  };
  // client certificates are asked for on the TLS port (MQTT_TLS_CLIENT_CERT) and/or over wss (HTTP_TLS_CLIENT_CERT)
  const asking = [
    ...(c.MQTT_TLS_CLIENT_CERT !== 'off' ? [`MQTT_TLS_CLIENT_CERT=${c.MQTT_TLS_CLIENT_CERT}`] : []),
    ...(c.HTTP_TLS_CLIENT_CERT !== 'off' ? [`HTTP_TLS_CLIENT_CERT=${c.HTTP_TLS_CLIENT_CERT}`] : []),
  ];
  const clientCertModes = 'MQTT_TLS_CLIENT_CERT=optional or required (or HTTP_TLS_CLIENT_CERT=optional)';
  if (c.MQTT_TLS_PORT !== undefined) {
    file('MQTT_TLS_CERT_FILE', c.MQTT_TLS_CERT_FILE, 'MQTT_TLS_PORT needs the certificate (PEM) file');
    file('MQTT_TLS_KEY_FILE', c.MQTT_TLS_KEY_FILE, 'MQTT_TLS_PORT needs the private key (PEM) file');
  } else if (
    c.MQTT_TLS_CERT_FILE !== undefined ||
    c.MQTT_TLS_KEY_FILE !== undefined ||
    (c.MQTT_TLS_CA_FILE !== undefined && c.HTTP_TLS_CLIENT_CERT === 'off') ||
    c.MQTT_TLS_CLIENT_CERT !== 'off'
  )
    out.push(
      'MQTT_TLS_PORT is missing: MQTT_TLS_CERT_FILE/MQTT_TLS_KEY_FILE/MQTT_TLS_CA_FILE/MQTT_TLS_CLIENT_CERT are used only with it (8883 is usual)',
    );
  if (asking.length)
    file(
      'MQTT_TLS_CA_FILE',
      c.MQTT_TLS_CA_FILE,
      `${asking.join(' and ')} needs the CA (PEM) that issues the vehicles' certificates`,
    );
  else if (c.MQTT_TLS_CA_FILE !== undefined && c.MQTT_TLS_PORT !== undefined)
    out.push(`MQTT_TLS_CA_FILE is used only with ${clientCertModes}`);
  if (c.MQTT_TLS_CRL_FILE !== undefined) {
    if (asking.length) file('MQTT_TLS_CRL_FILE', c.MQTT_TLS_CRL_FILE, '');
    else out.push(`MQTT_TLS_CRL_FILE is used only with ${clientCertModes}`);
  }
  if (c.HTTP_TLS_CLIENT_CERT !== 'off') {
    if (c.HTTP_TLS_CERT_FILE === undefined)
      out.push(
        'HTTP_TLS_CLIENT_CERT=optional needs HTTPS on the console port: HTTP_TLS_CERT_FILE and HTTP_TLS_KEY_FILE',
      );
    if (!c.MQTT_WS) out.push('HTTP_TLS_CLIENT_CERT=optional is for MQTT over WebSocket: set MQTT_WS=true');
  }
  if (c.MQTT_PORT === null && c.MQTT_TLS_PORT === undefined && !c.MQTT_WS)
    out.push('MQTT_PORT=off leaves gateways no way in: set MQTT_TLS_PORT (and/or MQTT_WS=true)');
  if (c.HTTP_TLS_CERT_FILE !== undefined || c.HTTP_TLS_KEY_FILE !== undefined) {
    file('HTTP_TLS_CERT_FILE', c.HTTP_TLS_CERT_FILE, 'HTTPS needs the certificate (PEM) file as well as the key');
    file('HTTP_TLS_KEY_FILE', c.HTTP_TLS_KEY_FILE, 'HTTPS needs the private key (PEM) file as well as the certificate');
  }
  return out;
}

/**
 * Cluster mode (REDIS_URL) runs several identical nodes on one set of databases: the embedded SQLite
 * files in one node's DATA_DIR cannot be shared, so the records and telemetry must be on PostgreSQL.
 */
function clusterProblems(c: z.infer<typeof configSchema>): string[] {
  if (c.REDIS_URL === undefined) return [];
  const out: string[] = [];
  if (c.DATABASE_URL === undefined)
    out.push('REDIS_URL (cluster mode) needs DATABASE_URL: the nodes share the records on PostgreSQL');
  if (c.TELEMETRY_STORE !== 'postgres')
    out.push('REDIS_URL (cluster mode) needs TELEMETRY_STORE=postgres: the nodes share the telemetry on PostgreSQL');
  return out;
}

/** The drain's waits must fit in its timeout, or every SIGTERM would end in the forced exit. */
function drainProblems(c: z.infer<typeof configSchema>): string[] {
  const waits = c.DRAIN_READY_DELAY_MS + c.DRAIN_MOVE_MS;
  return waits < c.DRAIN_TIMEOUT_MS
    ? []
    : [
        `DRAIN_TIMEOUT_MS=${c.DRAIN_TIMEOUT_MS} must exceed DRAIN_READY_DELAY_MS + DRAIN_MOVE_MS (${waits}): leave time for the last commits`,
      ];
}

/** The RATE_* settings as the web console's rate limits (web/rate-limits.ts). */
export function rateLimitsOf(c: PlatformConfig): RateLimitOptions {
  return {
    tickets: { perMin: c.RATE_TICKETS_PER_MIN, unitPerMin: c.RATE_TICKETS_UNIT_PER_MIN },
    comments: { perMin: c.RATE_COMMENTS_PER_MIN, unitPerMin: c.RATE_COMMENTS_UNIT_PER_MIN },
    acks: { perMin: c.RATE_ACKS_PER_MIN },
    sessions: { perMin: c.RATE_SESSIONS_PER_MIN, unitPerMin: c.RATE_SESSIONS_UNIT_PER_MIN },
    chat: { perMin: c.RATE_CHAT_PER_MIN, unitPerMin: c.RATE_CHAT_UNIT_PER_MIN },
    photos: { perMin: c.RATE_PHOTOS_PER_MIN, unitPerMin: c.RATE_PHOTOS_UNIT_PER_MIN },
    invites: { perMin: c.RATE_INVITES_PER_MIN },
  };
}
