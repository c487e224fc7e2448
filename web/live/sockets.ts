import type { Server, Socket } from 'socket.io';
import type { Account } from '../auth/accounts.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './events.ts';

/** What the handshake puts on every accepted connection. Each module keeps its own per-connection state. */
export interface SocketData {
  account: Account;
  sessionId: string;
}

export type LiveServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Rooms. Staff sockets join STAFF and TICKETS; a customer's join its unit's two rooms. */
export const rooms = {
  staff: 'staff',
  customer: (customerId: string) => `customer:${customerId}`,
  tickets: 'tickets',
  customerTickets: (customerId: string) => `tickets:${customerId}`,
  vehicle: (vehicleId: string) => `vehicle:${vehicleId}`,
  /** One account's own connections (its inbox). */
  account: (accountId: string) => `account:${accountId}`,
  /** The rooms a connection joins as it is accepted: what its account may see of the fleet, alarms and tickets. */
  of(account: Pick<Account, 'role' | 'customerId'>): string[] {
    if (account.role !== 'customer') return [rooms.staff, rooms.tickets];
    return account.customerId ? [rooms.customer(account.customerId), rooms.customerTickets(account.customerId)] : [];
  },
};

/**
 * One concern of the live layer (handshake, backpressure, vehicle frames, …), composed by live.ts.
 * `connected` is called for every accepted connection, in the order the modules are listed;
 * `close` stops the module's timers and bus listeners before the connections are cut.
 */
export interface LiveModule {
  /** The client requests (events) this module answers; any other is refused by the protocol guard. */
  readonly requests?: readonly string[];
  connected?(socket: LiveSocket): void;
  close(): void;
}

/** The staff connections in a room (each socket is also a room of its own id): customers left out. */
export function staffIn(io: LiveServer, room: string): string[] {
  const ids: string[] = [];
  for (const id of io.sockets.adapter.rooms.get(room) ?? [])
    if (io.sockets.sockets.get(id)?.data.account.role !== 'customer') ids.push(id);
  return ids;
}
