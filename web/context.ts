import type { ReadinessReport } from '../core/readiness.ts';
import type { SecureContextOptions } from 'node:tls';
import type { CommandPolicy } from '../commands/policy.ts';
import type { CommandService } from '../commands/service.ts';
import type { Counters } from '../core/counters.ts';
import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ScryptCost } from '../core/secrets.ts';
import type { Alarms } from '../diagnostics/alarms/alarms.ts';
import type { FieldLimit } from '../diagnostics/limits.ts';
import type { PlanBook } from '../diagnostics/plans/plans.ts';
import type { TicketService } from '../diagnostics/tickets/service.ts';
import type { ServiceOrders } from '../diagnostics/service-orders/orders.ts';
import type { ModeSteps } from '../diagnostics/tickets/mode-steps.ts';
import type { Alarm, Ticket } from '../diagnostics/types.ts';
import type { Deliveries } from '../notifications/deliveries.ts';
import type { RecordsDb } from '../records/db.ts';
import type { StepRunner } from '../remote/steps.ts';
import type { SessionInvites } from '../remote/invites.ts';
import type { SessionPhotos } from '../remote/photos.ts';
import type { RemoteSessions } from '../remote/sessions.ts';
import type { Customers } from '../registry/customers.ts';
import type { PowerProfile } from '../protocol/index.ts';
import type { PresenceStore } from '../registry/presence.ts';
import type { Vehicle, VehicleRegistry } from '../registry/vehicles.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import type { Account, Accounts } from './auth/accounts.ts';
import { FIELD_ROLES } from './auth/roles.ts';
import type { ApiTokens, TokenRateLimit } from './auth/api-tokens.ts';
import type { AuditLog } from './auth/audit.ts';
import type { LoginChallenges } from './auth/login-challenges.ts';
import type { PasswordResets } from './auth/password-resets.ts';
import type { TwoFactor } from './auth/two-factor.ts';
import type { SessionOptions, Sessions } from './auth/sessions.ts';
import type { ScrapeToken } from './auth/scrape-token.ts';
import type { LoginThrottle, LoginThrottleOptions } from './auth/throttle.ts';
import type { PublicNames } from './public-names.ts';
import type { Contacts } from '../notifications/contacts.ts';
import type { RateLimitOptions, RateLimits } from './rate-limits.ts';
import type { Paging } from '../notifications/paging.ts';
import type { ServiceRecords } from '../service/stage.ts';
import type { ReportFont } from '../reports/font.ts';
import type { Reports } from '../reports/reports.ts';
import type { Stock } from '../resources/stock/stock.ts';
import type { ReportParts } from '../reports/service-report.ts';
import type { ResourceRegister } from '../resources/register.ts';
import type { SupportPlans } from '../diagnostics/support-plans/plans.ts';

