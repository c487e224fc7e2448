import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ticket } from '../../diagnostics/types.ts';
import { codeOf, startWeb, type Agent, type TestWeb } from './helpers.ts';
import { issuePlan } from './support-plan-helpers.ts';

const FIXED = { rootCause: 'starter relay stuck', workDone: 'relay replaced', partsUsed: ['1× relay SR-12'] };

/** Issue 15, items 1 and 2: closing only what is fixed, and merging tickets of one vehicle. */
describe('closing only what is fixed', () => {
  let w: TestWeb;
  let dispatcher: Agent;
  let engineer: Agent;
  let admin: Agent;
  beforeEach(async () => {
    w = await startWeb();
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    admin = await w.login('admin');
  });
  afterEach(async () => w.close());

  const act = (a: Agent, id: number, body: Record<string, unknown>) => a.post(`/api/tickets/${id}/transitions`, body);

  /** A ticket whose incident has an active alarm (as the rules would open it). */
  async function ticketWithAlarm(): Promise<{ t: Ticket; alarmId: number }> {
    const t = await w.ticket('VA1');
    const alarm = await w.alarm('VA1', 'mains_lost');
    const incident = 7000 + t.id;
    await w.db.updateTable('tickets').set({ incident_id: incident }).where('id', '=', t.id).execute();
    await w.db.updateTable('alarms').set({ incident_id: incident }).where('id', '=', alarm.id).execute();
    return { t, alarmId: alarm.id };
  }
  /** Who takes a step: the duty desk (市场部) determines the work content and issues the plan, the engineer the rest. */
  const by = (action: string): Agent => (action === 'determine_work_content' ? dispatcher : engineer);
  async function toRepaired(id: number): Promise<void> {
    for (const action of ['determine_work_content', 'start_service'])
      expect((await act(by(action), id, { action })).statusCode).toBe(200);
    expect((await act(engineer, id, { action: 'mark_repaired', resolution: FIXED })).statusCode).toBe(200);
  }

  it('marking repaired needs the root cause and what was done (400 RESOLUTION_REQUIRED); they are kept with who repaired', async () => {
    const t = await w.ticket('VA1');
    for (const action of ['determine_work_content', 'start_service']) await act(by(action), t.id, { action });
    const bare = await act(engineer, t.id, { action: 'mark_repaired' });
    expect(bare.statusCode).toBe(400);
    expect(codeOf(bare)).toBe('RESOLUTION_REQUIRED');
    const blank = await act(engineer, t.id, {
      action: 'mark_repaired',
      resolution: { rootCause: 'x', workDone: ' ' },
    });
    expect(codeOf(blank)).toBe('VALIDATION_FAILED');
    const ok = await act(engineer, t.id, { action: 'mark_repaired', resolution: FIXED });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().ticket).toMatchObject({ status: 'repaired', repairedBy: 'engineer', resolution: FIXED });
    const detail = (await dispatcher.get(`/api/tickets/${t.id}`)).json();
    expect(detail.timeline.at(-1).note).toContain('root cause: starter relay stuck');
    expect(detail.timeline.at(-1).note).toContain('parts used: 1× relay SR-12');
  });

  it('verification by someone other than who marked it repaired (403 SAME_PERSON_VERIFY)', async () => {
    const t = await w.ticket('VA1');
    await toRepaired(t.id);
    const own = await act(engineer, t.id, { action: 'verify' });
    expect(own.statusCode).toBe(403);
    expect(codeOf(own)).toBe('SAME_PERSON_VERIFY');
    expect((await act(dispatcher, t.id, { action: 'verify' })).json().ticket.status).toBe('verified');
  });

  it('verify and close need the alarms cleared (409 ALARMS_ACTIVE), or an override whose reason goes to timeline and audit', async () => {
    const { t, alarmId } = await ticketWithAlarm();
    await toRepaired(t.id);
    const refused = await act(dispatcher, t.id, { action: 'verify' });
    expect(refused.statusCode).toBe(409);
    expect(codeOf(refused)).toBe('ALARMS_ACTIVE');
    expect((await dispatcher.get(`/api/tickets/${t.id}`)).json().alarms).toMatchObject([
      { id: alarmId, state: 'active', ticketId: t.id },
    ]);
    // an override without a reason is no override
    expect(codeOf(await act(dispatcher, t.id, { action: 'verify', alarmOverride: '  ' }))).toBe('VALIDATION_FAILED');
    const reason = 'mains back, alarm latched in the controller; site confirms power';
    const verified = await act(dispatcher, t.id, { action: 'verify', alarmOverride: reason });
    expect(verified.statusCode, verified.body).toBe(200);
    // closing checks again: still active, so closing needs its own override
    expect(codeOf(await act(dispatcher, t.id, { action: 'close' }))).toBe('ALARMS_ACTIVE');
    await w.diagnostics.alarms.clear('VA1', 'mains_lost', w.now());
    const closed = await act(dispatcher, t.id, { action: 'close' });
    expect(closed.json().ticket.status).toBe('closed');
    const timeline = (await dispatcher.get(`/api/tickets/${t.id}`)).json().timeline as {
      action: string;
      note: string;
    }[];
    const override = timeline.find((e) => e.action === 'alarms_override');
    expect(override?.note).toContain(reason);
    expect(override?.note).toContain(`#${alarmId}`);
    const audit = await w.ctx.audit.list({ action: 'ticket.transition', subject: `ticket:${t.id}` });
    const verifyAudit = audit.find((e) => (e.details as { action: string }).action === 'verify');
    expect(verifyAudit?.details).toMatchObject({ alarmOverride: { reason, alarms: [alarmId] } });
  });

  it('assign, service mode and ETA are refused on a closed ticket (409 TICKET_CLOSED)', async () => {
    const t = await w.ticket('VA1');
    await toRepaired(t.id);
    await act(dispatcher, t.id, { action: 'verify' });
    await act(dispatcher, t.id, { action: 'close' });
    const refusals = [
      await dispatcher.post(`/api/tickets/${t.id}/assign`, { assignee: 'engineer' }),
      await dispatcher.post(`/api/tickets/${t.id}/service-mode`, { mode: 'on_site_repair' }),
      await dispatcher.post(`/api/tickets/${t.id}/eta`, { eta: w.now() + 3_600_000 }),
    ];
    expect(refusals.map((r) => [r.statusCode, codeOf(r)])).toEqual([
      [409, 'TICKET_CLOSED'],
      [409, 'TICKET_CLOSED'],
      [409, 'TICKET_CLOSED'],
    ]);
    // comments stay possible, and a reopened ticket can be assigned again
    expect((await dispatcher.post(`/api/tickets/${t.id}/comments`, { text: 'called back' })).statusCode).toBe(201);
    await act(dispatcher, t.id, { action: 'reopen' });
    expect((await dispatcher.post(`/api/tickets/${t.id}/assign`, { assignee: 'engineer' })).statusCode).toBe(200);
  });

  it('merges one open ticket into another of the same vehicle: side by side, marked, timelines and alarms kept, audited', async () => {
    const { t: first, alarmId } = await ticketWithAlarm();
    const second = await w.ticket('VA1', 'urgent', 'BAT-SOC-CRIT');
    const detail = (await dispatcher.get(`/api/tickets/${second.id}`)).json();
    expect(detail.sameVehicle.map((x: Ticket) => x.id)).toEqual([first.id]);

    // only the duty desk (who classifies) merges
    expect(codeOf(await engineer.post(`/api/tickets/${second.id}/merge`, { into: first.id }))).toBe('FORBIDDEN');
    const res = await dispatcher.post(`/api/tickets/${second.id}/merge`, { into: first.id, note: 'same outage' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().ticket).toMatchObject({ id: second.id, status: 'merged', mergedInto: first.id, nextDueAt: null });

    const merged = (await engineer.get(`/api/tickets/${second.id}`)).json();
    expect(merged.mergedIntoNumber).toBe(first.number);
    expect(merged.timeline.at(-1)).toMatchObject({ action: 'merged', toStatus: 'merged' });
    expect(merged.timeline.at(-1).note).toContain(`merged into ${first.number}`);
    const target = (await engineer.get(`/api/tickets/${first.id}`)).json();
    expect(target.mergedFrom).toEqual([{ id: second.id, number: second.number }]);
    expect(target.sameVehicle).toEqual([]);
    expect(target.timeline.at(-1)).toMatchObject({ action: 'merged_in' });
    expect(target.timeline.at(-1).note).toContain(`${second.number} merged into this ticket: same outage`);
    expect(target.alarms.map((a: { id: number }) => a.id)).toEqual([alarmId]);
    const audit = await w.ctx.audit.list({ action: 'ticket.merged', subject: `ticket:${second.id}` });
    expect(audit[0]).toMatchObject({ actor: 'dispatcher', details: { into: first.id, intoNumber: first.number } });
    // the open queue no longer holds the merged one
    const open = (await dispatcher.get('/api/tickets?open=true')).json().tickets as Ticket[];
    expect(open.map((x) => x.id)).toEqual([first.id]);
  });

  it('the merged ticket’s alarms count for the target’s closing', async () => {
    const { t: withAlarm } = await ticketWithAlarm();
    const target = await w.ticket('VA1', 'urgent', 'BAT-SOC-CRIT');
    expect((await admin.post(`/api/tickets/${withAlarm.id}/merge`, { into: target.id })).statusCode).toBe(200);
    expect((await act(dispatcher, target.id, { action: 'determine_work_content' })).statusCode).toBe(200);
    expect((await issuePlan(dispatcher, target.id)).statusCode).toBe(200);
    expect((await act(engineer, target.id, { action: 'start_service' })).statusCode).toBe(200);
    await act(engineer, target.id, { action: 'mark_repaired', resolution: FIXED });
    expect(codeOf(await act(dispatcher, target.id, { action: 'verify' }))).toBe('ALARMS_ACTIVE');
  });

  it('refuses merging across vehicles, into a closed ticket, a merged one again, or into itself', async () => {
    await w.vehicles.add({ id: 'VA2', customerId: 'CA', name: 'Shelter A2', model: 'XJ-24' });
    const a = await w.ticket('VA1');
    const b = await w.ticket('VA2');
    const c = await w.ticket('VA1', 'urgent');
    const d = await w.ticket('VA1', 'urgent');
    const merge = (from: number, into: number) => dispatcher.post(`/api/tickets/${from}/merge`, { into });
    expect(codeOf(await merge(b.id, a.id))).toBe('MERGE_VEHICLE_MISMATCH');
    expect(codeOf(await merge(a.id, a.id))).toBe('INVALID_ARGUMENT');
    expect((await act(dispatcher, c.id, { action: 'cancel' })).statusCode).toBe(200);
    const intoClosed = await merge(a.id, c.id);
    expect([intoClosed.statusCode, codeOf(intoClosed)]).toEqual([409, 'TICKET_CLOSED']);
    expect((await merge(d.id, a.id)).statusCode).toBe(200);
    expect(codeOf(await merge(d.id, a.id))).toBe('TICKET_CLOSED');
    // a merged ticket is terminal: no reopening, no cancelling
    expect(codeOf(await act(dispatcher, d.id, { action: 'reopen' }))).toBe('INVALID_TRANSITION');
    expect(codeOf(await merge(a.id, 999_999))).toBe('TICKET_NOT_FOUND');
  });

  it('a customer never merges and never sees another unit’s tickets side by side', async () => {
    const a = await w.ticket('VA1');
    const b = await w.ticket('VA1', 'urgent');
    const cust = await w.login('cust-a');
    expect(codeOf(await cust.post(`/api/tickets/${b.id}/merge`, { into: a.id }))).toBe('FORBIDDEN');
    const other = await w.login('cust-b');
    expect(codeOf(await other.get(`/api/tickets/${a.id}`))).toBe('TICKET_NOT_FOUND');
    expect((await cust.get(`/api/tickets/${a.id}`)).json().sameVehicle.map((x: Ticket) => x.id)).toEqual([b.id]);
  });
});
