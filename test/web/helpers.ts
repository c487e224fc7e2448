import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { REDACT_PATHS, type Logger } from '../../core/logger.ts';
import { loadPlanFile } from '../../diagnostics/plans/plans.ts';
import { loadRuleFile } from '../../diagnostics/rules/load.ts';
import type { Alarm, Ticket } from '../../diagnostics/types.ts';
import type { TicketLevel } from '../../diagnostics/tickets/status.ts';
import { createDeliveries } from '../../notifications/deliveries.ts';
import { enqueue } from '../../notifications/outbox.ts';
import { loadConfig } from '../../platform/config.ts';
import { createDiagnosticsStage } from '../../platform/diagnostics.ts';
import { createRemoteStage, createSessionParts } from '../../platform/remote.ts';
import { createServiceStage } from '../../platform/service.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';
import { createCustomers } from '../../registry/customers.ts';
import { createPresenceStore } from '../../registry/presence.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import type { TelemetryStore } from '../../telemetry/store.ts';
import { createResourceRegister } from '../../resources/register.ts';
import { createCommandPolicy } from '../../commands/policy.ts';
import { createCommandService } from '../../commands/service.ts';
import type { Command, CommandAck } from '../../protocol/index.ts';
import type { ParticipantRole } from '../../remote/types.ts';
import { createAuditLog } from '../../web/auth/audit.ts';
import { createWebApp, type WebOptions } from '../../web/app.ts';
import { createStock } from '../../resources/stock/stock.ts';
import { createSupportPlanStage } from '../../platform/support-plans.ts';
import { ledgerReportParts } from '../../platform/report-parts.ts';
import type { Role } from '../../web/auth/accounts.ts';
import { GUEST_COOKIE } from '../../web/auth/guard.ts';
import { SESSION_COOKIE } from '../../web/auth/sessions.ts';
import { rm } from 'node:fs/promises';
import type { WebContext } from '../../web/context.ts';
import { RATE_LIMIT_KINDS, type RateLimitOptions } from '../../web/rate-limits.ts';
import { renderPrometheus } from '../../platform/prometheus.ts';

/**
 * Rate limits no test reaches: for suites that send hundreds of requests of one kind as one account
 * to test something else (input validation, the tenant matrix). test/security/rate-limits.test.ts
 * tests the limits themselves.
 */
export const NO_RATE_LIMITS = Object.fromEntries(
  RATE_LIMIT_KINDS.map((k) => [k, { perMin: 1_000_000, unitPerMin: 1_000_000 }]),
) as RateLimitOptions;

export const RULES = loadRuleFile(new URL('../../diagnostics/rules/default-rules.yaml', import.meta.url).pathname);
export const PLANS = loadPlanFile(new URL('../../diagnostics/plans/default-plans.yaml', import.meta.url).pathname);
export const PASSWORD = 'correct horse battery staple';
/** Cheap scrypt for tests; production uses PASSWORD_COST. */
export const TEST_COST = { log2N: 4, r: 8, p: 1 };

