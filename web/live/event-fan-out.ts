import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { CommandRecord } from '../../commands/types.ts';
import type { Alarm } from '../../diagnostics/types.ts';
import type { Naming, PublicNames } from '../public-names.ts';
import { ticketView } from '../ticket-view.ts';
import type { Backpressure } from './backpressure.ts';
import type { LiveCommand, LiveTicket } from './events.ts';
import { rooms, type LiveModule } from './sockets.ts';

export interface EventFanOutDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  send: Pick<Backpressure, 'sendReliable'>;
  log: Logger;
  /** Customers never get staff login ids: their copy names people as web/public-names.ts says. */
  names: Pick<PublicNames, 'forCustomer'>;
  /** The staff connections subscribed to a vehicle (socket ids): where its operator commands go. */
  staffWatching(vehicleId: string): string[];
}

/**
 * Alarms, tickets and operator commands as they happen, never dropped: alarms to the staff and the
 * alarm's unit (the vehicle's when it was raised), tickets to the ticket queue and the ticket's
 * unit, commands (sent, settled) to the staff subscribed to the vehicle — never to a customer. A
 * change only staff may hear of (an internal comment: diagnostics/visibility.ts) has no copy for the
 * unit. The unit's copy names people for customers
 * (display names or role labels, never staff login ids); the customer copies go out one after the
 * other in the order of the events.
 */
export function createEventFanOut(deps: EventFanOutDeps): LiveModule {
  const { send, log } = deps;
  let customerQueue: Promise<void> = Promise.resolve();
  const toCustomer = (customerId: string, emit: (naming: Naming) => void) => {
    customerQueue = customerQueue
      .then(async () => emit(await deps.names.forCustomer(customerId)))
      .catch((err: unknown) => log.warn({ err }, 'live event for a customer unit failed'));
  };

  async function onAlarm(kind: 'raised' | 'updated' | 'cleared', alarm: Alarm): Promise<void> {
    send.sendReliable([rooms.staff], 'alarm', { kind, alarm });
    // to the unit stamped on the alarm (the vehicle's unit when it was raised), not the vehicle's unit now
    const cid = alarm.customerId;
    if (cid)
      toCustomer(cid, (naming) =>
        send.sendReliable([rooms.customer(cid)], 'alarm', { kind, alarm: naming.alarm(alarm) }),
      );
  }

  /** `internal`: a change only staff may hear of (an internal comment): no copy to the unit. */
  function onTicket(m: LiveTicket, internal = false): void {
    const cid = m.ticket.customerId;
    send.sendReliable([rooms.tickets], 'ticket', m);
    if (cid && !internal)
      toCustomer(cid, (naming) =>
        send.sendReliable([rooms.customerTickets(cid)], 'ticket', {
          ...m,
          ticket: naming.ticket(m.ticket),
          ...('escalatedTo' in m
            ? { escalatedTo: naming.person(m.escalatedTo), escalatedAccounts: m.escalatedAccounts.map(naming.person) }
            : {}),
        } as LiveTicket),
      );
  }

  function onCommand(kind: LiveCommand['kind'], command: CommandRecord): void {
    const to = deps.staffWatching(command.vehicleId);
    if (to.length) send.sendReliable(to, 'command', { kind, command });
  }

  const failed = (err: unknown) => log.warn({ err }, 'live alarm failed');
  const offs = [
    deps.bus.on('alarm.raised', (e) => void onAlarm('raised', e.alarm).catch(failed)),
    deps.bus.on('alarm.updated', (e) => void onAlarm('updated', e.alarm).catch(failed)),
    deps.bus.on('alarm.cleared', (e) => void onAlarm('cleared', e.alarm).catch(failed)),
    deps.bus.on('command.sent', (e) => onCommand('sent', e.command)),
    deps.bus.on('command.settled', (e) => onCommand('settled', e.command)),
    deps.bus.on('ticket.opened', (e) => onTicket({ kind: 'opened', ticket: ticketView(e.ticket) })),
    deps.bus.on('ticket.updated', (e) =>
      onTicket({ kind: 'updated', ticket: ticketView(e.ticket), action: e.action }, e.internal === true),
    ),
    deps.bus.on('ticket.deadline_breached', (e) =>
      onTicket({
        kind: 'deadline_breached',
        ticket: ticketView(e.ticket),
        deadline: e.deadline,
        escalatedTo: e.escalatedTo,
        escalatedAccounts: e.escalatedAccounts,
      }),
    ),
  ];

  return {
    close() {
      for (const off of offs) off();
    },
  };
}
