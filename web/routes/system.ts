import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALARM_SEVERITIES } from '../../diagnostics/rules/schema.ts';
import { LEVEL_LABELS, SERVICE_MODE_LABELS, TICKET_STATUSES, TRANSITIONS } from '../../diagnostics/tickets/status.ts';
import { NUMERIC_FIELDS, POWER_SOURCES } from '../../protocol/index.ts';
import { ROLES, STAFF_ROLES } from '../auth/accounts.ts';
import { SESSION_COOKIE } from '../auth/sessions.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors } from '../schemas.ts';
import { ACTION_ROLES } from './tickets.ts';

/** Probes (`/healthz`, `/metrics`, no login; per-key counts for staff) and the vocabulary the console shows (`/api/meta`). */
export function systemRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness: 200 while the platform runs' } }, async () =>
      ctx.deps.health(),
    );
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['system'],
          summary: 'Counters (ingest, broker, diagnostics, web) as JSON',
          description:
            'Totals for anyone; the counts per key (which name vehicles and clients of every customer unit) only with a staff session.',
        },
      },
      async (req) => {
        const metrics = ctx.deps.metrics() as { byKey?: unknown };
        const token = req.cookies[SESSION_COOKIE];
        const session = token ? await ctx.sessions.lookup(token) : undefined;
        if (session && STAFF_ROLES.includes(session.account.role) && !session.account.mustChangePassword)
          return metrics;
        const { byKey: _perKey, ...totals } = metrics;
        return totals;
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
