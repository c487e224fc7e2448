import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TicketAction } from '../../diagnostics/tickets/status.ts';
import type { Ticket } from '../../diagnostics/types.ts';
import { codeOf, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';
import { withIssuedPlan } from '../web/support-plan-helpers.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * One step by the dispatcher; closing only what is fixed: the engineer marks it repaired with the
 * resolution (someone else verifies), and an alarm still active is passed over with a reason.
 */
function step(w: TestWeb, id: number, a: TicketAction): Promise<Ticket> {
  if (a === 'mark_repaired')
    return w.tickets.transition(id, a, 'engineer', undefined, undefined, {
      resolution: { rootCause: 'worn part', workDone: 'replaced it', partsUsed: [] },
    });
  if (a === 'verify' || a === 'close')
    return w.tickets.transition(id, a, 'dispatcher', undefined, undefined, { alarmOverride: 'mains still off' });
  return w.tickets.transition(id, a, 'dispatcher');
}

/** Takes a ticket through the plan's flow to closed, `minutes` apart, each step by the dispatcher. */
async function close(w: TestWeb, t: Ticket, minutes = 10): Promise<Ticket> {
  let last = t;
  const steps: TicketAction[] = [
    'determine_work_content',
    ...(t.level === 'extra_urgent' ? [] : (['issue_plan'] as const)),
    'start_service',
    'mark_repaired',
    'verify',
    'close',
  ];
  for (const a of steps) {
    w.advance(minutes * MIN);
    last = await step(w, t.id, a);
  }
  await w.service.idle();
  return last;
}

describe('satisfaction survey and follow-up (满意度调查/回访)', () => {
  let w: TestWeb;
  beforeEach(async () => {
    w = await startWeb({ env: { SURVEY_LOW_SCORE: '2' } });
  });
  afterEach(() => w.close());

  it('a closed ticket gets one survey for its unit, in each customer’s inbox; only that unit answers, once', async () => {
    const t = await w.ticket('VA1');
    const custA = await w.login('cust-a');
    const custB = await w.login('cust-b');
    expect((await custA.get(`/api/tickets/${t.id}/survey`)).json().survey).toBeNull();
    await close(w, t);

    // the inbox item waits in the outbox for the dispatcher (not started here), for unit A's customers only
    const inbox = await w.db
      .selectFrom('notifications')
      .select(['target', 'kind', 'ticket_id', 'subject'])
      .where('channel', '=', 'inbox')
      .execute();
    expect(inbox).toEqual([expect.objectContaining({ target: 'cust-a', kind: 'survey_due', ticket_id: t.id })]);
    const s = (await custA.get(`/api/tickets/${t.id}/survey`)).json();
    expect(s.survey).toMatchObject({ ticketId: t.id, customerId: 'CA', answeredAt: null, followUp: null });
    expect(s.questions).toEqual(['response', 'quality', 'attitude']);

    const body = { scores: { response: 5, quality: 4, attitude: 5 }, comments: 'fast' };
    expect(codeOf(await custB.post(`/api/tickets/${t.id}/survey`, body))).toBe('TICKET_NOT_FOUND');
    const engineer = await w.login('engineer');
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/survey`, body))).toBe('FORBIDDEN');
    const bad = await custA.post(`/api/tickets/${t.id}/survey`, { scores: { response: 6, quality: 0, attitude: 5 } });
    expect(codeOf(bad)).toBe('VALIDATION_FAILED');

    const ok = await custA.post(`/api/tickets/${t.id}/survey`, body);
    expect(ok.statusCode).toBe(201);
    expect(ok.json().survey).toMatchObject({
      scores: body.scores,
      comments: 'fast',
      answeredBy: 'cust-a',
      followUp: null,
    });
    expect(codeOf(await custA.post(`/api/tickets/${t.id}/survey`, body))).toBe('SURVEY_ANSWERED');
    // no follow-up for good scores
    const admin = await w.login('admin');
    expect((await admin.get('/api/survey-follow-ups')).json().followUps).toEqual([]);
  });

  it('reopened and closed again: still one survey', async () => {
    const t = await close(w, await w.ticket('VA1'));
    await w.tickets.transition(t.id, 'reopen', 'dispatcher');
    for (const a of ['mark_repaired', 'verify', 'close'] as const) await step(w, t.id, a);
    await w.service.idle();
    const rows = await w.db.selectFrom('service_surveys').selectAll().where('ticket_id', '=', t.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('an open ticket has no survey to answer', async () => {
    const t = await w.ticket('VA1');
    const custA = await w.login('cust-a');
    const r = await custA.post(`/api/tickets/${t.id}/survey`, { scores: { response: 5, quality: 5, attitude: 5 } });
    expect(codeOf(r)).toBe('SURVEY_NOT_FOUND');
  });

  it('a low score opens a follow-up for the service manager; the duty desk records its outcome once', async () => {
    const t = await close(w, await w.ticket('VA1'));
    const custA = await w.login('cust-a');
    const r = await custA.post(`/api/tickets/${t.id}/survey`, { scores: { response: 2, quality: 5, attitude: 4 } });
    expect(r.statusCode).toBe(201);
    expect(r.json().survey.followUp).toBeNull(); // internal: customers do not see it
    const dispatcher = await w.login('dispatcher');
    const list = (await dispatcher.get('/api/survey-follow-ups?status=open')).json().followUps;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ ticketId: t.id, customerId: 'CA', status: 'open', assignee: 'service-manager' });
    expect((await dispatcher.get(`/api/tickets/${t.id}/survey`)).json().survey.followUp.id).toBe(list[0].id);

    expect(codeOf(await custA.post(`/api/survey-follow-ups/${list[0].id}/outcome`, { outcome: 'x' }))).toBe(
      'FORBIDDEN',
    );
    const engineer = await w.login('engineer');
    expect(codeOf(await engineer.get('/api/survey-follow-ups'))).toBe('FORBIDDEN');
    const done = await dispatcher.post(`/api/survey-follow-ups/${list[0].id}/outcome`, {
      outcome: 'called back, parts late; apologised',
    });
    expect(done.json().followUp).toMatchObject({
      status: 'done',
      doneBy: 'dispatcher',
      outcome: 'called back, parts late; apologised',
    });
    expect(codeOf(await dispatcher.post(`/api/survey-follow-ups/${list[0].id}/outcome`, { outcome: 'again' }))).toBe(
      'FOLLOW_UP_DONE',
    );
    expect(codeOf(await dispatcher.post('/api/survey-follow-ups/9999/outcome', { outcome: 'x' }))).toBe(
      'FOLLOW_UP_NOT_FOUND',
    );
  });

  it('the threshold is configurable: SURVEY_LOW_SCORE=3 makes a 3 low', async () => {
    const w3 = await startWeb({ env: { SURVEY_LOW_SCORE: '3' } });
    try {
      const t = await close(w3, await w3.ticket('VA1'));
      const custA = await w3.login('cust-a');
      await custA.post(`/api/tickets/${t.id}/survey`, { scores: { response: 4, quality: 3, attitude: 4 } });
      expect(await w3.service.surveys.followUps()).toHaveLength(1);
    } finally {
      await w3.close();
    }
  });
});

describe('statistics (信息统计)', () => {
  let w: TestWeb;
  beforeEach(async () => {
    w = await startWeb({ env: { FIRST_FIX_DAYS: '30' } });
  });
  afterEach(() => w.close());

  it('deadlines met per level, MTTR, restore, first-time fix, remote, repeats and survey scores, in SQL groups', async () => {
    const from = w.now();
    // 1: extra urgent, work content at 10 min (met), closed after 50 min, remote support
    const a = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    await w.tickets.setServiceMode(a.id, 'remote_support', 'dispatcher');
    await close(w, a, 10);
    // 2: urgent on the same vehicle and fault 1 day later: work content at 40 min (missed), plan at 80 (missed)
    w.advance(DAY);
    const b = await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    await w.tickets.setServiceMode(b.id, 'on_site_repair', 'dispatcher'); // the plan recommends remote support
    await close(w, b, 40);
    // 3: urgent on VB1, another fault, left open with work content in time
    const c = await w.ticket('VB1', 'urgent', 'BATT-LOW');
    w.advance(5 * MIN);
    await w.tickets.transition(c.id, 'determine_work_content', 'dispatcher');
    // a cancelled ticket counts nowhere
    const d = await w.ticket('VB1', 'urgent', 'BATT-LOW');
    await w.tickets.transition(d.id, 'cancel', 'dispatcher');
    await w.service.idle();

    const desk = await w.login('dispatcher');
    const to = w.now() + 1;
    const byLevel = (await desk.get(`/api/stats/service?by=level&from=${from}&to=${to}`)).json();
    expect(byLevel.seams.arrival).toBeUndefined();
    const row = (k: string) => byLevel.rows.find((r: { key: string }) => r.key === k);
    expect(row('extra_urgent')).toMatchObject({
      tickets: 1,
      workContent: { met: 1, total: 1, rate: 1 },
      plan: { met: 0, total: 0, rate: null },
      closed: 1,
      mttrMs: 50 * MIN,
      arrive: { count: 0, avgMs: null },
      firstTimeFix: { count: 0, rate: 0 }, // the same fault came back the next day
      remote: { count: 1, rate: 1 },
      repeats: 1,
    });
    expect(row('urgent')).toMatchObject({
      tickets: 2,
      workContent: { met: 1, total: 2, rate: 0.5 },
      plan: { met: 0, total: 2 },
      closed: 1,
      mttrMs: 6 * 40 * MIN,
      firstTimeFix: { count: 1, rate: 1 },
      remote: { count: 0, rate: 0 },
    });

    const byUnit = (await desk.get(`/api/stats/service?by=unit&from=${from}&to=${to}`)).json();
    expect(byUnit.rows.map((r: { key: string; tickets: number }) => [r.key, r.tickets])).toEqual([
      ['CA', 2],
      ['CB', 1],
    ]);
    const byFault = (await desk.get(`/api/stats/service?by=fault&from=${from}&to=${to}`)).json();
    expect(byFault.rows.map((r: { key: string }) => r.key)).toEqual(['BATT-LOW', 'GEN-START-FAIL']);
    const byModel = (await desk.get(`/api/stats/service?by=model&from=${from}&to=${to}`)).json();
    expect(byModel.rows).toHaveLength(1);
    expect(byModel.rows[0]).toMatchObject({ key: 'XJ-24', tickets: 3, closed: 2 });
    const byDay = (await desk.get(`/api/stats/service?by=period&period=day&from=${from}&to=${to}`)).json();
    expect(byDay.rows.map((r: { key: string; tickets: number }) => [r.key, r.tickets])).toEqual([
      ['2026-11-27', 1],
      ['2026-11-28', 2],
    ]);

    const repeats = (await desk.get(`/api/stats/repeat-faults?from=${from}&to=${to}`)).json();
    expect(repeats.faults).toEqual([
      expect.objectContaining({ vehicleId: 'VA1', faultCode: 'GEN-START-FAIL', tickets: 2, model: 'XJ-24' }),
    ]);

    // surveys: one answered (low), one not
    const custA = await w.login('cust-a');
    await custA.post(`/api/tickets/${a.id}/survey`, { scores: { response: 1, quality: 3, attitude: 5 } });
    const sv = (await desk.get(`/api/stats/surveys?by=unit&from=${from}&to=${to}`)).json();
    expect(sv.rows).toEqual([
      {
        key: 'CA',
        sent: 2,
        answered: 1,
        responseRate: 0.5,
        scores: { response: 1, quality: 3, attitude: 5 },
        low: 1,
        followUps: { open: 1, done: 0 },
      },
    ]);

    const csv = await desk.get(`/api/stats/export?view=service&by=level&from=${from}&to=${to}`);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^key,tickets,work_content_met,work_content_rate,/);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['extra_urgent', 'urgent']);
  });

  it('time to restore power is the incident’s alarms cleared; staff of the desk only; bad windows refused', async () => {
    // the ticket of an incident whose two alarms cleared 20 and 30 minutes after it was received
    const t = await w.ticket('VA1');
    const a1 = await w.alarm('VA1', 'mains_lost');
    const a2 = await w.alarm('VA1');
    await w.db.updateTable('tickets').set({ incident_id: 77 }).where('id', '=', t.id).execute();
    for (const [id, after] of [
      [a1.id, 20],
      [a2.id, 30],
    ] as const)
      await w.db
        .updateTable('alarms')
        .set({ incident_id: 77, state: 'cleared', cleared_at: t.receivedAt + after * MIN })
        .where('id', '=', id)
        .execute();
    await close(w, t, 10);
    const o = await w.db
      .selectFrom('ticket_outcomes')
      .selectAll()
      .where('ticket_id', '=', t.id)
      .executeTakeFirstOrThrow();
    expect(Number(o.restored_at) - t.receivedAt).toBe(30 * MIN);
    // an alarm of the incident still active: power not restored (null)
    const t2 = await w.ticket('VB1');
    const a3 = await w.alarm('VB1');
    await w.db.updateTable('tickets').set({ incident_id: 78 }).where('id', '=', t2.id).execute();
    await w.db.updateTable('alarms').set({ incident_id: 78 }).where('id', '=', a3.id).execute();
    await close(w, t2, 10);
    const o2 = await w.db
      .selectFrom('ticket_outcomes')
      .selectAll()
      .where('ticket_id', '=', t2.id)
      .executeTakeFirstOrThrow();
    expect(o2.restored_at).toBeNull();

    for (const who of ['engineer', 'cust-a']) {
      const a = await w.login(who);
      expect(codeOf(await a.get('/api/stats/service'))).toBe('FORBIDDEN');
    }
    const desk = await w.login('admin');
    expect(codeOf(await desk.get('/api/stats/service?by=vendor'))).toBe('VALIDATION_FAILED');
    expect(codeOf(await desk.get('/api/stats/service?from=10&to=5'))).toBe('INVALID_ARGUMENT');
  });
});

describe('customer file (客户信息系统/服务记录系统)', () => {
  let w: TestWeb;
  beforeEach(async () => {
    w = await startWeb();
  });
  afterEach(() => w.close());

  it('a unit’s contacts, vehicles with delivery date, tickets and surveys; searchable; customers see their own', async () => {
    await w.notifications.contacts.addToCustomer('CA', {
      name: 'Li Wei',
      role: 'crew chief',
      phone: '0730-7650002',
      email: null,
      language: 'zh',
      channels: [],
      quietHours: null,
    });
    const t = await close(w, await w.ticket('VA1'));
    const admin = await w.login('admin');
    const set = await admin.request('PUT', '/api/vehicles/VA1/delivery', { deliveredAt: '2025-03-01T00:00:00Z' });
    expect(set.statusCode).toBe(200);
    const custA = await w.login('cust-a');
    expect(codeOf(await custA.request('PUT', '/api/vehicles/VA1/delivery', { deliveredAt: null }))).toBe('FORBIDDEN');

    const file = (await custA.get('/api/customers/CA/file')).json().file;
    expect(file.unit).toMatchObject({ id: 'CA', name: 'Unit A' });
    expect(file.contacts).toEqual([expect.objectContaining({ name: 'Li Wei', phone: '0730-7650002' })]);
    expect(file.vehicles).toEqual([
      expect.objectContaining({ id: 'VA1', model: 'XJ-24', deliveredAt: Date.parse('2025-03-01T00:00:00Z') }),
    ]);
    expect(file.tickets).toEqual([expect.objectContaining({ id: t.id, number: t.number, status: 'closed' })]);
    expect(file.tickets[0].closedAt).toBe(t.updatedAt);
    expect(file.ticketCount).toBe(1);
    expect(file.surveys).toEqual([expect.objectContaining({ ticketId: t.id, answeredAt: null })]);
    expect(file.orders).toEqual([]);
    expect(file.orderCount).toBe(0);
    // the closed ticket's 《售后服务报告》, available from when it was repaired
    const repairedAt = (
      await w.db
        .selectFrom('ticket_timeline')
        .select('at')
        .where('ticket_id', '=', t.id)
        .where('to_status', '=', 'repaired')
        .executeTakeFirstOrThrow()
    ).at;
    expect(file.reports).toEqual([
      {
        kind: 'service_report',
        title: { zh: '售后服务报告', en: 'After-sales service report' },
        ticketId: t.id,
        orderId: null,
        number: t.number,
        availableAt: Number(repairedAt),
        html: `/api/tickets/${t.id}/report.html`,
        pdf: `/api/tickets/${t.id}/report.pdf`,
      },
    ]);
    const report = await custA.get(file.reports[0].html);
    expect(report.statusCode).toBe(200);
    expect(report.body).toContain(t.number);

    expect(codeOf(await custA.get('/api/customers/CB/file'))).toBe('CUSTOMER_NOT_FOUND');
    expect(codeOf(await admin.get('/api/customers/NOPE/file'))).toBe('CUSTOMER_NOT_FOUND');

    const byName = (await admin.get('/api/customer-files?q=unit')).json().matches;
    expect(byName.map((m: { customerId: string }) => m.customerId)).toEqual(['CA', 'CB']);
    const byVehicle = (await admin.get('/api/customer-files?q=b1')).json().matches;
    expect(byVehicle).toEqual([expect.objectContaining({ customerId: 'CB', matched: 'vehicle' })]);
    const byTicket = (await admin.get(`/api/customer-files?q=${encodeURIComponent(t.number)}`)).json().matches;
    expect(byTicket).toEqual([expect.objectContaining({ customerId: 'CA', matched: 'ticket', detail: t.number })]);
    // a customer finds only its own unit, whatever it types; % is not a wildcard
    expect(
      (await custA.get('/api/customer-files?q=unit')).json().matches.map((m: { customerId: string }) => m.customerId),
    ).toEqual(['CA']);
    expect((await custA.get('/api/customer-files?q=B1')).json().matches).toEqual([]);
    expect((await admin.get('/api/customer-files?q=%25')).json().matches).toEqual([]);
  });
});

describe('customer file: service orders and reports', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let custA: Agent;
  let custB: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
  });
  afterEach(() => w.close());

  const contacts = [{ name: '李伟', phone: '0730-7650002', role: '用户技术员' }];
  const base = { details: '申请说明', place: '岳阳车场', requestedDate: '2026-12-20', people: 2, contacts };
  const act = (id: number, a: Agent, body: object) => a.post(`/api/service-orders/${id}/actions`, body);
  async function order(
    by: Agent,
    title: string,
    done: boolean,
  ): Promise<{ id: number; number: string; doneAt?: number }> {
    const res = await by.post('/api/service-orders', {
      ...base,
      kind: 'training',
      title,
      application: { kind: 'training', teachingUnit: '技术中心', topics: ['电源系统'], materials: '教材' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const o = res.json().order as { id: number; number: string };
    if (done) {
      await dispatcher.request('PUT', `/api/service-orders/${o.id}/team`, {
        members: [{ accountId: 'engineer', role: 'leader', duty: '授课' }],
      });
      expect((await act(o.id, dispatcher, { action: 'schedule', scheduledStart: w.now() + HOUR })).statusCode).toBe(
        200,
      );
      expect((await act(o.id, engineer, { action: 'start' })).statusCode).toBe(200);
      w.advance(MIN);
      const c = await act(o.id, engineer, { action: 'complete', note: '培训完毕' });
      expect(c.statusCode, c.body).toBe(200);
      return { ...o, doneAt: w.now() };
    }
    return o;
  }

  it('lists the unit’s orders and the documents of its records, with working links; others see none of it', async () => {
    const first = await order(custA, '春季培训', true);
    w.advance(MIN);
    const second = await order(custA, '秋季培训', false);
    const other = await order(custB, 'B 单位培训', true);
    const planned = await w.ticket('VA1', 'urgent');
    w.advance(MIN);
    await withIssuedPlan(w, planned.id);
    const issuedAt = w.now();
    const open = await w.ticket('VA1'); // neither repaired nor planned: no document

    const file = (await custA.get('/api/customers/CA/file')).json().file;
    expect(file.orderCount).toBe(2);
    expect(file.orders.map((o: { number: string }) => o.number)).toEqual([second.number, first.number]);
    expect(file.orders[1]).toMatchObject({
      id: first.id,
      kind: 'training',
      kindLabel: { zh: '技术培训', en: 'Technical training' },
      status: 'done',
      title: '春季培训',
      requestedDate: '2026-12-20',
      signedOff: false,
    });
    expect(file.orders[1].scheduledStart).toEqual(expect.any(Number));
    expect(file.orders[0]).toMatchObject({ status: 'requested', scheduledStart: null });

    const reports = file.reports as { kind: string; number: string; html: string; pdf: string; availableAt: number }[];
    expect(reports.map((r) => [r.kind, r.number])).toEqual([
      ['support_plan', planned.number],
      ['contact_letter', planned.number],
      ['shipment_notice', planned.number],
      ['training_report', first.number],
    ]);
    expect(reports[0]).toMatchObject({
      title: { zh: '专项保障工作计划', en: 'Special support work plan' },
      ticketId: planned.id,
      orderId: null,
      availableAt: issuedAt,
      html: `/api/tickets/${planned.id}/support-plan/plan.html`,
      pdf: `/api/tickets/${planned.id}/support-plan/plan.pdf`,
    });
    expect(reports[3]).toMatchObject({
      title: { zh: '技术培训服务报告', en: 'Technical training service report' },
      orderId: first.id,
      ticketId: null,
      availableAt: first.doneAt,
      html: `/api/service-orders/${first.id}/report.html`,
    });
    expect(reports.some((r) => r.html.includes(`/${open.id}/`))).toBe(false);
    // the links work, for the unit's customer
    for (const r of reports) {
      const res = await custA.get(`${r.html}?lang=en`);
      expect(res.statusCode, `${r.html}: ${res.body.slice(0, 200)}`).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
    }

    // another unit's customer: not the file, and its own file holds none of unit A's orders or reports
    expect(codeOf(await custB.get('/api/customers/CA/file'))).toBe('CUSTOMER_NOT_FOUND');
    const fileB = (await custB.get('/api/customers/CB/file')).json().file;
    expect(fileB.orders.map((o: { number: string }) => o.number)).toEqual([other.number]);
    expect(fileB.reports.map((r: { number: string }) => r.number)).toEqual([other.number]);
    expect((await custB.get(reports[3]!.html)).statusCode).toBe(404);

    // search by service order number; scoped for a customer
    const bySo = (await dispatcher.get(`/api/customer-files?q=${encodeURIComponent(first.number)}`)).json().matches;
    expect(bySo).toEqual([{ customerId: 'CA', name: 'Unit A', matched: 'order', detail: first.number }]);
    const allSo = (await dispatcher.get('/api/customer-files?q=so-')).json().matches;
    expect(allSo.map((m: { detail: string }) => m.detail).sort()).toEqual(
      [first.number, second.number, other.number].sort(),
    );
    expect((await custB.get(`/api/customer-files?q=${encodeURIComponent(first.number)}`)).json().matches).toEqual([]);
  });
});
