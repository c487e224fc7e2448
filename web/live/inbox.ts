import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Backpressure } from './backpressure.ts';
import { rooms, type LiveModule } from './sockets.ts';

/**
 * The console inbox, live: each connection joins its account's own room, and an inbox delivery
 * (`notification.delivered` with the account's item, emitted after the row is committed) goes to
 * that room only — the account's open consoles, never another account's.
 */
export function createInboxPush(deps: {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  send: Pick<Backpressure, 'sendReliable'>;
}): LiveModule {
  const off = deps.bus.on('notification.delivered', (e) => {
    if (e.delivery.channel !== 'inbox' || !e.inboxItem) return;
    deps.send.sendReliable([rooms.account(e.delivery.target)], 'inbox', { item: e.inboxItem });
  });
  return {
    connected(socket) {
      void socket.join(rooms.account(socket.data.account.id));
    },
    close() {
      off();
    },
  };
}
