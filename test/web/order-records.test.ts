import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const contacts = [{ name: '李伟', phone: '0730-7650002', role: '用户技术员' }];
const HOUR = 3_600_000;
const base = { details: 'x', place: '岳阳车场', requestedDate: '2026-12-20', people: 2, contacts };
const patrol = {
  ...base,
  kind: 'patrol_inspection',
  title: '冬季巡检',
  application: { kind: 'patrol_inspection', equipment: ['VA1', '2 号方舱'], tools: '万用表、钳形表' },
};
const training = {
  ...base,
  kind: 'training',
  title: '交装培训',
  application: { kind: 'training', teachingUnit: '技术中心', topics: ['发电机组操作'], materials: '操作手册 10 份' },
};
const accompanying = {
  ...base,
  kind: 'accompanying_support',
  title: '演习伴随保障',
  application: {
    kind: 'accompanying_support',
    taskSource: '上级通知',
    supportedUnit: '某部',
    equipment: '电源车 2 台',
    assemblyAt: Date.UTC(2026, 11, 20, 0),
    assemblyPlace: '岳阳东站',
    start: Date.UTC(2026, 11, 20, 0),
    end: Date.UTC(2026, 11, 23, 0),
  },
};

/**
 * Each service order kind's steps and records (issue 13 item 3): the application of its kind, the
 * team the duty desk sends, the records staff make, a finding's ticket or follow-up, the customer
 * side's sign-off (双方确认), and the kind's report (item 4).
 */
