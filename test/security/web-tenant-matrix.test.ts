import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../core/errors.ts';
import { healthyFrame, PASSWORD, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';
import { declaredRoutes, expectErrorShape, isDocsRoute, routeKey, type DeclaredRoute } from './helpers.ts';

/** Public static content: the API documentation (swagger-ui) and the console's single-page app. */
const isStaticRoute = (r: DeclaredRoute) =>
  isDocsRoute(r) || r.url === '/' || r.url === '/*' || r.url.startsWith('/assets/');

/**
 * The tenant matrix (ASVS V4.1/V4.2, IDOR): a customer of unit A against every route the console
 * declares, each time with unit B's ids — vehicle, ticket, alarm, customer unit, account. Every
 * answer is a 403 FORBIDDEN (the role may not call it) or a 404 with the same code and words as
 * for an id that does not exist, or an empty listing identical to the one for a unit that does
 * not exist; no answer carries anything of unit B. The routes come from the app itself (Fastify's
 * onRoute), so a route added without a row here fails the first test.
 */

interface Unit {
  vehicle: string;
  customer: string;
  ticket: number;
  alarm: number;
  account: string;
  /** Notification contacts of the unit: one to change, one to remove. */
  contact: number;
  contactToRemove: number;
}

type Outcome =
  | { status: 403; code: 'FORBIDDEN' }
  | { status: 404; code: ErrorCode }
  /** 2xx, and the body is exactly what a unit that does not exist gets (an empty listing). */
  | { status: 200; sameAsMissing: true }
  /** A route about the caller only: any 2xx/4xx, nothing of B. */
  | { status: number; own: true };

interface Probe {
  what: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD';
  url: (u: Unit) => string;
  body?: (u: Unit) => unknown;
  expect: Outcome;
  /** Run with a session of its own (the probe ends it). */
  freshSession?: boolean;
  /** The same request by B's own customer is not expected to succeed (it mixes in A's ids). */
  noOwnerControl?: boolean;
}

const FORBIDDEN = { status: 403, code: 'FORBIDDEN' } as const;
const nf = (code: ErrorCode) => ({ status: 404 as const, code });
const EMPTY = { status: 200 as const, sameAsMissing: true as const };
const own = (status: number) => ({ status, own: true as const });
const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];
const contactBody = () => ({
  name: 'Evil',
  language: 'en',
  channels: [{ channel: 'email', target: 'evil@example.com' }],
});
/** A's own notification contact (set in beforeAll). */
let ownContact = 0;
const ticketBody = (u: Unit) => ({
  vehicleId: u.vehicle,
  level: 'urgent',
  title: 'No power',
  need: 'generator will not start',
  contacts,
});

