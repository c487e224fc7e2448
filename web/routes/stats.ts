import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { PERIODS } from '../../service/periods.ts';
import {
  STAT_DIMENSIONS,
  STAT_SEAMS,
  type ServiceStatsRow,
  type StatsQuery,
  type SurveyStatsRow,
} from '../../service/stats.ts';
import { csvCell } from '../audit-export.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, instant } from '../schemas.ts';

/** The market department (duty desk) and management read the statistics; engineers and customers do not. */
const DESK = ['admin', 'dispatcher'] as const;
const DAY = 86_400_000;
/** At most three years in one view. */
const MAX_SPAN_MS = 3 * 366 * DAY;

const range = {
  from: instant.optional().meta({ description: 'start (inclusive); default: a year before `to`' }),
  to: instant.optional().meta({ description: 'end (exclusive); default: now' }),
};
const grouped = z.strictObject({
  by: z.enum(STAT_DIMENSIONS, { error: `must be one of ${STAT_DIMENSIONS.join(', ')}` }).default('level'),
  period: z.enum(PERIODS, { error: `must be one of ${PERIODS.join(', ')}` }).default('month'),
  ...range,
});
const rateOut = z.object({ met: z.number(), total: z.number(), rate: z.number().nullable() });
const serviceRowOut = z
  .object({
    key: z.string(),
    tickets: z.number(),
    workContent: rateOut,
    plan: rateOut,
    closed: z.number(),
    mttrMs: z.number().nullable(),
    restore: z.object({ count: z.number(), avgMs: z.number().nullable() }),
    arrive: z.object({ count: z.number(), avgMs: z.number().nullable() }),
    firstTimeFix: z.object({ count: z.number(), rate: z.number().nullable() }),
    remote: z.object({ count: z.number(), rate: z.number().nullable() }),
    repeats: z.number(),
  })
  .meta({ id: 'ServiceStatsRow' });
const surveyRowOut = z
  .object({
    key: z.string(),
    sent: z.number(),
    answered: z.number(),
    responseRate: z.number().nullable(),
    scores: z.object({
      response: z.number().nullable(),
      quality: z.number().nullable(),
      attitude: z.number().nullable(),
    }),
    low: z.number(),
    followUps: z.object({ open: z.number(), done: z.number() }),
  })
  .meta({ id: 'SurveyStatsRow' });
const seamsOut = z.record(z.string(), z.string());
const resourcesOut = z.object({
  from: z.number(),
  to: z.number(),
  parts: z.array(
    z.object({
      partNo: z.string(),
      name: z.object({ en: z.string(), zh: z.string() }),
      unit: z.string(),
      qty: z.number(),
      tickets: z.number(),
    }),
  ),
  supplierParts: z.array(
    z.object({
      supplierId: z.string(),
      partNumber: z.string(),
      failures: z.number(),
      tickets: z.number(),
      replaced: z.number(),
    }),
  ),
  partners: z.array(
    z.object({
      partnerId: z.number(),
      name: z.string(),
      kind: z.string(),
      dispatches: z.number(),
      arrived: z.number(),
      onTime: z.number(),
      onTimeRate: z.number().nullable(),
      completed: z.number(),
      rework: z.number(),
      reworkRate: z.number().nullable(),
      avgLateMin: z.number().nullable(),
    }),
  ),
});
/** The resource statistics: also supply chain (供应链管理部), who replenishes what was used and answers for suppliers. */
const RESOURCE_READERS = ['admin', 'dispatcher', 'supply'] as const;

