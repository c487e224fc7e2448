import type { Generated } from 'kysely';

/** The service records' tables (migration 0026): surveys, their follow-ups, the outcome of closed tickets. */
export interface ServiceSurveysTable {
  id: Generated<number>;
  ticket_id: number;
  customer_id: string;
  vehicle_id: string | null;
  sent_at: number;
  answered_at: number | null;
  answered_by: string | null;
  /** 1–5 each (SURVEY_QUESTIONS); null until answered. */
  score_response: number | null;
  score_quality: number | null;
  score_attitude: number | null;
  /** The lowest of the scores: what opens a follow-up. */
  min_score: number | null;
  comments: string | null;
}

export interface SurveyFollowUpsTable {
  id: Generated<number>;
  survey_id: number;
  ticket_id: number;
  customer_id: string;
  opened_at: number;
  /** The service manager (SERVICE_MANAGER) or whoever of the duty desk took it. */
  assignee: string | null;
  status: 'open' | 'done';
  outcome: string | null;
  done_at: number | null;
  done_by: string | null;
}

/** What the statistics read of a closed ticket besides its row (service/outcomes.ts). */
export interface TicketOutcomesTable {
  ticket_id: number;
  closed_at: number;
  /** When the last alarm of the ticket's incident cleared (power restored); null: none cleared / no incident. */
  restored_at: number | null;
  /** Arrival on site: the first `arrived` step of the on-site repair (diagnostics/tickets/mode-steps.ts); null: none recorded. */
  arrived_at: number | null;
  /** 1: resolved remotely (service mode remote support, or a remote session resolved it). */
  remote: 0 | 1;
  /** When a ticket for the same vehicle and fault was next received after this closure (null: none yet). */
  next_same_fault_at: number | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    service_surveys: ServiceSurveysTable;
    survey_follow_ups: SurveyFollowUpsTable;
    ticket_outcomes: TicketOutcomesTable;
  }
}