/** One row per route: what a customer of unit A tries with unit B's ids, and what it must get. */
const MATRIX: Record<string, Probe[]> = {
  'GET /healthz': [{ what: 'health', method: 'GET', url: () => '/healthz', expect: own(200) }],
  'GET /metrics': [
    { what: 'counters (staff or the scrape token only)', method: 'GET', url: () => '/metrics', expect: FORBIDDEN },
  ],
  'GET /api/meta': [{ what: 'vocabulary', method: 'GET', url: () => '/api/meta', expect: own(200) }],
  'POST /api/auth/login': [
    {
      what: 'log in as B’s account',
      method: 'POST',
      url: () => '/api/auth/login',
      body: (u) => ({ username: u.account, password: 'not B’s password at all' }),
      expect: { status: 401, own: true },
    },
  ],
  'POST /api/auth/logout': [
    { what: 'log out', method: 'POST', url: () => '/api/auth/logout', expect: own(204), freshSession: true },
  ],
  'GET /api/auth/session': [{ what: 'own session', method: 'GET', url: () => '/api/auth/session', expect: own(200) }],
  'POST /api/auth/password': [
    {
      what: 'name B’s account in the body',
      method: 'POST',
      url: () => '/api/auth/password',
      body: (u) => ({ currentPassword: PASSWORD, newPassword: 'another password 123', account: u.account }),
      expect: { status: 400, own: true },
    },
  ],

  'GET /api/vehicles': [
    {
      what: 'B’s unit as a filter',
      method: 'GET',
      url: (u) => `/api/vehicles?customerId=${u.customer}`,
      expect: EMPTY,
    },
    { what: 'B’s vehicle id as a search', method: 'GET', url: (u) => `/api/vehicles?q=${u.vehicle}`, expect: EMPTY },
    {
      what: 'B’s vehicle name as a search',
      method: 'GET',
      url: (u) =>
        `/api/vehicles?q=${encodeURIComponent(u.vehicle === 'VB1' ? 'Shelter B1' : 'Shelter NOPE')}&frames=true`,
      expect: EMPTY,
    },
    { what: 'the whole fleet', method: 'GET', url: () => '/api/vehicles?frames=true', expect: own(200) },
  ],
  'GET /api/vehicles/:id': [
    { what: 'B’s vehicle', method: 'GET', url: (u) => `/api/vehicles/${u.vehicle}`, expect: nf('VEHICLE_NOT_FOUND') },
  ],
  'GET /api/vehicles/:id/telemetry': [
    {
      what: 'B’s history',
      method: 'GET',
      url: (u) => `/api/vehicles/${u.vehicle}/telemetry?maxPoints=10`,
      expect: nf('VEHICLE_NOT_FOUND'),
    },
  ],
  'POST /api/vehicles': [
    {
      what: 'provision into B',
      method: 'POST',
      url: () => '/api/vehicles',
      body: (u) => ({ id: 'V-EVIL', customerId: u.customer }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/vehicles/:id/rotate-secret': [
    {
      what: 'rotate B’s secret',
      method: 'POST',
      url: (u) => `/api/vehicles/${u.vehicle}/rotate-secret`,
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/vehicles/:id': [
    { what: 'remove B’s vehicle', method: 'DELETE', url: (u) => `/api/vehicles/${u.vehicle}`, expect: FORBIDDEN },
  ],

  'GET /api/alarms': [
    {
      what: 'B’s vehicle as a filter',
      method: 'GET',
      url: (u) => `/api/alarms?vehicleId=${u.vehicle}`,
      expect: nf('VEHICLE_NOT_FOUND'),
    },
    {
      what: 'every alarm',
      method: 'GET',
      url: () => '/api/alarms?state=active,acknowledged,cleared',
      expect: own(200),
    },
  ],
  'GET /api/alarms/:id': [
    { what: 'B’s alarm', method: 'GET', url: (u) => `/api/alarms/${u.alarm}`, expect: nf('ALARM_NOT_FOUND') },
  ],
  'POST /api/alarms/:id/acknowledge': [
    {
      what: 'acknowledge B’s alarm',
      method: 'POST',
      url: (u) => `/api/alarms/${u.alarm}/acknowledge`,
      body: () => ({}),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/alarms/:id/comments': [
    {
      what: 'comment on B’s alarm',
      method: 'POST',
      url: (u) => `/api/alarms/${u.alarm}/comments`,
      body: () => ({ text: 'hello' }),
      expect: FORBIDDEN,
    },
  ],

  'GET /api/tickets': [
    {
      what: 'B’s vehicle as a filter',
      method: 'GET',
      url: (u) => `/api/tickets?vehicleId=${u.vehicle}`,
      expect: nf('VEHICLE_NOT_FOUND'),
    },
    { what: 'B’s unit as a filter', method: 'GET', url: (u) => `/api/tickets?customerId=${u.customer}`, expect: EMPTY },
    { what: 'the whole queue', method: 'GET', url: () => '/api/tickets', expect: own(200) },
  ],
  'GET /api/tickets/:id': [
    { what: 'B’s ticket', method: 'GET', url: (u) => `/api/tickets/${u.ticket}`, expect: nf('TICKET_NOT_FOUND') },
  ],
  'POST /api/tickets': [
    {
      what: 'a request for B’s vehicle',
      method: 'POST',
      url: () => '/api/tickets',
      body: ticketBody,
      expect: nf('VEHICLE_NOT_FOUND'),
    },
    {
      what: 'a request for B’s unit',
      method: 'POST',
      url: () => '/api/tickets',
      body: (u) => ({ customerId: u.customer, title: 'x', need: 'y', contacts }),
      expect: nf('CUSTOMER_NOT_FOUND'),
    },
    {
      what: 'A’s vehicle, B’s unit',
      method: 'POST',
      url: () => '/api/tickets',
      body: (u) => ({ vehicleId: 'VA1', customerId: u.customer, title: 'x', need: 'y', contacts }),
      expect: nf('CUSTOMER_NOT_FOUND'),
      noOwnerControl: true,
    },
  ],
  'POST /api/tickets/:id/transitions': [
    {
      what: 'move B’s ticket',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/transitions`,
      body: () => ({ action: 'cancel' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/assign': [
    {
      what: 'assign B’s ticket to B’s account',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/assign`,
      body: (u) => ({ assignee: u.account }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/service-mode': [
    {
      what: 'B’s ticket’s service mode',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/service-mode`,
      body: () => ({ mode: 'training' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/comments': [
    {
      what: 'comment on B’s ticket',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/comments`,
      body: () => ({ text: 'hello' }),
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],

  'POST /api/tickets/:id/eta': [
    {
      what: 'B’s ticket’s ETA',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/eta`,
      body: () => ({ eta: Date.UTC(2026, 10, 27, 10) }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/tickets/:id/pages': [
    { what: 'B’s ticket’s pages', method: 'GET', url: (u) => `/api/tickets/${u.ticket}/pages`, expect: FORBIDDEN },
  ],
  'GET /api/pages': [{ what: 'open pages', method: 'GET', url: () => '/api/pages', expect: FORBIDDEN }],
  'POST /api/pages/:id/ack': [
    { what: 'acknowledge a page', method: 'POST', url: () => '/api/pages/1/ack', expect: FORBIDDEN },
  ],
  'GET /api/pages/ack': [
    {
      what: 'a forged acknowledgement link',
      method: 'GET',
      url: () => `/api/pages/ack?token=1.${'A'.repeat(43)}`,
      expect: { status: 404, own: true },
    },
  ],
  'GET /api/customers/:id/contacts': [
    {
      what: 'B’s contacts',
      method: 'GET',
      url: (u) => `/api/customers/${u.customer}/contacts`,
      expect: nf('CUSTOMER_NOT_FOUND'),
    },
  ],
  'POST /api/customers/:id/contacts': [
    {
      what: 'a contact in B',
      method: 'POST',
      url: (u) => `/api/customers/${u.customer}/contacts`,
      body: contactBody,
      expect: nf('CUSTOMER_NOT_FOUND'),
    },
  ],
  'PUT /api/contacts/:id': [
    {
      what: 'change B’s contact',
      method: 'PUT',
      url: (u) => `/api/contacts/${u.contact}`,
      body: contactBody,
      expect: nf('CONTACT_NOT_FOUND'),
    },
  ],
  'DELETE /api/contacts/:id': [
    {
      what: 'remove B’s contact',
      method: 'DELETE',
      url: (u) => `/api/contacts/${u.contactToRemove}`,
      expect: nf('CONTACT_NOT_FOUND'),
    },
  ],
  'PUT /api/contacts/:id/subscriptions': [
    {
      what: 'B’s contact’s subscriptions',
      method: 'PUT',
      url: (u) => `/api/contacts/${u.contact}/subscriptions`,
      body: () => ({ subscriptions: [] }),
      expect: nf('CONTACT_NOT_FOUND'),
    },
    {
      what: 'A’s contact subscribed to B’s vehicle',
      method: 'PUT',
      url: () => `/api/contacts/${ownContact}/subscriptions`,
      body: (u) => ({ subscriptions: [{ vehicleId: u.vehicle, minLevel: 'routine' }] }),
      expect: nf('VEHICLE_NOT_FOUND'),
      noOwnerControl: true,
    },
  ],
  'GET /api/me/contact': [
    { what: 'staff contact settings', method: 'GET', url: () => '/api/me/contact', expect: FORBIDDEN },
  ],
  'PUT /api/me/contact': [
    {
      what: 'staff contact settings',
      method: 'PUT',
      url: () => '/api/me/contact',
      body: contactBody,
      expect: FORBIDDEN,
    },
  ],

  'GET /api/plans': [{ what: 'plans', method: 'GET', url: () => '/api/plans', expect: FORBIDDEN }],
  'GET /api/plans/overdue': [
    { what: 'overdue plans', method: 'GET', url: () => '/api/plans/overdue', expect: FORBIDDEN },
  ],
  'GET /api/plans/:code': [
    { what: 'a plan', method: 'GET', url: () => '/api/plans/GEN-START-FAIL', expect: FORBIDDEN },
  ],

  'GET /api/accounts': [
    { what: 'B’s accounts', method: 'GET', url: (u) => `/api/accounts?customerId=${u.customer}`, expect: FORBIDDEN },
  ],
  'GET /api/staff': [{ what: 'the staff list', method: 'GET', url: () => '/api/staff', expect: FORBIDDEN }],
  'GET /api/accounts/:id': [
    { what: 'B’s account', method: 'GET', url: (u) => `/api/accounts/${u.account}`, expect: FORBIDDEN },
  ],
  'POST /api/accounts': [
    {
      what: 'an account in B',
      method: 'POST',
      url: () => '/api/accounts',
      body: (u) => ({ id: 'evil.b', name: 'x', role: 'customer', customerId: u.customer }),
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/accounts/:id': [
    {
      what: 'change B’s account',
      method: 'PATCH',
      url: (u) => `/api/accounts/${u.account}`,
      body: () => ({ disabled: true }),
      expect: FORBIDDEN,
    },
    {
      what: 'move itself into B',
      method: 'PATCH',
      url: () => '/api/accounts/cust-a',
      body: (u) => ({ customerId: u.customer }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/accounts/:id/reset-password': [
    {
      what: 'reset B’s password',
      method: 'POST',
      url: (u) => `/api/accounts/${u.account}/reset-password`,
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/accounts/:id': [
    { what: 'remove B’s account', method: 'DELETE', url: (u) => `/api/accounts/${u.account}`, expect: FORBIDDEN },
  ],

  'GET /api/customers': [{ what: 'every unit', method: 'GET', url: () => '/api/customers', expect: FORBIDDEN }],
  'GET /api/customers/:id': [
    { what: 'B’s unit', method: 'GET', url: (u) => `/api/customers/${u.customer}`, expect: nf('CUSTOMER_NOT_FOUND') },
  ],
  'POST /api/customers': [
    {
      what: 'a unit',
      method: 'POST',
      url: () => '/api/customers',
      body: () => ({ id: 'CEVIL', name: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/customers/:id': [
    {
      what: 'rename B’s unit',
      method: 'PATCH',
      url: (u) => `/api/customers/${u.customer}`,
      body: () => ({ name: 'pwned' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/audit': [
    { what: 'B’s audit trail', method: 'GET', url: (u) => `/api/audit?actor=${u.account}`, expect: FORBIDDEN },
  ],
};

// the routes, as the app declares them (a throwaway instance: collection happens before beforeAll)
const ROUTES: DeclaredRoute[] = await (async () => {
  const w0 = await startWeb({ seed: false });
  try {
    return await declaredRoutes(w0.ctx);
  } finally {
    await w0.close();
  }
})();
const API_ROUTES = ROUTES.filter((r) => !isStaticRoute(r));

describe('tenant matrix: a customer of unit A against every route with unit B’s ids', () => {
  let w: TestWeb;
  let a: Agent;
  let b: Agent;
  let staff: Agent;
  let B: Unit;
  let A: Unit;
  const MISSING: Unit = {
    vehicle: 'V-NOPE',
    customer: 'C-NOPE',
    ticket: 987_654,
    alarm: 987_653,
    account: 'nobody.here',
    contact: 987_652,
    contactToRemove: 987_651,
  };
  /** What identifies unit B's data: none of it may appear in an answer to A (but for the ids A itself sent). */
  let bMarkers: string[];
  let snapshotB: () => Promise<string>;
  let before: string;

  beforeAll(async () => {
    w = await startWeb();
    // unit B's data: a vehicle with telemetry, an alarm with a note, a rule ticket with a comment, a hotline ticket
    const t0 = w.now();
    await w.frames('VB1', [
      healthyFrame(1, t0 - 60_000, { loadKw: 1234.5 }),
      healthyFrame(2, t0 - 30_000, { loadKw: 1234.5 }),
    ]);
    await w.frames('VA1', [healthyFrame(1, t0 - 60_000)]);
    const alarmB = await w.alarm('VB1');
    await w.diagnostics.alarms.comment(alarmB.id, 'dispatcher', 'B-ALARM-NOTE-7731');
    const ticketB = await w.ticket('VB1');
    await w.diagnostics.tickets.comment(ticketB.id, 'dispatcher', 'B-TICKET-NOTE-7732');
    const contactOf = (customerId: string, name: string) =>
      w.notifications.contacts.addToCustomer(customerId, {
        name,
        language: 'en',
        channels: [{ channel: 'email', target: `${name.toLowerCase()}@unit.example` }],
      });
    B = {
      vehicle: 'VB1',
      customer: 'CB',
      ticket: ticketB.id,
      alarm: alarmB.id,
      account: 'cust-b',
      contact: (await contactOf('CB', 'B-CONTACT-7733')).id,
      contactToRemove: (await contactOf('CB', 'B-CONTACT-7734')).id,
    };
    ownContact = (await contactOf('CA', 'A-CONTACT')).id;
    A = {
      vehicle: 'VA1',
      customer: 'CA',
      ticket: (await w.ticket('VA1')).id,
      alarm: (await w.alarm('VA1')).id,
      account: 'cust-a',
      contact: ownContact,
      contactToRemove: ownContact,
    };
    // counters keyed by B's vehicle, as the broker and ingest keep them
    w.counters.inc('mqtt.publish_denied', 'VB1');
    w.counters.inc('ingest.rejected', 'VB1');
    bMarkers = [
      'VB1',
      'Shelter B1',
      'Unit B',
      'cust-b',
      '"CB"',
      '1234.5',
      'B-ALARM-NOTE-7731',
      'B-TICKET-NOTE-7732',
      'B-CONTACT-7733',
      'b-contact-7733@unit.example',
      ticketB.number,
      ticketB.title,
    ];
    a = await w.login('cust-a');
    b = await w.login('cust-b');
    staff = await w.login('dispatcher');
    snapshotB = async () =>
      JSON.stringify({
        vehicle: await w.vehicles.get('VB1'),
        customer: await w.customers.get('CB'),
        account: await w.ctx.accounts.get('cust-b'),
        alarm: await w.diagnostics.alarms.get(B.alarm),
        alarmNotes: await w.diagnostics.alarms.notes(B.alarm),
        ticket: await w.diagnostics.tickets.get(B.ticket),
        contacts: await w.notifications.contacts.ofCustomer('CB'),
        tickets: await w.diagnostics.tickets.list({ customerId: 'CB', limit: 1000 }),
        series: await w.telemetry.series({ vehicleId: 'VB1', from: t0 - 3_600_000, to: t0, maxPoints: 100 }),
        session: (await b.get('/api/auth/session')).statusCode,
      });
    before = await snapshotB();
  });
  afterAll(async () => w?.close());

  it('has a row for every route the app declares, and none for a route it does not', () => {
    const declared = API_ROUTES.map(routeKey).sort();
    const inMatrix = Object.keys(MATRIX).sort();
    expect(
      declared.filter((r) => !MATRIX[r]),
      'routes without a tenant-matrix row: add them to MATRIX',
    ).toEqual([]);
    expect(
      inMatrix.filter((r) => !declared.includes(r)),
      'rows for routes that no longer exist',
    ).toEqual([]);
    expect(ROUTES.filter(isStaticRoute).length).toBeGreaterThan(0);
  });

  /** The body with the ids A itself sent taken out: what remains must say nothing of B. */
  function expectNothingOfB(res: LightMyRequestResponse, sent: string[], what: string): void {
    let text = res.body;
    for (const s of sent.filter((x) => x.length > 0).sort((x, y) => y.length - x.length))
      text = text.split(s).join('«sent»');
    const found = bMarkers.filter((m) => text.includes(m));
    expect(found, `${what}: unit B's data in the answer: ${text.slice(0, 300)}`).toEqual([]);
  }

  const sentIds = (p: Probe, u: Unit) =>
    [
      u.vehicle,
      u.customer,
      u.account,
      String(u.ticket),
      String(u.alarm),
      String(u.contact),
      String(u.contactToRemove),
      decodeURIComponent(p.url(u)),
      JSON.stringify(p.body?.(u) ?? ''),
    ].filter((s) => p.url(u).includes(s) || JSON.stringify(p.body?.(u) ?? '').includes(s));

  async function run(agent: Agent, p: Probe, u: Unit): Promise<LightMyRequestResponse> {
    const who = p.freshSession ? await w.login(agent.account) : agent;
    return who.request(p.method, p.url(u), p.body?.(u));
  }

  const rows = API_ROUTES.flatMap((r) =>
    (MATRIX[routeKey(r)] ?? []).map((p) => [`${routeKey(r)}: ${p.what}`, p] as const),
  );

  it.each(rows)('%s', async (name, p) => {
    const res = await run(a, p, B);
    const o = p.expect;
    expect(res.statusCode, `${name}: ${res.body}`).toBe(o.status);
    expectNothingOfB(res, sentIds(p, B), name);
    if ('code' in o) {
      const err = expectErrorShape(res, name);
      expect(err.code).toBe(o.code);
      // the same answer as for ids that do not exist, word for word but for the ids
      const twin = await run(a, p, MISSING);
      expect(twin.statusCode, `${name} (ids that do not exist)`).toBe(o.status);
      const shape = (m: string, u: Unit) =>
        [
          u.vehicle,
          u.customer,
          u.account,
          String(u.ticket),
          String(u.alarm),
          String(u.contact),
          String(u.contactToRemove),
        ].reduce((acc, id) => acc.split(id).join('#'), m);
      expect(shape(err.message, B)).toBe(shape(expectErrorShape(twin).message, MISSING));
      if (p.method === 'GET') {
        const head = await a.request('HEAD', p.url(B));
        expect(head.statusCode, `HEAD ${name}`).toBe(o.status);
        expect(head.body).toBe('');
      }
    }
    if ('sameAsMissing' in o) {
      const twin = await run(a, p, MISSING);
      expect(twin.statusCode).toBe(200);
      expect(res.json()).toEqual(twin.json());
    }
  });

  it('nothing of unit B changed', async () => {
    expect(await snapshotB()).toBe(before);
  });

  it('the same requests work for their owner and for staff: the 404s and empty listings come from the tenant check, not a broken route', async () => {
    for (const [name, p] of rows) {
      if (p.noOwnerControl || (!('code' in p.expect && p.expect.status === 404) && !('sameAsMissing' in p.expect)))
        continue;
      const res = await run(b, p, B);
      expect(res.statusCode, `${name} as B's own customer: ${res.body}`).toBeLessThan(300);
      if ('sameAsMissing' in p.expect) expect(res.body, name).toContain('VB1');
      if (p.method === 'GET') expect((await run(staff, p, B)).statusCode, `${name} as staff`).toBe(200);
    }
    // and staff get the counters that customers and anonymous callers do not
    const metrics = (await staff.get('/metrics')).json() as { byKey?: Record<string, Record<string, number>> };
    expect(metrics.byKey?.['ingest.rejected']).toEqual({ VB1: 1 });
    const anonymous = await w.app.inject({ method: 'GET', url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.body).not.toContain('VB1');
  });

  it('the static routes (API documentation, the console app) carry no tenant data', async () => {
    for (const r of ROUTES.filter(isStaticRoute)) {
      const res = await a.request(r.method, r.url.replace('*', isDocsRoute(r) ? 'swagger-ui.css' : 'index.html'));
      expect(res.statusCode, routeKey(r)).not.toBe(500);
      expectNothingOfB(res, [], routeKey(r));
    }
  });

  it('A’s own data is there (the probes above are not vacuous)', async () => {
    expect((await a.get(`/api/vehicles/${A.vehicle}`)).statusCode).toBe(200);
    expect((await a.get(`/api/tickets/${A.ticket}`)).statusCode).toBe(200);
    expect((await a.get(`/api/alarms/${A.alarm}`)).statusCode).toBe(200);
    expect((await a.get(`/api/customers/${A.customer}`)).statusCode).toBe(200);
    const fleet = (await a.get('/api/vehicles')).json() as { vehicles: { id: string }[] };
    expect(fleet.vehicles.map((v) => v.id)).toEqual(['VA1']);
  });
});
