import { afterEach, describe, expect, it } from 'vitest';
import { startWeb, type TestWeb } from '../web/helpers.ts';

/**
 * A remote support request is told in its own transaction: the unit's contacts get `session_requested`,
 * every engineer the ring reaches gets an urgent `session_ring` over its channels and console inbox.
 */
describe('remote session notifications', () => {
  let w: TestWeb | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });

  it('a crew request tells the unit and rings the engineer on duty through the outbox, each once', async () => {
    w = await startWeb();
    // the engineer is on duty around the clock (every weekday, 00:00 → 00:00 runs past midnight)
    for (let weekday = 0; weekday < 7; weekday++)
      await w.sessions.roster.add({
        weekday,
        date: null,
        start: '00:00',
        end: '00:00',
        primary: 'engineer',
        secondary: null,
        dutyLead: 'dispatcher',
      });
    await w.notifications.contacts.addToCustomer('CA', {
      name: 'Wang Fang',
      language: 'zh',
      channels: [{ channel: 'email', target: 'duty@unit-a.example' }],
    });
    await w.notifications.contacts.setForAccount('engineer', {
      name: 'Engineer',
      language: 'en',
      channels: [{ channel: 'email', target: 'engineer@powerwatch.example' }],
    });

    const crew = { id: 'cust-a', role: 'customer' as const, customerId: 'CA' };
    const { session } = await w.sessions.request(crew, {
      vehicleId: 'VA1',
      description: 'generator <b>will not</b> start',
    });
    // asking again joins the same session: nothing is told twice
    await w.sessions.request(crew, { vehicleId: 'VA1', description: 'generator will not start' });

    const rows = await w.db
      .selectFrom('notifications')
      .selectAll()
      .where('key', 'like', `session:${session.id}:%`)
      .orderBy('id')
      .execute();
    const told = rows.map((r) => [r.kind, r.channel, r.target, r.urgent]);
    expect(told).toEqual(
      expect.arrayContaining([
        ['session_requested', 'email', 'duty@unit-a.example', 0],
        ['session_ring', 'email', 'engineer@powerwatch.example', 1],
        ['session_ring', 'inbox', 'engineer', 1],
      ]),
    );
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    const ring = rows.find((r) => r.kind === 'session_ring' && r.channel === 'email')!;
    expect(ring.subject).toContain('Remote support requested: you are on duty');
    expect(ring.subject).toContain('Shelter A1');
    // what the crew typed is escaped in the HTML
    expect(ring.html).toContain('generator &lt;b&gt;will not&lt;/b&gt; start');
    const requested = rows.find((r) => r.kind === 'session_requested')!;
    expect(requested.language).toBe('zh');
    expect(requested.subject).toContain('远程技术支援');
  });
});
