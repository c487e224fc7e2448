import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import type { ParticipantRole, SessionAccess, SessionPrincipal } from '../../remote/types.ts';
import type { StepRunner } from '../../remote/steps.ts';
import { FIELD_ROLES, STAFF_ROLES } from '../auth/roles.ts';
import { auditFrom, principalOfRequest } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, localized, numericIdSchema, text } from '../schemas.ts';

/** What the step routes need: who may act in a session, and the step runner (remote/steps.ts). */
export interface SessionStepsDeps {
  access: Pick<SessionAccess, 'access'>;
  steps: Pick<StepRunner, 'list' | 'done' | 'skip' | 'check' | 'add'>;
}

const evidenceOut = z.object({
  condition: z.string(),
  values: z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.null()])),
  frameTs: z.number().nullable(),
});
const stepResultOut = z
  .object({
    sessionId: z.number(),
    index: z.number(),
    status: z.enum(['current', 'done', 'passed', 'failed', 'skipped', 'added']),
    actor: z.string(),
    at: z.number(),
    observation: z.string().nullable(),
    evidence: evidenceOut.nullable(),
    reason: z.string().nullable().optional(),
  })
  .meta({ id: 'StepResult' });
const sessionStepOut = z
  .object({
    index: z.number(),
    stepId: z.string().nullable(),
    planCode: z.string().nullable(),
    actor: z.enum(['crew', 'engineer']),
    instruction: localized,
    expect: z.object({ condition: z.unknown(), withinS: z.number(), text: z.string() }).nullable(),
    command: z.object({ name: z.string(), args: z.record(z.string(), z.unknown()) }).nullable(),
    safety: localized.nullable(),
    status: z.enum(['pending', 'current', 'checking', 'failed', 'done', 'passed', 'skipped']),
    addedBy: z.string().nullable(),
    checkUntil: z.number().nullable(),
    results: z.array(stepResultOut),
  })
  .meta({ id: 'SessionStep' });
const stepsOut = z
  .object({ current: z.number().nullable(), steps: z.array(sessionStepOut) })
  .meta({ id: 'SessionSteps' });

const sessionParams = z.object({ id: numericIdSchema });
const stepParams = z.object({ id: numericIdSchema, index: z.coerce.number().int().min(0).max(10_000) });

/** Crew (the unit's accounts) and engineers act on steps; only engineers skip and add. */
const ACTORS: readonly ParticipantRole[] = ['lead', 'observer', 'crew', 'guest'];
const ENGINEERS: readonly ParticipantRole[] = ['lead', 'observer'];

/**
 * A remote session's guided steps: GET the steps with every result; the crew marks the current step
 * done (with what it saw) and asks for a check; engineers also skip and add steps. Access through the
 * session records (`SessionAccess`): a session one does not take part in answers 404 SESSION_NOT_FOUND.
 */
export function sessionStepRoutes(ctx: WebContext, remote: SessionStepsDeps): FastifyPluginAsyncZod {
  async function participant(req: FastifyRequest, sessionId: number, may: readonly ParticipantRole[], what: string) {
    // an invited guest is a crew member without an account: it sees the steps and reports like the crew
    const principal: SessionPrincipal = principalOfRequest(req);
    const a = await remote.access.access(principal, sessionId);
    if (!a) throw new PlatformError('SESSION_NOT_FOUND', `remote session ${sessionId} not found`);
    if (!may.includes(a.role)) throw new PlatformError('FORBIDDEN', `a ${a.role} of the session cannot ${what}`);
    return principal.id;
  }
  /** Runs a step change, then audits it (the step's index and what was said with it). */
  async function audited<T>(
    req: FastifyRequest,
    actor: string,
    sessionId: number,
    action: string,
    details: Record<string, unknown>,
    change: Promise<T>,
  ): Promise<T> {
    const result = await change;
    await ctx.audit.record({ actor, action, subject: `session:${sessionId}`, ...auditFrom(req), details });
    return result;
  }
  /** Everyone who may take part (customers as crew); skip and add are for staff (the session's engineers). */
  const config = { access: { roles: FIELD_ROLES, guest: true } };
  const staffConfig = { access: { roles: STAFF_ROLES } };
  return async (app) => {
    app.get(
      '/api/sessions/:id/steps',
      {
        config,
        schema: {
          tags: ['sessions'],
          summary: "A remote session's guided steps, the current one and every result with its evidence",
          params: sessionParams,
          response: { 200: stepsOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        await participant(req, req.params.id, ['lead', 'observer', 'crew', 'guest'], 'see the steps');
        return remote.steps.list(req.params.id);
      },
    );
    app.post(
      '/api/sessions/:id/steps/:index/done',
      {
        config,
        schema: {
          tags: ['sessions'],
          summary: 'Mark a step done, with what the crew sees',
          params: stepParams,
          body: z.strictObject({ observation: text('observation', 2000).optional() }).default({}),
          response: { 200: stepsOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const actor = await participant(req, req.params.id, ACTORS, 'mark a step done');
        const { id, index } = req.params;
        const observation = req.body.observation ?? null;
        return audited(
          req,
          actor,
          id,
          'session.step_done',
          { index, observation },
          remote.steps.done(id, index, actor, observation),
        );
      },
    );
    app.post(
      '/api/sessions/:id/steps/:index/skip',
      {
        config: staffConfig,
        schema: {
          tags: ['sessions'],
          summary: 'Skip a step (engineers)',
          params: stepParams,
          body: z.strictObject({ reason: text('reason', 500).optional() }).default({}),
          response: { 200: stepsOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const actor = await participant(req, req.params.id, ENGINEERS, 'skip a step');
        const { id, index } = req.params;
        const reason = req.body.reason ?? null;
        return audited(
          req,
          actor,
          id,
          'session.step_skipped',
          { index, reason },
          remote.steps.skip(id, index, actor, reason),
        );
      },
    );
    app.post(
      '/api/sessions/:id/steps/:index/check',
      {
        config,
        schema: {
          tags: ['sessions'],
          summary: "Check a step's expected observation now against the live frames (a fresh window)",
          params: stepParams,
          response: { 200: stepsOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const actor = await participant(req, req.params.id, ACTORS, 'check a step');
        const { id, index } = req.params;
        return audited(req, actor, id, 'session.step_check', { index }, remote.steps.check(id, index, actor));
      },
    );
    app.post(
      '/api/sessions/:id/steps',
      {
        config: staffConfig,
        schema: {
          tags: ['sessions'],
          summary: 'Add a step right after the current one (engineers)',
          params: sessionParams,
          body: z.strictObject({
            actor: z.enum(['crew', 'engineer']).default('crew'),
            instruction: z.strictObject({ en: text('instruction.en', 500), zh: text('instruction.zh', 500) }),
            expect: z
              .strictObject({
                condition: text('expect.condition', 500),
                withinS: z.number().int().min(1).max(600),
              })
              .optional(),
          }),
          response: { 200: stepsOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const actor = await participant(req, req.params.id, ENGINEERS, 'add a step');
        return audited(
          req,
          actor,
          req.params.id,
          'session.step_added',
          { actor: req.body.actor, instruction: req.body.instruction },
          remote.steps.add(req.params.id, actor, req.body),
        );
      },
    );
  };
}
