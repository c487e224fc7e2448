import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationsTable } from '../../notifications/outbox.ts';
import { inTransaction } from '../../records/db.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { startWeb, type TestWeb } from '../web/helpers.ts';

/**
 * The producing side over the real ticket service and SQLite (tests/web/helpers: unit CA with
 * vehicle VA1 "Shelter A1", clock at 2026-11-27 08:00 UTC = 16:00 in Asia/Shanghai).
 */
let w: TestWeb;
beforeEach(async () => {
  w = await startWeb();
});
afterEach(async () => w.close());

const rows = (where: Partial<NotificationsTable> = {}) => {
  let q = w.db.selectFrom('notifications').selectAll();
  for (const [k, v] of Object.entries(where)) q = q.where(k as keyof NotificationsTable, '=', v as never);
  return q.orderBy('id').execute();
};

async function contact(input: Partial<Parameters<TestWeb['notifications']['contacts']['addToCustomer']>[1]> = {}) {
  return w.notifications.contacts.addToCustomer('CA', {
    name: 'Zhang Min',
    language: 'en',
    channels: [
      { channel: 'email', target: 'zhang@unit-a.example' },
      { channel: 'webhook', target: 'unit-a-hook' },
    ],
    ...input,
  });
}

/** A ticket of an incident, opened as diagnostics opens it (in the alarm's transaction). */
async function incidentTicket(incidentId: number, level: Ticket['level'] = 'extra_urgent'): Promise<Ticket> {
  const opened = await inTransaction(w.db, (tx) =>
    w.tickets.openForIncident(tx, {
      incidentId,
      vehicleId: 'VA1',
      customerId: 'CA',
      level,
      title: 'Shelter A1: Generator failed to start / 发电机组启动失败',
      need: 'GEN-START-FAIL detected automatically',
      faultCode: 'GEN-START-FAIL',
      snapshot: undefined,
    }),
  );
  await opened.announce();
  return opened.ticket;
}

