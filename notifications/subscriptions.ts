import type { TicketLevel } from '../diagnostics/tickets/status.ts';
import type { NotificationContact } from './contacts.ts';
import { atLeast, type CustomerKind } from './kinds.ts';

/** What a message is about, for matching subscriptions. */
export interface MessageSubject {
  kind: CustomerKind;
  vehicleId: string | null;
  level: TicketLevel;
}

/**
 * Whether a customer contact gets a message: without subscriptions, everything of its unit at every
 * level (the sensible default); with some, when any of them matches the vehicle (or names none), the
 * kind (or names none) and the level is at least its minimum (加急 urgent / 特急 extra_urgent).
 */
export function wants(contact: Pick<NotificationContact, 'subscriptions'>, m: MessageSubject): boolean {
  if (contact.subscriptions.length === 0) return true;
  return contact.subscriptions.some(
    (s) =>
      (s.vehicleId === null || s.vehicleId === m.vehicleId) &&
      (s.kinds.length === 0 || s.kinds.includes(m.kind)) &&
      atLeast(m.level, s.minLevel),
  );
}
