import { inTransaction } from '../records/db.ts';
import type { WebContext } from './context.ts';

/**
 * What the resource register does about a ticket, on the ticket's timeline (issue 14): a partner
 * dispatched onto it and the dispatch's arrival and outcome, its cause attributed to a supplier's
 * part. Written through the ticket service's own `note` (the timeline stays the one place of the
 * ticket's history), as staff-only entries: partners and suppliers are the register's, which
 * customers do not see — the unit's timeline shows that the step happened, without its note
 * (diagnostics/visibility.ts), and the unit is not told of it.
 */
export async function noteOnTicket(
  ctx: WebContext,
  ticketId: number,
  entry: { actor: string; action: 'partner_dispatched' | 'partner_outcome' | 'quality_attributed'; note: string },
): Promise<void> {
  const { announce } = await inTransaction(ctx.deps.records, (tx) =>
    ctx.deps.diagnostics.tickets.note(tx, ticketId, { ...entry, visibility: 'internal' }),
  );
  await announce();
}
