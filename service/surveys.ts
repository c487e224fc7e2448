import type { EventBus } from '../core/bus.ts';
import { PlatformError } from '../core/errors.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { Ticket } from '../diagnostics/types.ts';
import { inTransaction, type RecordsDb } from '../records/db.ts';
import type {} from './errors.ts';
import type { ServiceSurveysTable, SurveyFollowUpsTable } from './records.ts';

/** The survey's scored questions (1–5): response speed 响应速度, repair quality 维修质量, service attitude 服务态度. */
export const SURVEY_QUESTIONS = ['response', 'quality', 'attitude'] as const;
export type SurveyQuestion = (typeof SURVEY_QUESTIONS)[number];
export type SurveyScores = Record<SurveyQuestion, number>;

export interface Survey {
  id: number;
  ticketId: number;
  customerId: string;
  vehicleId: string | null;
  sentAt: number;
  answeredAt: number | null;
  answeredBy: string | null;
  scores: SurveyScores | null;
  comments: string | null;
  followUp: FollowUp | null;
}

export interface FollowUp {
  id: number;
  surveyId: number;
  ticketId: number;
  customerId: string;
  openedAt: number;
  assignee: string | null;
  status: 'open' | 'done';
  outcome: string | null;
  doneAt: number | null;
  doneBy: string | null;
}

type SurveyRow = Omit<ServiceSurveysTable, 'id'> & { id: number };
type FollowUpRow = Omit<SurveyFollowUpsTable, 'id'> & { id: number };

const followUpOf = (r: FollowUpRow): FollowUp => ({
  id: Number(r.id),
  surveyId: Number(r.survey_id),
  ticketId: Number(r.ticket_id),
  customerId: r.customer_id,
  openedAt: Number(r.opened_at),
  assignee: r.assignee,
  status: r.status,
  outcome: r.outcome,
  doneAt: r.done_at === null ? null : Number(r.done_at),
  doneBy: r.done_by,
});

function surveyOf(r: SurveyRow, f: FollowUpRow | undefined): Survey {
  return {
    id: Number(r.id),
    ticketId: Number(r.ticket_id),
    customerId: r.customer_id,
    vehicleId: r.vehicle_id,
    sentAt: Number(r.sent_at),
    answeredAt: r.answered_at === null ? null : Number(r.answered_at),
    answeredBy: r.answered_by,
    scores:
      r.answered_at === null
        ? null
        : { response: r.score_response ?? 0, quality: r.score_quality ?? 0, attitude: r.score_attitude ?? 0 },
    comments: r.comments,
    followUp: f ? followUpOf(f) : null,
  };
}

export interface SurveysDeps {
  db: RecordsDb;
  bus: EventBus<PlatformEvents>;
  log: Logger;
  now?: () => number;
  /**
   * Tells the unit's customers that the survey waits (console inbox, and the unit's contacts by the
   * notification channels: template `survey_due`), inside the survey's own transaction. Returns the
   * number of deliveries written.
   */
  invite?: (tx: RecordsDb, ticket: Ticket) => Promise<number>;
  /** Called after outbox rows committed (the dispatcher delivers at once). */
  written?: () => void;
}

export interface SurveysOptions {
  /** A score at or below this on any question opens a follow-up (SURVEY_LOW_SCORE, default 2). */
  lowScore: number;
  /** Who the follow-up is assigned to (SERVICE_MANAGER); the duty desk (dispatcher/admin) sees all of them. */
  serviceManager: string | null;
}

/**
 * The satisfaction survey and its follow-up (满意度调查/回访). A ticket that closes (`ticket.updated`
 * with status closed, heard on the bus: this module does not know the ticket service) gets one
 * survey for its unit, and the unit's customers are told (inbox + the `survey_due` message). One
 * answer per ticket, by a customer of that unit; a score at or below `lowScore` on any question opens
 * a follow-up task for the service manager, whose outcome is recorded by the duty desk.
 */
