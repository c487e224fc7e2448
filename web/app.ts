import type { RequestListener, Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import cookie from '@fastify/cookie';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { createAccounts } from './auth/accounts.ts';
import { createApiTokens, createTokenRateLimit } from './auth/api-tokens.ts';
import { createAuditLog } from './auth/audit.ts';
import { createLoginChallenges } from './auth/login-challenges.ts';
import { createPasswordResets } from './auth/password-resets.ts';
import { createTwoFactor } from './auth/two-factor.ts';
import { bootstrapAdmin } from './auth/bootstrap.ts';
import { createScrapeToken } from './auth/scrape-token.ts';
import { installGuard } from './auth/guard.ts';
import { createSessions } from './auth/sessions.ts';
import { createLoginThrottle } from './auth/throttle.ts';
import { createTenancy, type WebContext, type WebDeps, type WebOptions } from './context.ts';
import { installErrorHandling, sendError } from './errors.ts';
import { adminRoutes } from './routes/admin.ts';
import { apiTokenRoutes } from './routes/api-tokens.ts';
import { loginSessionRoutes } from './routes/login-sessions.ts';
import { twoFactorRoutes } from './routes/two-factor.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { authRoutes } from './routes/auth.ts';
import { commandRoutes } from './routes/commands.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { planRoutes } from './routes/plans.ts';
import { sessionStepRoutes } from './routes/session-steps.ts';
import { rosterRoutes } from './routes/roster.ts';
import { reportRoutes } from './routes/reports.ts';
import { createReports } from '../reports/reports.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { sessionPhotoRoutes } from './routes/session-photos.ts';
import { guestRoutes } from './routes/guests.ts';
import { createProxyTrust } from './proxy-trust.ts';
import { createRateLimits, installRateLimits } from './rate-limits.ts';
import { createPublicNames } from './public-names.ts';
import { consoleStatic } from './static.ts';
import { systemRoutes } from './routes/system.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { ticketStepRoutes } from './routes/ticket-steps.ts';
import { stockRoutes } from './routes/stock.ts';
import { serviceOrderRoutes } from './routes/service-orders.ts';
import { orderRecordRoutes } from './routes/order-records.ts';
import { contactRoutes } from './routes/contacts.ts';
import { pageRoutes } from './routes/pages.ts';
import { vehicleRoutes } from './routes/vehicles.ts';
import { surveyRoutes } from './routes/surveys.ts';
import { statsRoutes } from './routes/stats.ts';
import { customerFileRoutes } from './routes/customer-files.ts';
import { toolRoutes } from './routes/tools.ts';
import { supplierRoutes } from './routes/suppliers.ts';
import { partnerRoutes } from './routes/partners.ts';
import { peopleRoutes } from './routes/people.ts';
import { supportPlanRoutes } from './routes/support-plans.ts';

export type { WebDeps, WebOptions } from './context.ts';

const SESSION_SWEEP_MS = 3_600_000;
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The security headers of every answer (helmet): CSP, HSTS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, … */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      // the console is also served over plain HTTP (localhost, the demo); TLS is the reverse proxy's business
      upgradeInsecureRequests: null,
    },
  },
  crossOriginEmbedderPolicy: false,
  referrerPolicy: { policy: 'no-referrer' },
};

const NOT_SECURITY_HEADERS = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
]);
let helmetHeaders: Promise<Record<string, string>> | undefined;

/**
 * The headers helmet sets with HELMET_OPTIONS, as a plain map, for the answers written outside
 * Fastify's hooks: socket.io's own HTTP answers (web/live) and a malformed URL. Taken from helmet
 * itself (a throwaway instance), so they never drift from the API's.
 */
export function securityHeaders(): Promise<Record<string, string>> {
  helmetHeaders ??= (async () => {
    const probe = Fastify({ logger: false });
    await probe.register(helmet, HELMET_OPTIONS);
    probe.get('/', async () => '');
    const res = await probe.inject({ method: 'GET', url: '/' });
    await probe.close();
    return Object.fromEntries(
      Object.entries(res.headers).filter(([k, v]) => !NOT_SECURITY_HEADERS.has(k) && typeof v === 'string'),
    ) as Record<string, string>;
  })();
  return helmetHeaders;
}

