import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_COMMANDS } from '../../commands/catalogue.ts';
import type { ErrorCode } from '../../core/errors.ts';
import { TOKEN_SCOPES } from '../../web/auth/api-tokens.ts';
import { healthyFrame, NO_RATE_LIMITS, PASSWORD, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';
import { withIssuedPlan } from '../web/support-plan-helpers.ts';
import { appRoutes, expectErrorShape, isDocsRoute, isStaticRoute, routeKey, type DeclaredRoute } from './helpers.ts';

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
  /** An item of the unit's customer's console inbox. */
  inbox: number;
  /** A session handle of the unit's customer (GET /api/auth/sessions). */
  session: string;
  /** An API token id of the unit's customer. */
  token: string;
  /** A remote session of the unit's crew. */
  remoteSession: number;
  /** Notification contacts of the unit: one to change, one to remove. */
  contact: number;
  contactToRemove: number;
  /** A photo of that session. */
  photo: string;
  /** A spare-parts shipment to the unit (售后服务发运通知). */
  shipment: number;
  /** A service order of the unit (巡检巡修 etc.). */
  serviceOrder: number;
}

/** The smallest PNG (signature and IHDR): what the photo type check reads. */
const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

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
  headers?: Record<string, string>;
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
  'GET /readyz': [{ what: 'readiness', method: 'GET', url: () => '/readyz', expect: own(200) }],
  'GET /metrics': [
    {
      what: 'Prometheus metrics (staff or the scrape token only)',
      method: 'GET',
      url: () => '/metrics',
      expect: FORBIDDEN,
    },
  ],
  'GET /metrics.json': [
    {
      what: 'counters per key (staff or the scrape token only)',
      method: 'GET',
      url: () => '/metrics.json',
      expect: FORBIDDEN,
    },
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
  'GET /api/auth/state': [{ what: 'own session', method: 'GET', url: () => '/api/auth/state', expect: own(200) }],
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
  'GET /api/vehicles/:id/limits': [
    {
      what: 'B’s limits',
      method: 'GET',
      url: (u) => `/api/vehicles/${u.vehicle}/limits`,
      expect: nf('VEHICLE_NOT_FOUND'),
    },
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
  'POST /api/vehicles/:id/transfer': [
    {
      what: 'move B’s vehicle to A',
      method: 'POST',
      url: (u) => `/api/vehicles/${u.vehicle}/transfer`,
      body: () => ({ customerId: 'CA' }),
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/vehicles/:id': [
    { what: 'remove B’s vehicle', method: 'DELETE', url: (u) => `/api/vehicles/${u.vehicle}`, expect: FORBIDDEN },
  ],

  'POST /api/vehicles/:id/commands': [
    {
      what: 'a command to B’s vehicle',
      method: 'POST',
      url: (u) => `/api/vehicles/${u.vehicle}/commands`,
      body: () => ({ name: 'switchSource', args: { source: 'battery' }, confirmed: true }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/vehicles/:id/commands': [
    {
      what: 'B’s vehicle’s commands',
      method: 'GET',
      url: (u) => `/api/vehicles/${u.vehicle}/commands`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/commands/:id': [
    { what: 'a command to B’s vehicle', method: 'GET', url: () => '/api/commands/cmd-b-1', expect: FORBIDDEN },
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
  'GET /api/tickets/:id/report.html': [
    {
      what: 'B’s service report (HTML)',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/report.html?lang=zh`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  'GET /api/tickets/:id/report.pdf': [
    {
      what: 'B’s service report (PDF)',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/report.pdf?lang=en`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  'GET /api/tickets/:id/work-contact-letter.html': [
    {
      what: 'B’s work-contact letter (HTML)',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/work-contact-letter.html?lang=zh`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  'GET /api/tickets/:id/work-contact-letter.pdf': [
    {
      what: 'B’s work-contact letter (PDF)',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/work-contact-letter.pdf?lang=en`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  // the support plan document (应急保障工作计划): B's plan as if B's ticket did not exist; drafting and issuing are the duty desk's
  'GET /api/tickets/:id/support-plan': [
    {
      what: 'B’s support plan',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/support-plan`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  'PUT /api/tickets/:id/support-plan': [
    {
      what: 'draft B’s support plan',
      method: 'PUT',
      url: (u) => `/api/tickets/${u.ticket}/support-plan`,
      body: () => ({ workContent: 'x', materials: [], milestones: [], transport: null, eta: null }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/support-plan/issue': [
    {
      what: 'issue B’s support plan',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/support-plan/issue`,
      body: () => ({}),
      expect: FORBIDDEN,
    },
  ],
  ...Object.fromEntries(
    ['plan', 'contact-letter', 'shipment-notice'].flatMap((form) =>
      ['html', 'pdf'].map((ext) => [
        `GET /api/tickets/:id/support-plan/${form}.${ext}`,
        [
          {
            what: `B’s support plan form ${form} (${ext})`,
            method: 'GET' as const,
            url: (u: Unit) => `/api/tickets/${u.ticket}/support-plan/${form}.${ext}?lang=zh`,
            expect: nf('TICKET_NOT_FOUND'),
          },
        ],
      ]),
    ),
  ),
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
      expect: nf('TICKET_NOT_FOUND'),
      // B's own customer may not cancel either (the duty desk's step): 403
      noOwnerControl: true,
    },
    {
      what: 'confirm the repair of B’s ticket (双方确认)',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/transitions`,
      body: () => ({ action: 'verify', note: 'ok' }),
      expect: nf('TICKET_NOT_FOUND'),
      // B's ticket is not repaired yet: 409 for its own customer too
      noOwnerControl: true,
    },
  ],
  'GET /api/service-orders': [
    { what: 'the list', method: 'GET', url: () => '/api/service-orders', expect: own(200) },
    {
      what: 'B’s unit as a filter',
      method: 'GET',
      url: (u) => `/api/service-orders?customerId=${u.customer}`,
      expect: EMPTY,
    },
  ],
  'GET /api/service-orders/:id': [
    {
      what: 'B’s service order',
      method: 'GET',
      url: (u) => `/api/service-orders/${u.serviceOrder}`,
      expect: nf('SERVICE_ORDER_NOT_FOUND'),
    },
  ],
  'POST /api/service-orders': [
    {
      what: 'a request for B’s unit',
      method: 'POST',
      url: () => '/api/service-orders',
      body: (u) => ({
        kind: 'training',
        customerId: u.customer,
        title: 'x',
        details: 'y',
        place: 'z',
        requestedDate: '2026-12-20',
        people: 1,
        contacts,
      }),
      expect: nf('CUSTOMER_NOT_FOUND'),
    },
    {
      what: 'a request for B’s vehicle',
      method: 'POST',
      url: () => '/api/service-orders',
      body: (u) => ({
        kind: 'training',
        vehicleId: u.vehicle,
        title: 'x',
        details: 'y',
        place: 'z',
        requestedDate: '2026-12-20',
        people: 1,
        contacts,
      }),
      expect: nf('VEHICLE_NOT_FOUND'),
    },
  ],
  'POST /api/service-orders/:id/actions': [
    {
      what: 'cancel B’s service order',
      method: 'POST',
      url: (u) => `/api/service-orders/${u.serviceOrder}/actions`,
      body: () => ({ action: 'cancel' }),
      expect: nf('SERVICE_ORDER_NOT_FOUND'),
      // B's own customer would cancel it: the snapshot of B's data must stay as it was
      noOwnerControl: true,
    },
  ],
  'PUT /api/service-orders/:id/team': [
    {
      what: 'set the team of B’s service order',
      method: 'PUT',
      url: (u) => `/api/service-orders/${u.serviceOrder}/team`,
      body: () => ({ members: [{ accountId: 'engineer', role: 'leader' }] }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/service-orders/:id/records': [
    {
      what: 'record a visit on B’s service order',
      method: 'POST',
      url: (u) => `/api/service-orders/${u.serviceOrder}/records`,
      body: (u) => ({ type: 'visit', vehicleId: u.vehicle, at: 1, stateFound: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/service-orders/:id/records/:recordId/findings/:index': [
    {
      what: 'open a ticket from a finding on B’s service order',
      method: 'POST',
      url: (u) => `/api/service-orders/${u.serviceOrder}/records/1/findings/0`,
      body: () => ({ open: 'ticket' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/service-orders/:id/sign-off': [
    {
      what: 'sign B’s service order off (双方确认)',
      method: 'POST',
      url: (u) => `/api/service-orders/${u.serviceOrder}/sign-off`,
      body: () => ({ name: 'Evil' }),
      expect: nf('SERVICE_ORDER_NOT_FOUND'),
      // B's order is not done: 409 for its own customer too
      noOwnerControl: true,
    },
  ],
  'GET /api/service-orders/:id/report.html': [
    {
      what: 'B’s service order report (HTML)',
      method: 'GET',
      url: (u) => `/api/service-orders/${u.serviceOrder}/report.html?lang=zh`,
      expect: nf('SERVICE_ORDER_NOT_FOUND'),
    },
  ],
  'GET /api/service-orders/:id/report.pdf': [
    {
      what: 'B’s service order report (PDF)',
      method: 'GET',
      url: (u) => `/api/service-orders/${u.serviceOrder}/report.pdf?lang=en`,
      expect: nf('SERVICE_ORDER_NOT_FOUND'),
    },
  ],
  'POST /api/tickets/:id/classify': [
    {
      what: 'classify B’s ticket',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/classify`,
      body: () => ({ level: 'urgent', reason: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'PUT /api/tickets/:id/team': [
    {
      what: 'B’s ticket’s response team',
      method: 'PUT',
      url: (u) => `/api/tickets/${u.ticket}/team`,
      body: (u) => ({ members: [{ accountId: u.account, role: 'leader' }] }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/site': [
    {
      what: 'B’s ticket’s contacts and place',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/site`,
      body: () => ({ contacts, place: 'elsewhere' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/merge': [
    {
      what: 'merge B’s ticket into B’s ticket',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/merge`,
      body: (u) => ({ into: u.ticket }),
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
  // the service modes' own steps (diagnostics/tickets/mode-steps.ts)
  'GET /api/tickets/:id/mode-steps': [
    {
      what: 'B’s ticket’s service-mode steps',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/mode-steps`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  'POST /api/tickets/:id/mode-steps': [
    {
      what: 'confirm the receipt of B’s returned equipment',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/mode-steps`,
      body: () => ({ mode: 'return_to_factory', step: 'receipt_confirmed' }),
      expect: nf('TICKET_NOT_FOUND'),
      // B's ticket is not in return to factory: B's own customer gets MODE_NOT_CURRENT
      noOwnerControl: true,
    },
  ],
  'POST /api/tickets/:id/mode-steps/:stepId/confirm': [
    {
      what: 'confirm a step of B’s ticket',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/mode-steps/1/confirm`,
      body: () => ({}),
      expect: nf('TICKET_NOT_FOUND'),
      noOwnerControl: true,
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
      body: (u) => ({ subscriptions: [{ vehicleId: u.vehicle, minLevel: 'urgent' }] }),
      expect: nf('VEHICLE_NOT_FOUND'),
      noOwnerControl: true,
    },
  ],
  // the satisfaction survey and follow-up, the statistics, the customer file (service/)
  'GET /api/tickets/:id/survey': [
    {
      what: 'B’s ticket’s survey',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/survey`,
      expect: nf('TICKET_NOT_FOUND'),
    },
  ],
  'POST /api/tickets/:id/survey': [
    {
      what: 'answer B’s survey',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/survey`,
      body: () => ({ scores: { response: 1, quality: 1, attitude: 1 } }),
      expect: nf('TICKET_NOT_FOUND'),
      // B's ticket is open: it has no survey for B's own customer either (SURVEY_NOT_FOUND)
      noOwnerControl: true,
    },
  ],
  'GET /api/survey-follow-ups': [
    { what: 'the follow-ups', method: 'GET', url: () => '/api/survey-follow-ups', expect: FORBIDDEN },
  ],
  'POST /api/survey-follow-ups/:id/outcome': [
    {
      what: 'record a follow-up’s outcome',
      method: 'POST',
      url: () => '/api/survey-follow-ups/1/outcome',
      body: () => ({ outcome: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/stats/service': [
    { what: 'the statistics', method: 'GET', url: () => `/api/stats/service?by=unit`, expect: FORBIDDEN },
  ],
  'GET /api/stats/surveys': [
    { what: 'the survey statistics', method: 'GET', url: () => '/api/stats/surveys?by=unit', expect: FORBIDDEN },
  ],
  'GET /api/stats/repeat-faults': [
    { what: 'the repeat faults', method: 'GET', url: () => '/api/stats/repeat-faults', expect: FORBIDDEN },
  ],
  'GET /api/stats/resources': [
    { what: 'the resource statistics', method: 'GET', url: () => '/api/stats/resources', expect: FORBIDDEN },
  ],
  'GET /api/stats/export': [
    { what: 'the statistics as CSV', method: 'GET', url: () => '/api/stats/export?by=unit', expect: FORBIDDEN },
  ],
  'GET /api/customer-files': [
    { what: 'search for B’s vehicle', method: 'GET', url: (u) => `/api/customer-files?q=${u.vehicle}`, expect: EMPTY },
  ],
  'GET /api/customers/:id/file': [
    {
      what: 'B’s customer file',
      method: 'GET',
      url: (u) => `/api/customers/${u.customer}/file`,
      expect: nf('CUSTOMER_NOT_FOUND'),
    },
  ],
  'PUT /api/vehicles/:id/delivery': [
    {
      what: 'B’s vehicle’s delivery date',
      method: 'PUT',
      url: (u) => `/api/vehicles/${u.vehicle}/delivery`,
      body: () => ({ deliveredAt: 0 }),
      expect: FORBIDDEN,
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

  'GET /api/sessions': [
    {
      what: 'B’s vehicle as a filter',
      method: 'GET',
      url: (u) => `/api/sessions?vehicleId=${u.vehicle}`,
      expect: nf('VEHICLE_NOT_FOUND'),
    },
    {
      what: 'B’s ticket as a filter',
      method: 'GET',
      url: (u) => `/api/sessions?ticketId=${u.ticket}`,
      expect: nf('TICKET_NOT_FOUND'),
    },
    {
      what: 'B’s unit as a filter',
      method: 'GET',
      url: (u) => `/api/sessions?customerId=${u.customer}`,
      expect: EMPTY,
    },
    { what: 'every session', method: 'GET', url: () => '/api/sessions', expect: own(200) },
  ],
  'POST /api/sessions': [
    {
      what: 'request support for B’s vehicle',
      method: 'POST',
      url: () => '/api/sessions',
      body: (u) => ({ vehicleId: u.vehicle, description: 'help' }),
      expect: nf('VEHICLE_NOT_FOUND'),
    },
    {
      what: 'a session on B’s ticket',
      method: 'POST',
      url: () => '/api/sessions',
      body: (u) => ({ ticketId: u.ticket, description: 'help' }),
      expect: nf('TICKET_NOT_FOUND'),
      // a customer names a vehicle, not a ticket: B's own customer gets 400 too
      noOwnerControl: true,
    },
  ],
  'GET /api/sessions/:id': [
    {
      what: 'B’s session',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/answer': [
    {
      what: 'answer B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/answer`,
      expect: FORBIDDEN,
    },
  ],
  'POST /api/sessions/:id/join': [
    {
      what: 'join B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/join`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/leave': [
    {
      what: 'leave B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/leave`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/chat': [
    {
      what: 'write in B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/chat`,
      body: () => ({ text: 'hello' }),
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/photos': [
    {
      what: 'attach a photo to B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/photos`,
      body: () => PNG_BYTES,
      headers: { 'content-type': 'image/png' },
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'GET /api/sessions/:id/photos/:photoId': [
    {
      what: 'a photo of B’s session (404 as if missing)',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}/photos/${u.photo}`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/invites': [
    {
      what: 'invite a guest to B’s session (staff only)',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/invites`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/sessions/:id/invites': [
    {
      what: 'B’s session invitations (staff only)',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}/invites`,
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/sessions/:id/invites/:inviteId': [
    {
      what: 'revoke an invitation of B’s session (staff only)',
      method: 'DELETE',
      url: (u) => `/api/sessions/${u.remoteSession}/invites/inv_guessed`,
      expect: FORBIDDEN,
    },
  ],
  'POST /api/guest/login': [
    {
      what: 'a guessed guest link',
      method: 'POST',
      url: () => '/api/guest/login',
      body: () => ({ token: 'z'.repeat(43) }),
      expect: own(401),
      noOwnerControl: true,
    },
  ],
  'GET /api/guest/session': [
    { what: 'the guest session (guests only)', method: 'GET', url: () => '/api/guest/session', expect: FORBIDDEN },
  ],
  'POST /api/guest/logout': [
    { what: 'guest logout (guests only)', method: 'POST', url: () => '/api/guest/logout', expect: FORBIDDEN },
  ],
  'POST /api/sessions/:id/end': [
    {
      what: 'end B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/end`,
      body: () => ({ outcome: 'crew_unreachable' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/sessions/:id/timeline': [
    {
      what: 'B’s session timeline',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}/timeline?since=0`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'GET /api/sessions/:id/steps': [
    {
      what: 'B’s session steps',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}/steps`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/steps/:index/done': [
    {
      what: 'mark a step of B’s session done',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/steps/0/done`,
      body: () => ({ observation: 'A-WAS-HERE' }),
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/steps/:index/check': [
    {
      what: 'check a step of B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/steps/4/check`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'POST /api/sessions/:id/steps/:index/skip': [
    {
      what: 'skip a step of B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/steps/2/skip`,
      body: () => ({ reason: 'A-WAS-HERE' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/sessions/:id/steps': [
    {
      what: 'add a step to B’s session',
      method: 'POST',
      url: (u) => `/api/sessions/${u.remoteSession}/steps`,
      body: () => ({ instruction: { en: 'A-WAS-HERE', zh: 'A-WAS-HERE' } }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/sessions/:id/record': [
    {
      what: 'B’s session record',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}/record`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'GET /api/sessions/:id/record.html': [
    {
      what: 'B’s printable session record',
      method: 'GET',
      url: (u) => `/api/sessions/${u.remoteSession}/record.html`,
      expect: nf('SESSION_NOT_FOUND'),
    },
  ],
  'GET /api/roster': [{ what: 'the duty roster', method: 'GET', url: () => '/api/roster', expect: FORBIDDEN }],
  'POST /api/roster/shifts': [
    {
      what: 'add a shift',
      method: 'POST',
      url: () => '/api/roster/shifts',
      body: () => ({ weekday: 1, start: '08:00', end: '20:00', primary: 'dispatcher', dutyLead: 'dispatcher' }),
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/roster/shifts/:id': [
    {
      what: 'change a shift',
      method: 'PATCH',
      url: () => '/api/roster/shifts/1',
      body: () => ({ primary: 'cust-a' }),
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/roster/shifts/:id': [
    { what: 'remove a shift', method: 'DELETE', url: () => '/api/roster/shifts/1', expect: FORBIDDEN },
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
  'GET /api/notifications': [
    {
      what: 'deliveries about B’s ticket',
      method: 'GET',
      url: (u) => `/api/notifications?ticketId=${u.ticket}`,
      expect: FORBIDDEN,
    },
  ],
  'POST /api/notifications/:id/resend': [
    {
      what: 're-send B’s delivery',
      method: 'POST',
      url: (u) => `/api/notifications/${u.inbox}/resend`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/notifications/targets': [
    { what: 'disabled targets', method: 'GET', url: () => '/api/notifications/targets', expect: FORBIDDEN },
  ],
  'POST /api/notifications/targets/:id/enable': [
    {
      what: 'enable a target',
      method: 'POST',
      url: (u) => `/api/notifications/targets/${u.customer}-hook/enable`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/inbox': [{ what: 'own inbox', method: 'GET', url: () => '/api/inbox?limit=200', expect: own(200) }],
  'GET /api/inbox/unread-count': [
    { what: 'own unread count', method: 'GET', url: () => '/api/inbox/unread-count', expect: own(200) },
  ],
  'POST /api/inbox/:id/read': [
    {
      what: 'mark B’s inbox item read',
      method: 'POST',
      url: (u) => `/api/inbox/${u.inbox}/read`,
      expect: nf('NOTIFICATION_NOT_FOUND'),
    },
  ],
  'POST /api/inbox/read-all': [
    { what: 'mark all read (own only)', method: 'POST', url: () => '/api/inbox/read-all', expect: own(200) },
  ],
  'GET /api/audit': [
    { what: 'B’s audit trail', method: 'GET', url: (u) => `/api/audit?actor=${u.account}`, expect: FORBIDDEN },
  ],
  'GET /api/admin/audit/verify': [
    { what: 'the audit chain’s check', method: 'GET', url: () => '/api/admin/audit/verify', expect: FORBIDDEN },
  ],
  'GET /api/admin/audit/export': [
    {
      what: 'the audit log’s export',
      method: 'GET',
      url: () => '/api/admin/audit/export?format=csv',
      expect: FORBIDDEN,
    },
  ],

  'POST /api/auth/login/second-factor': [
    {
      what: 'a made-up challenge',
      method: 'POST',
      url: () => '/api/auth/login/second-factor',
      body: () => ({ challenge: 'x'.repeat(43), code: '123456' }),
      expect: { status: 401, own: true },
    },
  ],
  'POST /api/auth/reauth': [
    {
      what: 'name B’s account in the body',
      method: 'POST',
      url: () => '/api/auth/reauth',
      body: (u) => ({ password: PASSWORD, account: u.account }),
      expect: { status: 400, own: true },
    },
  ],
  'POST /api/auth/reset/check': [
    {
      what: 'guess a reset link',
      method: 'POST',
      url: () => '/api/auth/reset/check',
      body: () => ({ token: 'y'.repeat(43) }),
      expect: nf('RESET_LINK_INVALID'),
      noOwnerControl: true,
    },
  ],
  'POST /api/auth/reset': [
    {
      what: 'set B’s password with a guessed link',
      method: 'POST',
      url: () => '/api/auth/reset',
      body: () => ({ token: 'z'.repeat(43), newPassword: 'a perfectly fine passphrase' }),
      expect: nf('RESET_LINK_INVALID'),
      noOwnerControl: true,
    },
  ],
  'GET /api/auth/two-factor': [
    { what: 'own second factor', method: 'GET', url: () => '/api/auth/two-factor', expect: own(200) },
  ],
  'POST /api/auth/two-factor/enrol': [
    { what: 'enrol itself', method: 'POST', url: () => '/api/auth/two-factor/enrol', expect: own(200) },
  ],
  'POST /api/auth/two-factor/confirm': [
    {
      what: 'confirm with B’s account named',
      method: 'POST',
      url: () => '/api/auth/two-factor/confirm',
      body: (u) => ({ code: '123456', account: u.account }),
      expect: { status: 400, own: true },
    },
  ],
  'POST /api/auth/two-factor/recovery-codes': [
    {
      what: 'recovery codes (none: not enrolled)',
      method: 'POST',
      url: () => '/api/auth/two-factor/recovery-codes',
      expect: { status: 409, own: true },
    },
  ],
  'DELETE /api/auth/two-factor': [
    { what: 'turn off own (not on)', method: 'DELETE', url: () => '/api/auth/two-factor', expect: own(409) },
  ],
  'DELETE /api/admin/accounts/:id/two-factor': [
    {
      what: 'turn off B’s second factor',
      method: 'DELETE',
      url: (u) => `/api/admin/accounts/${u.account}/two-factor`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/auth/sessions': [
    { what: 'own sessions', method: 'GET', url: () => '/api/auth/sessions', expect: own(200) },
  ],
  'DELETE /api/auth/sessions/:sessionId': [
    {
      what: 'end B’s session',
      method: 'DELETE',
      url: (u) => `/api/auth/sessions/${u.session}`,
      expect: nf('LOGIN_SESSION_NOT_FOUND'),
      // B's own customer would end its own session, which the rows after it use
      noOwnerControl: true,
    },
  ],
  'GET /api/admin/accounts/:id/sessions': [
    { what: 'B’s sessions', method: 'GET', url: (u) => `/api/admin/accounts/${u.account}/sessions`, expect: FORBIDDEN },
  ],
  'DELETE /api/admin/accounts/:id/sessions/:sessionId': [
    {
      what: 'end B’s session as an admin would',
      method: 'DELETE',
      url: (u) => `/api/admin/accounts/${u.account}/sessions/${u.session}`,
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/admin/accounts/:id/sessions': [
    {
      what: 'end all of B’s sessions',
      method: 'DELETE',
      url: (u) => `/api/admin/accounts/${u.account}/sessions`,
      expect: FORBIDDEN,
    },
  ],
  'POST /api/accounts/:id/reset-link': [
    {
      what: 'a reset link for B’s account',
      method: 'POST',
      url: (u) => `/api/accounts/${u.account}/reset-link`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/admin/api-tokens': [
    {
      what: 'B’s API tokens',
      method: 'GET',
      url: (u) => `/api/admin/api-tokens?accountId=${u.account}`,
      expect: FORBIDDEN,
    },
  ],
  'POST /api/admin/api-tokens': [
    {
      what: 'a token for B’s account',
      method: 'POST',
      url: () => '/api/admin/api-tokens',
      body: (u) => ({ accountId: u.account, name: 'x', scopes: ['telemetry:read'], customerId: u.customer }),
      expect: FORBIDDEN,
    },
  ],
  'DELETE /api/admin/api-tokens/:tokenId': [
    { what: 'revoke B’s token', method: 'DELETE', url: (u) => `/api/admin/api-tokens/${u.token}`, expect: FORBIDDEN },
  ],

  // spare-parts stock (web/routes/stock.ts): staff and supply chain only, but for shipments to the own unit
  ...Object.fromEntries(
    (
      [
        ['GET', '/api/stock/parts', () => '/api/stock/parts'],
        ['POST', '/api/stock/parts', () => '/api/stock/parts'],
        ['PUT', '/api/stock/parts/:partNo', () => '/api/stock/parts/FF-5421'],
        ['GET', '/api/stock/stores', () => '/api/stock/stores'],
        ['POST', '/api/stock/stores', () => '/api/stock/stores'],
        ['PUT', '/api/stock/stores/:id', () => '/api/stock/stores/CENTRAL'],
        ['PUT', '/api/stock/levels', () => '/api/stock/levels'],
        ['GET', '/api/stock/balances', () => '/api/stock/balances'],
        ['GET', '/api/stock/movements', (u: Unit) => `/api/stock/movements?ticketId=${u.ticket}`],
        ['POST', '/api/stock/receipts', () => '/api/stock/receipts'],
        ['GET', '/api/stock/transfers', () => '/api/stock/transfers'],
        ['GET', '/api/stock/transfers/:id', () => '/api/stock/transfers/1'],
        ['POST', '/api/stock/transfers', () => '/api/stock/transfers'],
        ['POST', '/api/stock/transfers/:id/ship', () => '/api/stock/transfers/1/ship'],
        ['POST', '/api/stock/transfers/:id/cancel', () => '/api/stock/transfers/1/cancel'],
        ['POST', '/api/stock/transfers/:id/receipts', () => '/api/stock/transfers/1/receipts'],
        ['POST', '/api/stock/transfers/:id/discrepancies', () => '/api/stock/transfers/1/discrepancies'],
        ['GET', '/api/tickets/:id/stock', (u: Unit) => `/api/tickets/${u.ticket}/stock`],
        ['POST', '/api/tickets/:id/reservations', (u: Unit) => `/api/tickets/${u.ticket}/reservations`],
        ['POST', '/api/stock/reservations/:id/release', () => '/api/stock/reservations/1/release'],
        ['POST', '/api/tickets/:id/shipments', (u: Unit) => `/api/tickets/${u.ticket}/shipments`],
        ['POST', '/api/tickets/:id/consumption', (u: Unit) => `/api/tickets/${u.ticket}/consumption`],
        ['POST', '/api/tickets/:id/returns', (u: Unit) => `/api/tickets/${u.ticket}/returns`],
        ['GET', '/api/stock/replenishment', () => '/api/stock/replenishment'],
        ['GET', '/api/stock/contracts', () => '/api/stock/contracts'],
        ['POST', '/api/stock/contracts', () => '/api/stock/contracts'],
        ['PUT', '/api/stock/contracts/:id', () => '/api/stock/contracts/1'],
        ['GET', '/api/stock/purchase-orders', () => '/api/stock/purchase-orders'],
        ['POST', '/api/stock/purchase-orders', () => '/api/stock/purchase-orders'],
        ['POST', '/api/stock/purchase-orders/:id/receipts', () => '/api/stock/purchase-orders/1/receipts'],
        ['GET', '/api/stock/shortages', () => '/api/stock/shortages'],
        ['POST', '/api/stock/shortages', () => '/api/stock/shortages'],
        ['POST', '/api/stock/shortages/:id/done', () => '/api/stock/shortages/1/done'],
        ['GET', '/api/stock/counts', () => '/api/stock/counts'],
        ['GET', '/api/stock/counts/:id', () => '/api/stock/counts/1'],
        ['POST', '/api/stock/counts', () => '/api/stock/counts'],
        ['POST', '/api/stock/counts/:id/lines', () => '/api/stock/counts/1/lines'],
        ['POST', '/api/stock/counts/:id/book', () => '/api/stock/counts/1/book'],
      ] as const
    ).map(([method, path, url]) => [
      `${method} ${path}`,
      [
        {
          what: 'stock (staff and supply chain only)',
          method,
          url,
          ...(method === 'GET' ? {} : { body: (u: Unit) => ({ ticketId: u.ticket, partNo: 'FF-5421', qty: 1 }) }),
          expect: FORBIDDEN,
        },
      ] as Probe[],
    ]),
  ),
  'GET /api/stock/shipments': [
    {
      what: 'shipments of B’s ticket',
      method: 'GET',
      url: (u) => `/api/stock/shipments?ticketId=${u.ticket}`,
      expect: EMPTY,
      // B's own customer gets its shipment, which names no vehicle
      noOwnerControl: true,
    },
    { what: 'every shipment', method: 'GET', url: () => '/api/stock/shipments', expect: own(200) },
  ],
  'GET /api/stock/shipments/:id': [
    {
      what: 'B’s shipment',
      method: 'GET',
      url: (u) => `/api/stock/shipments/${u.shipment}`,
      expect: nf('SHIPMENT_NOT_FOUND'),
    },
  ],
  // the resource register (tools, suppliers and quality, partners, people): staff only
  'GET /api/tools': [
    {
      what: 'the tools register (with B’s ticket)',
      method: 'GET',
      url: (u) => `/api/tools?ticketId=${u.ticket}`,
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tools': [
    {
      what: 'add a tool',
      method: 'POST',
      url: () => '/api/tools',
      body: () => ({ code: 'T-EVIL', name: 'x', kind: 'tool', location: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/tools/:id': [
    {
      what: 'change a tool',
      method: 'PATCH',
      url: () => '/api/tools/1',
      body: () => ({ location: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/tools/:id/checkouts': [
    {
      what: 'a tool’s check-outs',
      method: 'GET',
      url: () => '/api/tools/1/checkouts',
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tools/:id/checkout': [
    {
      what: 'check a tool out to B’s ticket',
      method: 'POST',
      url: () => '/api/tools/1/checkout',
      body: (u) => ({ ticketId: u.ticket, team: ['x'] }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tools/:id/return': [
    {
      what: 'return a tool',
      method: 'POST',
      url: () => '/api/tools/1/return',
      expect: FORBIDDEN,
    },
  ],
  'GET /api/suppliers': [
    {
      what: 'suppliers',
      method: 'GET',
      url: () => '/api/suppliers',
      expect: FORBIDDEN,
    },
  ],
  'GET /api/suppliers/:id': [
    {
      what: 'a supplier',
      method: 'GET',
      url: () => '/api/suppliers/SUP-1',
      expect: FORBIDDEN,
    },
  ],
  'POST /api/suppliers': [
    {
      what: 'add a supplier',
      method: 'POST',
      url: () => '/api/suppliers',
      body: () => ({ id: 'SUP-EVIL', name: 'x', contact: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/suppliers/:id': [
    {
      what: 'change a supplier',
      method: 'PATCH',
      url: () => '/api/suppliers/SUP-1',
      body: () => ({ name: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/suppliers/:id/evaluations': [
    {
      what: 'evaluate a supplier',
      method: 'POST',
      url: () => '/api/suppliers/SUP-1/evaluations',
      body: () => ({ quality: 1, delivery: 1, service: 1 }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/quality-records': [
    {
      what: 'attribute B’s ticket’s cause',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/quality-records`,
      body: () => ({ partNumber: 'P-1', supplierId: 'SUP-1' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/tickets/:id/quality-records': [
    {
      what: 'B’s ticket’s quality records',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/quality-records`,
      expect: FORBIDDEN,
    },
  ],
  'GET /api/quality/failure-rates': [
    {
      what: 'failure rates',
      method: 'GET',
      url: () => '/api/quality/failure-rates',
      expect: FORBIDDEN,
    },
  ],
  'POST /api/suppliers/:id/feedback': [
    {
      what: 'quality feedback',
      method: 'POST',
      url: () => '/api/suppliers/SUP-1/feedback',
      body: () => ({ subject: 'x', text: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/quality-feedback/:id/answer': [
    {
      what: 'answer a feedback',
      method: 'POST',
      url: () => '/api/quality-feedback/1/answer',
      body: () => ({ answer: 'x' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/partners': [
    {
      what: 'partners',
      method: 'GET',
      url: () => '/api/partners',
      expect: FORBIDDEN,
    },
  ],
  'POST /api/partners': [
    {
      what: 'add a partner',
      method: 'POST',
      url: () => '/api/partners',
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/partners/:id': [
    {
      what: 'change a partner',
      method: 'PATCH',
      url: () => '/api/partners/1',
      body: () => ({ reputation: 5 }),
      expect: FORBIDDEN,
    },
  ],
  'POST /api/tickets/:id/partner-dispatches': [
    {
      what: 'dispatch a partner onto B’s ticket',
      method: 'POST',
      url: (u) => `/api/tickets/${u.ticket}/partner-dispatches`,
      body: () => ({ partnerId: 1, task: 'x', eta: 1 }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/partner-dispatches': [
    {
      what: 'B’s ticket’s partner dispatches',
      method: 'GET',
      url: (u) => `/api/partner-dispatches?ticketId=${u.ticket}`,
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/partner-dispatches/:id': [
    {
      what: 'record a dispatch',
      method: 'PATCH',
      url: () => '/api/partner-dispatches/1',
      body: () => ({ outcome: 'cancelled' }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/people': [
    {
      what: 'people',
      method: 'GET',
      url: () => '/api/people',
      expect: FORBIDDEN,
    },
  ],
  'POST /api/people': [
    {
      what: 'add a person',
      method: 'POST',
      url: () => '/api/people',
      body: () => ({ id: 'evil', name: 'x', department: 'market' }),
      expect: FORBIDDEN,
    },
  ],
  'PATCH /api/people/:id': [
    {
      what: 'change a person',
      method: 'PATCH',
      url: () => '/api/people/someone',
      body: () => ({ available: false }),
      expect: FORBIDDEN,
    },
  ],
  'GET /api/tickets/:id/team-suggestion': [
    {
      what: 'a team for B’s ticket',
      method: 'GET',
      url: (u) => `/api/tickets/${u.ticket}/team-suggestion`,
      expect: FORBIDDEN,
    },
  ],
};

// the routes, as the app declares them (a throwaway instance: collection happens before beforeAll)
const ROUTES: DeclaredRoute[] = await appRoutes();
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
    inbox: 987_652,
    session: '0123456789abcdef',
    token: 'tok_0123456789abcdef',
    remoteSession: 987_653,
    contact: 987_652,
    contactToRemove: 987_651,
    photo: 'ph_missing000000',
    shipment: 987_650,
    serviceOrder: 987_650,
  };
  /** What identifies unit B's data: none of it may appear in an answer to A (but for the ids A itself sent). */
  let bMarkers: string[];
  let snapshotB: () => Promise<string>;
  let before: string;
  let tokenA: string;
  let tokenStaffA: string;

  beforeAll(async () => {
    w = await startWeb({ options: { apiTokenRatePerMin: 100_000, rateLimits: NO_RATE_LIMITS } });
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
    // an issued support plan, so that its forms answer B's own customer
    await withIssuedPlan(w, ticketB.id);
    // a return-to-factory repair, so that its work-contact letter answers B's own customer
    await w.diagnostics.tickets.setServiceMode(ticketB.id, 'return_to_factory', 'dispatcher');
    for (const [step, details] of [
      ['handed_over', { item: 'B-module' }],
      ['shipped_to_factory', { method: 'shipped' }],
      ['received_at_factory', { count: 1 }],
      ['repaired_at_factory', { result: 'B-repaired' }],
    ] as const)
      await w.ctx.deps.diagnostics.modeSteps.record(
        ticketB.id,
        { mode: 'return_to_factory', step, details },
        'engineer',
        'staff',
      );
    const inboxB = await w.inboxItem('cust-b', 'B-INBOX-7733', ticketB.id);
    b = await w.login('cust-b');
    const tokenB = await w.ctx.tokens.create({
      accountId: 'cust-b',
      name: 'B-TOKEN-NAME-7733',
      scopes: ['vehicles:read'],
      customerId: null,
      expiresAt: t0 + 86_400_000,
      createdBy: 'admin',
    });
    // and a remote session on B's vehicle, with a chat message
    const crewB = { id: 'cust-b', role: 'customer' as const, customerId: 'CB' };
    const sessionB = (await w.sessions.request(crewB, { vehicleId: 'VB1', description: 'B-SESSION-DESC-7733' }))
      .session;
    await w.sessions.chat(crewB, sessionB.id, 'B-SESSION-CHAT-7734');
    const photoB = (await w.sessionParts.photos.add(crewB, sessionB.id, PNG_BYTES, 'image/png', 'B-PHOTO-7735')).photo;
    // answered, so live: its guided steps (the ticket's GEN-START-FAIL plan) run
    await w.sessionParts.steps.start();
    await w.sessions.answer({ id: 'engineer', role: 'engineer', customerId: null }, sessionB.id);
    // a spare part shipped to unit B for its ticket
    await w.stock.catalogue.addPart({
      partNo: 'FF-5421',
      name: { en: 'Fuel filter', zh: '燃油滤清器' },
      unit: 'pc',
      wearing: true,
      machinable: false,
      fitsModels: [],
      fitsModules: [],
      leadTimeDays: 7,
      suppliers: [],
    });
    await w.stock.catalogue.addStore({
      id: 'CENTRAL',
      kind: 'central',
      name: { en: 'Central', zh: '中心库' },
      lat: 28.2,
      lon: 112.9,
      address: 'Changsha',
    });
    await w.stock.reservations.receive('FF-5421', 'CENTRAL', 2, 'opening stock', 'admin');
    const [resB] = await w.stock.reservations.reserve(
      ticketB,
      [{ partNo: 'FF-5421', storeId: 'CENTRAL', qty: 1 }],
      'dispatcher',
    );
    const shipmentB = (
      await w.stock.reservations.dispatch(
        ticketB,
        {
          mode: 'shipment',
          reservationIds: [resB!.id],
          carrier: 'SF',
          trackingNo: 'B-TRACK-7736',
          consignee: 'B',
          address: 'B site',
        },
        'supply',
      )
    ).id;
    const contactOf = (customerId: string, name: string) =>
      w.notifications.contacts.addToCustomer(customerId, {
        name,
        language: 'en',
        channels: [{ channel: 'email', target: `${name.toLowerCase()}@unit.example` }],
      });
    const orderOf = (customerId: string, vehicleId: string, title: string) =>
      w.ctx.deps.diagnostics.serviceOrders.request(
        {
          kind: 'patrol_inspection',
          customerId,
          vehicleId,
          title,
          details: `${title} details`,
          place: `${title} place`,
          requestedDate: '2026-12-20',
          people: 2,
          contacts: [{ name: `${title} contact`, phone: '0730-0000000' }],
        },
        'dispatcher',
      );
    const orderB = await orderOf('CB', 'VB1', 'B-ORDER-7736');
    await w.ctx.deps.diagnostics.serviceOrders.records.setTeam(
      orderB.id,
      [{ accountId: 'engineer', role: 'leader', duty: 'B-DUTY-7737' }],
      'dispatcher',
    );
    B = {
      vehicle: 'VB1',
      customer: 'CB',
      ticket: ticketB.id,
      alarm: alarmB.id,
      account: 'cust-b',
      session: (await w.ctx.sessions.listOf('cust-b'))[0]!.id,
      token: tokenB.info.id,
      inbox: inboxB,
      remoteSession: sessionB.id,
      contact: (await contactOf('CB', 'B-CONTACT-7733')).id,
      contactToRemove: (await contactOf('CB', 'B-CONTACT-7734')).id,
      photo: photoB.id,
      shipment: shipmentB,
      serviceOrder: orderB.id,
    };
    ownContact = (await contactOf('CA', 'A-CONTACT')).id;
    A = {
      vehicle: 'VA1',
      customer: 'CA',
      ticket: (await w.ticket('VA1')).id,
      alarm: (await w.alarm('VA1')).id,
      account: 'cust-a',
      inbox: await w.inboxItem('cust-a', 'A-INBOX-1', null),
      session: 'unused',
      token: 'unused',
      photo: 'unused',
      shipment: 0,
      remoteSession: (
        await w.sessions.request(
          { id: 'cust-a', role: 'customer', customerId: 'CA' },
          { vehicleId: 'VA1', description: 'A needs help' },
        )
      ).session.id,
      contact: ownContact,
      contactToRemove: ownContact,
      serviceOrder: (await orderOf('CA', 'VA1', 'A-ORDER')).id,
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
      'B-INBOX-7733',
      'B-SESSION-DESC-7733',
      'B-SESSION-CHAT-7734',
      'B-CONTACT-7733',
      'b-contact-7733@unit.example',
      'B-PHOTO-7735',
      'B-ORDER-7736',
      orderB.number,
      photoB.id,
      ticketB.number,
      ticketB.title,
      B.session,
      B.token,
      'B-TOKEN-NAME-7733',
      'B-TRACK-7736',
    ];
    a = await w.login('cust-a');
    const allScopes = [...TOKEN_SCOPES];
    const mk = async (accountId: string, customerId: string | null) =>
      (
        await w.ctx.tokens.create({
          accountId,
          name: 'matrix',
          scopes: allScopes,
          customerId,
          expiresAt: t0 + 86_400_000,
          createdBy: 'admin',
        })
      ).token;
    tokenA = await mk('cust-a', null);
    tokenStaffA = await mk('dispatcher', 'CA');
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
        inbox: await w.ctx.deps.deliveries.inbox('cust-b', { limit: 100 }),
        remoteSession: await w.sessions.get(B.remoteSession),
        remoteTimeline: await w.sessions.timeline(B.remoteSession),
        serviceOrder: await w.ctx.deps.diagnostics.serviceOrders.get(B.serviceOrder),
        serviceOrderEvents: await w.ctx.deps.diagnostics.serviceOrders.events(B.serviceOrder),
        serviceOrderTeam: await w.ctx.deps.diagnostics.serviceOrders.records.team(B.serviceOrder),
        serviceOrderRecords: await w.ctx.deps.diagnostics.serviceOrders.records.list(B.serviceOrder),
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
      u.session,
      u.token,
      String(u.ticket),
      String(u.alarm),
      String(u.inbox),
      String(u.remoteSession),
      String(u.contact),
      String(u.contactToRemove),
      u.photo,
      String(u.shipment),
      decodeURIComponent(p.url(u)),
      JSON.stringify(p.body?.(u) ?? ''),
    ].filter((s) => p.url(u).includes(s) || JSON.stringify(p.body?.(u) ?? '').includes(s));

  async function run(agent: Agent, p: Probe, u: Unit): Promise<LightMyRequestResponse> {
    const who = p.freshSession ? await w.login(agent.account) : agent;
    return who.request(p.method, p.url(u), p.body?.(u), p.headers);
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
          u.session,
          u.token,
          String(u.ticket),
          String(u.alarm),
          String(u.inbox),
          String(u.remoteSession),
          String(u.ticket),
          String(u.alarm),
          String(u.contact),
          String(u.contactToRemove),
          u.photo,
          String(u.shipment),
          String(u.serviceOrder),
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

  /**
   * The same probes with API tokens instead of A's session: a token of A's customer with every scope,
   * and a dispatcher's token limited to unit A. A route open to tokens must answer exactly as it
   * does to A's customer; every other route refuses a token (403) — the guard applies the same
   * tenant rules to tokens as to accounts.
   */
  // (outside /api: /healthz and /readyz are public, /metrics and /metrics.json take only METRICS_TOKEN — an API token there is a wrong one, 401)
  const tokenRows = API_ROUTES.filter((r) => !r.public && r.url.startsWith('/api/')).flatMap((r) =>
    (MATRIX[routeKey(r)] ?? []).flatMap((p) =>
      (['customer', 'dispatcher limited to A'] as const).map(
        (holder) => [`${routeKey(r)}: ${p.what} (token of ${holder})`, p, r.tokenScope, holder] as const,
      ),
    ),
  );

  it.each(tokenRows)('%s', async (name, p, scope, holder) => {
    const bearer = holder === 'customer' ? tokenA : tokenStaffA;
    const send = (u: Unit, method: string = p.method) =>
      w.app.inject({
        method: method as 'GET',
        url: p.url(u),
        headers: { ...p.headers, authorization: `Bearer ${bearer}` },
        ...(p.body ? { payload: p.body(u) as object } : {}),
      });
    const res = await send(B);
    expectNothingOfB(res, sentIds(p, B), name);
    if (!scope) {
      expect(res.statusCode, `${name}: ${res.body}`).toBe(403);
      expect(expectErrorShape(res, name).code).toBe('FORBIDDEN');
      return;
    }
    const o = p.expect;
    if ('own' in o) {
      expect(res.statusCode, `${name}: ${res.body}`).toBeLessThan(500);
      return;
    }
    expect(res.statusCode, `${name}: ${res.body}`).toBe(o.status);
    if ('code' in o) {
      expect(expectErrorShape(res, name).code).toBe(o.code);
      const twin = await send(MISSING);
      expect(twin.statusCode).toBe(o.status);
      expect(expectErrorShape(twin).code).toBe(o.code);
    }
    if ('sameAsMissing' in o) expect(res.json()).toEqual((await send(MISSING)).json());
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
    const metrics = (await staff.get('/metrics.json')).json() as { byKey?: Record<string, Record<string, number>> };
    expect(metrics.byKey?.['ingest.rejected']).toEqual({ VB1: 1 });
    // the Prometheus form has no per-vehicle labels at all
    const prometheus = await staff.get('/metrics');
    expect(prometheus.statusCode).toBe(200);
    expect(prometheus.body).not.toContain('VB1');
    for (const url of ['/metrics', '/metrics.json']) {
      const anonymous = await w.app.inject({ method: 'GET', url });
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.body, url).not.toContain('VB1');
    }
  });

  it('the static routes (API documentation, the console app) carry no tenant data', async () => {
    for (const r of ROUTES.filter(isStaticRoute)) {
      const res = await a.request(r.method, r.url.replace('*', isDocsRoute(r) ? 'swagger-ui.css' : 'index.html'));
      expect(res.statusCode, routeKey(r)).not.toBe(500);
      expectNothingOfB(res, [], routeKey(r));
    }
  });

  it('a customer can never send a command to any vehicle, its own unit’s included, nor read one', async () => {
    w.presence.connected('VA1', w.now(), '10.1.1.1');
    w.presence.connected('VB1', w.now(), '10.1.1.2');
    for (const agent of [a, b])
      for (const vehicle of ['VA1', 'VB1'])
        for (const name of OPERATOR_COMMANDS) {
          const res = await agent.post(`/api/vehicles/${vehicle}/commands`, { name, args: {}, confirmed: true });
          expect(res.statusCode, `${agent.account} ${name} to ${vehicle}`).toBe(403);
          expect(expectErrorShape(res).code).toBe('FORBIDDEN');
          expect((await agent.get(`/api/vehicles/${vehicle}/commands`)).statusCode).toBe(403);
        }
    expect(w.published).toEqual([]);
    // the command service itself refuses customers too (the policy behind the route's role check)
    await expect(
      w.ctx.deps.commands.policy(
        { id: 'cust-a', role: 'customer' },
        'VA1',
        { name: 'snapshot', changesPower: false },
        true,
      ),
    ).rejects.toMatchObject({ code: 'COMMAND_NOT_ALLOWED' });
  });

  it('A’s own data is there (the probes above are not vacuous)', async () => {
    expect((await a.get(`/api/vehicles/${A.vehicle}`)).statusCode).toBe(200);
    expect((await a.get(`/api/tickets/${A.ticket}`)).statusCode).toBe(200);
    expect((await a.get(`/api/alarms/${A.alarm}`)).statusCode).toBe(200);
    expect((await a.get(`/api/customers/${A.customer}`)).statusCode).toBe(200);
    expect((await a.get(`/api/sessions/${A.remoteSession}`)).statusCode).toBe(200);
    expect((await a.get(`/api/sessions/${A.remoteSession}/record.html`)).statusCode).toBe(200);
    const fleet = (await a.get('/api/vehicles')).json() as { vehicles: { id: string }[] };
    expect(fleet.vehicles.map((v) => v.id)).toEqual(['VA1']);
  });
});
