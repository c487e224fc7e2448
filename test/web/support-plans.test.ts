import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { seedStock } from './stock-helpers.ts';

const MIN = 60_000;

describe('the support plan as a document (应急保障工作计划)', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let supply: Agent;
  let custA: Agent;
  let custB: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    supply = await w.login('supply');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
    await seedStock(supply);
    expect(
      (await supply.post('/api/stock/receipts', { partNo: 'FF-5421', storeId: 'CENTRAL', qty: 2, reason: 'opening' }))
        .statusCode,
    ).toBe(201);
  });
  afterEach(async () => w.close());

  async function tool(code: string): Promise<number> {
    const r = await dispatcher.post('/api/tools', {
      code,
      name: 'Multimeter',
      nameZh: '万用表',
      kind: 'instrument',
      location: 'Central',
    });
    expect(r.statusCode, r.body).toBe(201);
    return (r.json() as { tool: { id: number } }).tool.id;
  }

  /** An urgent (加急) ticket with its work content determined and a team of a leader and a technician. */
  async function ready() {
    const t = await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    expect(
      (await dispatcher.post(`/api/tickets/${t.id}/transitions`, { action: 'determine_work_content' })).statusCode,
    ).toBe(200);
    const team = await dispatcher.request('PUT', `/api/tickets/${t.id}/team`, {
      members: [
        { accountId: 'engineer', role: 'leader', duty: '故障排查' },
        { accountId: 'admin', role: 'customer_service', duty: '客户沟通' },
      ],
    });
    expect(team.statusCode, team.body).toBe(200);
    return t;
  }

  const draftBody = (over: Record<string, unknown> = {}) => ({
    workContent: '更换燃油滤清器，检查启动继电器',
    materials: [
      { kind: 'part', partNo: 'FF-5421', storeId: 'CENTRAL', qty: 1 },
      { kind: 'free', name: '绝缘胶带', qty: 2, unit: '卷' },
    ],
    milestones: [
      { at: w.now() + 60 * MIN, label: '出发 Depart' },
      { at: w.now() + 180 * MIN, label: '到达现场 On site' },
    ],
    transport: { mode: 'service_vehicle', vehicle: '湘A-12345' },
    eta: w.now() + 180 * MIN,
    etaNote: '服务车从长沙出发',
    internalNote: 'customer paid late last time',
    ...over,
  });

  it('drafts from the diagnosis, reserves parts, checks tools out, issues (issue_plan, ETA) and re-issues with versions kept', async () => {
    const t = await ready();
    const toolId = await tool('TL-MM-01');
    // the draft starts from the ticket's diagnosis and emergency plan, the team, and the plan's parts to reserve
    const before = (await dispatcher.get(`/api/tickets/${t.id}/support-plan`)).json();
    expect(before.current).toBeNull();
    expect(before.draft).toBeNull();
    expect(before.template.workContent).toContain('GEN-START-FAIL');
    expect(before.template.people.map((p: { accountId: string }) => p.accountId)).toEqual(['engineer', 'admin']);
    expect(before.proposedParts.map((p: { partNo: string }) => p.partNo)).toContain('FF-5421');

    const draft = await dispatcher.request('PUT', `/api/tickets/${t.id}/support-plan`, {
      ...draftBody(),
      materials: [...draftBody().materials, { kind: 'tool', toolId }],
    });
    expect(draft.statusCode, draft.body).toBe(200);
    const d = draft.json().draft;
    expect(d).toMatchObject({ version: 1, status: 'draft' });
    const part = d.content.materials[0];
    expect(part).toMatchObject({ kind: 'part', partNo: 'FF-5421', storeId: 'CENTRAL', qty: 1 });
    // the part is reserved in the stock ledger, the tool checked out to the ticket
    const bal = (await supply.get('/api/stock/balances?partNo=FF-5421&storeId=CENTRAL')).json().balances[0];
    expect(bal).toMatchObject({ onHand: 2, reserved: 1, available: 1 });
    const tl = (await dispatcher.get('/api/tools')).json().tools.find((x: { id: number }) => x.id === toolId);
    expect(tl).toMatchObject({ status: 'checked_out', checkout: { ticketId: t.id, team: ['engineer', 'admin'] } });
    // saving the draft again keeps the reservation (named by id), without reserving twice
    const again = await dispatcher.request('PUT', `/api/tickets/${t.id}/support-plan`, {
      ...draftBody(),
      materials: [
        { kind: 'part', reservationId: part.reservationId },
        { kind: 'tool', toolId },
      ],
    });
    expect(again.statusCode, again.body).toBe(200);
    expect((await supply.get('/api/stock/balances?partNo=FF-5421&storeId=CENTRAL')).json().balances[0].reserved).toBe(
      1,
    );
    // the customer sees no draft
    expect((await custA.get(`/api/tickets/${t.id}/support-plan`)).json()).toEqual({ current: null });

    // issuing performs issue_plan: plan issued, the 加急 plan deadline met, the ETA set from the plan
    const eta1 = draftBody().eta;
    w.advance(5 * MIN);
    const issued = await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, {});
    expect(issued.statusCode, issued.body).toBe(200);
    const body = issued.json();
    expect(body.ticket).toMatchObject({ status: 'plan_issued', eta: eta1, etaNote: '服务车从长沙出发' });
    expect(body.ticket.planDoneAt).toBe(w.now());
    expect(body.version).toMatchObject({
      version: 1,
      status: 'issued',
      issuedBy: 'dispatcher',
      changes: ['first version'],
    });
    const timeline = (await dispatcher.get(`/api/tickets/${t.id}`)).json().timeline;
    expect(timeline.at(-1)).toMatchObject({
      action: 'issue_plan',
      toStatus: 'plan_issued',
      note: 'support plan v1 issued',
    });

    // re-issuing: a new draft, the reason required, the old version kept readable
    const eta2 = w.now() + 240 * MIN;
    const v2 = await dispatcher.request('PUT', `/api/tickets/${t.id}/support-plan`, {
      ...draftBody({ eta: eta2, milestones: [] }),
      materials: [
        { kind: 'part', reservationId: part.reservationId },
        { kind: 'tool', toolId },
      ],
    });
    expect(v2.json().draft.version).toBe(2);
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, {}))).toBe('VALIDATION_FAILED');
    const re = await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, { reason: 'road closed; later ETA' });
    expect(re.statusCode, re.body).toBe(200);
    expect(re.json().ticket).toMatchObject({ status: 'plan_issued', eta: eta2 });
    expect(re.json().version).toMatchObject({
      version: 2,
      reason: 'road closed; later ETA',
      changes: ['schedule', 'ETA'],
    });
    const all = (await engineer.get(`/api/tickets/${t.id}/support-plan`)).json();
    expect(all.versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
      [1, 'issued'],
      [2, 'issued'],
    ]);
    expect(all.versions[0].content.eta).toBe(eta1);
    expect(all.current.version).toBe(2);
    const tl2 = (await dispatcher.get(`/api/tickets/${t.id}`)).json().timeline;
    expect(tl2.at(-1)).toMatchObject({ action: 'plan_reissued', note: 'support plan v2 issued' });
  });

  it('the customer sees the issued plan of its own unit only, without internal fields', async () => {
    const t = await ready();
    await dispatcher.request('PUT', `/api/tickets/${t.id}/support-plan`, draftBody());
    expect((await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, {})).statusCode).toBe(200);
    const seen = await custA.get(`/api/tickets/${t.id}/support-plan`);
    expect(seen.statusCode).toBe(200);
    const c = seen.json();
    expect(Object.keys(c)).toEqual(['current']);
    expect(c.current).toMatchObject({
      version: 1,
      eta: draftBody().eta,
      milestones: draftBody().milestones,
      transport: { mode: 'service_vehicle', vehicle: '湘A-12345' },
      materials: [
        { kind: 'part', ref: 'FF-5421', qty: 1 },
        { kind: 'free', ref: null, qty: 2, unit: '卷' },
      ],
    });
    const text = JSON.stringify(c);
    // no internal note, no store or reservation ids, no staff login ids
    expect(text).not.toContain('paid late');
    expect(text).not.toContain('CENTRAL');
    expect(text).not.toContain('reservationId');
    expect(c.current.people.map((p: { name: string }) => p.name)).not.toContain('engineer');
    expect(c.current.issuedBy).not.toBe('dispatcher');
    // one source of truth for the ETA: moved later on the ticket, the plan shows the ticket's; the version keeps its own
    const moved = w.now() + 300 * MIN;
    expect((await engineer.post(`/api/tickets/${t.id}/eta`, { eta: moved, note: 'traffic' })).statusCode).toBe(200);
    expect((await custA.get(`/api/tickets/${t.id}/support-plan`)).json().current).toMatchObject({
      eta: moved,
      etaNote: 'traffic',
    });
    const staffView = (await dispatcher.get(`/api/tickets/${t.id}/support-plan`)).json();
    expect(staffView.versions[0].content.eta).toBe(c.current.eta);
    expect(staffView.template.eta).toBe(moved);
    // another unit's customer: as if the ticket did not exist
    expect(codeOf(await custB.get(`/api/tickets/${t.id}/support-plan`))).toBe('TICKET_NOT_FOUND');
    expect(codeOf(await custB.get(`/api/tickets/${t.id}/support-plan/plan.html`))).toBe('TICKET_NOT_FOUND');
    // the forms for the customer carry no internal note either
    const html = await custA.get(`/api/tickets/${t.id}/support-plan/contact-letter.html?lang=zh`);
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('《售后服务工作联系函》');
    expect(html.body).toContain('湘A-12345');
    expect(html.body).not.toContain('paid late');
  });

  it('only the duty desk drafts and issues; the old note-only issue_plan is refused; bad input gets stable codes', async () => {
    const t = await ready();
    expect(codeOf(await engineer.request('PUT', `/api/tickets/${t.id}/support-plan`, draftBody()))).toBe('FORBIDDEN');
    expect(codeOf(await custA.request('PUT', `/api/tickets/${t.id}/support-plan`, draftBody()))).toBe('FORBIDDEN');
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/support-plan/issue`, {}))).toBe('FORBIDDEN');
    expect(codeOf(await supply.get(`/api/tickets/${t.id}/support-plan`))).toBe('FORBIDDEN');
    // the status step with a note only: refused with a stable code, the ticket unchanged
    const old = await dispatcher.post(`/api/tickets/${t.id}/transitions`, { action: 'issue_plan', note: 'plan' });
    expect(old.statusCode).toBe(409);
    expect(codeOf(old)).toBe('PLAN_DOCUMENT_REQUIRED');
    expect(codeOf(await engineer.post(`/api/tickets/${t.id}/transitions`, { action: 'issue_plan' }))).toBe('FORBIDDEN');
    // nothing to issue yet
    expect(codeOf(await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, {}))).toBe('SUPPORT_PLAN_NOT_FOUND');
    expect(codeOf(await dispatcher.get(`/api/tickets/${t.id}/support-plan/plan.pdf`))).toBe('SUPPORT_PLAN_NOT_FOUND');
    // milestones out of order, an unknown transport, a part without stock
    expect(
      codeOf(
        await dispatcher.request(
          'PUT',
          `/api/tickets/${t.id}/support-plan`,
          draftBody({
            milestones: [
              { at: w.now() + 2, label: 'b' },
              { at: w.now() + 1, label: 'a' },
            ],
          }),
        ),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      codeOf(
        await dispatcher.request(
          'PUT',
          `/api/tickets/${t.id}/support-plan`,
          draftBody({ transport: { mode: 'horse' } }),
        ),
      ),
    ).toBe('VALIDATION_FAILED');
    const short = await dispatcher.request(
      'PUT',
      `/api/tickets/${t.id}/support-plan`,
      draftBody({ materials: [{ kind: 'part', partNo: 'FF-5421', storeId: 'CENTRAL', qty: 5 }] }),
    );
    expect(short.statusCode).toBe(409);
    expect(codeOf(short)).toBe('INSUFFICIENT_STOCK');
    expect(
      codeOf(
        await dispatcher.request(
          'PUT',
          `/api/tickets/${t.id}/support-plan`,
          draftBody({ materials: [{ kind: 'part', reservationId: 999 }] }),
        ),
      ),
    ).toBe('RESERVATION_NOT_FOUND');
    // before the work content is determined the plan cannot be issued
    const fresh = await w.ticket('VA1', 'urgent', 'GEN-START-FAIL');
    await dispatcher.request('PUT', `/api/tickets/${fresh.id}/support-plan`, draftBody({ materials: [] }));
    expect(codeOf(await dispatcher.post(`/api/tickets/${fresh.id}/support-plan/issue`, {}))).toBe('INVALID_TRANSITION');
  });

  it('a 特急 ticket in service gets its plan afterwards without a status change; the forms list the shipment', async () => {
    const t = await w.ticket('VA1', 'extra_urgent', 'GEN-START-FAIL');
    await dispatcher.post(`/api/tickets/${t.id}/transitions`, { action: 'determine_work_content' });
    expect((await engineer.post(`/api/tickets/${t.id}/transitions`, { action: 'start_service' })).statusCode).toBe(200);
    const d = await dispatcher.request('PUT', `/api/tickets/${t.id}/support-plan`, draftBody());
    expect(d.statusCode, d.body).toBe(200);
    const r = await dispatcher.post(`/api/tickets/${t.id}/support-plan/issue`, {});
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().ticket.status).toBe('in_service');
    // the reserved part ships with a tracking number: the shipment notice lists it
    const reservationId = r.json().version.content.materials[0].reservationId;
    const ship = await supply.post(`/api/tickets/${t.id}/shipments`, {
      mode: 'shipment',
      reservationIds: [reservationId],
      carrier: '顺丰速运',
      trackingNo: 'SF1234567890',
      consignee: '李伟',
      address: '驻地 A',
    });
    expect(ship.statusCode, ship.body).toBe(201);
    const notice = await custA.get(`/api/tickets/${t.id}/support-plan/shipment-notice.html?lang=zh`);
    expect(notice.statusCode).toBe(200);
    expect(notice.body).toContain('《售后服务发运通知》');
    expect(notice.body).toContain('SF1234567890');
    expect(notice.body).toContain('顺丰速运');
    const en = await engineer.get(`/api/tickets/${t.id}/support-plan/plan.html?lang=en&version=1`);
    expect(en.statusCode).toBe(200);
    expect(en.body).toContain('Special support work plan');
    expect(codeOf(await engineer.get(`/api/tickets/${t.id}/support-plan/plan.html?version=7`))).toBe(
      'SUPPORT_PLAN_NOT_FOUND',
    );
    expect(codeOf(await engineer.get(`/api/tickets/${t.id}/support-plan/plan.html?lang=fr`))).toBe('VALIDATION_FAILED');
  });
});
