import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../records/migrations.ts';
import { Migrator } from 'kysely';
import { openTestRecords, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import type { LiveTicket } from '../../web/live/events.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { apiAs, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { codeOf, PASSWORD, startWeb, TEST_COST, type TestWeb } from '../web/helpers.ts';
import { issuePlan } from '../web/support-plan-helpers.ts';

/**
 * Notes for staff only (issue 16, item 6). Before, a customer unit was sent every note on its
 * tickets and alarms: a comment one engineer wrote to another ("customer misused the generator,
 * bill them"), the note of a status step, the comment of an alarm acknowledgement — over the API,
 * in its notifications. Now each such note says who reads it: `internal` (staff only; the default
 * for staff) or `customer`. A customer never gets an internal note: not in the ticket's timeline,
 * not in an alarm's notes, not in a message to its contacts, not as a live update; a customer
 * cannot write one.
 */
const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];
const SECRET = 'INTERNAL: crew overloaded the inverter again, bill them';

type Timeline = { action: string; note: string | null; visibility: string }[];

describe('internal notes never reach the customer (REST, notifications)', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  it('a staff comment and a status-step note are internal by default; the customer sees neither text, staff see both marked', async () => {
    w = await startWeb();
    const admin = await w.login('admin');
    // the unit's contact, who is told of every status step by email
    const contact = await admin.post('/api/customers/CA/contacts', {
      name: 'Duty',
      language: 'en',
      channels: [{ channel: 'email', target: 'duty@unit.example' }],
    });
    expect(contact.statusCode).toBe(201);
    const dispatcher = await w.login('dispatcher');
    const engineer = await w.login('engineer');
    const cust = await w.login('cust-a');
    const t = await w.ticket('VA1');

    // staff write without saying who reads: internal
    expect((await engineer.post(`/api/tickets/${t.id}/comments`, { text: `${SECRET} (comment)` })).statusCode).toBe(
      201,
    );
    const step = await dispatcher.post(`/api/tickets/${t.id}/transitions`, {
      action: 'determine_work_content',
      note: `${SECRET} (step)`,
    });
    expect(step.statusCode).toBe(200);
    // and for the customer when they say so
    expect(
      (
        await engineer.post(`/api/tickets/${t.id}/comments`, {
          text: 'An engineer will call you in 10 minutes',
          visibility: 'customer',
        })
      ).statusCode,
    ).toBe(201);
    w.advance(1000);
    expect((await issuePlan(dispatcher, t.id)).statusCode).toBe(200);
    // a customer's own comment is for its unit; it cannot make one internal
    expect((await cust.post(`/api/tickets/${t.id}/comments`, { text: 'thanks' })).statusCode).toBe(201);
    const refused = await cust.post(`/api/tickets/${t.id}/comments`, { text: 'hide this', visibility: 'internal' });
    expect(refused.statusCode).toBe(403);
    expect(codeOf(refused)).toBe('FORBIDDEN');

    const seen = (await cust.get(`/api/tickets/${t.id}`)).json() as { timeline: Timeline };
    expect(JSON.stringify(seen)).not.toContain('INTERNAL');
    // the status step itself is the customer's to see, without its internal note
    expect(seen.timeline.find((e) => e.action === 'determine_work_content')).toMatchObject({ note: null });
    expect(seen.timeline.filter((e) => e.action === 'comment').map((e) => e.note)).toEqual([
      'An engineer will call you in 10 minutes',
      'thanks',
    ]);
    expect(seen.timeline.find((e) => e.action === 'issue_plan')?.note).toBe('support plan v1 issued');
    expect(new Set(seen.timeline.map((e) => e.visibility))).toEqual(new Set(['customer']));
    // nor in the queue
    expect((await cust.get('/api/tickets')).body).not.toContain('INTERNAL');

    // staff see everything, marked
    const staff = (await dispatcher.get(`/api/tickets/${t.id}`)).json() as { timeline: Timeline };
    expect(staff.timeline.filter((e) => e.note?.startsWith('INTERNAL')).map((e) => [e.action, e.visibility])).toEqual([
      ['comment', 'internal'],
      ['determine_work_content', 'internal'],
    ]);
    expect(staff.timeline.find((e) => e.note === 'thanks')?.visibility).toBe('customer');

    // the unit's messages carry the note meant for it and never the internal one
    const sent = await w.db.selectFrom('notifications').selectAll().where('target', '=', 'duty@unit.example').execute();
    expect(sent.length).toBeGreaterThan(0);
    expect(JSON.stringify(sent)).not.toContain('INTERNAL');
    expect(JSON.stringify(sent)).toContain('support plan v1 issued');
  });

  it('alarm comments and acknowledgement comments: internal by default, left out (or without text) for the customer', async () => {
    w = await startWeb();
    const engineer = await w.login('engineer');
    const dispatcher = await w.login('dispatcher');
    const cust = await w.login('cust-a');
    const alarm = await w.alarm('VA1');
    expect(
      (await engineer.post(`/api/alarms/${alarm.id}/acknowledge`, { comment: `${SECRET} (ack)` })).statusCode,
    ).toBe(200);
    expect(
      (await dispatcher.post(`/api/alarms/${alarm.id}/comments`, { text: `${SECRET} (comment)` })).statusCode,
    ).toBe(201);
    expect(
      (
        await dispatcher.post(`/api/alarms/${alarm.id}/comments`, {
          text: 'We are on it',
          visibility: 'customer',
        })
      ).statusCode,
    ).toBe(201);

    const seen = (await cust.get(`/api/alarms/${alarm.id}`)).json() as {
      notes: { kind: string; text: string | null; visibility: string }[];
    };
    expect(JSON.stringify(seen)).not.toContain('INTERNAL');
    expect(seen.notes.map((n) => [n.kind, n.text])).toEqual([
      ['raised', null],
      ['acknowledged', null],
      ['comment', 'We are on it'],
    ]);
    const staff = (await dispatcher.get(`/api/alarms/${alarm.id}`)).json() as typeof seen;
    expect(staff.notes.map((n) => n.visibility)).toEqual(['customer', 'internal', 'internal', 'customer']);
  });
});

