import Fastify, { type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webConsole } from '../../web/app.ts';
import { createAccounts } from '../../web/auth/accounts.ts';
import { createHash } from 'node:crypto';
import { generateSync } from 'otplib';
import { enqueue } from '../../notifications/outbox.ts';
import { inTransaction } from '../../records/db.ts';
import { SESSION_COOKIE, sessionHandle } from '../../web/auth/sessions.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { codeOf, PASSWORD, startWeb, TEST_COST, type Agent, type TestWeb } from '../web/helpers.ts';
import { httpLogin } from '../helpers/live-client.ts';
import {
  declaredRoutes,
  expectErrorShape,
  expectSecurityHeaders,
  referenceSecurityHeaders,
  routeKey,
} from './helpers.ts';

/**
 * Sessions, CSRF, login throttling and response headers as an attacker would probe them
 * (ASVS V3 session management, V4.2.2 CSRF, V2.2.1 anti-automation, V14.4 HTTP security headers).
 */

const contacts = [{ name: 'Li Wei', phone: '0730-7650002' }];
const handleOf = (cookie: string) => sessionHandle(createHash('sha256').update(cookie).digest('hex'));

interface Ids {
  alarm: number;
  ticket: number;
  /** Another open ticket of the same vehicle, merged into `ticket`. */
  mergeTicket: number;
  /** A handle of another session of the admin (revoked by the admin itself). */
  ownSession: string;
  /** A handle of the engineer's session (revoked by the admin). */
  otherSession: string;
  /** An API token to revoke. */
  tokenId: string;
  /** The answer of the previous request of the success run (the enrolment's URI for the confirmation). */
  last: unknown;
  /** A ringing session on another ticket. */
  session: number;
  /** A failed notification delivery (re-sent by the admin), a webhook endpoint disabled by a 410, an item of the admin's inbox. */
  failed: number;
  /** Unit A's notification contacts (one changed, one removed) and a page to acknowledge. */
  contact: number;
  contactToRemove: number;
  page: number;
  inbox: number;
  /** A guest of `session` (an invite used). */
  guest: Agent;
  /** A closed ticket of unit A (its survey waits) and a customer of unit A to answer it. */
  closed: number;
  customer: Agent;
  /** A ticket of unit A in on-site repair up to its joint assessment (that step to confirm). */
  stepTicket: number;
  jointStep: number;
  /** Service orders of unit A: one requested (cancelled), one in progress with a visit (its finding opens a ticket), one done (signed off). */
  cancelOrder: number;
  order: number;
  visit: number;
  doneOrder: number;
  /** A draft transfer between stores (cancelled). */
  draftTransfer: number;
}

/** The smallest PNG: its signature and an IHDR chunk are all the type check reads. */
const PNG_BYTES = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

/** The current TOTP code of an enrolment answer ({otpauthUri}), at the test clock. */
function codeFrom(answer: unknown, at: number): string {
  const uri = (answer as { otpauthUri?: string } | undefined)?.otpauthUri ?? '';
  const secret = new URL(uri || 'otpauth://totp/x?secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').searchParams.get('secret')!;
  return generateSync({ secret, epoch: Math.floor(at / 1000) });
}
let clockNow: () => number = Date.now;
const contactInput = (name: string) => ({
  name,
  language: 'en' as const,
  channels: [{ channel: 'email' as const, target: 'duty@unit-a.example' }],
});

/**
 * A request that succeeds with a valid CSRF token, for every state-changing route. Listed in an
 * order in which all of them succeed one after the other; a state-changing route without a row
 * fails the coverage test.
 */
