import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { issuePlan } from './support-plan-helpers.ts';

const contacts = [{ name: 'Li Wei', phone: '0730-7650002', role: 'unit technician' }];

/**
 * Issue 13, "Fix what contradicts the plan", over the API (docs/service.md): who classifies, who
 * determines the work content and issues the plan, both sides confirm the repair, emergency mode
 * at the user's request.
 */
describe('the service plan’s rules over the API', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let cust: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    cust = await w.login('cust-a');
  });
  afterEach(async () => w.close());

  const act = (a: Agent, id: number, action: string, extra: object = {}) =>
    a.post(`/api/tickets/${id}/transitions`, { action, ...extra });

  it('常规 is no emergency level: neither the desk nor a customer can open a routine ticket', async () => {
    const body = { vehicleId: 'VA1', title: 'Training', need: 'crew training', contacts, level: 'routine' };
    expect(codeOf(await dispatcher.post('/api/tickets', body))).toBe('VALIDATION_FAILED');
    expect(codeOf(await cust.post('/api/tickets', body))).toBe('VALIDATION_FAILED');
  });

  it('a customer proposes a level; only the duty desk (市场部) classifies, determines the work content and issues the plan', async () => {
    const res = await cust.post('/api/tickets', {
      vehicleId: 'VA1',
      level: 'extra_urgent',
      title: '发电机无法启动',
      need: '市电中断后发电机组无法启动',
      contacts,
    });
    expect(res.statusCode, res.body).toBe(201);
    const t = res.json().ticket;
    expect(t).toMatchObject({ level: 'extra_urgent', proposedLevel: 'extra_urgent', levelConfirmedAt: null });
    // the customer cannot classify, nor can an engineer; an engineer cannot determine the work content or issue the plan
    expect(codeOf(await cust.post(`/api/tickets/${t.id}/classify`, { level: 'extra_urgent' }))).toBe('FORBIDDEN');
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/classify`, { level: 'urgent', reason: 'x' }))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await act(engineer, t.id, 'determine_work_content'))).toBe('FORBIDDEN');
    // reclassifying needs a reason, which goes on the timeline
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/classify`, { level: 'urgent' }))).toBe(
      'VALIDATION_FAILED',
    );
    const c = await dispatcher.post(`/api/tickets/${t.id}/classify`, {
      level: 'urgent',
      reason: 'the generator runs; only the battery charger is down',
    });
    expect(c.statusCode, c.body).toBe(200);
    expect(c.json().ticket).toMatchObject({
      level: 'urgent',
      proposedLevel: 'extra_urgent',
      levelConfirmedBy: 'dispatcher',
      planDueAt: t.receivedAt + 30 * 60_000,
    });
    const seen = (await cust.get(`/api/tickets/${t.id}`)).json();
    expect(seen.timeline.at(-1)).toMatchObject({
      action: 'level_reclassified',
      actor: 'Duty desk',
      note: 'extra_urgent → urgent: the generator runs; only the battery charger is down',
    });
    expect(seen.ticket.levelConfirmedBy).toBe('Duty desk'); // never the login id
    expect((await act(dispatcher, t.id, 'determine_work_content')).statusCode).toBe(200);
    expect(codeOf(await act(engineer, t.id, 'issue_plan'))).toBe('FORBIDDEN');
    // the note-only step is refused: the duty desk issues the plan document (an engineer may not)
    expect(codeOf(await act(dispatcher, t.id, 'issue_plan'))).toBe('PLAN_DOCUMENT_REQUIRED');
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/support-plan/issue`, {}))).toBe('FORBIDDEN');
    expect((await issuePlan(dispatcher, t.id)).statusCode).toBe(200);
    // raising to 特急 drops the plan deadline 特急 does not have
    const up = await dispatcher.post(`/api/tickets/${t.id}/classify`, { level: 'extra_urgent', reason: 'no power' });
    expect(up.json().ticket).toMatchObject({ level: 'extra_urgent', planDueAt: null });
  });

  it('the customer side confirms the repair (双方确认) of its own unit’s ticket, never another unit’s', async () => {
    const t = await w.ticket('VA1', 'extra_urgent');
    for (const action of ['determine_work_content', 'start_service'])
      expect((await act(dispatcher, t.id, action)).statusCode).toBe(200);
    const resolution = { rootCause: 'charger relay worn', workDone: 'relay replaced', partsUsed: ['relay'] };
    expect((await act(dispatcher, t.id, 'mark_repaired', { resolution })).statusCode).toBe(200);
    // a customer's note is for its unit; it cannot make it internal
    expect(codeOf(await act(cust, t.id, 'verify', { visibility: 'internal', note: 'x' }))).toBe('FORBIDDEN');
    const ok = await act(cust, t.id, 'verify', { note: '已确认修复，市电与发电机组切换正常' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().ticket.status).toBe('verified');
    const tl = (await dispatcher.get(`/api/tickets/${t.id}`)).json().timeline;
    expect(tl.at(-1)).toMatchObject({ actor: 'cust-a', action: 'verify', visibility: 'customer' });
    // other steps stay staff's; another unit's ticket does not exist for this customer
    const other = await w.ticket('VB1', 'extra_urgent');
    expect(codeOf(await act(cust, other.id, 'verify'))).toBe('TICKET_NOT_FOUND');
    const own = await w.ticket('VA1', 'urgent');
    expect(codeOf(await act(cust, own.id, 'cancel'))).toBe('FORBIDDEN');
  });

  it('emergency mode (紧急模式) is chosen at the user’s request: recommended by the plan, set only naming who asked', async () => {
    const t = await w.ticket('VA1', 'urgent', 'PWR-LOSS-PREDICTED');
    const got = (await dispatcher.get(`/api/tickets/${t.id}`)).json();
    expect(got.ticket.serviceMode).toBeNull();
    expect(got.plan.recommendedMode).toBe('emergency_replacement');
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/service-mode`, { mode: 'emergency_replacement' }))).toBe(
      'VALIDATION_FAILED',
    );
    const set = await dispatcher.post(`/api/tickets/${t.id}/service-mode`, {
      mode: 'emergency_replacement',
      userRequest: 'unit commander Zhang by phone',
    });
    expect(set.json().ticket.serviceMode).toBe('emergency_replacement');
    const tl = (await dispatcher.get(`/api/tickets/${t.id}`)).json().timeline;
    expect(tl.at(-1).note).toBe('emergency_replacement at the user’s request: unit commander Zhang by phone');
  });

  it('the duty desk confirms or edits the contacts, the place and 省内/省外', async () => {
    const t = await w.ticket('VA1', 'urgent');
    const res = await dispatcher.post(`/api/tickets/${t.id}/site`, {
      contacts: [{ name: 'Zhang Wei', phone: '0730-1111111' }],
      place: '岳阳县荣家湾镇 depot',
      province: 'out',
    });
    expect(res.statusCode, res.body).toBe(200);
    // THIRTY_MINUTE_RULE defaults to all: the 30-minute rule still applies out of province
    expect(res.json().ticket).toMatchObject({ place: '岳阳县荣家湾镇 depot', province: 'out', deadlinesApply: true });
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/site`, { place: 'x' }))).toBe('FORBIDDEN');
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/site`, { province: 'abroad' }))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe('the response team (应急响应小组) and the command post (应急指挥部)', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
  });
  afterEach(async () => w.close());

  it('a team with duties; its leader is the assignee; the old assignment still sets the leader; command post on 特急 only', async () => {
    const t = await w.ticket('VA1', 'extra_urgent');
    const team = [
      { accountId: 'engineer', role: 'leader', duty: '现场勘查 site survey' },
      { accountId: 'dispatcher', role: 'customer_service', duty: '客户沟通 customer contact' },
      { accountId: 'admin', role: 'commander' },
    ];
    const res = await dispatcher.request('PUT', `/api/tickets/${t.id}/team`, { members: team });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().ticket.assignee).toBe('engineer');
    const got = (await dispatcher.get(`/api/tickets/${t.id}`)).json();
    expect(got.team).toEqual([
      { accountId: 'engineer', role: 'leader', duty: '现场勘查 site survey' },
      { accountId: 'dispatcher', role: 'customer_service', duty: '客户沟通 customer contact' },
      { accountId: 'admin', role: 'commander', duty: null },
    ]);
    // the customer sees the team by public names, never a login id
    const cust = await w.login('cust-a');
    const seen = (await cust.get(`/api/tickets/${t.id}`)).json();
    expect(seen.team.map((m: { accountId: string }) => m.accountId)).toEqual([
      'Engineer',
      'Duty desk',
      'Platform team',
    ]);
    expect(JSON.stringify(seen.timeline)).not.toContain('customer_service: dispatcher');
    // assigning (the old single assignee) makes the leader; the others stay
    await dispatcher.post(`/api/tickets/${t.id}/assign`, { assignee: 'dispatcher' });
    const after = (await dispatcher.get(`/api/tickets/${t.id}`)).json().team;
    expect(after.map((m: { accountId: string; role: string }) => `${m.role}:${m.accountId}`)).toEqual([
      'leader:dispatcher',
      'customer_service:dispatcher',
      'commander:admin',
    ]);
    // the command post is for 特急; one leader; staff only; the duty desk's
    const urgent = await w.ticket('VA1', 'urgent');
    expect(codeOf(await dispatcher.request('PUT', `/api/tickets/${urgent.id}/team`, { members: [team[2]] }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      codeOf(
        await dispatcher.request('PUT', `/api/tickets/${t.id}/team`, {
          members: [team[0], { ...team[0], accountId: 'admin' }],
        }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(
        await dispatcher.request('PUT', `/api/tickets/${t.id}/team`, {
          members: [{ accountId: 'cust-a', role: 'technician' }],
        }),
      ),
    ).toBe('ACCOUNT_NOT_FOUND');
    const engineer = await w.login('engineer');
    expect(codeOf(await engineer.request('PUT', `/api/tickets/${t.id}/team`, { members: [] }))).toBe('FORBIDDEN');
  });
});