export function createSurveys(deps: SurveysDeps, options: SurveysOptions) {
  const { db, bus } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const pending = new Set<Promise<unknown>>();
  let off: (() => void) | undefined;

  /** Creates the survey of a closed ticket (once: a ticket closed again after a reopen keeps its first survey). */
  async function send(ticket: Ticket): Promise<Survey | null> {
    if (ticket.customerId === null) return null;
    const customerId = ticket.customerId;
    let wrote = 0;
    const created = await inTransaction(db, async (tx) => {
      const exists = await tx
        .selectFrom('service_surveys')
        .select('id')
        .where('ticket_id', '=', ticket.id)
        .executeTakeFirst();
      if (exists) return false;
      await tx
        .insertInto('service_surveys')
        .values({ ticket_id: ticket.id, customer_id: customerId, vehicle_id: ticket.vehicleId, sent_at: now() })
        .execute();
      if (deps.invite) wrote = await deps.invite(tx, ticket);
      return true;
    });
    if (wrote > 0) deps.written?.();
    if (created) log.info({ ticketId: ticket.id }, 'survey sent');
    return forTicket(ticket.id);
  }

  async function forTicket(ticketId: number): Promise<Survey | null> {
    const r = await db.selectFrom('service_surveys').selectAll().where('ticket_id', '=', ticketId).executeTakeFirst();
    if (!r) return null;
    const f = await db.selectFrom('survey_follow_ups').selectAll().where('survey_id', '=', r.id).executeTakeFirst();
    return surveyOf(r, f);
  }

  return {
    start() {
      off = bus.on('ticket.updated', (e) => {
        if (e.ticket.status !== 'closed' || e.action !== 'close') return;
        const p = send(e.ticket).catch((err: unknown) => log.error({ err, ticketId: e.ticket.id }, 'survey not sent'));
        pending.add(p);
        void p.finally(() => pending.delete(p));
      });
    },
    stop() {
      off?.();
      off = undefined;
    },
    /** Resolves when every survey the bus asked for is written (tests, shutdown). */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    send,
    forTicket,

    /** The unit's answer: once per ticket; a low score opens the follow-up in the same transaction. */
    async answer(
      ticketId: number,
      by: { accountId: string; customerId: string },
      answer: { scores: SurveyScores; comments: string | null },
    ): Promise<Survey> {
      const at = now();
      await inTransaction(db, async (tx) => {
        const s = await tx
          .selectFrom('service_surveys')
          .selectAll()
          .where('ticket_id', '=', ticketId)
          .executeTakeFirst();
        if (!s || s.customer_id !== by.customerId)
          throw new PlatformError('SURVEY_NOT_FOUND', `no survey for ticket ${ticketId}`);
        if (s.answered_at !== null)
          throw new PlatformError('SURVEY_ANSWERED', `the survey of ticket ${ticketId} is answered already`);
        const min = Math.min(...SURVEY_QUESTIONS.map((q) => answer.scores[q]));
        const done = await tx
          .updateTable('service_surveys')
          .set({
            answered_at: at,
            answered_by: by.accountId,
            score_response: answer.scores.response,
            score_quality: answer.scores.quality,
            score_attitude: answer.scores.attitude,
            min_score: min,
            comments: answer.comments,
          })
          .where('id', '=', s.id)
          .where('answered_at', 'is', null)
          .executeTakeFirst();
        if (Number(done.numUpdatedRows) !== 1)
          throw new PlatformError('SURVEY_ANSWERED', `the survey of ticket ${ticketId} is answered already`);
        if (min <= options.lowScore)
          await tx
            .insertInto('survey_follow_ups')
            .values({
              survey_id: s.id,
              ticket_id: ticketId,
              customer_id: s.customer_id,
              opened_at: at,
              assignee: options.serviceManager,
              status: 'open',
            })
            .execute();
      });
      const survey = (await forTicket(ticketId))!;
      if (survey.followUp) log.info({ ticketId, followUp: survey.followUp.id }, 'low survey score: follow-up opened');
      return survey;
    },

    /** Follow-ups, open first then newest; the duty desk's list. */
    async followUps(filter: { status?: 'open' | 'done'; limit?: number } = {}): Promise<FollowUp[]> {
      let q = db.selectFrom('survey_follow_ups').selectAll();
      if (filter.status) q = q.where('status', '=', filter.status);
      const rows = await q
        .orderBy('opened_at', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 200)
        .execute();
      return rows.map(followUpOf);
    },

    /** Records the follow-up's outcome (回访结果); once. */
    async recordOutcome(id: number, actor: string, outcome: string): Promise<FollowUp> {
      const r = await db.selectFrom('survey_follow_ups').selectAll().where('id', '=', id).executeTakeFirst();
      if (!r) throw new PlatformError('FOLLOW_UP_NOT_FOUND', `follow-up ${id} not found`);
      const done = await db
        .updateTable('survey_follow_ups')
        .set({ status: 'done', outcome, done_at: now(), done_by: actor })
        .where('id', '=', id)
        .where('status', '=', 'open')
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1)
        throw new PlatformError('FOLLOW_UP_DONE', `the outcome of follow-up ${id} is recorded already`);
      const after = await db.selectFrom('survey_follow_ups').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return followUpOf(after);
    },
  };
}

export type Surveys = ReturnType<typeof createSurveys>;
