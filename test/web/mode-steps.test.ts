import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';

const MIN = 60_000;

/**
 * The service modes' steps over the API (issue 13 item 3, docs/service.md): who records and
 * confirms what, what a customer sees, the stable codes, and the arrival feeding the statistics'
 * time to arrive.
 */
describe('service-mode steps of a ticket over the API', () => {
  let w: TestWeb;
  let eng: Agent;
  let desk: Agent;
  let custA: Agent;
  let custB: Agent;
  let t: Ticket;
  beforeEach(async () => {
    w = await startWeb();
    eng = await w.login('engineer');
    desk = await w.login('dispatcher');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
    t = await w.ticket('VA1');
  });
  afterEach(() => w.close());

  const step = (a: Agent, body: object, id = t.id) => a.post(`/api/tickets/${id}/mode-steps`, body);
  const onSite = (s: string, more: object = {}) => ({ mode: 'on_site_repair', step: s, ...more });

  it('on-site repair: staff record in order, the customer confirms the joint assessment and sees no internal note', async () => {
    expect(codeOf(await step(eng, onSite('agreed', { details: { transport: 'car' } })))).toBe('MODE_NOT_CURRENT');
    expect((await eng.post(`/api/tickets/${t.id}/service-mode`, { mode: 'on_site_repair' })).statusCode).toBe(200);
    const early = await step(eng, onSite('arrived'));
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('STEP_OUT_OF_ORDER');
    expect(early.json().error.message).toContain('agreed');
    expect(codeOf(await step(eng, onSite('agreed')))).toBe('STEP_DETAILS_REQUIRED');
    expect(codeOf(await step(eng, onSite('flying')))).toBe('VALIDATION_FAILED');
    // the customer does not record the staff's steps
    expect(codeOf(await step(custA, onSite('agreed', { details: { transport: 'car' } })))).toBe('FORBIDDEN');

    const agreed = await step(
      eng,
      onSite('agreed', { details: { transport: 'service car', plannedAt: w.now() + 60 * MIN }, note: 'call the gate' }),
    );
    expect(agreed.statusCode).toBe(201);
    expect(agreed.json().step).toMatchObject({ step: 'agreed', actor: 'engineer', visibility: 'internal' });
    w.advance(10 * MIN);
    expect((await step(eng, onSite('departed', { details: { eta: w.now() + 45 * MIN } }))).statusCode).toBe(201);
    w.advance(40 * MIN);
    // arrival recorded afterwards, with the time it happened
    const arrivedAt = w.now() - 5 * MIN;
    expect((await step(eng, onSite('arrived', { at: arrivedAt }))).json().step.at).toBe(arrivedAt);
    const joint = (
      await step(
        eng,
        onSite('joint_assessment', {
          details: { result: 'generator does not crank' },
          visibility: 'customer',
          note: 'seen together',
        }),
      )
    ).json().step as { id: number };

    // staff do not confirm for the customer; another unit's customer does not see the ticket
    expect(codeOf(await eng.post(`/api/tickets/${t.id}/mode-steps/${joint.id}/confirm`, {}))).toBe('FORBIDDEN');
    expect(codeOf(await custB.post(`/api/tickets/${t.id}/mode-steps/${joint.id}/confirm`, {}))).toBe(
      'TICKET_NOT_FOUND',
    );
    expect(codeOf(await custB.get(`/api/tickets/${t.id}/mode-steps`))).toBe('TICKET_NOT_FOUND');
    const confirmed = await custA.post(`/api/tickets/${t.id}/mode-steps/${joint.id}/confirm`, { note: 'agreed' });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().step).toMatchObject({ confirmedBy: 'cust-a', confirmNote: 'agreed' });
    expect(codeOf(await custA.post(`/api/tickets/${t.id}/mode-steps/${joint.id}/confirm`, {}))).toBe(
      'STEP_ALREADY_CONFIRMED',
    );
    expect(codeOf(await custA.post(`/api/tickets/${t.id}/mode-steps/${agreed.json().step.id}/confirm`, {}))).toBe(
      'STEP_NOT_CONFIRMABLE',
    );

    // the customer sees the steps, the internal note left out, staff by public names
    const seen = (await custA.get(`/api/tickets/${t.id}/mode-steps`)).json() as {
      steps: { step: string; note: string | null; actor: string }[];
      modes: { mode: string; steps: { step: string }[] }[];
    };
    expect(seen.steps.map((s) => [s.step, s.note])).toEqual([
      ['agreed', null],
      ['departed', null],
      ['arrived', null],
      ['joint_assessment', 'seen together'],
    ]);
    expect(seen.steps[0]!.actor).not.toBe('engineer');
    expect(seen.modes.map((m) => m.mode)).toEqual(['on_site_repair', 'return_to_factory', 'emergency_replacement']);
    const staffView = (await desk.get(`/api/tickets/${t.id}/mode-steps`)).json().steps as { note: string | null }[];
    expect(staffView[0]!.note).toBe('call the gate');
    // the departure's ETA is the ticket's
    expect((await custA.get(`/api/tickets/${t.id}`)).json().ticket.eta).toBe(w.now() - 40 * MIN + 45 * MIN);
  });

  it('return to factory: the customer side confirms the receipt; a closed ticket refuses (TICKET_CLOSED)', async () => {
    await desk.post(`/api/tickets/${t.id}/service-mode`, { mode: 'return_to_factory' });
    const rtf = (s: string, details: object = {}) => ({ mode: 'return_to_factory', step: s, details });
    expect((await step(eng, rtf('handed_over', { item: 'inverter module' }))).statusCode).toBe(201);
    expect(codeOf(await step(custA, rtf('receipt_confirmed')))).toBe('STEP_OUT_OF_ORDER');
    for (const [s, d] of [
      ['shipped_to_factory', { method: 'shipped', carrier: 'SF Express', tracking: 'SF1234567' }],
      ['received_at_factory', { count: 1, result: 'casing intact' }],
      ['repaired_at_factory', { result: 'IGBT replaced' }],
      ['assessed_after_repair', { result: 'passes the load test' }],
      ['shipped_back', { method: 'shipped', carrier: 'SF Express', tracking: 'SF7654321' }],
    ] as const)
      expect((await step(eng, rtf(s, d))).statusCode, s).toBe(201);
    expect(codeOf(await step(eng, rtf('receipt_confirmed')))).toBe('FORBIDDEN');
    const receipt = await step(custA, { ...rtf('receipt_confirmed', { count: 1 }), note: 'received in good order' });
    expect(receipt.statusCode).toBe(201);
    expect(receipt.json().step).toMatchObject({ side: 'customer', visibility: 'customer' });
    // the service report shows the steps of the mode, with times and people, in the user's words
    await step(eng, { ...rtf('handed_over'), mode: 'return_to_factory' }); // refused (already recorded): nothing added
    const zh = (await custA.get(`/api/tickets/${t.id}/report.html?lang=zh`)).body;
    expect(zh).toContain('各服务方式工作步骤');
    expect(zh).toContain('提取货物、清点检验');
    expect(zh).toContain('SF1234567');
    expect(zh).toContain('用户收货确认');
    const en = (await desk.get(`/api/tickets/${t.id}/report.html?lang=en`)).body;
    expect(en).toContain('Received at the factory, counted and inspected');
    expect(en).toContain('received in good order');
    await desk.post(`/api/tickets/${t.id}/transitions`, { action: 'cancel' });
    expect(codeOf(await step(eng, { mode: 'return_to_factory', step: 'handed_over', details: { item: 'x' } }))).toBe(
      'TICKET_CLOSED',
    );
  });

  it('the arrival on site is the statistics’ time to arrive', async () => {
    const from = w.now() - 1;
    await w.tickets.setServiceMode(t.id, 'on_site_repair', 'dispatcher');
    const steps = w.ctx.deps.diagnostics.modeSteps;
    await steps.record(
      t.id,
      { mode: 'on_site_repair', step: 'agreed', details: { transport: 'car' } },
      'engineer',
      'staff',
    );
    await steps.record(t.id, { mode: 'on_site_repair', step: 'departed' }, 'engineer', 'staff');
    w.advance(50 * MIN);
    await steps.record(
      t.id,
      { mode: 'on_site_repair', step: 'arrived', at: t.receivedAt + 42 * MIN },
      'engineer',
      'staff',
    );
    for (const a of ['determine_work_content', 'start_service'] as const)
      await w.tickets.transition(t.id, a, 'dispatcher');
    await w.tickets.transition(t.id, 'mark_repaired', 'engineer', undefined, undefined, {
      resolution: { rootCause: 'starter relay', workDone: 'relay replaced', partsUsed: [] },
    });
    for (const a of ['verify', 'close'] as const)
      await w.tickets.transition(t.id, a, 'dispatcher', undefined, undefined, { alarmOverride: 'none active' });
    await w.service.idle();
    const stats = (await desk.get(`/api/stats/service?by=level&from=${from}&to=${w.now() + 1}`)).json();
    expect(stats.rows.find((r: { key: string }) => r.key === 'extra_urgent').arrive).toEqual({
      count: 1,
      avgMs: 42 * MIN,
    });
  });
});