type UnsafeRequest = (i: Ids) => {
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  as?: 'guest' | 'customer';
};
/** The reservation the stock rows below make, release, ship, consume and return. */
let stockReservation = 1;
let stockTransfer = 1;
const UNSAFE: [string, UnsafeRequest][] = [
  ['POST /api/vehicles', () => ({ url: '/api/vehicles', body: { id: 'V-CSRF', customerId: 'CA' } })],
  ['POST /api/vehicles/:id/rotate-secret', () => ({ url: '/api/vehicles/VA1/rotate-secret' })],
  ['POST /api/vehicles/:id/transfer', () => ({ url: '/api/vehicles/VA1/transfer', body: { customerId: 'CB' } })],
  ['POST /api/vehicles/:id/commands', () => ({ url: '/api/vehicles/VA1/commands', body: { name: 'snapshot' } })],
  ['POST /api/alarms/:id/acknowledge', (i) => ({ url: `/api/alarms/${i.alarm}/acknowledge`, body: {} })],
  ['POST /api/alarms/:id/comments', (i) => ({ url: `/api/alarms/${i.alarm}/comments`, body: { text: 'csrf' } })],
  [
    'POST /api/tickets',
    () => ({ url: '/api/tickets', body: { vehicleId: 'VA1', level: 'urgent', title: 't', need: 'n', contacts } }),
  ],
  [
    'POST /api/tickets/:id/transitions',
    (i) => ({ url: `/api/tickets/${i.ticket}/transitions`, body: { action: 'determine_work_content' } }),
  ],
  ['POST /api/tickets/:id/merge', (i) => ({ url: `/api/tickets/${i.mergeTicket}/merge`, body: { into: i.ticket } })],
  [
    'POST /api/tickets/:id/classify',
    (i) => ({ url: `/api/tickets/${i.ticket}/classify`, body: { level: 'urgent', reason: 'csrf' } }),
  ],
  [
    'PUT /api/tickets/:id/team',
    (i) => ({ url: `/api/tickets/${i.ticket}/team`, body: { members: [{ accountId: 'engineer', role: 'leader' }] } }),
  ],
  ['POST /api/tickets/:id/site', (i) => ({ url: `/api/tickets/${i.ticket}/site`, body: { place: 'csrf' } })],
  [
    'PUT /api/tickets/:id/support-plan',
    (i) => ({
      url: `/api/tickets/${i.ticket}/support-plan`,
      body: { workContent: 'csrf', materials: [], milestones: [], transport: null, eta: null },
    }),
  ],
  [
    'POST /api/tickets/:id/support-plan/issue',
    (i) => ({ url: `/api/tickets/${i.ticket}/support-plan/issue`, body: {} }),
  ],
  [
    'POST /api/service-orders',
    () => ({
      url: '/api/service-orders',
      body: {
        kind: 'training',
        customerId: 'CA',
        title: 't',
        details: 'd',
        place: 'p',
        requestedDate: '2026-12-20',
        people: 1,
        contacts,
      },
    }),
  ],
  [
    'POST /api/service-orders/:id/actions',
    (i) => ({ url: `/api/service-orders/${i.cancelOrder}/actions`, body: { action: 'cancel' } }),
  ],
  [
    'PUT /api/service-orders/:id/team',
    (i) => ({
      url: `/api/service-orders/${i.order}/team`,
      body: { members: [{ accountId: 'engineer', role: 'leader', duty: 'inspection' }] },
    }),
  ],
  [
    'POST /api/service-orders/:id/records',
    (i) => ({
      url: `/api/service-orders/${i.order}/records`,
      body: { type: 'visit', equipment: 'shelter 2', at: 1_700_000_000_000, stateFound: 'fine' },
    }),
  ],
  [
    'POST /api/service-orders/:id/records/:recordId/findings/:index',
    (i) => ({ url: `/api/service-orders/${i.order}/records/${i.visit}/findings/0`, body: { open: 'follow_up' } }),
  ],
  [
    'POST /api/service-orders/:id/sign-off',
    (i) => ({ url: `/api/service-orders/${i.doneOrder}/sign-off`, body: { name: 'Li Wei' }, as: 'customer' }),
  ],
  ['POST /api/tickets/:id/assign', (i) => ({ url: `/api/tickets/${i.ticket}/assign`, body: { assignee: 'engineer' } })],
  [
    'POST /api/tickets/:id/service-mode',
    (i) => ({ url: `/api/tickets/${i.ticket}/service-mode`, body: { mode: 'training' } }),
  ],
  ['POST /api/tickets/:id/comments', (i) => ({ url: `/api/tickets/${i.ticket}/comments`, body: { text: 'csrf' } })],
  [
    'POST /api/tickets/:id/mode-steps',
    (i) => ({
      url: `/api/tickets/${i.stepTicket}/mode-steps`,
      body: { mode: 'on_site_repair', step: 'cause_found', details: { result: 'csrf' } },
    }),
  ],
  [
    'POST /api/tickets/:id/mode-steps/:stepId/confirm',
    (i) => ({ url: `/api/tickets/${i.stepTicket}/mode-steps/${i.jointStep}/confirm`, body: {}, as: 'customer' }),
  ],
  ['POST /api/sessions', (i) => ({ url: '/api/sessions', body: { ticketId: i.ticket } })],
  ['POST /api/sessions/:id/answer', (i) => ({ url: `/api/sessions/${i.session}/answer` })],
  ['POST /api/sessions/:id/join', (i) => ({ url: `/api/sessions/${i.session}/join` })],
  ['POST /api/sessions/:id/chat', (i) => ({ url: `/api/sessions/${i.session}/chat`, body: { text: 'csrf' } })],
  [
    'POST /api/sessions/:id/photos',
    (i) => ({ url: `/api/sessions/${i.session}/photos`, body: PNG_BYTES, headers: { 'content-type': 'image/png' } }),
  ],
  ['POST /api/sessions/:id/invites', (i) => ({ url: `/api/sessions/${i.session}/invites` })],
  [
    'DELETE /api/sessions/:id/invites/:inviteId',
    (i) => ({
      url: `/api/sessions/${i.session}/invites/${(i.last as { inviteId?: string } | undefined)?.inviteId ?? 'inv_none'}`,
    }),
  ],
  ['POST /api/guest/logout', () => ({ url: '/api/guest/logout', as: 'guest' })],
  [
    'POST /api/sessions/:id/steps/:index/done',
    (i) => ({ url: `/api/sessions/${i.session}/steps/0/done`, body: { observation: 'fuel 80 %' } }),
  ],
  ['POST /api/sessions/:id/steps/:index/check', (i) => ({ url: `/api/sessions/${i.session}/steps/4/check` })],
  [
    'POST /api/sessions/:id/steps/:index/skip',
    (i) => ({ url: `/api/sessions/${i.session}/steps/2/skip`, body: { reason: 'csrf' } }),
  ],
  [
    'POST /api/sessions/:id/steps',
    (i) => ({
      url: `/api/sessions/${i.session}/steps`,
      body: { instruction: { en: 'Check the breaker', zh: '检查断路器' } },
    }),
  ],
  ['POST /api/notifications/:id/resend', (i) => ({ url: `/api/notifications/${i.failed}/resend` })],
  ['POST /api/notifications/targets/:id/enable', () => ({ url: '/api/notifications/targets/erp/enable' })],
  ['POST /api/inbox/:id/read', (i) => ({ url: `/api/inbox/${i.inbox}/read` })],
  ['POST /api/inbox/read-all', () => ({ url: '/api/inbox/read-all' })],
  [
    'POST /api/tickets/:id/eta',
    (i) => ({ url: `/api/tickets/${i.ticket}/eta`, body: { eta: clockNow() + 3_600_000, note: 'on the way' } }),
  ],
  ['POST /api/customers/:id/contacts', () => ({ url: '/api/customers/CA/contacts', body: contactInput('New A') })],
  ['PUT /api/contacts/:id', (i) => ({ url: `/api/contacts/${i.contact}`, body: contactInput('Renamed A') })],
  [
    'PUT /api/contacts/:id/subscriptions',
    (i) => ({ url: `/api/contacts/${i.contact}/subscriptions`, body: { subscriptions: [] } }),
  ],
  ['DELETE /api/contacts/:id', (i) => ({ url: `/api/contacts/${i.contactToRemove}` })],
  ['PUT /api/me/contact', () => ({ url: '/api/me/contact', body: contactInput('Admin') })],
  [
    'POST /api/tickets/:id/survey',
    (i) => ({
      url: `/api/tickets/${i.closed}/survey`,
      body: { scores: { response: 1, quality: 4, attitude: 4 } },
      as: 'customer',
    }),
  ],
  [
    'POST /api/survey-follow-ups/:id/outcome',
    () => ({ url: '/api/survey-follow-ups/1/outcome', body: { outcome: 'called back' } }),
  ],
  [
    'PUT /api/vehicles/:id/delivery',
    () => ({ url: '/api/vehicles/VA1/delivery', body: { deliveredAt: 1_700_000_000_000 } }),
  ],
  ['POST /api/pages/:id/ack', (i) => ({ url: `/api/pages/${i.page}/ack` })],
  ['POST /api/sessions/:id/leave', (i) => ({ url: `/api/sessions/${i.session}/leave` })],
  [
    'POST /api/sessions/:id/end',
    (i) => ({ url: `/api/sessions/${i.session}/end`, body: { outcome: 'crew_unreachable' } }),
  ],
  [
    'POST /api/roster/shifts',
    () => ({
      url: '/api/roster/shifts',
      body: { weekday: 1, start: '08:00', end: '20:00', primary: 'engineer', dutyLead: 'dispatcher' },
    }),
  ],
  ['PATCH /api/roster/shifts/:id', () => ({ url: '/api/roster/shifts/1', body: { end: '21:00' } })],
  ['DELETE /api/roster/shifts/:id', () => ({ url: '/api/roster/shifts/1' })],
  ['POST /api/accounts', () => ({ url: '/api/accounts', body: { id: 'csrf.new', name: 'x', role: 'engineer' } })],
  ['POST /api/tools', () => ({ url: '/api/tools', body: { code: 'T-CSRF', name: 'x', kind: 'tool', location: 'x' } })],
  ['PATCH /api/tools/:id', () => ({ url: '/api/tools/1', body: { location: 'van' } })],
  [
    'POST /api/tools/:id/checkout',
    (i) => ({ url: '/api/tools/1/checkout', body: { ticketId: i.ticket, team: ['x'] } }),
  ],
  ['POST /api/tools/:id/return', () => ({ url: '/api/tools/1/return' })],
  ['POST /api/suppliers', () => ({ url: '/api/suppliers', body: { id: 'SUP-CSRF', name: 'x', contact: 'x' } })],
  ['PATCH /api/suppliers/:id', () => ({ url: '/api/suppliers/SUP-CSRF', body: { status: 'approved' } })],
  [
    'POST /api/suppliers/:id/evaluations',
    () => ({ url: '/api/suppliers/SUP-CSRF/evaluations', body: { quality: 3, delivery: 3, service: 3 } }),
  ],
  [
    'POST /api/tickets/:id/quality-records',
    (i) => ({ url: `/api/tickets/${i.ticket}/quality-records`, body: { partNumber: 'P-1', supplierId: 'SUP-CSRF' } }),
  ],
  [
    'POST /api/suppliers/:id/feedback',
    () => ({ url: '/api/suppliers/SUP-CSRF/feedback', body: { subject: 's', text: 't' } }),
  ],
  ['POST /api/quality-feedback/:id/answer', () => ({ url: '/api/quality-feedback/1/answer', body: { answer: 'a' } })],
  [
    'POST /api/partners',
    () => ({
      url: '/api/partners',
      body: {
        kind: 'towing',
        name: 'x',
        regions: [],
        capabilities: [],
        reputation: 3,
        technicalStrength: 3,
        contacts: [],
      },
    }),
  ],
  ['PATCH /api/partners/:id', () => ({ url: '/api/partners/1', body: { reputation: 4 } })],
  [
    'POST /api/tickets/:id/partner-dispatches',
    (i) => ({ url: `/api/tickets/${i.ticket}/partner-dispatches`, body: { partnerId: 1, task: 't', eta: 1 } }),
  ],
  ['PATCH /api/partner-dispatches/:id', () => ({ url: '/api/partner-dispatches/1', body: { outcome: 'resolved' } })],
  ['POST /api/people', () => ({ url: '/api/people', body: { id: 'csrf.person', name: 'x', department: 'market' } })],
  ['PATCH /api/people/:id', () => ({ url: '/api/people/csrf.person', body: { available: false } })],
  ['PATCH /api/accounts/:id', () => ({ url: '/api/accounts/engineer', body: { name: 'renamed by csrf' } })],
  ['POST /api/accounts/:id/reset-password', () => ({ url: '/api/accounts/dispatcher/reset-password' })],
  ['DELETE /api/accounts/:id', () => ({ url: '/api/accounts/cust-b' })],
  ['POST /api/customers', () => ({ url: '/api/customers', body: { id: 'CC', name: 'Unit C' } })],
  ['PATCH /api/customers/:id', () => ({ url: '/api/customers/CA', body: { name: 'pwned' } })],
  ['DELETE /api/vehicles/:id', () => ({ url: '/api/vehicles/VB1' })],
  ['POST /api/auth/reauth', () => ({ url: '/api/auth/reauth', body: { password: PASSWORD } })],
  ['POST /api/auth/two-factor/enrol', () => ({ url: '/api/auth/two-factor/enrol' })],
  [
    'POST /api/auth/two-factor/confirm',
    (i) => ({ url: '/api/auth/two-factor/confirm', body: { code: codeFrom(i.last, clockNow()) } }),
  ],
  ['POST /api/auth/two-factor/recovery-codes', () => ({ url: '/api/auth/two-factor/recovery-codes' })],
  ['DELETE /api/auth/two-factor', () => ({ url: '/api/auth/two-factor' })],
  ['DELETE /api/admin/accounts/:id/two-factor', () => ({ url: '/api/admin/accounts/dispatcher/two-factor' })],
  ['DELETE /api/auth/sessions/:sessionId', (i) => ({ url: `/api/auth/sessions/${i.ownSession}` })],
  [
    'DELETE /api/admin/accounts/:id/sessions/:sessionId',
    (i) => ({ url: `/api/admin/accounts/engineer/sessions/${i.otherSession}` }),
  ],
  ['DELETE /api/admin/accounts/:id/sessions', () => ({ url: '/api/admin/accounts/cust-a/sessions' })],
  ['POST /api/accounts/:id/reset-link', () => ({ url: '/api/accounts/engineer/reset-link' })],
  [
    'POST /api/admin/api-tokens',
    () => ({ url: '/api/admin/api-tokens', body: { accountId: 'cust-a', name: 'ERP', scopes: ['tickets:read'] } }),
  ],
  ['DELETE /api/admin/api-tokens/:tokenId', (i) => ({ url: `/api/admin/api-tokens/${i.tokenId}` })],
  // spare-parts stock, in an order in which each succeeds (FF-5421, CENTRAL and SP-N are made in beforeAll)
  [
    'POST /api/stock/parts',
    () => ({
      url: '/api/stock/parts',
      body: { partNo: 'P-CSRF', name: { en: 'x', zh: 'x' }, unit: 'pc', leadTimeDays: 1 },
    }),
  ],
  [
    'PUT /api/stock/parts/:partNo',
    () => ({
      url: '/api/stock/parts/P-CSRF',
      body: { name: { en: 'x2', zh: 'x2' }, unit: 'pc', leadTimeDays: 2 },
    }),
  ],
  [
    'POST /api/stock/stores',
    () => ({
      url: '/api/stock/stores',
      body: { id: 'S-CSRF', kind: 'service_point', name: { en: 'x', zh: 'x' }, lat: 1, lon: 1, address: 'x' },
    }),
  ],
  [
    'PUT /api/stock/stores/:id',
    () => ({
      url: '/api/stock/stores/S-CSRF',
      body: { kind: 'service_point', name: { en: 'x2', zh: 'x2' }, lat: 2, lon: 2, address: 'y' },
    }),
  ],
  [
    'PUT /api/stock/levels',
    () => ({ url: '/api/stock/levels', body: { partNo: 'FF-5421', storeId: 'CENTRAL', min: 1, max: 3 } }),
  ],
  [
    'POST /api/stock/receipts',
    () => ({ url: '/api/stock/receipts', body: { partNo: 'FF-5421', storeId: 'CENTRAL', qty: 10, reason: 'opening' } }),
  ],
  [
    'POST /api/stock/transfers',
    () => ({
      url: '/api/stock/transfers',
      body: { from: 'CENTRAL', to: 'SP-N', lines: [{ partNo: 'FF-5421', qty: 2 }] },
    }),
  ],
  [
    'POST /api/stock/transfers/:id/ship',
    (i) => {
      stockTransfer = (i.last as { id?: number } | undefined)?.id ?? 1;
      return { url: `/api/stock/transfers/${stockTransfer}/ship`, body: { carrier: 'SF', trackingNo: 'T0' } };
    },
  ],
  [
    'POST /api/stock/transfers/:id/receipts',
    () => ({ url: `/api/stock/transfers/${stockTransfer}/receipts`, body: { lines: [{ partNo: 'FF-5421', qty: 1 }] } }),
  ],
  [
    'POST /api/stock/transfers/:id/discrepancies',
    () => ({
      url: `/api/stock/transfers/${stockTransfer}/discrepancies`,
      body: { lines: [{ partNo: 'FF-5421', qty: 1, reason: 'lost in transit' }] },
    }),
  ],
  [
    'POST /api/stock/transfers/:id/cancel',
    (i) => ({ url: `/api/stock/transfers/${i.draftTransfer}/cancel`, body: { reason: 'not needed after all' } }),
  ],
  [
    'POST /api/tickets/:id/reservations',
    (i) => ({
      url: `/api/tickets/${i.ticket}/reservations`,
      body: { lines: [{ partNo: 'FF-5421', storeId: 'CENTRAL', qty: 3 }] },
    }),
  ],
  [
    'POST /api/stock/reservations/:id/release',
    (i) => {
      stockReservation = (i.last as { reservations?: { id: number }[] } | undefined)?.reservations?.[0]?.id ?? 1;
      return { url: `/api/stock/reservations/${stockReservation}/release`, body: { qty: 1 } };
    },
  ],
  [
    'POST /api/tickets/:id/shipments',
    (i) => ({
      url: `/api/tickets/${i.ticket}/shipments`,
      body: { reservationIds: [stockReservation], carrier: 'SF', trackingNo: 'T1', consignee: 'C', address: 'A' },
    }),
  ],
  [
    'POST /api/tickets/:id/consumption',
    (i) => ({ url: `/api/tickets/${i.ticket}/consumption`, body: { reservationId: stockReservation, qty: 1 } }),
  ],
  [
    'POST /api/tickets/:id/returns',
    (i) => ({ url: `/api/tickets/${i.ticket}/returns`, body: { reservationId: stockReservation, qty: 1 } }),
  ],
  [
    'POST /api/stock/contracts',
    () => ({
      url: '/api/stock/contracts',
      body: {
        number: 'DH-CSRF',
        supplierId: 'S-1',
        supplierName: 'x',
        currency: 'CNY',
        validFrom: 0,
        validTo: 4_102_444_800_000,
        items: [{ partNo: 'FF-5421', unitPriceCents: 100, leadTimeDays: 3 }],
      },
    }),
  ],
  [
    'PUT /api/stock/contracts/:id',
    (i) => ({
      url: `/api/stock/contracts/${(i.last as { id?: number } | undefined)?.id ?? 1}`,
      body: {
        number: 'DH-CSRF',
        supplierId: 'S-1',
        supplierName: 'x (renewed)',
        currency: 'CNY',
        validFrom: 0,
        validTo: 4_102_444_800_000,
        items: [{ partNo: 'FF-5421', unitPriceCents: 120, leadTimeDays: 3 }],
      },
    }),
  ],
  [
    'POST /api/stock/purchase-orders',
    (i) => ({
      url: '/api/stock/purchase-orders',
      body: {
        contractId: (i.last as { id?: number } | undefined)?.id ?? 1,
        storeId: 'CENTRAL',
        lines: [{ partNo: 'FF-5421', qty: 2 }],
      },
    }),
  ],
  [
    'POST /api/stock/purchase-orders/:id/receipts',
    (i) => ({
      url: `/api/stock/purchase-orders/${(i.last as { id?: number } | undefined)?.id ?? 1}/receipts`,
      body: { lines: [{ partNo: 'FF-5421', qty: 2 }] },
    }),
  ],
  ['POST /api/stock/shortages', () => ({ url: '/api/stock/shortages', body: { partNo: 'P-CSRF', qty: 1 } })],
  [
    'POST /api/stock/shortages/:id/done',
    (i) => ({
      url: `/api/stock/shortages/${(i.last as { id?: number } | undefined)?.id ?? 1}/done`,
      body: { outcome: 'bought 1 from the market' },
    }),
  ],
  ['POST /api/stock/counts', () => ({ url: '/api/stock/counts', body: { storeId: 'SP-N' } })],
  [
    'POST /api/stock/counts/:id/lines',
    (i) => ({
      url: `/api/stock/counts/${(i.last as { id?: number } | undefined)?.id ?? 1}/lines`,
      body: { lines: [{ partNo: 'FF-5421', counted: 1 }] },
    }),
  ],
  [
    'POST /api/stock/counts/:id/book',
    (i) => ({ url: `/api/stock/counts/${(i.last as { id?: number } | undefined)?.id ?? 1}/book` }),
  ],
  [
    'POST /api/auth/password',
    () => ({ url: '/api/auth/password', body: { currentPassword: PASSWORD, newPassword: 'a whole new password 1' } }),
  ],
  ['POST /api/auth/logout', () => ({ url: '/api/auth/logout' })],
];

