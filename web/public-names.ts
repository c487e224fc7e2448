import type { Alarm, AlarmNote, TimelineEntry } from '../diagnostics/types.ts';
import type { Account, Accounts, Role } from './auth/accounts.ts';
import { PUBLIC_LABELS } from './public-labels.ts';
import type { TicketView } from './ticket-view.ts';

/**
 * How people are named to customers. Staff login ids are never sent to a customer (a login id is
 * half of a login): a staff member is shown by the display name an admin gave it, else by a role
 * label. A customer's own unit's accounts keep their ids; `system` is "System"; anything else (a
 * removed account, a configured escalation target that is no account) is "Staff". The labels are
 * sent in English; the console shows them in its language (web/public-labels.ts has both).
 */
export const ROLE_LABELS: Record<Role, string> = {
  admin: PUBLIC_LABELS.admin.en,
  dispatcher: PUBLIC_LABELS.dispatcher.en,
  engineer: PUBLIC_LABELS.engineer.en,
  customer: PUBLIC_LABELS.customer.en,
  supply: PUBLIC_LABELS.supply.en,
};

/** The name a customer of `customerId` sees for `actor`. */
export type NameFor = (actor: string) => string;

export function publicName(accountsById: Map<string, Account>, customerId: string): NameFor {
  return (actor) => {
    if (actor === 'system') return PUBLIC_LABELS.system.en;
    const a = accountsById.get(actor);
    if (!a) return PUBLIC_LABELS.staff.en;
    if (a.role === 'customer') return a.customerId === customerId ? a.id : ROLE_LABELS.customer;
    return a.displayName ?? ROLE_LABELS[a.role];
  };
}

/** Rewrites the timeline notes that name a person ("assigned to …", "escalated to …"). */
const NAMING_NOTES = ['assigned to ', 'escalated to ', 'paged ', 'page escalated to ', 'page acknowledged by '];

function renameNote(note: string | null, name: NameFor): string | null {
  if (note === null) return null;
  // "escalated to desk-1, desk-2": a list of people (account ids hold no comma)
  for (const prefix of NAMING_NOTES)
    if (note.startsWith(prefix)) return prefix + note.slice(prefix.length).split(', ').map(name).join(', ');
  return note;
}

/** What one account may see of people: staff see everything as stored. */
export interface Naming {
  /** One person (an actor, an assignee, an escalation target). */
  person(actor: string): string;
  ticket(t: TicketView): TicketView;
  timeline(entries: TimelineEntry[]): TimelineEntry[];
  alarm(a: Alarm): Alarm;
  notes(notes: AlarmNote[]): AlarmNote[];
}

const AS_STORED: Naming = { person: (p) => p, ticket: (t) => t, timeline: (e) => e, alarm: (a) => a, notes: (n) => n };

/** The customer's view of tickets, timelines and alarms: every staff login id replaced by a public name. */
export function createPublicNames(deps: { accounts: Pick<Accounts, 'list'> }) {
  /** The naming for one customer unit, from the accounts as they are now. */
  async function forCustomer(customerId: string): Promise<Naming> {
    const byId = new Map((await deps.accounts.list()).map((a) => [a.id, a]));
    const name = publicName(byId, customerId);
    const opt = (v: string | null) => (v === null ? null : name(v));
    return {
      person: name,
      ticket: (t) => ({
        ...t,
        assignee: opt(t.assignee),
        escalatedTo: opt(t.escalatedTo),
        repairedBy: opt(t.repairedBy),
        escalatedAccounts: t.escalatedAccounts.map(name),
        levelConfirmedBy: opt(t.levelConfirmedBy),
      }),
      timeline: (entries) => entries.map((e) => ({ ...e, actor: name(e.actor), note: renameNote(e.note, name) })),
      alarm: (a) => ({ ...a, acknowledgedBy: opt(a.acknowledgedBy) }),
      notes: (notes) => notes.map((n) => ({ ...n, actor: name(n.actor) })),
    };
  }
  return {
    forCustomer,
    /** The naming for what `viewer` is sent: as stored for staff, public names for a customer. */
    forViewer(viewer: Pick<Account, 'role' | 'customerId'>): Promise<Naming> {
      return viewer.role === 'customer' ? forCustomer(viewer.customerId ?? '') : Promise.resolve(AS_STORED);
    },
    /**
     * How staff read an actor beside its login id (a ticket timeline's `actorName`): the account's
     * display name, else the name on the account. Null for a customer viewer, whose actors are public
     * names already, and for `system` or an id that is no account.
     */
    async actorNames(viewer: Pick<Account, 'role'>): Promise<(actor: string) => string | null> {
      if (viewer.role === 'customer') return () => null;
      const byId = new Map((await deps.accounts.list()).map((a) => [a.id, a]));
      return (actor) => {
        const a = byId.get(actor);
        return a ? a.displayName || a.name.trim() || null : null;
      };
    },
  };
}

export type PublicNames = ReturnType<typeof createPublicNames>;

/**
 * The people of remote sessions (remote/sessions.ts `people`): an account as the session records
 * need it, and the name the other side sees — a staff member's display name or role label (never
 * the login id), a customer account's id (its own unit sees it so), "Staff" for anyone else.
 */
export function sessionPeople(accounts: Pick<Accounts, 'get'>) {
  return {
    get: (id: string) => accounts.get(id),
    async shownName(id: string): Promise<string> {
      const a = await accounts.get(id);
      if (!a) return 'Staff';
      return a.role === 'customer' ? a.id : (a.displayName ?? ROLE_LABELS[a.role]);
    },
  };
}
