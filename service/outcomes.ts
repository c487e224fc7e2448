import { sql } from 'kysely';
import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { Ticket } from '../diagnostics/types.ts';
import type { RecordsDb } from '../records/db.ts';
import { markTicketStatsDirty } from '../records/ticket-stat-dirty.ts';
import type {} from '../remote/records.ts';
import type {} from './records.ts';

/**
 * The outcome of each closed ticket, kept for the statistics (`ticket_outcomes`), from the bus: a
 * ticket closed → when, when power was restored (the last alarm of its incident cleared; null while
 * one is still active), and whether it was resolved remotely (service mode remote support, or a
 * remote session that ended `resolved_remotely`); reopened → the outcome is removed until it closes
 * again; a ticket opened → the earlier closed tickets of the same vehicle and fault get the time
 * of this one (`next_same_fault_at`: first-time fix). Arrival on site (`arrived_at`) is the first
 * `arrived` step of the on-site repair (diagnostics/tickets/mode-steps.ts), null when none was recorded.
 */
export function createOutcomes(deps: { db: RecordsDb; bus: EventBus<PlatformEvents>; log: Logger }) {
  const { db, bus, log } = deps;
  const pending = new Set<Promise<unknown>>();
  let off: (() => void) | undefined;

  /** The first arrival on site recorded (the on-site repair's `arrived` step), or null. */
  async function arrivalOf(ticketId: number): Promise<number | null> {
    const r = await db
      .selectFrom('ticket_mode_steps')
      .select(sql<number | null>`min(at)`.as('at'))
      .where('ticket_id', '=', ticketId)
      .where('step', '=', 'arrived')
      .executeTakeFirst();
    return r?.at === null || r?.at === undefined ? null : Number(r.at);
  }

  async function closed(t: Ticket): Promise<void> {
    let restoredAt: number | null = null;
    if (t.incidentId !== null) {
      const a = await db
        .selectFrom('alarms')
        .select([
          sql<number | null>`max(cleared_at)`.as('last'),
          sql<number>`sum(case when state = 'cleared' then 0 else 1 end)`.as('active'),
        ])
        .where('incident_id', '=', t.incidentId)
        .executeTakeFirst();
      if (a && a.last !== null && Number(a.active) === 0) restoredAt = Number(a.last);
    }
    const session = await db
      .selectFrom('remote_sessions')
      .select('id')
      .where('ticket_id', '=', t.id)
      .where('outcome', '=', 'resolved_remotely')
      .executeTakeFirst();
    const remote = t.serviceMode === 'remote_support' || session !== undefined ? 1 : 0;
    const next =
      t.vehicleId !== null && t.faultCode !== null
        ? await db
            .selectFrom('tickets')
            .select(sql<number | null>`min(received_at)`.as('at'))
            .where('vehicle_id', '=', t.vehicleId)
            .where('fault_code', '=', t.faultCode)
            .where('id', '<>', t.id)
            .where('received_at', '>', t.updatedAt)
            .executeTakeFirst()
        : undefined;
    const row = {
      closed_at: t.updatedAt,
      restored_at: restoredAt,
      arrived_at: await arrivalOf(t.id),
      remote,
      next_same_fault_at: next?.at === null || next?.at === undefined ? null : Number(next.at),
    } as const;
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('ticket_outcomes')
        .values({ ticket_id: t.id, ...row })
        .onConflict((oc) => oc.column('ticket_id').doUpdateSet(row))
        .execute();
      await markTicketStatsDirty(tx, [t.receivedAt]);
    });
  }

  /** A reopened ticket has no outcome until it closes again. */
  async function reopened(t: Ticket): Promise<void> {
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom('ticket_outcomes').where('ticket_id', '=', t.id).execute();
      await markTicketStatsDirty(tx, [t.receivedAt]);
    });
  }

  /** A new ticket of a vehicle and fault: the earlier closed ones of the same pair not yet followed by one are now. */
  async function opened(t: Ticket): Promise<void> {
    if (t.vehicleId === null || t.faultCode === null) return;
    const { vehicleId, faultCode } = t;
    await db.transaction().execute(async (tx) => {
      const earlier = await tx
        .updateTable('ticket_outcomes')
        .set({ next_same_fault_at: t.receivedAt })
        .where('next_same_fault_at', 'is', null)
        .where('closed_at', '<', t.receivedAt)
        .where('ticket_id', 'in', (eb) =>
          eb
            .selectFrom('tickets')
            .select('id')
            .where('vehicle_id', '=', vehicleId)
            .where('fault_code', '=', faultCode)
            .where('id', '<>', t.id),
        )
        .returning('ticket_id')
        .execute();
      if (earlier.length === 0) return;
      const received = await tx
        .selectFrom('tickets')
        .select('received_at')
        .where(
          'id',
          'in',
          earlier.map((e) => Number(e.ticket_id)),
        )
        .execute();
      await markTicketStatsDirty(
        tx,
        received.map((r) => Number(r.received_at)),
      );
    });
  }

  const track = (p: Promise<unknown>, ticketId: number) => {
    const q = p.catch((err: unknown) => log.error({ err, ticketId }, 'ticket outcome not recorded'));
    pending.add(q);
    void q.finally(() => pending.delete(q));
  };

  return {
    start() {
      const offOpened = bus.on('ticket.opened', (e) => track(opened(e.ticket), e.ticket.id));
      const offUpdated = bus.on('ticket.updated', (e) => {
        if (e.action === 'close' && e.ticket.status === 'closed') track(closed(e.ticket), e.ticket.id);
        else if (e.action === 'reopen') track(reopened(e.ticket), e.ticket.id);
      });
      off = () => {
        offOpened();
        offUpdated();
      };
    },
    stop() {
      off?.();
      off = undefined;
    },
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    closed,
    opened,
  };
}

export type Outcomes = ReturnType<typeof createOutcomes>;