/** Builds the console's parts (accounts, sessions, audit, throttle, tenancy) over the platform's deps. */
export function createWebContext(deps: WebDeps, options: WebOptions): WebContext {
  const now = deps.now ?? Date.now;
  const accounts = createAccounts(
    { db: deps.records, now },
    options.passwordCost ? { passwordCost: options.passwordCost } : {},
  );
  return {
    deps,
    now,
    accounts,
    names: createPublicNames({ accounts }),
    sessions: createSessions({ db: deps.records, now }, options.session),
    audit: createAuditLog({ db: deps.records, now }, { source: 'console' }),
    throttle: createLoginThrottle(options.login, now),
    guestThrottle: createLoginThrottle(options.login, now),
    tenancy: createTenancy(deps),
    scrapeToken: createScrapeToken(options.metricsToken),
    twoFactor: createTwoFactor({ db: deps.records, now }, { secretKey: options.totpSecretKey }),
    challenges: createLoginChallenges(now),
    resets: createPasswordResets({ db: deps.records, now }, { ttlMs: options.resetLinkTtlMs ?? 24 * 3_600_000 }),
    tokens: createApiTokens({ db: deps.records, now }),
    tokenRate: createTokenRateLimit({ perMinute: options.apiTokenRatePerMin ?? 120 }, now),
    rateLimits: createRateLimits({ counters: deps.counters, now }, options.rateLimits),
    reauthWindowMs: options.reauthWindowMs ?? 15 * 60_000,
    reports: createReports(
      {
        log: deps.log.child({ module: 'reports' }),
        now,
        tickets: deps.diagnostics.tickets,
        modeSteps: deps.diagnostics.modeSteps,
        sessions: deps.remote,
        telemetry: deps.telemetry,
        vehicles: deps.vehicles,
        customers: deps.customers,
        ...(deps.reportParts ? { parts: deps.reportParts } : {}),
      },
      { timeZone: deps.remote.roster.timeZone, ...(options.reportFont ? { font: options.reportFont } : {}) },
    ),
  };
}

/** A text answer this long (the fleet list, a day's history) is encoded once, as bytes. */
const LARGE_ANSWER_CHARS = 64 * 1024;

/**
 * Fastify measures a text answer's UTF-8 length for its content-length, then Node encodes it again
 * to write it: two passes over the fleet list's megabyte on the main thread. As bytes it is one
 * (docs/benchmarks.md: GET /api/vehicles under bench:live).
 */
function largeAnswerOnce(payload: unknown): unknown {
  return typeof payload === 'string' && payload.length >= LARGE_ANSWER_CHARS ? Buffer.from(payload) : payload;
}

/**
 * The web console's server side as a Fastify plugin: security headers, cookies, the guard, one
 * error handler, the OpenAPI document (`/docs`, `/docs/json`) and every route. Routes are
 * schema-first with zod: one schema validates, types the handler and documents the route.
 */
