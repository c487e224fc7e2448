import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Backpressure } from './backpressure.ts';
import { rooms, type LiveModule } from './sockets.ts';

/**
 * Remote support rings, live: every step of a session's ring ladder (`remote.ringing`, emitted after
 * the session's commit) goes to the staff room — the whole desk sees who is being rung, the rung
 * engineers' consoles sound and show a browser notification. Customers never get it.
 */
export function createRingingPush(deps: {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  send: Pick<Backpressure, 'sendReliable'>;
}): LiveModule {
  const off = deps.bus.on('remote.ringing', ({ session, accounts, step }) => {
    deps.send.sendReliable([rooms.staff], 'remote.ringing', {
      sessionId: session.id,
      ticketId: session.ticketId,
      vehicleId: session.vehicleId,
      description: session.description,
      requestedAt: session.requestedAt,
      step,
      accounts,
    });
  });
  return {
    close() {
      off();
    },
  };
}
