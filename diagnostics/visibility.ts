import type { AlarmNote, TimelineEntry } from './types.ts';

/**
 * Who may read a note staff write on a ticket's timeline (a comment, the note of a status step)
 * or on an alarm (a comment, the acknowledgement's comment): `internal` — staff only; `customer` —
 * staff and the ticket's (the alarm's vehicle's) customer unit. A customer's own comments and what
 * the platform writes by itself (system entries, assignments, ETAs, pages) are `customer`.
 */
export const NOTE_VISIBILITIES = ['internal', 'customer'] as const;
export type NoteVisibility = (typeof NOTE_VISIBILITIES)[number];

/**
 * A timeline as a customer may see it: an internal comment is left out (it is nothing but its
 * note), any other internal entry (a status step) is kept without its note. What is sent to a
 * customer is customer-visible, so every entry says `customer`.
 */
export function timelineForCustomer(entries: TimelineEntry[]): TimelineEntry[] {
  return entries
    .filter((e) => e.visibility === 'customer' || e.action !== 'comment')
    .map((e) => (e.visibility === 'customer' ? e : { ...e, note: null, visibility: 'customer' }));
}

/** An alarm's notes as a customer may see them: internal comments left out, an internal acknowledgement without its text. */
export function alarmNotesForCustomer(notes: AlarmNote[]): AlarmNote[] {
  return notes
    .filter((n) => n.visibility === 'customer' || n.kind !== 'comment')
    .map((n) => (n.visibility === 'customer' ? n : { ...n, text: null, visibility: 'customer' }));
}
