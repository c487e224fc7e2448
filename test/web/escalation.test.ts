import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, startWeb, type TestWeb } from './helpers.ts';

/**
 * Issue 15, item 3: a missed deadline escalates to real accounts — the duty lead of the roster's
 * shift on duty, else every active account of ESCALATION_ROLE — never to the DUTY_LEAD name no
 * account holds (unless nobody else can be found). The timeline names them; the breach event
 * carries them for their consoles' alert.
 */
describe('escalation to real accounts', () => {
  let w: TestWeb | undefined;
  afterEach(async () => {
    w?.tickets.stop();
    await w?.close();
    w = undefined;
  });

  /** Opens a ticket, lets its 30 minutes pass and runs the deadline check; returns the ticket and its breach events. */
  async function breach(web: TestWeb) {
    const events: { escalatedTo: string; escalatedAccounts: string[] }[] = [];
    web.bus.on('ticket.deadline_breached', (e) => void events.push(e));
    const t = await web.ticket('VA1', 'extra_urgent');
    web.advance(31 * 60_000);
    await web.tickets.start(); // records what is due by now
    const after = await web.tickets.get(t.id);
    const timeline = await web.tickets.timeline(t.id);
    return { after, events, escalated: timeline.find((e) => e.action === 'escalated') };
  }

  it('without a shift on duty: every active account of the escalation role (default dispatcher)', async () => {
    w = await startWeb();
    await w.ctx.accounts.add({ id: 'desk-2', name: 'Desk 2', role: 'dispatcher', password: PASSWORD });
    await w.ctx.accounts.add({ id: 'desk-old', name: 'Old', role: 'dispatcher', password: PASSWORD });
    await w.ctx.accounts.update('desk-old', { disabled: true });
    const { after, events, escalated } = await breach(w);
    expect(after.escalatedAccounts.sort()).toEqual(['desk-2', 'dispatcher']);
    expect(after.escalatedTo).toBe(after.escalatedAccounts[0]);
    expect(escalated?.note).toMatch(/^escalated to (dispatcher, desk-2|desk-2, dispatcher)$/);
    expect(events.map((e) => e.escalatedAccounts.sort())).toEqual([['desk-2', 'dispatcher']]);
    expect(JSON.stringify(after)).not.toContain('duty-lead');
    // the customer unit reads public names, never the staff login ids escalated to
    const cust = await w.login('cust-a');
    const seen = (await cust.get(`/api/tickets/${after.id}`)).body;
    expect(seen).not.toContain('desk-2');
    expect(seen).toContain('escalated to ');
  });

  it('a shift on duty: its duty lead', async () => {
    w = await startWeb();
    // the harness's clock: 2026-11-27 08:00 UTC, 16:00 in the service centre (Asia/Shanghai)
    await w.sessions.roster.add({
      weekday: null,
      date: '2026-11-27',
      start: '08:00',
      end: '20:00',
      primary: 'engineer',
      secondary: null,
      dutyLead: 'admin',
    });
    const { after, events, escalated } = await breach(w);
    expect(after.escalatedAccounts).toEqual(['admin']);
    expect(escalated?.note).toBe('escalated to admin');
    expect(events[0]).toMatchObject({ escalatedTo: 'admin', escalatedAccounts: ['admin'] });
  });

  it('ESCALATION_ROLE chooses the role; DUTY_LEAD only when no account of it is active', async () => {
    w = await startWeb({ env: { ESCALATION_ROLE: 'engineer' } });
    expect((await breach(w)).after.escalatedAccounts).toEqual(['engineer']);
    await w.close();
    w = await startWeb({ env: { ESCALATION_ROLE: 'engineer', DUTY_LEAD: 'lead-on-paper' } });
    await w.ctx.accounts.update('engineer', { disabled: true });
    expect((await breach(w)).after.escalatedAccounts).toEqual(['lead-on-paper']);
  });
});
