import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { reviewDueAt as dueAt, type EmergencyPlan } from '../../diagnostics/plans/plans.ts';
import { STAFF_ROLES } from '../auth/accounts.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, planOut } from '../schemas.ts';

export function planView(plan: EmergencyPlan, now: number) {
  const reviewDueAt = dueAt(plan);
  return { ...plan, reviewDueAt, overdue: reviewDueAt < now };
}

/** Emergency plans (应急预案): list, overdue for review, one by fault code. */
export function planRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const plans = ctx.deps.diagnostics.plans;
  return async (app) => {
    app.get(
      '/api/plans',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['plans'],
          summary: 'Every emergency plan, with its review due date',
          response: { 200: z.object({ plans: z.array(planOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ plans: plans.all().map((p) => planView(p, ctx.now())) }),
    );
    app.get(
      '/api/plans/overdue',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['plans'],
          summary: 'Plans whose regular review is overdue, most overdue first',
          response: { 200: z.object({ plans: z.array(planOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ plans: plans.overdueForReview(ctx.now()).map((p) => planView(p.plan, ctx.now())) }),
    );
    app.get(
      '/api/plans/:code',
      {
        config: { access: { roles: STAFF_ROLES } },
        schema: {
          tags: ['plans'],
          summary: 'One plan by fault code',
          params: z.object({
            code: z.string().regex(/^[A-Z][A-Z0-9-]{2,31}$/, { error: 'must be a fault code like GEN-START-FAIL' }),
          }),
          response: { 200: planOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const p = plans.get(req.params.code);
        if (!p) throw new PlatformError('PLAN_NOT_FOUND', `no emergency plan for ${req.params.code}`);
        return planView(p, ctx.now());
      },
    );
  };
}
