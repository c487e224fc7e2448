import { afterEach, describe, expect, it } from 'vitest';
import { createAccounts } from '../../web/auth/accounts.ts';
import type { LiveInbox, LiveRinging } from '../../web/live/events.ts';
import { openConsole, type LiveClient } from '../helpers/live-client.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { PASSWORD, TEST_COST } from '../web/helpers.ts';

/** A crew's request rings: the staff consoles get `remote.ringing` at once, the rung engineer also an urgent inbox item; customers get neither. */
describe('ringing, live', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('pushes the ring to staff consoles and the rung account’s inbox, never to customers', async () => {
    // no shift on the roster: the duty lead is rung
    const tp = await startTestPlatform({ DUTY_LEAD: 'lead', NOTIFY_POLL_MS: '600000' });
    cleanup.push(() => tp.close());
    const p = tp.platform;
    await p.customers.add({ id: 'CA', name: 'Unit A' });
    await tp.addVehicle('VA1', 'CA');
    const accounts = createAccounts({ db: p.records }, { passwordCost: TEST_COST });
    await accounts.add({ id: 'lead', name: 'Lead', role: 'engineer', password: PASSWORD, mustChangePassword: false });
    await accounts.add({
      id: 'other',
      name: 'Other',
      role: 'dispatcher',
      password: PASSWORD,
      mustChangePassword: false,
    });
    await accounts.add({ id: 'cust-a', name: 'A', role: 'customer', customerId: 'CA', password: PASSWORD });
    const base = `http://127.0.0.1:${p.ports.http}`;
    const opened: LiveClient[] = [];
    cleanup.push(() => opened.forEach((s) => s.disconnect()));
    const lead = await openConsole(base, 'lead', PASSWORD, { opened, on: 'welcome' });
    const other = await openConsole(base, 'other', PASSWORD, { opened, on: 'welcome' });
    const crew = await openConsole(base, 'cust-a', PASSWORD, { opened, on: 'welcome' });

    const { session } = await p.remote.request(
      { id: 'cust-a', role: 'customer', customerId: 'CA' },
      { vehicleId: 'VA1', description: 'no power at all' },
    );
    const ring = await lead.rec.next<LiveRinging>('remote.ringing');
    expect(ring).toMatchObject({
      sessionId: session.id,
      ticketId: session.ticketId,
      vehicleId: 'VA1',
      description: 'no power at all',
      step: 'duty_lead',
      accounts: ['lead'],
    });
    // the whole desk sees who is rung
    expect((await other.rec.next<LiveRinging>('remote.ringing')).accounts).toEqual(['lead']);
    // the rung account's inbox, delivered by the dispatcher (woken by the commit, not the poll)
    const inbox = await lead.rec.next<LiveInbox>('inbox', (m) => m.item.kind === 'session_ring');
    expect(inbox.item).toMatchObject({ urgent: true, ticketId: session.ticketId });
    // a staff account without contact settings reads NOTIFY_LANGUAGE (zh)
    expect(inbox.item.subject).toContain('值班负责人');
    // a customer console never hears of it
    await crew.rec.next('welcome').catch(() => undefined);
    expect(crew.rec.got.filter((g) => g.event === 'remote.ringing')).toEqual([]);
    expect(other.rec.got.filter((g) => g.event === 'inbox')).toEqual([]);
  });
});
