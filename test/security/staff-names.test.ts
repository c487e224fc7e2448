import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LiveTicket } from '../../web/live/events.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { apiAs, openConsole, type LiveClient } from '../helpers/live-client.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { PASSWORD, startWeb, TEST_COST, type TestWeb } from '../web/helpers.ts';

/**
 * Staff login ids are half of a login: a customer never receives one (ASVS V2.2, user enumeration).
 * Customers see a staff member by the display name an admin gave it, else by a role label
 * ("Duty desk", "Engineer", "Platform team"); "System" for the platform; "Staff" for anyone else.
 * Staff see the ids as stored, a ticket timeline's actors with their names beside (`actorName`).
 * Checked on every answer and live event a customer gets that names people: tickets (assignee,
 * escalation), timelines (actor, "assigned to …" notes), alarms (acknowledgedBy, note actors).
 */
const STAFF_IDS = ['admin', 'dispatcher', 'engineer'];
const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];

/** Every string in `value` (deeply), to search for login ids. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
/** The fields that name people, and free text written next to them. */
const PEOPLE_FIELDS = new Set(['actor', 'actorName', 'assignee', 'acknowledgedBy', 'escalatedTo', 'note', 'text']);
function peopleStrings(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(peopleStrings);
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => (PEOPLE_FIELDS.has(k) ? strings(v) : peopleStrings(v)));
}
function withoutStepActors(value: unknown, inSteps = false): unknown {
  if (Array.isArray(value)) return value.map((v) => withoutStepActors(v, inSteps));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !(inSteps && k === 'actor'))
      .map(([k, v]) => [k, withoutStepActors(v, k === 'steps')]),
  );
}
/**
 * Fails naming the login ids found: any string that is exactly a staff id, and a staff id as a
 * whole word in a field that names people (plan prose may say "engineer"; that is not an id).
 */
function expectNoStaffIds(answer: unknown, where: string): void {
  // a plan's guided steps say who acts, `crew` or `engineer`: a role word that is also the test's engineer login id
  const value = withoutStepActors(answer);
  const word = (id: string) => new RegExp(`(^|[^\\w-])${id}($|[^\\w-])`);
  const found = [
    ...strings(value).filter((s) => STAFF_IDS.includes(s)),
    ...peopleStrings(value).filter((s) => STAFF_IDS.some((id) => word(id).test(s))),
  ];
  expect(found, `staff login ids in ${where}`).toEqual([]);
}

describe('customers never see staff login ids (REST)', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  it('tickets, timelines, alarms and notes name staff by display name or role label for customers, by id for staff', async () => {
    w = await startWeb();
    const admin = await w.login('admin');
    // the dispatcher gets a display name; the engineer has none (name = login id, as existing accounts have)
    const named = await admin.patch('/api/accounts/dispatcher', { displayName: 'Lin (duty desk)' });
    expect(named.statusCode).toBe(200);
    expect(named.json()).toMatchObject({ id: 'dispatcher', displayName: 'Lin (duty desk)' });
    expect((await admin.get('/api/accounts/engineer')).json()).toMatchObject({ displayName: null });
    // the engineer's account names its holder (staff read that; customers still get the role label)
    expect((await admin.patch('/api/accounts/engineer', { name: 'Wang Qiang' })).statusCode).toBe(200);

    const dispatcher = await w.login('dispatcher');
    const engineer = await w.login('engineer');
    const t = await w.ticket('VA1');
    expect((await dispatcher.post(`/api/tickets/${t.id}/assign`, { assignee: 'engineer' })).statusCode).toBe(200);
    expect(
      (await engineer.post(`/api/tickets/${t.id}/comments`, { text: 'on my way', visibility: 'customer' })).statusCode,
    ).toBe(201);
    expect(
      (await dispatcher.post(`/api/tickets/${t.id}/transitions`, { action: 'determine_work_content' })).statusCode,
    ).toBeLessThan(500);
    await admin.post(`/api/tickets/${t.id}/comments`, {
      text: 'checked by the platform team',
      visibility: 'customer',
    });
    const alarm = await w.alarm('VA1');
    expect(
      (await engineer.post(`/api/alarms/${alarm.id}/acknowledge`, { comment: 'seen', visibility: 'customer' }))
        .statusCode,
    ).toBe(200);
    expect(
      (await dispatcher.post(`/api/alarms/${alarm.id}/comments`, { text: 'calling the unit', visibility: 'customer' }))
        .statusCode,
    ).toBe(201);

    // (notes for the customer: internal ones are never sent to it at all, see internal-notes.test.ts)
    const cust = await w.login('cust-a');
    const answers = {
      ticketList: (await cust.get('/api/tickets')).json(),
      ticket: (await cust.get(`/api/tickets/${t.id}`)).json(),
      comment: (await cust.post(`/api/tickets/${t.id}/comments`, { text: 'thanks' })).json(),
      created: (
        await cust.post('/api/tickets', { title: 'no power', need: 'help', vehicleId: 'VA1', contacts })
      ).json(),
      alarmList: (await cust.get('/api/alarms')).json(),
      alarm: (await cust.get(`/api/alarms/${alarm.id}`)).json(),
      // filtering by assignee would tell a customer which login ids exist: ignored for customers
      byAssignee: (await cust.get('/api/tickets?assignee=engineer')).json(),
      byNobody: (await cust.get('/api/tickets?assignee=nobody-at-all')).json(),
    };
    for (const [where, body] of Object.entries(answers)) expectNoStaffIds(body, where);

    const ticket = answers.ticket as {
      ticket: { assignee: string };
      timeline: { actor: string; actorName: string | null; action: string; note: string | null }[];
    };
    // a customer's actors are public names already: no second name beside them
    expect(ticket.timeline.map((e) => e.actorName).filter((n) => n !== null)).toEqual([]);
    expect(ticket.ticket.assignee).toBe('Engineer');
    const actors = ticket.timeline.map((e) => e.actor);
    expect(actors).toEqual(expect.arrayContaining(['System', 'Lin (duty desk)', 'Engineer', 'Platform team']));
    expect(ticket.timeline.find((e) => e.action === 'assigned')?.note).toBe('assigned to Engineer');
    const alarmBody = answers.alarm as { alarm: { acknowledgedBy: string }; notes: { actor: string }[] };
    expect(alarmBody.alarm.acknowledgedBy).toBe('Engineer');
    expect(alarmBody.notes.map((n) => n.actor)).toEqual(expect.arrayContaining(['Engineer', 'Lin (duty desk)']));
    expect(answers.byAssignee).toEqual(answers.byNobody);
    // the customer's own comment keeps its own id
    expect((await cust.get(`/api/tickets/${t.id}`)).json().timeline.at(-1).actor).toBe('cust-a');

    // staff see the ids as stored
    const staffView = (await dispatcher.get(`/api/tickets/${t.id}`)).json() as typeof ticket;
    expect(staffView.ticket.assignee).toBe('engineer');
    expect(staffView.timeline.map((e) => e.actor)).toEqual(expect.arrayContaining(['dispatcher', 'engineer', 'admin']));
    // … each beside its display name, else the account's name (the console shows that, the id as its tooltip)
    const actorNames = Object.fromEntries(staffView.timeline.map((e) => [e.actor, e.actorName]));
    expect(actorNames).toEqual({
      system: null,
      dispatcher: 'Lin (duty desk)',
      engineer: 'Wang Qiang',
      admin: 'admin',
      'cust-a': 'cust-a',
    });
    expect((await dispatcher.get(`/api/alarms/${alarm.id}`)).json().alarm.acknowledgedBy).toBe('engineer');
  });
});