/** State-changing routes that leave no audit row: marking one's own inbox items read changes nothing anyone else sees. */
const NOT_AUDITED = new Set(['POST /api/inbox/:id/read', 'POST /api/inbox/read-all']);

describe('CSRF: every state-changing route refuses a request without the session’s own token', () => {
  let w: TestWeb;
  let admin: Agent;
  let other: Agent;
  let ids: Ids;

  beforeAll(async () => {
    w = await startWeb();
    // VA1 is connected and answers its commands
    w.presence.connected('VA1', w.now(), '10.9.9.9');
    w.answerCommands((_v, c) => ({ id: c.id, ts: w.now(), ok: true, result: {} }));
    clockNow = w.now;
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
    for (const id of ['CENTRAL', 'SP-N'])
      await w.stock.catalogue.addStore({
        id,
        kind: 'central',
        name: { en: id, zh: id },
        lat: 28,
        lon: 112,
        address: 'x',
      });
    admin = await w.login('admin');
    other = await w.login('engineer');
    const second = await w.login('admin');
    // the dispatcher has a second factor, for the admin to reset
    const { otpauthUri } = await w.ctx.twoFactor.enrol('dispatcher');
    await w.ctx.twoFactor.confirm('dispatcher', codeFrom({ otpauthUri }, w.now()));
    const token = await w.ctx.tokens.create({
      accountId: 'engineer',
      name: 'to revoke',
      scopes: ['vehicles:read'],
      customerId: null,
      expiresAt: w.now() + 86_400_000,
      createdBy: 'admin',
    });
    // a remote session requested by unit B's crew, answered in the run below; its guided steps run
    await w.ticket('VB1'); // GEN-START-FAIL: its plan has guided steps
    const crew = { id: 'cust-b', role: 'customer' as const, customerId: 'CB' };
    const session = (await w.sessions.request(crew, { vehicleId: 'VB1', description: 'csrf' })).session.id;
    await w.sessionParts.steps.start();
    // a delivery that failed and a webhook endpoint a receiver disabled (410), for the admin to re-send / enable
    await enqueue(
      w.db,
      [
        {
          key: 'csrf:failed',
          channel: 'webhook',
          target: 'erp',
          kind: 'ticket.opened',
          language: 'en',
          urgent: false,
          subject: 's',
          text: 't',
        },
      ],
      w.now(),
    );
    const failed = await w.db
      .updateTable('notifications')
      .set({ status: 'failed', tries: 8, last_error: 'HTTP 500' })
      .where('key', '=', 'csrf:failed')
      .returning('id')
      .executeTakeFirstOrThrow();
    await w.db
      .insertInto('notification_targets_disabled')
      .values({ id: 'erp', channel: 'webhook', reason: 'HTTP 410', disabled_at: w.now() })
      .execute();
    const pageTicket = await w.ticket('VA1');
    ids = {
      alarm: (await w.alarm('VA1')).id,
      ticket: (await w.ticket('VA1')).id,
      mergeTicket: (await w.ticket('VA1', 'urgent')).id,
      session,
      failed: failed.id,
      inbox: await w.inboxItem('admin', 'csrf', null),
      contact: (await w.notifications.contacts.addToCustomer('CA', contactInput('Duty A'))).id,
      contactToRemove: (await w.notifications.contacts.addToCustomer('CA', contactInput('Old A'))).id,
      page: await inTransaction(
        w.db,
        async (tx) =>
          (await w.notifications.paging.page(tx, { ticket: pageTicket, reason: 'at_risk', deadline: 'work_content' }))!
            .id,
      ),
      ownSession: handleOf(second.cookie),
      otherSession: handleOf(other.cookie),
      tokenId: token.info.id,
      last: undefined,
      draftTransfer: (
        await w.stock.transfers.create(
          { from: 'CENTRAL', to: 'SP-N', lines: [{ partNo: 'FF-5421', qty: 1 }], reason: null },
          'admin',
        )
      ).id,
      guest: await w.guestLogin((await w.sessionParts.invites.create(session, 'admin')).token),
      closed: await (async () => {
        // a ticket of unit A taken to closed: its survey waits for unit A's customer
        const t = await w.ticket('VA1');
        // closing only what is fixed: the engineer marks it repaired with the resolution, the desk verifies
        for (const a of ['determine_work_content', 'start_service', 'mark_repaired', 'verify', 'close'] as const)
          await (a === 'mark_repaired'
            ? w.tickets.transition(t.id, a, 'engineer', undefined, undefined, {
                resolution: { rootCause: 'worn relay', workDone: 'relay replaced', partsUsed: [] },
              })
            : w.tickets.transition(t.id, a, 'dispatcher'));
        await w.service.idle();
        return t.id;
      })(),
      customer: await w.login('cust-a'),
      ...(await (async () => {
        // a ticket of unit A in on-site repair, its steps up to the joint assessment recorded
        const t = await w.ticket('VA1');
        await w.tickets.setServiceMode(t.id, 'on_site_repair', 'dispatcher');
        const steps = w.ctx.deps.diagnostics.modeSteps;
        const record = (step: string, details = {}) =>
          steps.record(t.id, { mode: 'on_site_repair', step, details }, 'engineer', 'staff');
        await record('agreed', { transport: 'car' });
        await record('departed');
        await record('arrived');
        const joint = await record('joint_assessment', { result: 'no output' });
        return { stepTicket: t.id, jointStep: joint.id };
      })()),
      ...(await (async () => {
        const orders = w.ctx.deps.diagnostics.serviceOrders;
        const order = (kind: 'training' | 'patrol_inspection') =>
          orders.request(
            {
              kind,
              customerId: 'CA',
              vehicleId: 'VA1',
              title: 'csrf',
              details: 'd',
              place: 'p',
              requestedDate: '2026-12-20',
              people: 1,
              contacts,
            },
            'dispatcher',
          );
        const started = async () => {
          const o = await order('patrol_inspection');
          await orders.act(o.id, 'schedule', 'dispatcher', {
            schedule: { scheduledStart: 1_700_000_000_000, scheduledEnd: null, team: null },
          });
          await orders.act(o.id, 'start', 'engineer');
          return o.id;
        };
        const cancelOrder = (await order('training')).id;
        const inProgress = await started();
        const visit = await orders.records.add(
          inProgress,
          {
            type: 'visit',
            vehicleId: 'VA1',
            equipment: '',
            at: 1_700_000_000_000,
            stateFound: 'worn',
            readings: '',
            findings: [{ text: 'battery worn', severity: 'major', needsRepair: true, link: null }],
            workDone: '',
            parts: [],
          },
          'engineer',
          null,
        );
        const doneOrder = await started();
        await orders.act(doneOrder, 'complete', 'engineer', { note: 'done' });
        return { cancelOrder, order: inProgress, visit: visit.id, doneOrder };
      })()),
    };
  });
  afterAll(async () => w?.close());

  async function snapshot(): Promise<string> {
    const tables = (await w.db.introspection.getTables()).map((t) => t.name).sort();
    const out: Record<string, unknown> = {};
    for (const t of tables)
      out[t] = await w.db
        .selectFrom(t as 'accounts')
        .selectAll()
        .execute();
    return JSON.stringify(out);
  }

  it('has a row for every state-changing route the app declares', async () => {
    const unsafe = (await declaredRoutes(w.ctx))
      .filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method) && !r.public)
      .map(routeKey);
    expect(
      unsafe.filter((r) => !UNSAFE.some(([k]) => k === r)),
      'state-changing routes without a CSRF row',
    ).toEqual([]);
    expect(
      UNSAFE.map(([k]) => k).filter((k) => !unsafe.includes(k)),
      'rows for routes that no longer exist',
    ).toEqual([]);
  });

  it('without the token, with another session’s, with the cookie’s value, in the query or the body, or from another site: 403 CSRF_INVALID and no effect', async () => {
    const before = await snapshot();
    const variants: [string, Record<string, string>, (url: string) => string, (body: unknown) => unknown][] = [
      ['no token', { 'x-csrf-token': '' }, (u) => u, (b) => b],
      ['another session’s token', { 'x-csrf-token': other.csrf }, (u) => u, (b) => b],
      ['the session cookie as the token', { 'x-csrf-token': admin.cookie }, (u) => u, (b) => b],
      ['the token upper-cased', { 'x-csrf-token': admin.csrf.toUpperCase() }, (u) => u, (b) => b],
      ['the token cut short', { 'x-csrf-token': admin.csrf.slice(0, -1) }, (u) => u, (b) => b],
      ['the token with a character more', { 'x-csrf-token': `${admin.csrf}A` }, (u) => u, (b) => b],
      [
        'the token in the query',
        { 'x-csrf-token': '' },
        (u) => `${u}?csrfToken=${admin.csrf}&x-csrf-token=${admin.csrf}`,
        (b) => b,
      ],
      ['the token in the body', { 'x-csrf-token': '' }, (u) => u, (b) => ({ ...(b as object), csrfToken: admin.csrf })],
      ['a foreign Origin', { origin: 'https://evil.example' }, (u) => u, (b) => b],
      ['Origin null (a sandboxed frame)', { origin: 'null' }, (u) => u, (b) => b],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, (u) => u, (b) => b],
      ['the own host on another port', { origin: 'http://localhost:8081' }, (u) => u, (b) => b],
    ];
    for (const [key, build] of UNSAFE) {
      const method = key.split(' ')[0]!;
      const { url, body, as } = build(ids);
      const caller = as === 'guest' ? ids.guest : as === 'customer' ? ids.customer : admin;
      for (const [name, headers, urlOf, bodyOf] of variants) {
        const res = await caller.request(
          method,
          urlOf(url),
          body === undefined && name !== 'the token in the body' ? undefined : bodyOf(body ?? {}),
          headers,
        );
        expect(res.statusCode, `${key} with ${name}: ${res.body}`).toBe(403);
        expect(expectErrorShape(res, `${key} with ${name}`).code).toBe('CSRF_INVALID');
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it('login from another site is refused too (login CSRF), and so are the other public state-changing routes', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }]) {
      const res = await w.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers,
        payload: { username: 'admin', password: PASSWORD },
      });
      expect(codeOf(res)).toBe('CSRF_INVALID');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const publicUnsafe = (await declaredRoutes(w.ctx)).filter((r) => r.public && r.method === 'POST');
    expect(publicUnsafe.map(routeKey).sort()).toEqual([
      'POST /api/auth/login',
      'POST /api/auth/login/second-factor',
      'POST /api/auth/reset',
      'POST /api/auth/reset/check',
      'POST /api/guest/login',
    ]);
    for (const r of publicUnsafe) {
      const res = await w.app.inject({
        method: 'POST',
        url: r.url,
        headers: { origin: 'https://evil.example' },
        payload: {
          token: 'x'.repeat(43),
          challenge: 'x'.repeat(43),
          code: '123456',
          newPassword: 'a fine new passphrase',
        },
      });
      expect(codeOf(res), routeKey(r)).toBe('CSRF_INVALID');
    }
  });

  it('the same requests with the right token succeed (so the 403s above were the CSRF check’s), and each leaves an audit row (issue 16, item 9)', async () => {
    const auditRows = async () =>
      Number(
        (
          await w.db
            .selectFrom('audit_log')
            .select((e) => e.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    for (const [key, build] of UNSAFE) {
      const { url, body, headers, as } = build(ids);
      const before = await auditRows();
      const caller = as === 'guest' ? ids.guest : as === 'customer' ? ids.customer : admin;
      const res = await caller.request(key.split(' ')[0]!, url, body, headers);
      expect(res.statusCode, `${key}: ${res.body}`).toBeLessThan(300);
      ids.last = res.body ? res.json() : undefined;
      if (!NOT_AUDITED.has(key)) expect(await auditRows(), `${key} left no audit row`).toBeGreaterThan(before);
    }
    expect(await w.ctx.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('the session cookie and the session token', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());

  const cookieOf = (res: LightMyRequestResponse) =>
    [res.headers['set-cookie']].flat().find((c) => c?.startsWith(`${SESSION_COOKIE}=`));

  it('is __Host-, Secure, HttpOnly, SameSite=Strict, Path=/, without Domain; 256 random bits; never in a body; not the CSRF token', async () => {
    w = await startWeb();
    const res = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'engineer', password: PASSWORD },
    });
    const raw = cookieOf(res)!;
    const attrs = raw.split(';').map((x) => x.trim());
    expect(attrs[0]).toMatch(/^__Host-pw_session=[A-Za-z0-9_-]{43}$/);
    expect(attrs).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(attrs.some((a) => /^domain=/i.test(a))).toBe(false);
    // SameSite=Strict is right here: the console's own pages call the API same-origin; a link from
    // elsewhere opens the app shell, whose API calls then carry the cookie. Lax would add top-level
    // cross-site GETs, which no console route needs.
    const token = attrs[0]!.split('=')[1]!;
    expect(res.body).not.toContain(token);
    const { csrfToken } = res.json() as { csrfToken: string };
    expect(csrfToken).not.toBe(token);
    expect(csrfToken).not.toContain(token);
    const session = await w.app.inject({
      method: 'GET',
      url: '/api/auth/session',
      cookies: { [SESSION_COOKIE]: token },
    });
    expect(session.body).not.toContain(token);
  });

  it('is cleared on logout and when it names an ended session, with the attributes a browser needs to accept the deletion', async () => {
    w = await startWeb();
    const a = await w.login('engineer');
    const out = await a.post('/api/auth/logout');
    for (const res of [out, await a.get('/api/vehicles')]) {
      const raw = cookieOf(res)!;
      expect(raw).toMatch(new RegExp(`^${SESSION_COOKIE}=;`));
      expect(raw).toMatch(/Expires=Thu, 01 Jan 1970/);
      expect(raw).toContain('Secure');
      expect(raw).toContain('Path=/');
      expect(raw).not.toMatch(/Domain=/i);
    }
  });

  it('session fixation: a cookie chosen by an attacker before login is never adopted', async () => {
    w = await startWeb();
    const planted = 'A'.repeat(43);
    const res = await w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      cookies: { [SESSION_COOKIE]: planted },
      payload: { username: 'engineer', password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const issued = cookieOf(res)!.split(';')[0]!.split('=')[1]!;
    expect(issued).not.toBe(planted);
    expect(
      (await w.app.inject({ method: 'GET', url: '/api/auth/session', cookies: { [SESSION_COOKIE]: planted } }))
        .statusCode,
    ).toBe(401);
  });

  it('a second login gets another token; logging one out leaves the other', async () => {
    w = await startWeb();
    const one = await w.login('engineer');
    const two = await w.login('engineer');
    expect(one.cookie).not.toBe(two.cookie);
    expect(one.csrf).not.toBe(two.csrf);
    await one.post('/api/auth/logout');
    expect((await one.get('/api/auth/session')).statusCode).toBe(401);
    expect((await two.get('/api/auth/session')).statusCode).toBe(200);
  });
});

describe('repeated failed logins: the failing source waits, never the account for everyone', () => {
  let w: TestWeb;
  afterEach(async () => w?.close());
  const login = (username: string, password: string, ip: string, headers: Record<string, string> = {}) =>
    w.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
      remoteAddress: ip,
      headers,
    });

  it('the reported attack: anyone guessing an account cannot lock it — the right password from another address logs in at once, every time', async () => {
    w = await startWeb();
    // the attacker: 5 wrong passwords a minute for 20 minutes from one address (the old rule locked the account for 900 s)
    for (let minute = 0; minute < 20; minute++) {
      for (let i = 0; i < 5; i++) await login('engineer', `guess ${minute}.${i} wrong`, '198.51.100.66');
      // the engineer, from the office, each minute
      const res = await login('engineer', PASSWORD, '203.0.113.10');
      expect(res.statusCode, `minute ${minute + 1}`).toBe(200);
      expect(res.headers['set-cookie']).toBeDefined();
      w.advance(60_000);
    }
  });

  it('the guessing source itself: 429 with Retry-After after 5 failures, the right password gets the same 429 (a correct guess is not told apart); the wait grows 1, 2, 4 … s', async () => {
    w = await startWeb();
    const reference = await referenceSecurityHeaders();
    const from = '198.51.100.7';
    // the 5th failure starts the first wait (1 s)
    for (let i = 0; i < 5; i++) expect((await login('engineer', `guess number ${i}`, from)).statusCode).toBe(401);
    const right = await login('engineer', PASSWORD, from);
    const wrong = await login('engineer', 'still guessing', from);
    for (const res of [right, wrong]) {
      expect(res.statusCode).toBe(429);
      expect(expectErrorShape(res).code).toBe('RATE_LIMITED');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['set-cookie']).toBeUndefined();
      expectSecurityHeaders(res.headers, reference, '429');
    }
    expect(right.body).toBe(wrong.body);
    // the wait grows with every failure after it
    for (const seconds of [2, 4, 8, 16]) {
      w.advance(Number((await login('engineer', 'x wrong x wrong', from)).headers['retry-after']) * 1000);
      expect((await login('engineer', 'once more wrong', from)).statusCode).toBe(401);
      expect((await login('engineer', PASSWORD, from)).headers['retry-after']).toBe(String(seconds));
    }
    // all the while the account works from elsewhere
    expect((await login('engineer', PASSWORD, '198.51.100.8')).statusCode).toBe(200);
  });

  it('the account is the same however the name is spelled (case, spaces)', async () => {
    w = await startWeb();
    for (const [i, name] of ['engineer', 'ENGINEER', ' Engineer', 'engineer ', 'EnGiNeEr'].entries())
      expect((await login(name, `guess ${i} wrong`, '203.0.113.5')).statusCode).toBe(401);
    expect((await login('engineer', PASSWORD, '203.0.113.5')).statusCode).toBe(429);
  });

  it('one address against many accounts: 429 after 20 failures, also for an account never tried; X-Forwarded-For does not get around it', async () => {
    w = await startWeb();
    for (let i = 0; i < 20; i++) {
      const res = await login(`user${i}`, 'wrong password here', '192.0.2.66', { 'x-forwarded-for': `10.9.${i}.1` });
      expect(res.statusCode, `attempt ${i + 1}`).toBe(401);
    }
    for (const xff of ['10.9.200.1', '127.0.0.1', '192.0.2.67, 10.0.0.1']) {
      const res = await login('admin', PASSWORD, '192.0.2.66', { 'x-forwarded-for': xff, 'x-real-ip': xff });
      expect(res.statusCode, `X-Forwarded-For: ${xff}`).toBe(429);
    }
    expect((await login('admin', PASSWORD, '192.0.2.99')).statusCode).toBe(200);
  });

  it('guessing the current password through the password change is limited the same way', async () => {
    w = await startWeb();
    const a = await w.login('engineer');
    for (let i = 0; i < 5; i++)
      expect(
        codeOf(
          await a.post('/api/auth/password', {
            currentPassword: `guess ${i} wrong!`,
            newPassword: 'my next password 1',
          }),
        ),
      ).toBe('LOGIN_FAILED');
    const res = await a.post('/api/auth/password', { currentPassword: PASSWORD, newPassword: 'my next password 1' });
    expect(res.statusCode).toBe(429);
    expect(codeOf(res)).toBe('RATE_LIMITED');
    // the password did not change
    await w.login('dispatcher');
    expect((await w.ctx.accounts.verifyLogin('engineer', PASSWORD)).ok).toBe(true);
  });
});