/** What the console needs from the platform. The composition root passes it in. */
export interface WebDeps {
  log: Logger;
  now?: () => number;
  records: RecordsDb;
  vehicles: VehicleRegistry;
  customers: Customers;
  presence: Pick<PresenceStore, 'get' | 'all'>;
  telemetry: Pick<TelemetryStore, 'latestMany' | 'series' | 'seriesBytes'>;
  diagnostics: {
    alarms: Alarms;
    tickets: TicketService;
    /** Planned services requested by application (巡检巡修, 技术培训, 伴随保障). */
    serviceOrders: ServiceOrders;
    /** The service modes' own steps of tickets (on-site repair, return to factory, emergency replacement). */
    modeSteps: ModeSteps;
    plans: PlanBook;
    faultTitles?: () => Record<string, { en: string; zh: string }>;
    /** The limits of a vehicle's fields from the rules that apply to it (diagnostics/limits.ts). */
    limits?: (model: string, profile: PowerProfile) => FieldLimit[];
  };
  /** Operator commands (commands/): the service and who may send what. */
  commands: { service: Pick<CommandService, 'send' | 'get' | 'page'>; policy: CommandPolicy };
  /** The notification deliveries (admin view, re-send) and each account's inbox. */
  deliveries: Deliveries;
  /** Remote guidance sessions and the duty roster (remote/sessions.ts). */
  remote: RemoteSessions;
  /** Contacts and subscriptions (who gets what), pages and their acknowledgement. */
  notifications: { contacts: Contacts; paging: Paging };
  /** Survey and follow-up, statistics, customer file (service/). */
  service: Pick<ServiceRecords, 'surveys' | 'stats' | 'files' | 'lowScore'>;
  /** The sessions' photos (remote/photos.ts). */
  photos: Pick<SessionPhotos, 'add' | 'read' | 'list' | 'maxBytes'>;
  /** Guest invitations and guest sessions (remote/invites.ts). */
  invites: Pick<SessionInvites, 'create' | 'list' | 'revoke' | 'login' | 'lookup' | 'alive' | 'logout' | 'onEnded'>;
  counters: Counters;
  /** The guided steps of remote sessions (remote/steps.ts). */
  steps: Pick<StepRunner, 'list' | 'done' | 'skip' | 'check' | 'add'>;
  /** Spare-parts stock (resources/stock/). */
  stock: Stock;
  /** The service report's parts used (default: the ticket's free lines); the platform passes the ledger's (platform/report-parts.ts). */
  reportParts?: ReportParts;
  /** The resource register: tools, suppliers and quality, partners, people (resources/register.ts). */
  resourceRegister: Pick<ResourceRegister, 'tools' | 'suppliers' | 'quality' | 'partners' | 'people'>;
  /** The support plan documents of tickets (应急保障工作计划; diagnostics/support-plans/). */
  supportPlans: SupportPlans;
  /** `GET /healthz` body. */
  health: () => object;
  /** `GET /readyz`: the readiness checks (core/readiness.ts); 503 unless `ready`. */
  ready: () => Promise<ReadinessReport>;
  /** `GET /metrics.json` body: the counters with their counts per key. */
  metrics: () => object | Promise<object>;
  /** `GET /metrics` body: the Prometheus text exposition (no per-vehicle labels). */
  prometheus: () => string | Promise<string>;
}

export interface WebOptions {
  session: SessionOptions;
  login: LoginThrottleOptions;
  /** scrypt cost of passwords; tests lower it. Default: core/secrets PASSWORD_COST. */
  passwordCost?: ScryptCost;
  /**
   * The reverse proxies (addresses, CIDR ranges, `loopback`…; web/proxy-trust.ts) whose
   * X-Forwarded-For / -Host / -Proto are believed. None by default: a client's own headers are ignored.
   */
  trustedProxies?: readonly string[];
  /** Create an admin with a one-time setup password when there is none (default true). */
  bootstrapAdmin?: boolean;
  bodyLimitBytes?: number;
  /** The built browser app (dist/console) served at `/`; none: the API only. */
  consoleDir?: string;
  /** Serve HTTPS with this certificate and key (HTTP_TLS_CERT_FILE/KEY_FILE); none: plain HTTP (or TLS at a reverse proxy). */
  https?: () => SecureContextOptions;
  /**
   * Ask HTTPS clients for a certificate (HTTP_TLS_CLIENT_CERT=optional; the trusted CA is `https()`'s
   * `ca`), never require one: MQTT over WebSocket authenticates vehicles by it, the console ignores it.
   */
  httpsClientCertificates?: boolean;
  /** Bearer token that reads `GET /metrics` without a staff session (`METRICS_TOKEN`); none: staff sessions only. */
  metricsToken?: string;
  /** The 32-byte key TOTP secrets are encrypted with at rest (TOTP_SECRET_KEY, else `DATA_DIR/totp-secret.key`). */
  totpSecretKey: Buffer;
  /** Admin actions need the password or a TOTP code proven this recently (REAUTH_WINDOW_MS); default 15 min. */
  reauthWindowMs?: number;
  /** How long an admin-issued password reset link works (RESET_LINK_TTL_MS); default 24 h. */
  resetLinkTtlMs?: number;
  /** The CJK font of PDF service reports (REPORT_FONT_FILE, REPORT_FONT_NAME); default Debian's WenQuanYi Micro Hei. */
  reportFont?: ReportFont;
  /** Requests per minute per API token (API_TOKEN_RATE_PER_MIN); default 120. */
  apiTokenRatePerMin?: number;
  /** What each account and customer unit may create a minute (RATE_*; web/rate-limits.ts); defaults per kind. */
  rateLimits?: Partial<RateLimitOptions>;
}