/** A logger whose every line is kept, to prove what does (and does not) reach the log. */
export function captureLogger(level = 'debug'): {
  log: Logger;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  return {
    log,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export interface Agent {
  account: string;
  cookie: string;
  csrf: string;
  request(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, body?: unknown): Promise<LightMyRequestResponse>;
  patch(url: string, body?: unknown): Promise<LightMyRequestResponse>;
  delete(url: string): Promise<LightMyRequestResponse>;
}

export type TestWeb = Awaited<ReturnType<typeof startWeb>>;

/**
 * The console app over an in-memory records store and telemetry store, with a controllable clock,
 * two customer units (CA, CB) with one vehicle each (VA1, VB1), and one account per role:
 * admin, dispatcher, engineer, cust-a (unit CA), cust-b (unit CB). Password: PASSWORD.
 */
export async function startWeb(
  opts: {
    options?: Partial<WebOptions>;
    log?: Logger;
    db?: RecordsDb;
    seed?: boolean;
    /** Settings of the diagnostics and notifications stage (platform/config.ts names). */
    env?: Record<string, string>;
    /** The telemetry store (default: in memory); the caller closes one it gives. */
    telemetry?: TelemetryStore;
  } = {},
) {
  let clock = Date.UTC(2026, 10, 27, 8, 0, 0);
  const now = () => clock;
  const db = opts.db ?? (await openTestRecords());
  const log = opts.log ?? pino({ level: 'silent' });
  const bus = createInProcessBus<PlatformEvents>(log);
  const counters = createCounters();
  const telemetry = opts.telemetry ?? createMemoryTelemetryStore();
  const vehicles = createVehicleRegistry({ db, now });
  const customers = createCustomers({ db, now });
  const presence = createPresenceStore({ db }, { flushMs: 1 });
  // diagnostics and the ticket service as the platform wires them; not started (no rule ticks, no deadline timer)
  const {
    diagnostics,
    tickets,
    notifications,
    forWeb: diagnosticsForWeb,
  } = createDiagnosticsStage(
    { bus, records: db, log, counters, now, vehicles, telemetry, rules: RULES, plans: PLANS },
    loadConfig({ DIAGNOSTICS_TICK_MS: '60000', ...opts.env }),
  );
  // operator commands as the platform wires them; what would go to the broker is kept in `published`
  const published: { vehicleId: string; command: Command }[] = [];
  /** Plays the vehicle's side: the ack to send for a published command (none: no answer). */
  let gateway: ((vehicleId: string, command: Command) => CommandAck | undefined) | undefined;
  const commands = createCommandService(
    {
      db,
      bus,
      publish: async (vehicleId, command) => {
        published.push({ vehicleId, command });
        const ack = gateway?.(vehicleId, command);
        if (ack) setImmediate(() => bus.emit('command.ack', { vehicleId, receivedAt: now(), ack }));
      },
      isOnline: async (vehicleId) => (await presence.get(vehicleId))?.online === true,
      audit: (tx) => createAuditLog({ db: tx, now }),
      log,
      counters,
      now,
    },
    { ackTimeoutMs: 30_000 },
  );
  /** Live remote-session roles by `${accountId} ${vehicleId}` (the remote sessions' answer, set by tests). */
  const liveRoles = new Map<string, ParticipantRole>();
  const commandPolicy = createCommandPolicy({
    liveSessionRole: async (accountId, vehicleId) => liveRoles.get(`${accountId} ${vehicleId}`) ?? null,
    isDutyLead: (accountId) => accountId === 'duty-lead',
  });
  // photos go to a temporary directory, made by the first upload; tests that upload remove it (photoDir)
  const photoDir = join(tmpdir(), `pw-photos-${randomBytes(6).toString('hex')}`);
  // the session records as the platform wires them; not started (no ring or abandon timer)
  const sessions = createRemoteStage(
    { bus, records: db, log, now, tickets, vehicles, telemetry, producer: notifications.producer },
    loadConfig({ SESSION_RING_MS: '180000' }),
  );
  // its guided steps (not started: no check timers until a test starts them)
  const sessionParts = createSessionParts(
    { sessions, tickets, bus, records: db, log, now, commands, vehicles },
    { SESSION_RATE_RENEW_MS: 120_000, photoDir },
  );
  // surveys, ticket outcomes, statistics and the customer file, listening to the bus (stopped by close())
  const service = createServiceStage(
    { bus, records: db, log, now, messages: notifications.messages },
    loadConfig({ ...opts.env }),
  );
  service.start();
  const options: WebOptions = {
    session: { idleTimeoutMs: 3_600_000, maxAgeMs: 8 * 3_600_000 },
    login: { maxPerAccount: 5, maxPerIp: 20, windowMs: 15 * 60_000 },
    passwordCost: TEST_COST,
    bootstrapAdmin: false,
    totpSecretKey: randomBytes(32),
    ...opts.options,
  };
  const stock = createStock({ db, log, now, planParts: (code) => diagnosticsForWeb.plans.get(code)?.parts });
  // the resource register as the platform wires it; its reminder sweep not started (tests call sweep())
  const resourceRegister = createResourceRegister({ db, now, bus, log });
  const supportPlans = createSupportPlanStage({ db, log, now, tickets, stock, tools: resourceRegister.tools });
  const { app, ctx } = await createWebApp(
    {
      log,
      now,
      records: db,
      vehicles,
      customers,
      presence,
      telemetry,
      diagnostics: diagnosticsForWeb,
      commands: { service: commands, policy: commandPolicy },
      deliveries: createDeliveries({ db, now, queued: () => bus.emit('notification.enqueued', { count: 1 }) }),
      remote: sessions,
      steps: sessionParts.steps,
      notifications: notifications.forWeb,
      service,
      photos: sessionParts.photos,
      invites: sessionParts.invites,
      stock,
      reportParts: ledgerReportParts((id) => stock.consumed(id)),
      resourceRegister,
      supportPlans,
      counters,
      health: () => ({ status: 'ok' }),
      ready: async () => ({ ready: true, status: 'ready', node: 'test', failing: [], checks: {} }),
      metrics: () => counters.snapshot(),
      prometheus: () =>
        renderPrometheus({
          counters: counters.snapshot(),
          histograms: {},
          uptimeS: 0,
          mqttConnectedClients: 0,
          liveSocketClients: 0,
        }),
    },
    options,
  );

  await commands.start();
  sessionParts.invites.start(); // a bus listener only: nothing to stop

  if (opts.seed !== false) {
    await customers.add({ id: 'CA', name: 'Unit A' });
    await customers.add({ id: 'CB', name: 'Unit B' });
    await vehicles.add({ id: 'VA1', customerId: 'CA', name: 'Shelter A1', model: 'XJ-24' });
    await vehicles.add({ id: 'VB1', customerId: 'CB', name: 'Shelter B1', model: 'XJ-24' });
    const accounts: [string, Role, string | null][] = [
      ['admin', 'admin', null],
      ['dispatcher', 'dispatcher', null],
      ['engineer', 'engineer', null],
      ['cust-a', 'customer', 'CA'],
      ['cust-b', 'customer', 'CB'],
      ['supply', 'supply', null],
    ];
    for (const [id, role, customerId] of accounts)
      await ctx.accounts.add({ id, name: id, role, customerId, password: PASSWORD });
  }

  const remote = { n: 1 };
  async function login(account: string, password = PASSWORD, ip?: string): Promise<Agent> {
    const res = await app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: account, password },
      remoteAddress: ip ?? `10.0.0.${remote.n++ % 250}`,
    });
    if (res.statusCode !== 200) throw new Error(`login as ${account} failed: ${res.statusCode} ${res.body}`);
    return agent(account, res);
  }

  /** Signs in as a guest with an invite link's token (POST /api/guest/login); the agent carries the guest cookie. */
  async function guestLogin(token: string, ip?: string): Promise<Agent> {
    const res = await app.inject({
      method: 'POST',
      url: '/api/guest/login',
      payload: { token },
      remoteAddress: ip ?? `10.0.1.${remote.n++ % 250}`,
    });
    if (res.statusCode !== 200) throw new Error(`guest login failed: ${res.statusCode} ${res.body}`);
    return agent((res.json() as { guestId: string }).guestId, res, GUEST_COOKIE);
  }

  function agent(account: string, loginRes: LightMyRequestResponse, cookieName = SESSION_COOKIE): Agent {
    const cookie = loginRes.cookies.find((c) => c.name === cookieName);
    if (!cookie) throw new Error('no session cookie');
    const csrf = (loginRes.json() as { csrfToken: string }).csrfToken;
    const request = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
      app.inject({
        method: method as 'GET',
        url,
        cookies: { [cookieName]: cookie.value },
        headers: { 'x-csrf-token': csrf, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
    return {
      account,
      cookie: cookie.value,
      csrf,
      request,
      get: (url) => request('GET', url),
      post: (url, body) => request('POST', url, body),
      patch: (url, body) => request('PATCH', url, body),
      delete: (url) => request('DELETE', url),
    };
  }

  const rule = (id: string) => {
    const r = RULES.rules.find((x) => x.id === id);
    if (!r) throw new Error(`no rule ${id}`);
    return r;
  };

  return {
    app: app as FastifyInstance,
    ctx: ctx as WebContext,
    db,
    bus,
    counters,
    telemetry,
    vehicles,
    customers,
    presence,
    diagnostics,
    tickets,
    commands,
    published,
    liveRoles,
    /** Answers the commands published from now on as `answer` says (the vehicle's side). */
    answerCommands(answer: (vehicleId: string, command: Command) => CommandAck | undefined) {
      gateway = answer;
    },
    sessions,
    sessionParts,
    notifications,
    /** Surveys, outcomes, statistics, customer file (service/); `await service.idle()` after a close. */
    service,
    stock,
    resourceRegister,
    supportPlans,
    now,
    advance: (ms: number) => (clock += ms),
    login,
    guestLogin,
    /** Where this app's photos go (made by the first upload, removed on close). */
    photoDir,
    /** A delivered item in an account's console inbox (as the dispatcher leaves it); returns its id. */
    async inboxItem(accountId: string, subject: string, ticketId: number | null): Promise<number> {
      const key = `test-inbox:${accountId}:${subject}`;
      await enqueue(
        db,
        [
          {
            key,
            channel: 'inbox',
            target: accountId,
            accountId,
            kind: 'ticket.opened',
            language: 'en',
            urgent: false,
            ticketId,
            subject,
            text: `${subject} text`,
          },
        ],
        clock,
      );
      const row = await db
        .updateTable('notifications')
        .set({ status: 'delivered', tries: 1, delivered_at: clock })
        .where('key', '=', key)
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },
    /** An alarm of a rule on a vehicle, as diagnostics would raise it. */
    async alarm(vehicleId: string, ruleId = 'mains_lost'): Promise<Alarm> {
      return (await diagnostics.alarms.raise(vehicleId, rule(ruleId), clock, true, null)).alarm;
    },
    /** A ticket as diagnostics would open it for a fault on a vehicle. */
    async ticket(
      vehicleId: string,
      level: TicketLevel = 'extra_urgent',
      faultCode = 'GEN-START-FAIL',
    ): Promise<Ticket> {
      const v = (await vehicles.get(vehicleId))!;
      return tickets.open(
        {
          source: 'rule',
          vehicleId,
          customerId: v.customerId,
          level,
          title: `${v.name}: fault ${faultCode}`,
          need: `${faultCode} detected automatically`,
          faultCode,
        },
        'system',
      );
    },
    async frames(vehicleId: string, frames: TelemetryFrame[]) {
      await telemetry.append(frames.map((frame) => ({ vehicleId, receivedAt: frame.ts, frame })));
    },
    async close() {
      await service.stop();
      await commands.stop();
      await app.close();
      await rm(photoDir, { recursive: true, force: true });
      if (!opts.db) await db.destroy();
    },
  };
}

/** The `{error:{code}}` of an answer. */
export const codeOf = (res: LightMyRequestResponse): string | undefined =>
  (res.json() as { error?: { code?: string } }).error?.code;

/** A frame of a healthy vehicle on mains at `ts`. */
export function healthyFrame(seq: number, ts: number, patch: Partial<TelemetryFrame> = {}): TelemetryFrame {
  return {
    v: 1,
    seq,
    ts,
    source: 'mains',
    mains: { present: true, voltageV: 221 + (seq % 5) / 10, frequencyHz: 50, currentA: 12 },
    generator: {
      running: false,
      voltageV: 0,
      frequencyHz: 0,
      currentA: 0,
      rpm: 0,
      fuelPct: 80,
      coolantC: 25,
      oilKpa: 0,
    },
    battery: { voltageV: 26.4, currentA: 3, socPct: 95, tempC: 24 },
    charging: { engineRunning: false, alternatorV: 0, currentA: 0 },
    loadKw: 2.5,
    ...patch,
  } as TelemetryFrame;
}
