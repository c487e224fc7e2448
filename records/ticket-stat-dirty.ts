import type { RecordsDb } from './db.ts';

/** The statistics' daily rollup (migration 0032, service/stat-days.ts): one row per dimension, local day and group. */
export interface TicketStatDaysTable {
  /** level | fault | model | unit | all (the periods). */
  dim: string;
  /** The local midnight (service time zone) of the day the tickets were received. */
  day_start: number;
  key: string;
  tickets: number;
  wc_met: number;
  plan_total: number;
  plan_met: number;
  closed: number;
  /** Sum over the closed tickets of (closed_at − received_at). */
  mttr_sum: number;
  restored: number;
  restore_sum: number;
  arrived: number;
  arrive_sum: number;
  remote: number;
  repeats: number;
}

/** The `received_at` of tickets whose statistics changed since the rollup last read them. */
export interface TicketStatDirtyTable {
  received_at: number;
}

export interface TicketStatStateTable {
  id: number;
  time_zone: string;
  repeat_window_ms: number;
  built_at: number;
}

declare module './schema.ts' {
  interface RecordsSchema {
    ticket_stat_days: TicketStatDaysTable;
    ticket_stat_dirty: TicketStatDirtyTable;
    ticket_stat_state: TicketStatStateTable;
  }
}

/**
 * Marks the days of tickets received at `receivedAts` for the statistics' rollup to read again.
 * Every write that changes what the statistics count of a ticket (its row, its outcome) calls this
 * in the same transaction, so no change is missed, also across a crash.
 */
export async function markTicketStatsDirty(db: RecordsDb, receivedAts: readonly number[]): Promise<void> {
  const unique = [...new Set(receivedAts)];
  if (unique.length === 0) return;
  await db
    .insertInto('ticket_stat_dirty')
    .values(unique.map((received_at) => ({ received_at })))
    .onConflict((oc) => oc.column('received_at').doNothing())
    .execute();
}
