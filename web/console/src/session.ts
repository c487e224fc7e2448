/** The signed-in account and the platform's vocabulary (levels, modes, actions), loaded once after login. */
import { api } from './api.ts';
import { REGISTER_READ, SUPPLIERS_READ } from '../../auth/resource-roles.ts';
import type { Localized } from './i18n.ts';
import type { Role, Session } from './types.ts';

export interface Meta {
  ticketLevels: Record<string, Localized>;
  serviceModes: Record<string, Localized>;
  ticketStatuses: string[];
  ticketActions: Record<string, { from: string[]; to: string; roles: Role[] }>;
  alarmSeverities: string[];
  powerSources: string[];
  /** Fault code → its title in both languages. */
  faults: Record<string, Localized>;
}

let meta: Meta | null = null;
let session: Session | null = null;

export async function loadMeta(): Promise<Meta> {
  meta = await api.get<Meta>('/api/meta');
  return meta;
}

export function getMeta(): Meta {
  if (!meta) throw new Error('meta not loaded');
  return meta;
}

export function setSession(s: Session | null): void {
  session = s;
}

export function me(): Session['account'] {
  if (!session) throw new Error('not signed in');
  return session.account;
}

/** The guest of an invitation link (views/guest.tsx): no account, one remote session. */
let guest: { guestId: string; sessionId: number } | null = null;

export function setGuest(g: { guestId: string; sessionId: number } | null): void {
  guest = g;
}

/** Whether this console is a guest's (an invited crew member without an account). */
export function isGuest(): boolean {
  return guest !== null;
}

/** Who is looking: the signed-in account's id, or the guest's. */
export function viewerId(): string {
  return guest ? guest.guestId : me().id;
}

export const isStaff = (role: Role) => role === 'admin' || role === 'dispatcher' || role === 'engineer';
/** Who sees the spare-parts stock (supply chain keeps it). */
export const seesStock = (role: Role) => isStaff(role) || role === 'supply';
/** Whether the signed-in account is one of `roles` (the resource register's, web/auth/resource-roles.ts). */
export const may = (roles: readonly Role[]) => roles.includes(me().role);
/** Who gets the resource register: staff, and supply chain for the suppliers (web/auth/resource-roles.ts). */
export const seesResources = (role: Role) => REGISTER_READ.includes(role) || SUPPLIERS_READ.includes(role);

/**
 * A ticket's title in the current language: a ticket diagnostics opened is titled by its fault
 * code's title; one opened by hand keeps the words it was given.
 */
export function ticketTitle(
  tk: { source: string; faultCode: string | null; title: string },
  l: (x: Localized) => string,
): string {
  const f = tk.source === 'rule' && tk.faultCode ? meta?.faults[tk.faultCode] : undefined;
  return f ? l(f) : tk.title;
}
