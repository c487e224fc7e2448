import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { planChanges, suggestedWorkContent, type SupportPlanContent } from '../../diagnostics/support-plans/plans.ts';
import { createSupportPlanStage } from '../../platform/support-plans.ts';
import { createStock } from '../../resources/stock/stock.ts';
import { createTools } from '../../resources/tools/tools.ts';
import { T0 } from './fixtures.ts';
import { startDiagnostics } from './harness.ts';
import { advanceTimers } from '../helpers/records.ts';

const MIN = 60_000;
const content = (over: Partial<SupportPlanContent> = {}): SupportPlanContent => ({
  workContent: 'swap the filter',
  people: [{ accountId: 'eng', role: 'leader', duty: null }],
  materials: [{ kind: 'free', name: 'tape', qty: 1, unit: null, note: null }],
  milestones: [{ at: 1, label: 'depart' }],
  transport: { mode: 'car', vehicle: null },
  eta: 100,
  etaNote: null,
  internalNote: null,
  ...over,
});

describe('support plan versions (应急保障工作计划)', () => {
  let h: Awaited<ReturnType<typeof startDiagnostics>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    vi.useRealTimers();
  });

  it('says what changed between versions in plain words', () => {
    expect(planChanges(null, content())).toEqual(['first version']);
    expect(planChanges(content(), content())).toEqual(['no change of content']);
    expect(
      planChanges(
        content(),
        content({
          workContent: 'swap the relay',
          materials: [{ kind: 'free', name: 'fuse', qty: 2, unit: null, note: null }],
          eta: 200,
        }),
      ),
    ).toEqual(['work content', 'added fuse ×2', 'removed tape ×1', 'ETA']);
  });

  it('the work content starts from the ticket’s need and the emergency plan', async () => {
    h = await startDiagnostics();
    const t = await h.diagnostics.tickets.open(
      {
        source: 'hotline',
        customerId: 'C1',
        level: 'urgent',
        title: 'Generator will not start',
        need: '发电机无法启动',
        faultCode: 'GEN-START-FAIL',
        place: 'Depot 3',
      },
      'desk',
    );
    const text = suggestedWorkContent(t, h.diagnostics.tickets.planOf(t));
    expect(text).toContain('发电机无法启动');
    expect(text).toContain('GEN-START-FAIL');
    expect(text).toMatch(/可能原因 Likely causes: .+/);
    expect(text).toContain('Depot 3');
  });

  it('issuing the first version meets the 加急 plan deadline; a re-issue keeps it; an unissued plan is breached', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: T0 });
    h = await startDiagnostics({ now: () => Date.now() });
    const log = pino({ level: 'silent' });
    const now = () => Date.now();
    const tickets = h.diagnostics.tickets;
    const plans = createSupportPlanStage({
      db: h.db,
      log,
      now,
      tickets,
      stock: createStock({ db: h.db, log, now, planParts: () => undefined }),
      tools: createTools({ db: h.db, now }),
    });
    const open = (title: string) =>
      tickets.open({ source: 'hotline', customerId: 'C1', level: 'urgent', title, need: 'x' }, 'desk');
    const planned = await open('planned');
    const late = await open('late');
    await advanceTimers(10 * MIN);
    for (const t of [planned, late]) await tickets.transition(t.id, 'determine_work_content', 'desk');
    const draft = { workContent: 'swap the filter', materials: [], milestones: [], transport: null, eta: null };
    await plans.saveDraft(planned.id, draft, 'desk');
    await advanceTimers(5 * MIN);
    const v1 = await plans.issue(planned.id, 'desk', null);
    expect(v1.ticket).toMatchObject({ status: 'plan_issued', planDoneAt: T0 + 15 * MIN });
    // a re-issue needs its reason and leaves the deadline as met by the first version
    await plans.saveDraft(planned.id, { ...draft, eta: T0 + 120 * MIN }, 'desk');
    await expect(plans.issue(planned.id, 'desk', ' ')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await advanceTimers(5 * MIN);
    const v2 = await plans.issue(planned.id, 'desk', 'later arrival');
    expect(v2.ticket).toMatchObject({ planDoneAt: T0 + 15 * MIN, eta: T0 + 120 * MIN });
    expect(v2.version).toMatchObject({ version: 2, reason: 'later arrival', changes: ['ETA'] });
    // nothing left to issue
    await expect(plans.issue(planned.id, 'desk', 'again')).rejects.toMatchObject({ code: 'SUPPORT_PLAN_NOT_FOUND' });
    expect((await plans.versions(planned.id)).map((v) => [v.version, v.status, v.content.eta])).toEqual([
      [1, 'issued', null],
      [2, 'issued', T0 + 120 * MIN],
    ]);

    // two desks at once: one draft of the next version, issued once (the other finds it gone, nothing half-written)
    await Promise.all([
      plans.saveDraft(planned.id, { ...draft, workContent: 'desk A' }, 'desk-a'),
      plans.saveDraft(planned.id, { ...draft, workContent: 'desk B' }, 'desk-b'),
    ]);
    expect((await plans.versions(planned.id)).filter((v) => v.status === 'draft').map((v) => v.version)).toEqual([3]);
    const both = await Promise.allSettled([
      plans.issue(planned.id, 'desk-a', 'a'),
      plans.issue(planned.id, 'desk-b', 'b'),
    ]);
    expect(both.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'SUPPORT_PLAN_NOT_FOUND' } });
    const timeline = await tickets.timeline(planned.id);
    expect(timeline.filter((e) => e.action === 'plan_reissued')).toHaveLength(2);
    await advanceTimers(20 * MIN);
    const breaches = h.events
      .filter((e) => e.name === 'ticket.deadline_breached')
      .map((e) => e.payload as { ticket: { id: number }; deadline: string });
    expect(breaches.map((b) => [b.ticket.id, b.deadline])).toEqual([[late.id, 'plan']]);
  });
});