describe('security headers on every kind of answer, errors included', () => {
  let w: TestWeb;
  let reference: Record<string, string>;
  beforeAll(async () => {
    w = await startWeb();
    reference = await referenceSecurityHeaders();
  });
  afterAll(async () => w?.close());

  it('API answers, errors of every status, probes and documentation', async () => {
    const admin = await w.login('admin');
    const cust = await w.login('cust-a');
    const inject = (o: InjectOptions) => w.app.inject(o);
    const answers: [string, LightMyRequestResponse, number][] = [
      ['a read', await admin.get('/api/vehicles'), 200],
      ['a creation', await admin.post('/api/customers', { id: 'CH', name: 'Unit H' }), 201],
      ['no content', await (await w.login('engineer')).post('/api/auth/logout'), 204],
      ['a validation error', await admin.get('/api/alarms?limit=0'), 400],
      [
        'bad JSON',
        await admin.request('POST', '/api/customers', undefined, { 'content-type': 'application/json' }),
        400,
      ],
      ['a malformed URL', await inject({ method: 'GET', url: '/api/vehicles/%ZZ' }), 400],
      ['an over-long path parameter', await inject({ method: 'GET', url: `/api/vehicles/${'a'.repeat(300)}` }), 400],
      ['no session', await inject({ method: 'GET', url: '/api/vehicles' }), 401],
      ['a role refused', await cust.get('/api/accounts'), 403],
      ['CSRF', await admin.request('POST', '/api/customers', { id: 'CI', name: 'x' }, { 'x-csrf-token': '' }), 403],
      ['no route', await inject({ method: 'GET', url: '/api/nothing/here' }), 404],
      ['no route outside the API', await inject({ method: 'GET', url: '/wp-admin/setup.php' }), 404],
      ['no such entity', await admin.get('/api/vehicles/NOPE'), 404],
      ['a conflict', await admin.post('/api/customers', { id: 'CA', name: 'again' }), 409],
      ['too large', await admin.post('/api/customers', { id: 'CJ', name: 'x'.repeat(300 * 1024) }), 413],
      [
        'media type',
        await admin.request('POST', '/api/customers', 'id=CK', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
      ],
      ['health', await inject({ method: 'GET', url: '/healthz' }), 200],
      ['readiness', await inject({ method: 'GET', url: '/readyz' }), 200],
      ['metrics without a staff session or the scrape token', await inject({ method: 'GET', url: '/metrics' }), 401],
      [
        'JSON metrics without a staff session or the scrape token',
        await inject({ method: 'GET', url: '/metrics.json' }),
        401,
      ],
      ['the OpenAPI document', await inject({ method: 'GET', url: '/docs/json' }), 200],
      ['the documentation page', await inject({ method: 'GET', url: '/docs' }), 200],
      ['HEAD', await inject({ method: 'HEAD', url: '/healthz' }), 200],
      [
        'OPTIONS (no CORS preflight answer)',
        await inject({
          method: 'OPTIONS',
          url: '/api/vehicles',
          headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
        }),
        404,
      ],
      [
        'a foreign Origin on a read',
        await admin.request('GET', '/api/vehicles', undefined, { origin: 'https://evil.example' }),
        200,
      ],
    ];
    for (let i = 0; i < 6; i++)
      await inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'dispatcher', password: `wrong guess ${i}` },
      });
    answers.push([
      'rate limited',
      await inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'dispatcher', password: PASSWORD } }),
      429,
    ]);
    for (const [what, res, status] of answers) {
      expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBe(status);
      expectSecurityHeaders(res.headers, reference, what, {
        ownCsp: what.startsWith('the documentation') || what === 'the OpenAPI document',
      });
      if (status >= 400 && res.body) expectErrorShape(res, what);
    }
  });

  it('a 500 carries them too, and tells nothing of the failure', async () => {
    const app = Fastify({ logger: false });
    await app.register(webConsole, { ctx: w.ctx, bootstrapAdmin: false });
    app.get('/api/boom', { config: { access: 'public' } }, async () => {
      throw new Error('database password is hunter2 at /srv/secret');
    });
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/api/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error; it has been logged' } });
    expect(res.body).not.toContain('hunter2');
    expectSecurityHeaders(res.headers, reference, '500');
    await app.close();
  });
});