describe('migration 0017: the notes staff wrote before become internal', () => {
  it('staff comments and step notes, alarm comments by staff → internal; customer comments and the platform’s entries stay customer', async () => {
    // a database as it was before 0017 (down from the latest: 0017's down runs too)
    const db = await openTestRecords();
    const migrator = new Migrator({ db, provider: migrationProvider(TEST_RECORDS_DIALECT) });
    const to16 = await migrator.migrateTo('0016_session_guests_photos');
    expect(to16.error).toBeUndefined();
    await db
      .insertInto('accounts' as never)
      .values({
        id: 'cust-a',
        name: 'cust-a',
        role: 'customer',
        customer_id: null,
        password_hash: 'x',
        must_change_password: 0,
        disabled: 0,
        created_at: 0,
        updated_at: 0,
      } as never)
      .execute();
    const entry = (actor: string, action: string, note: string | null) =>
      ({ ticket_id: 1, at: 0, actor, action, from_status: null, to_status: null, note }) as never;
    await db
      .insertInto('ticket_timeline' as never)
      .values([
        entry('system', 'received', 'the need'),
        entry('engineer', 'comment', 'staff comment'),
        entry('cust-a', 'comment', 'customer comment'),
        entry('dispatcher', 'determine_work_content', 'step note'),
        entry('dispatcher', 'start_service', null),
        entry('dispatcher', 'assigned', 'assigned to engineer'),
      ])
      .execute();
    const note = (actor: string, kind: string, text: string | null) =>
      ({ alarm_id: 1, at: 0, actor, kind, text }) as never;
    await db
      .insertInto('alarm_notes' as never)
      .values([
        note('system', 'raised', null),
        note('engineer', 'acknowledged', 'ack comment'),
        note('engineer', 'acknowledged', null),
        note('dispatcher', 'comment', 'alarm comment'),
      ])
      .execute();
    const { error } = await migrator.migrateToLatest();
    expect(error).toBeUndefined();
    const timeline = await db.selectFrom('ticket_timeline').select(['note', 'visibility']).orderBy('id').execute();
    expect(timeline.map((r) => r.visibility)).toEqual([
      'customer',
      'internal',
      'customer',
      'internal',
      'customer',
      'customer',
    ]);
    const notes = await db.selectFrom('alarm_notes').select(['text', 'visibility']).orderBy('id').execute();
    expect(notes.map((r) => r.visibility)).toEqual(['customer', 'internal', 'customer', 'internal']);
    await db.destroy();
  });
});

