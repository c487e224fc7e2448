import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SURVEY_QUESTIONS, type Survey } from '../../service/surveys.ts';
import { ROLES, type Account } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, numericParams, text } from '../schemas.ts';

const score = z
  .number({ error: 'must be a whole number from 1 to 5' })
  .int({ error: 'must be a whole number from 1 to 5' })
  .min(1, { error: 'must be at least 1' })
  .max(5, { error: 'must be at most 5' });

const followUpOut = z
  .object({
    id: z.number(),
    surveyId: z.number(),
    ticketId: z.number(),
    customerId: z.string(),
    openedAt: z.number(),
    assignee: z.string().nullable(),
    status: z.enum(['open', 'done']),
    outcome: z.string().nullable(),
    doneAt: z.number().nullable(),
    doneBy: z.string().nullable(),
  })
  .meta({ id: 'SurveyFollowUp' });

const surveyOut = z
  .object({
    id: z.number(),
    ticketId: z.number(),
    customerId: z.string(),
    vehicleId: z.string().nullable(),
    sentAt: z.number(),
    answeredAt: z.number().nullable(),
    answeredBy: z.string().nullable(),
    scores: z.object({ response: z.number(), quality: z.number(), attitude: z.number() }).nullable(),
    comments: z.string().nullable(),
    followUp: followUpOut.nullable().meta({ description: 'staff only (null for customers)' }),
  })
  .meta({ id: 'Survey' });

const DESK = ['admin', 'dispatcher'] as const;

/**
 * The satisfaction survey of a closed ticket (满意度调查) and the follow-ups (回访) low scores open:
 * a customer of the ticket's unit answers once; staff read it; the duty desk records the follow-up's outcome.
 */
export function surveyRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const { deps, audit, tenancy } = ctx;
  const surveys = deps.service.surveys;
  /** Customers read their answer, never the internal follow-up nor the staff login that closed it. */
  const shown = (me: Account, s: Survey | null) => (s && me.role === 'customer' ? { ...s, followUp: null } : s);

  return async (app) => {
    app.get(
      '/api/tickets/:id/survey',
      {
        config: { access: { roles: ROLES } },
        schema: {
          tags: ['service'],
          summary: 'The satisfaction survey of a closed ticket (null before it closes)',
          params: numericParams,
          response: {
            200: z.object({
              survey: surveyOut.nullable(),
              questions: z.array(z.enum(SURVEY_QUESTIONS)),
              lowScore: z.number(),
            }),
            ...errors(400, ...AUTHED, 404),
          },
        },
      },
      async (req) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        return {
          survey: shown(me, await surveys.forTicket(t.id)),
          questions: [...SURVEY_QUESTIONS],
          lowScore: deps.service.lowScore,
        };
      },
    );

    app.post(
      '/api/tickets/:id/survey',
      {
        config: { access: { roles: ['customer'] } },
        schema: {
          tags: ['service'],
          summary: 'Answer the survey of your unit’s closed ticket (once)',
          description:
            'Scores 1–5 for response speed (响应速度), repair quality (维修质量) and service attitude (服务态度). A score at or below SURVEY_LOW_SCORE on any question opens a follow-up for the service manager.',
          params: numericParams,
          body: z.strictObject({
            scores: z.strictObject({ response: score, quality: score, attitude: score }),
            comments: text('comments', 2000).nullable().optional(),
          }),
          response: { 201: z.object({ survey: surveyOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const me = who(req);
        const t = await tenancy.ticket(me, req.params.id);
        const survey = await surveys.answer(
          t.id,
          { accountId: me.id, customerId: me.customerId ?? '' },
          { scores: req.body.scores, comments: req.body.comments ?? null },
        );
        await audit.record({
          actor: me.id,
          action: 'survey.answered',
          subject: `ticket:${t.id}`,
          ...auditFrom(req),
          details: { scores: req.body.scores, followUp: survey.followUp?.id ?? null },
        });
        return reply.code(201).send({ survey: shown(me, survey)! });
      },
    );

    app.get(
      '/api/survey-follow-ups',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['service'],
          summary: 'Follow-ups opened by low survey scores (回访), newest first',
          querystring: z.strictObject({
            status: z.enum(['open', 'done'], { error: 'must be open or done' }).optional(),
          }),
          response: { 200: z.object({ followUps: z.array(followUpOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ followUps: await surveys.followUps(req.query.status ? { status: req.query.status } : {}) }),
    );

    app.post(
      '/api/survey-follow-ups/:id/outcome',
      {
        config: { access: { roles: DESK } },
        schema: {
          tags: ['service'],
          summary: 'Record the outcome of a follow-up (回访结果); once',
          params: numericParams,
          body: z.strictObject({ outcome: text('outcome', 2000) }),
          response: { 200: z.object({ followUp: followUpOut }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const me = who(req);
        const followUp = await surveys.recordOutcome(req.params.id, me.id, req.body.outcome);
        await audit.record({
          actor: me.id,
          action: 'survey.follow_up_done',
          subject: `ticket:${followUp.ticketId}`,
          ...auditFrom(req),
          details: { followUp: followUp.id },
        });
        return { followUp };
      },
    );
  };
}