export const webConsole = fp<{ ctx: WebContext; bootstrapAdmin?: boolean; consoleDir?: string }>(
  async (app, { ctx, bootstrapAdmin: bootstrap = true, consoleDir }) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    installErrorHandling(app);
    // the service reports' PDF thread ends with the app
    app.addHook('onClose', async () => ctx.reports.stop());
    // JSON only: a cross-site form may post text/plain without a CORS preflight, so it is refused (415)
    app.removeContentTypeParser('text/plain');

    await app.register(helmet, HELMET_OPTIONS);
    await app.register(cookie);
    installGuard(
      app,
      {
        sessions: ctx.sessions,
        tokens: ctx.tokens,
        tokenRate: ctx.tokenRate,
        counters: ctx.deps.counters,
        now: ctx.now,
        guests: ctx.deps.invites,
      },
      { reauthWindowMs: ctx.reauthWindowMs },
    );
    // after the guard: the caller is known; before the body is read
    installRateLimits(app, ctx.rateLimits);
    // every state-changing request by an API token is audited as the token's (reads only touch last_used_at)
    app.addHook('onResponse', async (req, reply) => {
      const t = req.apiToken;
      if (!t || SAFE.has(req.method)) return;
      await ctx.audit.record({
        actor: `token:${t.token.id}`,
        action: 'api_token.request',
        subject: `account:${t.token.accountId}`,
        ip: req.ip,
        source: 'api_token',
        details: {
          method: req.method,
          route: req.routeOptions.url ?? null,
          status: reply.statusCode,
          customerId: t.token.customerId,
        },
      });
    });
    app.addHook('onSend', async (req, reply, payload) => {
      // a route may say otherwise (a photo: private); everything else of the API is never cached
      if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control'))
        void reply.header('cache-control', 'no-store');
      return largeAnswerOnce(payload);
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'PowerWatch console API',
          description:
            'Vehicle power telematics and emergency remote support. Log in with POST /api/auth/login; send the returned csrfToken as x-csrf-token on every state-changing request. Errors are `{error:{code,message}}`; see docs/api.md.',
          version: '1',
        },
        tags: [
          { name: 'auth', description: 'Login, logout, session, own password' },
          { name: 'vehicles', description: 'Fleet, current state, telemetry history, provisioning' },
          { name: 'alarms', description: 'Alarms: list, acknowledge, comment' },
          { name: 'tickets', description: 'Emergency tickets (the queue, the status machine)' },
          {
            name: 'service-orders',
            description:
              'Service orders: patrol inspection, training, accompanying support (巡检巡修, 技术培训, 伴随保障)',
          },
          { name: 'plans', description: 'Emergency plans (应急预案)' },
          {
            name: 'sessions',
            description: 'Remote guidance sessions (远程支援): records, guided steps, the duty roster',
          },
          { name: 'accounts', description: 'Console accounts and the audit log (admin)' },
          { name: 'security', description: 'Two-factor authentication, sessions, API tokens' },
          { name: 'customers', description: 'Customer units' },
          { name: 'notifications', description: 'Who gets what (contacts, subscriptions, quiet hours), pages' },
          { name: 'system', description: 'Probes and vocabulary' },
          { name: 'notifications', description: 'Notification deliveries: status, tries, re-send (admin, dispatcher)' },
          { name: 'inbox', description: 'Your own console inbox' },
          {
            name: 'service',
            description: 'Satisfaction survey and follow-up (满意度调查/回访), customer file (客户信息系统)',
          },
          { name: 'statistics', description: 'Service statistics (信息统计) for the duty desk and management' },
          {
            name: 'stock',
            description:
              'Spare parts (备品备件): catalogue, stores, the stock ledger, reservations, shipments, replenishment, stock-taking',
          },
          {
            name: 'resources',
            description:
              'The resource register (staff only): tools and equipment, suppliers and quality, partners, people',
          },
        ],
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: '__Host-pw_session' },
            csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
            apiToken: { type: 'http', scheme: 'bearer', description: 'an API token (pwt_…) for integrations' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // swagger-ui's own CSP lets same-origin pages frame it; nothing of the console may be framed
      transformStaticCSP: (csp) => csp.replace(/frame-ancestors [^;]*/, "frame-ancestors 'none'"),
      uiConfig: { docExpansion: 'list', deepLinking: false },
    });

    await app.register(systemRoutes(ctx));
    await app.register(authRoutes(ctx));
    await app.register(vehicleRoutes(ctx));
    await app.register(commandRoutes(ctx));
    await app.register(alarmRoutes(ctx));
    await app.register(ticketRoutes(ctx));
    await app.register(ticketStepRoutes(ctx));
    await app.register(reportRoutes(ctx));
    await app.register(serviceOrderRoutes(ctx));
    await app.register(orderRecordRoutes(ctx));
    await app.register(planRoutes(ctx));
    await app.register(sessionStepRoutes(ctx, { access: ctx.deps.remote, steps: ctx.deps.steps }));
    await app.register(sessionRoutes(ctx));
    await app.register(sessionPhotoRoutes(ctx));
    await app.register(guestRoutes(ctx));
    await app.register(rosterRoutes(ctx));
    await app.register(adminRoutes(ctx));
    await app.register(notificationRoutes(ctx));
    await app.register(twoFactorRoutes(ctx));
    await app.register(loginSessionRoutes(ctx));
    await app.register(apiTokenRoutes(ctx));
    await app.register(contactRoutes(ctx));
    await app.register(pageRoutes(ctx));
    await app.register(surveyRoutes(ctx));
    await app.register(statsRoutes(ctx));
    await app.register(customerFileRoutes(ctx));
    await app.register(stockRoutes(ctx));
    await app.register(toolRoutes(ctx));
    await app.register(supplierRoutes(ctx));
    await app.register(partnerRoutes(ctx));
    await app.register(peopleRoutes(ctx));
    await app.register(supportPlanRoutes(ctx));
    await app.register(consoleStatic(consoleDir));

    let sweeper: NodeJS.Timeout | undefined;
    app.addHook('onReady', async () => {
      if (bootstrap)
        await bootstrapAdmin({ accounts: ctx.accounts, audit: ctx.audit, log: ctx.deps.log.child({ module: 'web' }) });
      await ctx.sessions.sweep();
      sweeper = setInterval(
        () => void ctx.sessions.sweep().catch((err: unknown) => app.log.warn({ err }, 'session sweep failed')),
        SESSION_SWEEP_MS,
      );
      sweeper.unref();
    });
    app.addHook('onClose', async () => {
      if (sweeper) clearInterval(sweeper);
    });
  },
  { name: 'powerwatch-web-console', fastify: '5.x' },
);

