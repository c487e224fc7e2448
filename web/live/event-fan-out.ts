import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { Alarm } from '../../diagnostics/types.ts';
import { ticketView } from '../ticket-view.ts';
import type { Backpressure } from './backpressure.ts';
import type { LiveTicket } from './events.ts';
import { rooms, type LiveModule } from './sockets.ts';
import type { VehicleInfoCache } from './vehicles.ts';

export interface EventFanOutDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  vehicleInfo: Pick<VehicleInfoCache, 'get'>;
  send: Pick<Backpressure, 'sendReliable'>;
  log: Logger;
}

/**
 * Alarms and tickets as they happen, never dropped: alarms to the staff and the vehicle's unit,
 * tickets to the ticket queue and the ticket's unit.
 */
export function createEventFanOut(deps: EventFanOutDeps): LiveModule {
  const { send, log } = deps;

  async function onAlarm(kind: 'raised' | 'updated' | 'cleared', alarm: Alarm): Promise<void> {
    const info = await deps.vehicleInfo.get(alarm.vehicleId);
    send.sendReliable(info ? [rooms.staff, rooms.customer(info.customerId)] : [rooms.staff], 'alarm', { kind, alarm });
  }

  function onTicket(m: LiveTicket): void {
    const cid = m.ticket.customerId;
    send.sendReliable(cid ? [rooms.tickets, rooms.customerTickets(cid)] : [rooms.tickets], 'ticket', m);
  }

  const failed = (err: unknown) => log.warn({ err }, 'live alarm failed');
  const offs = [
    deps.bus.on('alarm.raised', (e) => void onAlarm('raised', e.alarm).catch(failed)),
    deps.bus.on('alarm.updated', (e) => void onAlarm('updated', e.alarm).catch(failed)),
    deps.bus.on('alarm.cleared', (e) => void onAlarm('cleared', e.alarm).catch(failed)),
    deps.bus.on('ticket.opened', (e) => onTicket({ kind: 'opened', ticket: ticketView(e.ticket) })),
    deps.bus.on('ticket.updated', (e) => onTicket({ kind: 'updated', ticket: ticketView(e.ticket), action: e.action })),
    deps.bus.on('ticket.deadline_breached', (e) =>
      onTicket({
        kind: 'deadline_breached',
        ticket: ticketView(e.ticket),
        deadline: e.deadline,
        escalatedTo: e.escalatedTo,
      }),
    ),
  ];

  return {
    close() {
      for (const off of offs) off();
    },
  };
}