/** Everything a route module works with. */
export interface WebContext {
  deps: WebDeps;
  now: () => number;
  accounts: Accounts;
  sessions: Sessions;
  audit: AuditLog;
  throttle: LoginThrottle;
  /** Failed guest links, per client address (the login throttle's rules). */
  guestThrottle: LoginThrottle;
  tenancy: Tenancy;
  scrapeToken: ScrapeToken;
  twoFactor: TwoFactor;
  challenges: LoginChallenges;
  resets: PasswordResets;
  tokens: ApiTokens;
  tokenRate: TokenRateLimit;
  /** The limits on what users create (tickets, comments, sessions, chat, photos, invites). */
  rateLimits: RateLimits;
  /** Admin actions need a password or TOTP proof this recent. */
  reauthWindowMs: number;
  /** How people are named to a viewer: customers never get staff login ids. */
  names: PublicNames;
  /** Service reports (《售后服务报告》) of tickets, HTML and PDF (reports/). */
  reports: Reports;
}

/**
 * Tenant checks. A customer account sees only its own unit: anything of another unit answers
 * exactly like something that does not exist (404 with the same message), so ids cannot be probed.
 */
export function createTenancy(deps: Pick<WebDeps, 'vehicles' | 'diagnostics'>) {
  // supply chain (供应链管理部) works the stock only: no vehicle, ticket or alarm of any unit is its
  // (the routes do not let it in; this holds for the live channel's subscriptions too)
  const outsider = (a: Account) => !FIELD_ROLES.includes(a.role);
  const foreign = (a: Account, customerId: string | null) =>
    outsider(a) || (a.role === 'customer' && (customerId === null || customerId !== a.customerId));
  return {
    /** The customer unit a listing is restricted to, or undefined for staff. */
    scope(a: Account): string | undefined {
      if (outsider(a)) return '\u0000none';
      return a.role === 'customer' ? (a.customerId ?? '\u0000none') : undefined;
    },
    /**
     * The earliest time of a vehicle's records the account may see: a customer only what was
     * recorded since the vehicle came to its unit (added or transferred); staff everything.
     */
    since(a: Account, v: Vehicle): number | undefined {
      return a.role === 'customer' ? v.assignedAt : undefined;
    },
    async vehicle(a: Account, id: string): Promise<Vehicle> {
      const v = await deps.vehicles.get(id);
      if (!v || foreign(a, v.customerId)) throw new PlatformError('VEHICLE_NOT_FOUND', `vehicle ${id} not found`);
      return v;
    },
    async ticket(a: Account, id: number): Promise<Ticket> {
      const t = await deps.diagnostics.tickets.get(id);
      if (foreign(a, t.customerId)) throw new PlatformError('TICKET_NOT_FOUND', `ticket ${id} not found`);
      return t;
    },
    async alarm(a: Account, id: number): Promise<Alarm> {
      const alarm = await deps.diagnostics.alarms.get(id);
      // the unit stamped on the alarm when it was raised, not the vehicle's unit now: a vehicle id
      // reused for another unit (or a transferred vehicle) does not take its old alarms along
      if (foreign(a, alarm.customerId)) throw new PlatformError('ALARM_NOT_FOUND', `alarm ${id} not found`);
      return alarm;
    },
  };
}

export type Tenancy = ReturnType<typeof createTenancy>;
