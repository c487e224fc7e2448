import { describe, expect, it } from 'vitest';
import { escalationFor } from '../../web/console/src/escalation.ts';
import type { LiveTicket } from '../../web/live/events.ts';
import type { TicketView } from '../../web/ticket-view.ts';

const ticket = { id: 7, number: 'EM-CA-0007', title: 'Shelter 3: no power' } as TicketView;

describe('the console alerts the accounts a missed deadline escalated to (issue 15, item 3)', () => {
  const breach = (accounts: string[]): LiveTicket => ({
    kind: 'deadline_breached',
    ticket,
    deadline: 'work_content',
    escalatedTo: accounts[0]!,
    escalatedAccounts: accounts,
  });

  it('alerts each account named, and only them', () => {
    const m = breach(['desk-1', 'desk-2']);
    expect(escalationFor(m, 'desk-1')).toEqual({ id: 7, number: 'EM-CA-0007', title: 'Shelter 3: no power' });
    expect(escalationFor(m, 'desk-2')).not.toBeNull();
    expect(escalationFor(m, 'engineer')).toBeNull();
  });

  it('other ticket events are no escalation, even for the assignee', () => {
    expect(escalationFor({ kind: 'opened', ticket }, 'desk-1')).toBeNull();
    expect(escalationFor({ kind: 'updated', ticket, action: 'escalated' }, 'desk-1')).toBeNull();
  });
});