/** A Fastify instance with the console registered, ready for `inject` or `listen`. */
export async function createWebApp(
  deps: WebDeps,
  options: WebOptions,
): Promise<{ app: FastifyInstance; ctx: WebContext; securityHeaders: Record<string, string> }> {
  const headers = await securityHeaders();
  const trusted = createProxyTrust(options.trustedProxies ?? []);
  const app = Fastify({
    // HTTPS directly (the console's own certificate); the server type stays http.Server for the
    // parts that only listen to its events (socket.io, upgrades), which https.Server has as well
    ...(options.https
      ? {
          serverFactory: (handler: RequestListener) =>
            createHttpsServer(
              {
                ...options.https!(),
                ...(options.httpsClientCertificates ? { requestCert: true, rejectUnauthorized: false } : {}),
              },
              handler,
            ) as unknown as HttpServer,
        }
      : {}),
    loggerInstance: deps.log.child({ module: 'web' }),
    // one debug line per request from the onResponse hook below instead of Fastify's two info lines
    logController: new LogController({ disableRequestLogging: true }),
    // X-Forwarded-For is read right to left while each hop is a trusted proxy: req.ip is the first
    // address no trusted proxy vouches for (the peer itself when it is not a trusted proxy)
    trustProxy: options.trustedProxies?.length ? (address: string) => trusted(address) : false,
    bodyLimit: options.bodyLimitBytes ?? 256 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    // a URL the router cannot read (bad percent-encoding, an over-long path parameter) never reaches
    // the hooks: it gets the API's error shape and security headers here
    frameworkErrors: (err, _req, reply) => {
      void reply.headers({ ...headers, 'cache-control': 'no-store' });
      return sendError(
        reply,
        'VALIDATION_FAILED',
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'path: a path parameter is too long'
          : 'path: not a valid URL (bad percent-encoding)',
      );
    },
  }).withTypeProvider<ZodTypeProvider>();
  const ctx = createWebContext(deps, options);
  // `Server-Timing: app;dur=N` on an answer to a signed-in caller (a session, an API token, a
  // guest): the platform's own time over the request, from reading it to its answer's bytes (hooks,
  // handler, serialisation), in ms; what the caller waited beyond it was the event loop's queue and
  // the transfer (docs/api.md). Not on public answers: there it would time the checks of passwords,
  // reset links and tokens for anyone, without the network's noise.
  app.addHook('onSend', (req, reply, payload, done) => {
    if (req.auth || req.apiToken || req.guest)
      void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    done(null, payload);
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.deps.counters.inc('web.requests', String(reply.statusCode));
    req.log.debug(
      { method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
  await app.register(webConsole, {
    ctx,
    bootstrapAdmin: options.bootstrapAdmin ?? true,
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
  });
  await app.ready();
  return { app: app as unknown as FastifyInstance, ctx, securityHeaders: headers };
}