describe('customers never see staff login ids (live layer)', () => {
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
      ['engineer', 'engineer', null],
      ['cust-a', 'customer', 'CA'],
    ] as const)
      await accounts.add({ id, name: id, role, customerId, password: PASSWORD });
  });
  afterAll(async () => {
    for (const s of opened) s.disconnect();
    await tp?.close();
  });

  it('ticket events to the unit name the assignee by role label; the staff copy by id', async () => {
    const staff = await openConsole(base, 'dispatcher', PASSWORD, { opened });
    const cust = await openConsole(base, 'cust-a', PASSWORD, { opened });
    const res = await apiAs(base, staff.login, 'POST', '/api/tickets', {
      title: 'no power',
      need: 'help',
      vehicleId: 'VA1',
      level: 'urgent',
      contacts,
    });
    expect(res.status).toBe(201);
    const { ticket } = (await res.json()) as { ticket: { id: number } };
    expect(
      (await apiAs(base, staff.login, 'POST', `/api/tickets/${ticket.id}/assign`, { assignee: 'engineer' })).status,
    ).toBe(200);
    const assigned = (m: LiveTicket) => m.kind === 'updated' && m.ticket.id === ticket.id && m.ticket.assignee !== null;
    const toStaff = await staff.rec.next<LiveTicket>('ticket', assigned);
    const toCustomer = await cust.rec.next<LiveTicket>('ticket', assigned);
    expect(toStaff.ticket.assignee).toBe('engineer');
    expect(toCustomer.ticket.assignee).toBe('Engineer');
    expectNoStaffIds(
      cust.rec.got.filter((g) => g.event === 'ticket' || g.event === 'alarm').map((g) => g.payload),
      'live events to the customer',
    );
  });
});

describe('role labels are localisable (issue 16, item 3)', () => {
  it('every label a customer may get instead of a staff login id has a Chinese form in web/public-labels.ts, which the console shows', async () => {
    const { PUBLIC_LABELS } = await import('../../web/public-labels.ts');
    const { ROLE_LABELS, publicName } = await import('../../web/public-names.ts');
    const name = publicName(new Map(), 'CA');
    const sent = [...Object.values(ROLE_LABELS), name('system'), name('someone-removed')];
    const english = Object.values(PUBLIC_LABELS).map((l) => l.en);
    for (const label of sent) expect(english, label).toContain(label);
    for (const l of Object.values(PUBLIC_LABELS)) expect(l.zh).toMatch(/\p{Script=Han}/u);
  });
});
