import type { Server, Socket } from 'socket.io';
import type { SessionPrincipal } from '../../remote/types.ts';
import type { Account } from '../auth/accounts.ts';
import { STAFF_ROLES } from '../auth/roles.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './events.ts';

/** What the handshake puts on every accepted connection. Each module keeps its own per-connection state. */
export interface SocketData {
  /** For a guest: `guestAccount`, a placeholder with no rights (a customer of no unit). */
  account: Account;
  sessionId: string;
  /** Set for a guest's connection (an invite link): it may join that one remote session and nothing else. */
  guest?: SessionPrincipal;
}

/**
 * What a guest's connection carries as its account: a customer account of no unit, so that any
 * module that ever saw it would grant nothing (no rooms, every vehicle "not found"). The live layer
 * does not even hand guest connections to those modules.
 */
export function guestAccount(guest: SessionPrincipal): Account {
  return {
    id: guest.id,
    name: 'Guest',
    displayName: null,
    role: 'customer',
    customerId: null,
    mustChangePassword: false,
    disabled: false,
    createdAt: 0,
    updatedAt: 0,
    lastLoginAt: null,
    twoFactor: false,
  };
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
    if (STAFF_ROLES.includes(account.role)) return [rooms.staff, rooms.tickets];
    // supply chain: nothing of the fleet, alarms or tickets (its own inbox room only)
    if (account.role !== 'customer') return [];
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