describe('who gets what', () => {
  it('an extra-urgent ticket from a fault tells each of the unit’s contacts over each channel, in plain language and their language', async () => {
    const en = await contact();
    const zh = await contact({
      name: '王芳',
      language: 'zh',
      channels: [{ channel: 'email', target: 'wang@unit-a.example' }],
    });
    await w.notifications.contacts.addToCustomer('CB', {
      name: 'Other unit',
      language: 'en',
      channels: [{ channel: 'email', target: 'b@unit-b.example' }],
    });
    const t = await incidentTicket(11);
    const sent = await rows({ ticket_id: t.id });
    expect(sent.map((r) => [r.kind, r.channel, r.target, r.status, r.urgent])).toEqual([
      ['ticket_opened', 'email', 'zhang@unit-a.example', 'pending', 1],
      ['ticket_opened', 'webhook', 'unit-a-hook', 'pending', 1],
      ['ticket_opened', 'email', 'wang@unit-a.example', 'pending', 1],
    ]);
    const mail = sent[0]!;
    expect(mail.key).toMatch(new RegExp(`^ticket:${t.id}:opened:contact:${en.id}:email:`));
    expect(mail.thread).toBe('incident:11');
    expect(mail.subject).toBe(`[Extra urgent] Shelter A1: Generator failed to start — ticket ${t.number}`);
    // what happened (the plan's title, not the code), what to do for safety (the plan), who, when, the link
    expect(mail.body).toContain('Shelter A1: Generator failed to start.');
    expect(mail.body).not.toContain('GEN-START-FAIL');
    expect(mail.body).toContain('Stop the generator and let it cool before touching the fuel system.');
    expect(mail.body).toContain('our duty desk is handling it');
    expect(mail.body).toContain('We will contact you by 27 Nov 2026, 16:30');
    expect(mail.body).toContain(`http://localhost:8080/#/tickets/${t.id}`);
    const chinese = sent[2]!;
    expect(chinese.language).toBe('zh');
    expect(chinese.subject).toBe(`【特急】Shelter A1：发电机组启动失败 — 工单 ${t.number}`);
    expect(chinese.body).toContain('接触燃油系统前须停机并冷却。');
    expect(zh.id).toBeGreaterThan(en.id);
    // replaying the same event writes nothing twice (keys)
    await inTransaction(w.db, async (tx) => {
      await (w.notifications.producer.ticketChanged as (tx: unknown, e: unknown) => Promise<void>)(tx, {
        type: 'opened',
        ticket: t,
      });
    });
    expect(await rows({ ticket_id: t.id })).toHaveLength(3);
  });

  it('is written in the event’s transaction: a change rolled back leaves nothing in the outbox', async () => {
    await contact();
    await expect(
      inTransaction(w.db, async (tx) => {
        await w.tickets.openForIncident(tx, {
          incidentId: 12,
          vehicleId: 'VA1',
          customerId: 'CA',
          level: 'urgent',
          title: 'x',
          need: 'y',
          faultCode: 'GEN-START-FAIL',
          snapshot: undefined,
        });
        expect(await tx.selectFrom('notifications').select('id').execute()).toHaveLength(2);
        throw new Error('the alarm’s transaction failed');
      }),
    ).rejects.toThrow('failed');
    expect(await rows()).toEqual([]);
    expect(await w.tickets.list()).toEqual([]);
  });

  it('subscriptions narrow what a contact gets: by vehicle, kind and minimum level', async () => {
    const c = await contact();
    await w.notifications.contacts.setSubscriptions(c.id, [
      { vehicleId: 'VA1', kinds: ['ticket_eta'], minLevel: 'extra_urgent' },
    ]);
    const urgent = await w.ticket('VA1', 'urgent');
    const extra = await w.ticket('VA1', 'extra_urgent');
    expect(await rows()).toEqual([]); // openings are not subscribed
    await w.tickets.setEta(urgent.id, w.now() + 3_600_000, null, 'dispatcher');
    await w.tickets.setEta(extra.id, w.now() + 3_600_000, 'by car', 'dispatcher');
    expect((await rows()).map((r) => [r.ticket_id, r.kind])).toEqual([
      [extra.id, 'ticket_eta'],
      [extra.id, 'ticket_eta'],
    ]);
  });

  it('quiet hours hold a 加急 update until they end, never a 特急 one', async () => {
    // 16:00 in Shanghai now: quiet 15:00–18:00
    await contact({
      quietHours: { from: '15:00', to: '18:00' },
      channels: [{ channel: 'email', target: 'z@a.example' }],
    });
    const routine = await w.ticket('VA1', 'urgent');
    const extra = await w.ticket('VA1', 'extra_urgent');
    await w.tickets.transition(routine.id, 'determine_work_content', 'engineer', 'Fuel filter <clogged>');
    await w.tickets.transition(extra.id, 'determine_work_content', 'engineer');
    const status = await rows({ kind: 'ticket_status' });
    expect(status.map((r) => [r.ticket_id, r.status, r.next_at])).toEqual([
      [routine.id, 'held', Date.UTC(2026, 10, 27, 10, 0, 0)], // 18:00 +08:00
      [extra.id, 'pending', w.now()],
    ]);
    expect(status[0]!.body).toContain('Progress on ticket');
    expect(status[0]!.body).toContain('Fuel filter <clogged>');
    expect(status[0]!.html).toContain('Fuel filter &lt;clogged&gt;');
  });

  it('a storm: 100 alarms of one incident in a minute are one message plus one digest per contact and channel', async () => {
    await contact();
    const t = await incidentTicket(21);
    for (let i = 0; i < 100; i++) {
      w.advance(600);
      await inTransaction(w.db, (tx) =>
        w.notifications.producer.alarmRaised(tx, {
          alarm: { id: 1000 + i, raisedAt: w.now(), title: { en: `Battery low ${i}`, zh: `电池电量低 ${i}` } } as never,
          incidentId: 21,
          incidentCreated: false,
          ticketId: t.id,
          ticketOpened: i === 0,
          vehicleName: 'Shelter A1',
          customerId: 'CA',
        }),
      );
    }
    const all = await rows();
    const live = all.filter((r) => r.status !== 'merged');
    expect(live.map((r) => [r.kind, r.channel, r.status])).toEqual([
      ['ticket_opened', 'email', 'pending'],
      ['ticket_opened', 'webhook', 'pending'],
      ['digest', 'email', 'held'],
      ['digest', 'webhook', 'held'],
    ]);
    expect(all.filter((r) => r.status === 'merged')).toHaveLength(2 * 99);
    // each update says what happened in plain words (the alarm's title), kept in the record
    expect(all.find((r) => r.status === 'merged')!.body).toContain(
      'another fault in the same incident: Battery low 1.',
    );
    const digest = live[2]!;
    expect(digest.subject).toBe('Shelter A1: 99 more updates');
    expect(digest.thread).toBe('incident:21');
    expect(JSON.parse(digest.payload!)).toMatchObject({ kind: 'digest', count: 99 });
    // due one merge window (10 min) after its first update, before which it keeps growing
    expect(digest.next_at).toBe(Date.UTC(2026, 10, 27, 8, 0, 1, 200) + 600_000);
  });

  it('a per-contact rate limit folds 加急 updates beyond N in 10 minutes into one "N more updates" digest', async () => {
    await contact({ channels: [{ channel: 'email', target: 'z@a.example' }] });
    const t = await w.ticket('VA1', 'urgent'); // 1: opened
    for (let i = 0; i < 6; i++) {
      w.advance(1000);
      await w.tickets.setEta(t.id, w.now() + 3_600_000 + i, `try ${i}`, 'dispatcher'); // 2..7
    }
    const live = (await rows()).filter((r) => r.status !== 'merged');
    expect(live.map((r) => [r.kind, r.status])).toEqual([
      ['ticket_opened', 'pending'],
      ['ticket_eta', 'pending'],
      ['ticket_eta', 'pending'],
      ['ticket_eta', 'pending'],
      ['ticket_eta', 'pending'],
      ['digest', 'held'],
    ]);
    expect(live[5]!.subject).toBe('Shelter A1: 2 more updates');
    expect(live[5]!.body).toContain('help expected');
  });

  it('escapes what people typed in the HTML and keeps it on one line in subjects', async () => {
    await contact();
    const t = await w.tickets.open(
      {
        source: 'customer',
        vehicleId: null,
        customerId: 'CA',
        level: 'urgent',
        title: 'Lights out <script>alert("x")</script>\r\nBcc: evil@example.com',
        need: 'help',
      },
      'cust-a',
    );
    const [mail] = await rows({ ticket_id: t.id, channel: 'email' });
    expect(mail!.html).toContain('Lights out &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(mail!.html).not.toContain('<script>');
    expect(mail!.subject).not.toMatch(/[\r\n]/);
  });

  it('customers read a public name for who handles it, never a login id; the assignee gets its own message with the inbox', async () => {
    await contact({ channels: [{ channel: 'email', target: 'z@a.example' }] });
    const t = await w.ticket('VA1', 'urgent');
    await w.tickets.assign(t.id, 'engineer', 'dispatcher');
    const [toCustomer] = await rows({ kind: 'ticket_assigned' });
    expect(toCustomer!.body).toContain('Engineer is now handling');
    expect(toCustomer!.body).not.toContain('engineer ');
    const toStaff = await rows({ kind: 'assigned_to_you' });
    // a staff member's row is no customer's (a unit's view of its deliveries never lists it)
    expect(toStaff.map((r) => [r.channel, r.target, r.account_id, r.customer_id])).toEqual([
      ['inbox', 'engineer', 'engineer', null],
    ]);
    expect(toCustomer!.customer_id).toBe('CA');
  });
});