describe('security headers on socket.io’s own HTTP answers', () => {
  let tp: TestPlatform;
  let base: string;
  let reference: Record<string, string>;
  beforeAll(async () => {
    tp = await startTestPlatform();
    base = `http://127.0.0.1:${tp.platform.ports.http}`;
    reference = await referenceSecurityHeaders();
    await createAccounts({ db: tp.platform.records }, { passwordCost: TEST_COST }).add({
      id: 'eng',
      name: 'eng',
      role: 'engineer',
      password: PASSWORD,
    });
  });
  afterAll(async () => tp?.close());

  it('long-polling handshake, data, refusals and errors all carry the API’s security headers and no CORS grant', async () => {
    const { cookie } = await httpLogin(base, 'eng', PASSWORD);
    const handshake = await fetch(`${base}/socket.io/?EIO=4&transport=polling`, { headers: { cookie } });
    expect(handshake.status).toBe(200);
    const sid = /"sid":"([^"]+)"/.exec(await handshake.text())![1]!;
    const answers: [string, Response, number][] = [
      ['polling handshake', handshake, 200],
      ['polling handshake without a session', await fetch(`${base}/socket.io/?EIO=4&transport=polling`), 200],
      [
        'polling: the socket.io CONNECT',
        await fetch(`${base}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'text/plain;charset=UTF-8' },
          body: '40',
        }),
        200,
      ],
      [
        'polling: data',
        await fetch(`${base}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { headers: { cookie } }),
        200,
      ],
      [
        'polling: too large',
        await fetch(`${base}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'text/plain;charset=UTF-8' },
          body: `42["subscribe",{"vehicleId":"${'x'.repeat(20_000)}"}]`,
        }),
        413,
      ],
      [
        'an unknown transport',
        await fetch(`${base}/socket.io/?EIO=4&transport=carrier-pigeon`, { headers: { cookie } }),
        400,
      ],
      [
        'an unknown session id',
        await fetch(`${base}/socket.io/?EIO=4&transport=polling&sid=nope`, { headers: { cookie } }),
        400,
      ],
      [
        'a foreign Origin',
        await fetch(`${base}/socket.io/?EIO=4&transport=polling`, {
          headers: { cookie, origin: 'https://evil.example' },
        }),
        403,
      ],
      [
        'a bad protocol version',
        await fetch(`${base}/socket.io/?EIO=99&transport=polling`, { headers: { cookie } }),
        400,
      ],
    ];
    for (const [what, res, status] of answers) {
      expect(res.status, what).toBe(status);
      expectSecurityHeaders(res.headers, reference, what);
    }
    expect(tp.platform.counters.get('live.invalid', 'too_large')).toBe(1);
  });
});