describe('service order steps and records over the API', () => {
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
  afterEach(async () => w.close());

  const act = (a: Agent, id: number, body: object) => a.post(`/api/service-orders/${id}/actions`, body);
  const rec = (a: Agent, id: number, body: object) => a.post(`/api/service-orders/${id}/records`, body);
  async function started(body: object): Promise<number> {
    const res = await custA.post('/api/service-orders', body);
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().order.id as number;
    expect((await act(dispatcher, id, { action: 'schedule', scheduledStart: w.now() + HOUR })).statusCode).toBe(200);
    expect((await act(engineer, id, { action: 'start' })).statusCode).toBe(200);
    return id;
  }

  it('patrol inspection: team, visits with findings, a ticket from a finding, completion, sign-off, report', async () => {
    const o = (await custA.post('/api/service-orders', patrol)).json().order;
    expect(o.application).toEqual(patrol.application);
    // the duty desk sets the team; nobody else does; the members are active staff accounts
    const team = {
      members: [
        { accountId: 'engineer', role: 'leader', duty: '现场勘查' },
        { accountId: 'dispatcher', role: 'customer_service', duty: '客户沟通' },
      ],
    };
    expect(codeOf(await engineer.request('PUT', `/api/service-orders/${o.id}/team`, team))).toBe('FORBIDDEN');
    expect(codeOf(await custA.request('PUT', `/api/service-orders/${o.id}/team`, team))).toBe('FORBIDDEN');
    expect(
      codeOf(
        await dispatcher.request('PUT', `/api/service-orders/${o.id}/team`, {
          members: [{ accountId: 'cust-a', role: 'technician' }],
        }),
      ),
    ).toBe('ACCOUNT_NOT_FOUND');
    expect(
      codeOf(
        await dispatcher.request('PUT', `/api/service-orders/${o.id}/team`, {
          members: [{ accountId: 'engineer', role: 'commander' }],
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    const t = await dispatcher.request('PUT', `/api/service-orders/${o.id}/team`, team);
    expect(t.statusCode, t.body).toBe(200);
    expect(t.json().team.map((m: { accountId: string; role: string }) => `${m.accountId}:${m.role}`)).toEqual([
      'engineer:leader',
      'dispatcher:customer_service',
    ]);
    const visit = {
      type: 'visit',
      vehicleId: 'VA1',
      at: w.now(),
      stateFound: '机组运行正常，蓄电池电压偏低',
      readings: '电池 23.1 V',
      findings: [
        { text: '蓄电池老化', severity: 'major', needsRepair: true },
        { text: '滤清器积尘', severity: 'minor' },
      ],
      workDone: '清洁滤清器',
      parts: [{ name: '空气滤芯', partNo: 'AF-12', quantity: 1, unit: '个' }],
      internalNote: 'staff only: battery supplier lot 7',
    };
    // visits while in progress only
    expect(codeOf(await rec(engineer, o.id, visit))).toBe('ORDER_STATUS_INVALID');
    await act(dispatcher, o.id, { action: 'schedule', scheduledStart: w.now() + HOUR });
    await act(engineer, o.id, { action: 'start' });
    // the customer records nothing; a record of another kind is refused with its code
    expect(codeOf(await rec(custA, o.id, visit))).toBe('FORBIDDEN');
    expect(codeOf(await rec(engineer, o.id, { type: 'log', at: w.now(), text: 'x' }))).toBe('ORDER_KIND_MISMATCH');
    expect(codeOf(await rec(engineer, o.id, { ...visit, vehicleId: 'VB1' }))).toBe('VEHICLE_NOT_FOUND');
    expect(codeOf(await rec(engineer, o.id, { ...visit, findings: [{ text: 'x', severity: 'awful' }] }))).toBe(
      'VALIDATION_FAILED',
    );
    const v1 = await rec(engineer, o.id, visit);
    expect(v1.statusCode, v1.body).toBe(201);
    const v2 = await rec(engineer, o.id, {
      type: 'visit',
      equipment: '2 号方舱',
      at: w.now() + HOUR,
      stateFound: '良好',
      findings: [],
    });
    expect(v2.statusCode, v2.body).toBe(201);
    const visitId = v1.json().record.id as number;
    // the major finding opens an emergency ticket (an engineer's level is a proposal); linked once
    const url = `/api/service-orders/${o.id}/records/${visitId}/findings/0`;
    expect(codeOf(await custA.post(url, { open: 'ticket' }))).toBe('FORBIDDEN');
    expect(codeOf(await engineer.post(url, {}))).toBe('VALIDATION_FAILED');
    expect(
      codeOf(await engineer.post(`/api/service-orders/${o.id}/records/${visitId}/findings/7`, { open: 'ticket' })),
    ).toBe('ORDER_RECORD_NOT_FOUND');
    const linked = await engineer.post(url, { open: 'ticket' });
    expect(linked.statusCode, linked.body).toBe(200);
    expect(linked.json().link).toEqual({ kind: 'ticket', number: expect.stringMatching(/CA/) });
    expect(codeOf(await engineer.post(url, { open: 'follow_up' }))).toBe('ORDER_STATUS_INVALID');
    const tickets = (await dispatcher.get('/api/tickets')).json().tickets;
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ vehicleId: 'VA1', customerId: 'CA', level: 'urgent' });
    // the minor one opens a follow-up order of the unit
    const fu = await engineer.post(`/api/service-orders/${o.id}/records/${visitId}/findings/1`, { open: 'follow_up' });
    expect(fu.json().link).toEqual({ kind: 'order', number: 'SO-CA-0002' });

    // the customer cannot sign before completion; then it signs once
    const sign = (a: Agent) => a.post(`/api/service-orders/${o.id}/sign-off`, { name: '李伟', note: '同意' });
    expect(codeOf(await sign(custA))).toBe('ORDER_STATUS_INVALID');
    expect((await act(engineer, o.id, { action: 'complete', note: '两台装备巡检完毕' })).json().order).toMatchObject({
      status: 'done',
      outcome: '两台装备巡检完毕',
    });
    // records after completion are refused
    expect(codeOf(await rec(engineer, o.id, visit))).toBe('ORDER_STATUS_INVALID');
    expect(codeOf(await sign(dispatcher))).toBe('FORBIDDEN');
    expect(codeOf(await sign(custB))).toBe('SERVICE_ORDER_NOT_FOUND');
    const s = await sign(custA);
    expect(s.statusCode, s.body).toBe(200);
    expect(s.json().signOff).toMatchObject({ by: 'cust-a', name: '李伟', note: '同意' });
    expect(codeOf(await sign(custA))).toBe('ORDER_ALREADY_SIGNED');

    // the customer sees the records, no internal note and no staff login id
    const seen = (await custA.get(`/api/service-orders/${o.id}`)).json();
    expect(seen.records).toHaveLength(2);
    expect(seen.records[0].internalNote).toBeNull();
    expect(seen.records[0].body.findings[0].link).toMatchObject({ kind: 'ticket' });
    expect(JSON.stringify(seen)).not.toContain('battery supplier lot 7');
    expect(seen.team.map((m: { accountId: string }) => m.accountId)).toEqual(['Engineer', 'Duty desk']);
    expect(JSON.stringify(seen.events)).not.toMatch(/"(engineer|dispatcher)"/);
    const staff = (await dispatcher.get(`/api/service-orders/${o.id}`)).json();
    expect(staff.records[0].internalNote).toBe('staff only: battery supplier lot 7');
    expect(staff.order.signOff).toMatchObject({ name: '李伟' });
    // supply chain works the stock, not the units' records
    const supply = await w.login('supply');
    expect(codeOf(await supply.get(`/api/service-orders/${o.id}`))).toBe('SERVICE_ORDER_NOT_FOUND');
    // another unit's customer gets the order's not-found
    expect(codeOf(await custB.get(`/api/service-orders/${o.id}/report.html`))).toBe('SERVICE_ORDER_NOT_FOUND');

    // the report: the visits, findings, parts, team and both sides' sign-off; no internal note
    for (const a of [custA, dispatcher]) {
      const html = await a.get(`/api/service-orders/${o.id}/report.html?lang=zh`);
      expect(html.statusCode).toBe(200);
      expect(html.headers['content-type']).toContain('text/html');
      for (const s of [
        '巡检巡修服务报告',
        '蓄电池老化',
        '滤清器积尘',
        '空气滤芯',
        '2 号方舱',
        '两台装备巡检完毕',
        '李伟',
        '已签字',
        '万用表',
      ])
        expect(html.body).toContain(s);
      expect(html.body).not.toContain('battery supplier lot 7');
    }
    const en = (await custA.get(`/api/service-orders/${o.id}/report.html?lang=en`)).body;
    expect(en).toContain('Patrol inspection and repair service report');
  });

  it('technical training: materials and attendees first, sessions and assessments while in progress', async () => {
    const id = (await custA.post('/api/service-orders', training)).json().order.id as number;
    const m = await rec(engineer, id, { type: 'material', title: '发电机组操作手册', note: '10 份' });
    expect(m.statusCode, m.body).toBe(201);
    const a1 = (await rec(engineer, id, { type: 'attendee', name: '张三', unit: '某部', role: '操作手' })).json()
      .record;
    const a2 = (await rec(engineer, id, { type: 'attendee', name: '王五', unit: '某部', role: '班长' })).json().record;
    expect(codeOf(await rec(engineer, id, { type: 'session', at: w.now(), topic: 'x', trainer: 'y' }))).toBe(
      'ORDER_STATUS_INVALID',
    );
    await act(dispatcher, id, { action: 'schedule', scheduledStart: w.now() + HOUR });
    await act(engineer, id, { action: 'start' });
    expect(
      (await rec(engineer, id, { type: 'session', at: w.now(), hours: 4, topic: '机组启动与并机', trainer: '赵工' }))
        .statusCode,
    ).toBe(201);
    expect(
      (await rec(engineer, id, { type: 'assessment', attendeeId: a1.id, score: 92, passed: true })).statusCode,
    ).toBe(201);
    expect(
      (await rec(engineer, id, { type: 'assessment', attendeeId: a2.id, score: 55, passed: false })).statusCode,
    ).toBe(201);
    expect(codeOf(await rec(engineer, id, { type: 'assessment', attendeeId: 999, passed: true }))).toBe(
      'ORDER_RECORD_NOT_FOUND',
    );
    expect(codeOf(await rec(engineer, id, { type: 'visit', equipment: 'x', at: 1, stateFound: 'y' }))).toBe(
      'ORDER_KIND_MISMATCH',
    );
    await act(engineer, id, { action: 'complete', note: '培训完成，1 人需补考' });
    const html = (await custA.get(`/api/service-orders/${id}/report.html`)).body;
    for (const s of [
      '技术培训服务报告',
      '发电机组操作手册',
      '张三',
      '92',
      '合格',
      '不合格',
      '赵工',
      '机组启动与并机',
      '技术中心',
    ])
      expect(html).toContain(s);
  });

  it('accompanying support: the application with assembly and duration, the daily log, the outcome', async () => {
    expect(
      codeOf(await custA.post('/api/service-orders', { ...accompanying, application: training.application })),
    ).toBe('ORDER_KIND_MISMATCH');
    expect(
      codeOf(
        await custA.post('/api/service-orders', {
          ...accompanying,
          application: { ...accompanying.application, end: accompanying.application.start - 1 },
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    const id = await started(accompanying);
    expect(
      (await rec(engineer, id, { type: 'log', at: w.now(), text: '第一天：随队机动 120 公里，装备正常' })).statusCode,
    ).toBe(201);
    expect(
      (await rec(dispatcher, id, { type: 'log', at: w.now() + 24 * HOUR, text: '第二天：保障供电 10 小时' }))
        .statusCode,
    ).toBe(201);
    expect(codeOf(await rec(engineer, id, { type: 'attendee', name: 'a', unit: 'b', role: 'c' }))).toBe(
      'ORDER_KIND_MISMATCH',
    );
    await act(engineer, id, { action: 'complete', note: '任务圆满完成' });
    const html = (await custA.get(`/api/service-orders/${id}/report.html`)).body;
    for (const s of ['伴随保障服务报告', '上级通知', '某部', '岳阳东站', '第一天', '第二天', '任务圆满完成', '未签字'])
      expect(html).toContain(s);
  });
});
