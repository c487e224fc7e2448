import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { codeOf, healthyFrame, PLANS, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { issuePlan } from './support-plan-helpers.ts';

const contacts = [{ name: 'Li Wei', phone: '0730-7650002', role: 'unit technician' }];
const FIXED = { rootCause: 'starter relay stuck', workDone: 'relay replaced, generator started twice', partsUsed: [] };

describe('tickets over the API', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
  });
  afterEach(async () => w.close());

  const act = (a: Agent, id: number, action: string, note?: string) =>
    a.post(`/api/tickets/${id}/transitions`, {
      action,
      ...(note ? { note } : {}),
      ...(action === 'mark_repaired' ? { resolution: FIXED } : {}),
    });

  it('walks an extra-urgent ticket through every step of the status machine, with timeline and audit', async () => {
    const t = await w.ticket('VA1', 'extra_urgent');
    const steps: [Agent, string, string][] = [
      [dispatcher, 'determine_work_content', 'work_content_determined'],
      [engineer, 'start_service', 'in_service'], // extra urgent: service may start before the written plan
      [engineer, 'mark_repaired', 'repaired'],
      [dispatcher, 'verify', 'verified'], // four-eyes: not the one who marked it repaired
      [dispatcher, 'close', 'closed'],
      [dispatcher, 'reopen', 'in_service'],
      [dispatcher, 'cancel', 'cancelled'],
    ];
    for (const [agent, action, to] of steps) {
      const res = await act(agent, t.id, action, `${action} done`);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().ticket.status).toBe(to);
    }
    const got = (await dispatcher.get(`/api/tickets/${t.id}`)).json();
    expect(got.timeline.map((e: { action: string }) => e.action)).toEqual(['received', ...steps.map((s) => s[1])]);
    expect(got.timeline[1]).toMatchObject({
      actor: 'dispatcher',
      fromStatus: 'received',
      toStatus: 'work_content_determined',
      note: 'determine_work_content done',
    });
    const audit = await w.ctx.audit.list({ action: 'ticket.transition', subject: `ticket:${t.id}` });
    expect(audit.reverse().map((e) => [e.actor, (e.details as { action: string }).action])).toEqual(
      steps.map(([a, action]) => [a.account, action]),
    );
  });

  it('an urgent ticket needs its plan issued before service starts (409 INVALID_TRANSITION with the reason)', async () => {
    const t = await w.ticket('VA1', 'urgent');
    expect((await act(dispatcher, t.id, 'determine_work_content')).statusCode).toBe(200);
    const early = await act(engineer, t.id, 'start_service');
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toEqual({
      code: 'INVALID_TRANSITION',
      message: 'an urgent ticket needs its support plan issued before service starts',
    });
    // the plan is issued as a document (the issue_plan step itself is refused: PLAN_DOCUMENT_REQUIRED)
    expect((await issuePlan(dispatcher, t.id)).json().ticket).toMatchObject({
      status: 'plan_issued',
      nextDueAt: null,
    });
    expect((await act(engineer, t.id, 'start_service')).statusCode).toBe(200);
    const wrong = await act(engineer, t.id, 'verify');
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().error.message).toBe('cannot verify a ticket that is in service');
  });

  it('closing, cancelling and reopening are the duty desk’s: an engineer gets 403', async () => {
    const t = await w.ticket('VA1');
    for (const action of ['close', 'cancel', 'reopen']) {
      const res = await act(engineer, t.id, action);
      expect(res.statusCode).toBe(403);
      expect(codeOf(res)).toBe('FORBIDDEN');
    }
    expect((await act(dispatcher, t.id, 'cancel')).statusCode).toBe(200);
  });

  it('the duty desk opens a ticket from a hotline call, with plan, service mode and telemetry snapshot', async () => {
    const now = w.now();
    await w.frames(
      'VA1',
      Array.from({ length: 20 }, (_, i) => healthyFrame(i, now - (20 - i) * 30_000)),
    );
    const res = await dispatcher.post('/api/tickets', {
      vehicleId: 'VA1',
      level: 'extra_urgent',
      title: 'Generator does not start',
      need: 'Mains lost at the site, generator cranks but does not start; battery at 60 %.',
      contacts,
      faultCode: 'GEN-START-FAIL',
    });
    expect(res.statusCode, res.body).toBe(201);
    const t = res.json().ticket as Ticket & { nextDueAt: number };
    expect(t).toMatchObject({
      source: 'hotline',
      vehicleId: 'VA1',
      customerId: 'CA',
      level: 'extra_urgent',
      status: 'received',
      contacts,
      planRef: { code: 'GEN-START-FAIL', version: 1 },
      serviceMode: PLANS.get('GEN-START-FAIL')!.recommendedMode,
      workContentDueAt: now + 30 * 60_000,
      nextDueAt: now + 30 * 60_000,
    });
    expect(t.number).toMatch(/^EM-CA-\d{4}$/);
    const got = (await dispatcher.get(`/api/tickets/${t.id}`)).json();
    expect(got.plan).toMatchObject({
      code: 'GEN-START-FAIL',
      title: { zh: expect.any(String) },
      remoteChecks: expect.any(Array),
    });
    expect(got.snapshot.ts.length).toBe(20);
    expect(got.timeline[0]).toMatchObject({ actor: 'dispatcher', action: 'received' });
    expect((await w.ctx.audit.list({ action: 'ticket.created' }))[0]).toMatchObject({
      actor: 'dispatcher',
      subject: `ticket:${t.id}`,
    });
  });

  it('a hotline ticket needs a level, contacts and a known vehicle or unit', async () => {
    const base = { title: 'x', need: 'y', contacts };
    const cases: [unknown, number, string, RegExp][] = [
      [{ ...base, vehicleId: 'VA1' }, 400, 'VALIDATION_FAILED', /body\.level/],
      [{ ...base, level: 'urgent' }, 400, 'VALIDATION_FAILED', /vehicleId|customerId/],
      [
        { ...base, level: 'urgent', customerId: 'CA', contacts: [] },
        400,
        'VALIDATION_FAILED',
        /body\.contacts: give at least one contact/,
      ],
      [
        { ...base, level: 'urgent', customerId: 'CA', contacts: [{ name: 'Li' }] },
        400,
        'VALIDATION_FAILED',
        /body\.contacts\.0\.phone/,
      ],
      [
        { ...base, level: 'urgent', customerId: 'CA', contacts: [{ name: 'Li', phone: 'call me' }] },
        400,
        'VALIDATION_FAILED',
        /phone must be/,
      ],
      [
        { ...base, level: 'soon', customerId: 'CA' },
        400,
        'VALIDATION_FAILED',
        /body\.level: must be one of extra_urgent, urgent(?!,)/,
      ],
      [{ ...base, level: 'urgent', vehicleId: 'NOPE' }, 404, 'VEHICLE_NOT_FOUND', /vehicle NOPE not found/],
      [{ ...base, level: 'urgent', customerId: 'CZ' }, 404, 'CUSTOMER_NOT_FOUND', /customer CZ not found/],
      [
        { ...base, level: 'urgent', vehicleId: 'VA1', customerId: 'CB' },
        400,
        'INVALID_ARGUMENT',
        /belongs to customer CA/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await dispatcher.post('/api/tickets', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(res.json().error.message).toMatch(message);
    }
    const unitOnly = await dispatcher.post('/api/tickets', { ...base, level: 'urgent', customerId: 'CB' });
    expect(unitOnly.json().ticket).toMatchObject({ customerId: 'CB', vehicleId: null, level: 'urgent' });
  });

  it('a customer opens a request for its own unit (need and contacts) and follows it; never for another unit', async () => {
    const cust = await w.login('cust-a');
    const res = await cust.post('/api/tickets', {
      vehicleId: 'VA1',
      title: '发电机无法启动',
      need: '市电中断后发电机组无法启动，请远程支援。',
      contacts,
    });
    expect(res.statusCode, res.body).toBe(201);
    const t = res.json().ticket;
    expect(t).toMatchObject({ source: 'customer', customerId: 'CA', level: 'urgent', title: '发电机无法启动' });
    const noVehicle = await cust.post('/api/tickets', {
      title: 'Inverter alarm',
      need: 'The inverter beeps on the unit’s spare shelter',
      contacts,
      level: 'extra_urgent',
    });
    expect(noVehicle.json().ticket).toMatchObject({ customerId: 'CA', vehicleId: null });
    expect(codeOf(await cust.post('/api/tickets', { vehicleId: 'VB1', title: 'x', need: 'y', contacts }))).toBe(
      'VEHICLE_NOT_FOUND',
    );
    expect(codeOf(await cust.post('/api/tickets', { customerId: 'CB', title: 'x', need: 'y', contacts }))).toBe(
      'CUSTOMER_NOT_FOUND',
    );
    expect(
      codeOf(await cust.post('/api/tickets', { title: 'x', need: 'y', contacts, faultCode: 'GEN-START-FAIL' })),
    ).toBe('INVALID_ARGUMENT');
    expect((await cust.post(`/api/tickets/${t.id}/comments`, { text: '已检查燃油，油量充足' })).statusCode).toBe(201);
    await act(dispatcher, t.id, 'determine_work_content');
    const followed = (await cust.get(`/api/tickets/${t.id}`)).json();
    expect(followed.ticket.status).toBe('work_content_determined');
    expect(followed.timeline.map((e: { action: string; actor: string }) => `${e.actor}:${e.action}`)).toEqual([
      'cust-a:received',
      'cust-a:comment',
      'Duty desk:determine_work_content', // a customer sees staff by display name or role label, never the login id
    ]);
    expect(codeOf(await act(cust, t.id, 'determine_work_content'))).toBe('FORBIDDEN');
  });

  it('lists the queue by deadline, with filters', async () => {
    const first = await w.ticket('VA1', 'extra_urgent');
    w.advance(60_000);
    const second = await w.ticket('VB1', 'urgent');
    w.advance(60_000);
    const third = await w.ticket('VA1', 'urgent');
    // the first one's work content is determined: its next deadline is gone, it moves behind
    await act(dispatcher, first.id, 'determine_work_content');
    const all = (await dispatcher.get('/api/tickets')).json().tickets as (Ticket & { nextDueAt: number | null })[];
    expect(all.map((t) => t.id)).toEqual([second.id, third.id, first.id]);
    expect(all[0]!.nextDueAt).toBe(second.workContentDueAt);
    const ids = async (q: string) =>
      ((await dispatcher.get(`/api/tickets?${q}`)).json().tickets as Ticket[]).map((t) => t.id);
    expect(await ids('level=urgent')).toEqual([second.id, third.id]);
    expect(await ids('level=extra_urgent')).toEqual([first.id]);
    expect(await ids('vehicleId=VA1')).toEqual([third.id, first.id]);
    expect(await ids('customerId=CB')).toEqual([second.id]);
    expect(await ids('status=received')).toEqual([second.id, third.id]);
    expect(await ids('status=received,work_content_determined&limit=2')).toEqual([second.id, third.id]);
    expect(await ids('open=true')).toHaveLength(3);
    await act(dispatcher, third.id, 'cancel');
    expect(await ids('open=false')).toEqual([third.id]);
    expect(await ids('breached=true')).toEqual([]);
    await dispatcher.post(`/api/tickets/${second.id}/assign`, { assignee: 'engineer' });
    expect(await ids('assignee=engineer')).toEqual([second.id]);
    expect(codeOf(await dispatcher.get('/api/tickets?status=lost'))).toBe('VALIDATION_FAILED');
    expect(codeOf(await dispatcher.get('/api/tickets?open=yes'))).toBe('VALIDATION_FAILED');
    expect(codeOf(await dispatcher.get('/api/tickets?limit=0'))).toBe('VALIDATION_FAILED');
    expect(codeOf(await dispatcher.get('/api/tickets?colour=red'))).toBe('VALIDATION_FAILED');
  });

  it('assigns to an active staff account only, and sets the service mode; both are audited', async () => {
    const t = await w.ticket('VA1');
    const res = await dispatcher.post(`/api/tickets/${t.id}/assign`, { assignee: 'Engineer' });
    expect(res.json().ticket.assignee).toBe('engineer');
    for (const who of ['cust-a', 'nobody']) {
      const bad = await dispatcher.post(`/api/tickets/${t.id}/assign`, { assignee: who });
      expect(bad.statusCode).toBe(404);
      expect(codeOf(bad)).toBe('ACCOUNT_NOT_FOUND');
    }
    const mode = await engineer.post(`/api/tickets/${t.id}/service-mode`, { mode: 'remote_support' });
    expect(mode.json().ticket.serviceMode).toBe('remote_support');
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/assign`, { assignee: 'engineer' }))).toBe('FORBIDDEN');
    const timeline = (await dispatcher.get(`/api/tickets/${t.id}`))
      .json()
      .timeline.map((e: { action: string; note: string }) => `${e.action}:${e.note}`);
    expect(timeline).toEqual(
      expect.arrayContaining(['assigned:assigned to engineer', 'service_mode_set:remote_support']),
    );
    const audit = (await w.ctx.audit.list({ subject: `ticket:${t.id}` })).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['ticket.assigned', 'ticket.service_mode_set']));
  });

  it('404 for a ticket that does not exist, on every ticket route', async () => {
    for (const [method, url, body] of [
      ['GET', '/api/tickets/4242', undefined],
      ['POST', '/api/tickets/4242/transitions', { action: 'verify' }],
      ['POST', '/api/tickets/4242/assign', { assignee: 'engineer' }],
      ['POST', '/api/tickets/4242/service-mode', { mode: 'training' }],
      ['POST', '/api/tickets/4242/comments', { text: 'hello' }],
    ] as const) {
      const res = await dispatcher.request(method, url, body);
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toEqual({ code: 'TICKET_NOT_FOUND', message: 'ticket 4242 not found' });
    }
  });
});