describe('internal notes never reach the customer (live layer)', () => {
  let tp: TestPlatform;
  let base: string;
  const opened: LiveClient[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform();
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    await tp.platform.customers.add({ id: 'CA', name: 'Unit A' });
    await tp.addVehicle('VA1', 'CA');
    const accounts = createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST });
    for (const [id, role, customerId] of [
      ['dispatcher', 'dispatcher', null],
      ['cust-a', 'customer', 'CA'],
    ] as const)
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await tp?.close();
  });

  it('an internal comment is pushed to staff only; the unit hears of the customer-visible one, and reads no internal text', async () => {
    const staff = await openConsole(base, 'dispatcher', PASSWORD, { opened });
    const cust = await openConsole(base, 'cust-a', PASSWORD, { opened });
    const res = await apiAs(base, staff.login, 'POST', '/api/tickets', {
      title: 'no power',
      need: 'help',
      vehicleId: 'VA1',
      level: 'extra_urgent',
      contacts,
    });
    expect(res.status).toBe(201);
    const { ticket } = (await res.json()) as { ticket: { id: number } };
    const comment = (m: LiveTicket) => m.kind === 'updated' && m.ticket.id === ticket.id && m.action === 'comment';

    const internal = await apiAs(base, staff.login, 'POST', `/api/tickets/${ticket.id}/comments`, { text: SECRET });
    expect(internal.status).toBe(201);
    // staff hear of the internal comment
    await staff.rec.next<LiveTicket>('ticket', comment);
    const step = await apiAs(base, staff.login, 'POST', `/api/tickets/${ticket.id}/transitions`, {
      action: 'determine_work_content',
      note: SECRET,
    });
    expect(step.status).toBe(200);
    const visible = await apiAs(base, staff.login, 'POST', `/api/tickets/${ticket.id}/comments`, {
      text: 'on our way',
      visibility: 'customer',
    });
    expect(visible.status).toBe(201);

    // the unit's copies go out in the order of the events: the visible comment comes after the step
    await cust.rec.next<LiveTicket>('ticket', comment);
    await cust.rec.next<LiveTicket>(
      'ticket',
      (m) => m.kind === 'updated' && m.ticket.id === ticket.id && m.action === 'determine_work_content',
    );
    const toUnit = cust.rec.got.filter((g) => g.event === 'ticket').map((g) => g.payload as LiveTicket);
    // exactly one comment event: the customer-visible one (the internal one came first and was not sent)
    expect(toUnit.filter(comment)).toHaveLength(1);
    expect(toUnit.map((m) => (m.kind === 'updated' ? m.action : m.kind))).toEqual([
      'opened',
      'determine_work_content',
      'comment',
    ]);
    expect(JSON.stringify(cust.rec.got)).not.toContain('INTERNAL');

    // and what the console reloads on that event has no internal text
    const read = await apiAs(base, cust.login, 'GET', `/api/tickets/${ticket.id}`);
    const body = await read.text();
    expect(body).toContain('on our way');
    expect(body).not.toContain('INTERNAL');
  });
});