/** The CSV columns of each view, in order. */
const SERVICE_COLUMNS: [string, (r: ServiceStatsRow) => unknown][] = [
  ['key', (r) => r.key],
  ['tickets', (r) => r.tickets],
  ['work_content_met', (r) => r.workContent.met],
  ['work_content_rate', (r) => r.workContent.rate],
  ['plan_total', (r) => r.plan.total],
  ['plan_met', (r) => r.plan.met],
  ['plan_rate', (r) => r.plan.rate],
  ['closed', (r) => r.closed],
  ['mttr_min', (r) => (r.mttrMs === null ? null : Math.round(r.mttrMs / 60_000))],
  ['restore_min', (r) => (r.restore.avgMs === null ? null : Math.round(r.restore.avgMs / 60_000))],
  ['arrive_min', (r) => (r.arrive.avgMs === null ? null : Math.round(r.arrive.avgMs / 60_000))],
  ['first_time_fix_rate', (r) => r.firstTimeFix.rate],
  ['remote_rate', (r) => r.remote.rate],
  ['repeats', (r) => r.repeats],
];
const SURVEY_COLUMNS: [string, (r: SurveyStatsRow) => unknown][] = [
  ['key', (r) => r.key],
  ['sent', (r) => r.sent],
  ['answered', (r) => r.answered],
  ['response_rate', (r) => r.responseRate],
  ['score_response', (r) => r.scores.response],
  ['score_quality', (r) => r.scores.quality],
  ['score_attitude', (r) => r.scores.attitude],
  ['low', (r) => r.low],
  ['follow_ups_open', (r) => r.followUps.open],
  ['follow_ups_done', (r) => r.followUps.done],
];
function csv<R>(columns: [string, (r: R) => unknown][], rows: R[]): string {
  const lines = [columns.map(([c]) => c).join(',')];
  for (const r of rows) lines.push(columns.map(([, f]) => csvCell(f(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The statistics (信息统计) for the duty desk and management: deadlines met per level, time to
 * arrive / restore power, MTTR, first-time fix, remote resolution, repeat faults, survey scores —
 * grouped by level, fault type, vehicle model, customer unit or period; as JSON or CSV.
 */
export function statsRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const stats = ctx.deps.service.stats;
  function windowOf(q: { from?: number | undefined; to?: number | undefined }): { from: number; to: number } {
    const to = q.to ?? ctx.now();
    const from = q.from ?? to - 365 * DAY;
    if (from >= to) throw new PlatformError('INVALID_ARGUMENT', 'from must be before to');
    if (to - from > MAX_SPAN_MS) throw new PlatformError('INVALID_ARGUMENT', 'at most three years in one view');
    return { from, to };
  }
  const queryOf = (q: z.infer<typeof grouped>): StatsQuery => ({ by: q.by, period: q.period, ...windowOf(q) });

  return async (app) => {
    app.get(
      '/api/stats/service',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['statistics'],
          summary: 'Service statistics grouped by level, fault, model, unit, period or supplier part',
          description:
            'Per group: tickets received in [from, to) (cancelled ones left out); the share with the work content determined within its 30-minute deadline and, where there is one, the plan within its deadline; closed tickets, MTTR (received → closed), time to restore power (received → the incident’s alarms cleared), time to arrive (received → the on-site repair’s first arrival step), first-time fix (no ticket for the same vehicle and fault within FIRST_FIX_DAYS of closure), remote resolution, repeats.',
          querystring: grouped,
          response: {
            200: z.object({ from: z.number(), to: z.number(), rows: z.array(serviceRowOut), seams: seamsOut }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const q = queryOf(req.query);
        return { from: q.from, to: q.to, rows: await stats.service(q), seams: STAT_SEAMS };
      },
    );

    app.get(
      '/api/stats/surveys',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['statistics'],
          summary: 'Survey response rate and scores grouped by level, fault, model, unit or period (of sending)',
          querystring: grouped,
          response: {
            200: z.object({ from: z.number(), to: z.number(), rows: z.array(surveyRowOut) }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const q = queryOf(req.query);
        return { from: q.from, to: q.to, rows: await stats.surveys(q) };
      },
    );

    app.get(
      '/api/stats/repeat-faults',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['statistics'],
          summary: 'Vehicles with the same fault more than once in the window, most often first (50)',
          querystring: z.strictObject(range),
          response: {
            200: z.object({
              from: z.number(),
              to: z.number(),
              faults: z.array(
                z.object({
                  vehicleId: z.string(),
                  faultCode: z.string(),
                  model: z.string().nullable(),
                  customerId: z.string().nullable(),
                  tickets: z.number(),
                  lastAt: z.number(),
                }),
              ),
            }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const w = windowOf(req.query);
        return { ...w, faults: await stats.repeatFaults(w) };
      },
    );

    app.get(
      '/api/stats/resources',
      {
        config: { access: { roles: RESOURCE_READERS } },
        schema: {
          tags: ['statistics'],
          summary: 'Parts consumed per part, faults and replacements per supplier part, partner performance',
          description:
            'In [from, to): parts consumed on tickets (the stock ledger’s consumptions) per part; per supplier part the faults attributed to it (quality records by failure time) and the units of that part number consumed on those tickets; per partner the dispatches made, arrived on time (by the ETA given), rework of the completed ones and the mean minutes late.',
          querystring: z.strictObject(range),
          response: { 200: resourcesOut, ...errors(400, ...AUTHED) },
        },
      },
      async (req) => {
        const w = windowOf(req.query);
        return {
          ...w,
          parts: await stats.partsConsumed(w),
          supplierParts: await stats.supplierParts(w),
          partners: await stats.partners(w),
        };
      },
    );

    app.get(
      '/api/stats/export',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['statistics'],
          summary: 'One statistics view as CSV (a header row; times in minutes, rates 0–1)',
          querystring: grouped.extend({
            view: z.enum(['service', 'surveys'], { error: 'must be service or surveys' }).default('service'),
          }),
          produces: ['text/csv'],
          response: { ...errors(400, ...AUTHED) },
        },
      },
      async (req, reply) => {
        const q = queryOf(req.query);
        const body =
          req.query.view === 'service'
            ? csv(SERVICE_COLUMNS, await stats.service(q))
            : csv(SURVEY_COLUMNS, await stats.surveys(q));
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="stats-${req.query.view}-by-${q.by}.csv"`)
          .send(body as never);
      },
    );
  };
}
