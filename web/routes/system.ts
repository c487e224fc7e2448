import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../../core/prometheus.ts';
import { ALARM_SEVERITIES } from '../../diagnostics/rules/schema.ts';
import { LEVEL_LABELS, SERVICE_MODE_LABELS, TICKET_STATUSES, TRANSITIONS } from '../../diagnostics/tickets/status.ts';
import { NUMERIC_FIELDS, POWER_SOURCES } from '../../protocol/index.ts';
import { ROLES, STAFF_ROLES } from '../auth/accounts.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors } from '../schemas.ts';
import { ACTION_ROLES } from './tickets.ts';

const readinessSchema = z.object({
  ready: z.boolean(),
  status: z.enum(['ready', 'not_ready', 'draining']),
  node: z.string(),
  failing: z.array(z.string()),
  checks: z.record(
    z.string(),
    z.object({ ok: z.boolean(), ms: z.number(), failure: z.enum(['failed', 'timeout', 'draining']).optional() }),
  ),
});

/**
 * Probes (`/healthz` and `/readyz` for anyone; `/metrics` (Prometheus) and `/metrics.json` for a staff session or
 * the scrape token) and the
 * vocabulary the console shows (`/api/meta`).
 */
export function systemRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const counters = async () => (await ctx.deps.metrics()) as Record<string, unknown>;
  return async (app) => {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['system'],
          summary: 'Liveness: 200 while the process runs and its event loop turns (also while draining)',
        },
      },
      async () => ctx.deps.health(),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['system'],
          summary: 'Readiness: 200 when this node should get traffic, 503 naming the failing checks',
          description:
            'For anyone (a load balancer). Each dependency is checked at once, each within READY_CHECK_TIMEOUT_MS: `records` (a query on the records database), `telemetry` (the store and its writer answer), `broker` (the MQTT listeners take connections, not draining). From the start of a graceful stop (SIGTERM) the answer is 503 with `status: draining`. A failing check shows only `failed`, `timeout` or `draining`; the error is in the log.',
          response: { 200: readinessSchema, 503: readinessSchema },
        },
      },
      async (_req, reply) => {
        const report = await ctx.deps.ready();
        return reply.code(report.ready ? 200 : 503).send(report);
      },
    );
    /** Who may read the metrics: the scrape token, or a staff session (throws otherwise). */
    async function mayReadMetrics(req: FastifyRequest, reply: FastifyReply): Promise<void> {
      const authorization = req.headers.authorization;
      if (authorization !== undefined) {
        if (ctx.scrapeToken.matches(authorization)) return;
        void reply.header('www-authenticate', 'Bearer');
        throw new PlatformError('UNAUTHENTICATED', 'wrong or unconfigured metrics token');
      }
      const token = req.cookies[SESSION_COOKIE];
      const session = token ? await ctx.sessions.lookup(token) : undefined;
      if (!session) {
        void reply.header('www-authenticate', 'Bearer');
        throw new PlatformError('UNAUTHENTICATED', 'a staff session or the metrics token (Authorization: Bearer …)');
      }
      if (!STAFF_ROLES.includes(session.account.role))
        throw new PlatformError(
          'FORBIDDEN',
          `this needs the role ${STAFF_ROLES.join(' or ')}; you are ${session.account.role}`,
        );
      if (session.account.mustChangePassword)
        throw new PlatformError('PASSWORD_CHANGE_REQUIRED', 'set your own password first (POST /api/auth/password)');
    }
    const WHO =
      'For a staff session, or a scraper sending `Authorization: Bearer <METRICS_TOKEN>`. Anyone else: 401 (403 for a customer session): even the totals tell the size and activity of the fleet.';
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['system'],
          summary: 'Metrics in the Prometheus text exposition format (version 0.0.4)',
          description: `${WHO} Counters, histograms and gauges named by Prometheus conventions (\`powerwatch_…\`); no label names a vehicle, client or account (the counts per key are in \`/metrics.json\`).`,
          produces: [PROMETHEUS_CONTENT_TYPE],
          response: { 200: z.string(), ...errors(...AUTHED) },
        },
      },
      async (req, reply) => {
        await mayReadMetrics(req, reply);
        return reply
          .type(PROMETHEUS_CONTENT_TYPE)
          .serializer((s: string) => s)
          .send(await ctx.deps.prometheus());
      },
    );
    app.get(
      '/metrics.json',
      {
        schema: {
          tags: ['system'],
          summary: 'Counters (ingest, broker, diagnostics, web) as JSON, with the counts per key',
          description: `${WHO} Totals and the counts per key (which name vehicles and clients of every customer unit).`,
          response: { 200: z.record(z.string(), z.unknown()), ...errors(...AUTHED) },
        },
      },
      async (req, reply) => {
        await mayReadMetrics(req, reply);
        return counters();
      },
    );
    app.get(
      '/api/meta',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['system'],
          summary:
            'Enumerations with their Chinese and English labels: levels, service modes, statuses, actions, fields, fault codes',
          response: { 200: z.record(z.string(), z.unknown()), ...errors(...AUTHED) },
        },
      },
      async () => ({
        roles: ROLES,
        ticketLevels: LEVEL_LABELS,
        serviceModes: SERVICE_MODE_LABELS,
        ticketStatuses: TICKET_STATUSES,
        ticketActions: Object.fromEntries(
          Object.entries(TRANSITIONS).map(([a, t]) => [
            a,
            { ...t, roles: ACTION_ROLES[a as keyof typeof ACTION_ROLES] },
          ]),
        ),
        alarmSeverities: ALARM_SEVERITIES,
        powerSources: POWER_SOURCES,
        fields: NUMERIC_FIELDS,
        faults: ctx.deps.diagnostics.faultTitles?.() ?? {},
      }),
    );
  };
}
