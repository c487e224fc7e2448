import { afterEach, describe, expect, it, vi } from 'vitest';
import { codeOf, startWeb, type TestWeb } from '../web/helpers.ts';
import { advanceTimers } from '../helpers/records.ts';

/**
 * Paging over the real ticket service, SQLite and HTTP routes, with fake timers: the test moves the
 * platform's clock and the timers together. Chain: assignee:5m, duty_lead:5m, service_manager.
 */
let w: TestWeb | undefined;
afterEach(async () => {
  w?.tickets.stop();
  w?.notifications.stop();
  vi.useRealTimers();
  await w?.close();
  w = undefined;
});

async function start(env: Record<string, string> = {}) {
  const web = await startWeb({
    env: { DUTY_LEAD: 'dispatcher', SERVICE_MANAGER: 'admin', PAGE_SECRET: 'x'.repeat(40), ...env },
  });
  w = web;
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  return web;
}
/** Moves the clock and the timers by `ms`, letting what they start finish. */
async function pass(web: TestWeb, ms: number) {
  const step = 10_000;
  for (let left = ms; left > 0; left -= step) {
    const d = Math.min(step, left);
    web.advance(d);
    await advanceTimers(d);
  }
  for (let i = 0; i < 5; i++) await advanceTimers(0);
}
const pages = (web: TestWeb, ticketId: number) => web.notifications.paging.ofTicket(ticketId);
const outbox = (web: TestWeb, kind: string) =>
  web.db.selectFrom('notifications').selectAll().where('kind', '=', kind).orderBy('id').execute();
const timeline = async (web: TestWeb, id: number) =>
  (await web.tickets.timeline(id)).filter((e) => e.action.startsWith('page')).map((e) => [e.action, e.note]);

describe('paging', () => {
  it('a breach pages the duty lead; not acknowledged, it escalates; acknowledged by the link in the message, it stops', async () => {
    const web = await start({ PAGE_AT_RISK_MS: '0' });
    const t = await web.ticket('VA1', 'extra_urgent');
    await web.tickets.assign(t.id, 'engineer', 'dispatcher');
    await web.tickets.start();
    await web.notifications.paging.start();

    await pass(web, 30 * 60_000);
    let [p] = await pages(web, t.id);
    expect(p).toMatchObject({ reason: 'breached', deadline: 'work_content', accountId: 'dispatcher', state: 'open' });
    const [first] = await outbox(web, 'page');
    expect(first).toMatchObject({ channel: 'inbox', target: 'dispatcher', status: 'pending', urgent: 1 });
    // staff without contact settings read NOTIFY_LANGUAGE (zh by default)
    expect(first!.subject).toContain('已超期：30分钟内未确定工作内容');
    expect(await timeline(web, t.id)).toEqual([['paged_breached', 'paged dispatcher']]);

    // the platform stops before the step time runs out; the timer is re-armed from the database on start
    web.notifications.stop();
    await pass(web, 6 * 60_000);
    expect((await pages(web, t.id))[0]!.accountId).toBe('dispatcher');
    await web.notifications.paging.start();
    await pass(web, 0);
    [p] = await pages(web, t.id);
    expect(p).toMatchObject({ accountId: 'admin', state: 'open', escalateAt: null });
    expect((await outbox(web, 'page')).map((r) => r.target)).toEqual(['dispatcher', 'admin']);
    expect(await timeline(web, t.id)).toEqual([
      ['paged_breached', 'paged dispatcher'],
      ['page_escalated', 'page escalated to admin'],
    ]);

    // the signed one-time link in the message acknowledges without a login; again: already done
    const link = /https?:\/\/\S+\/api\/pages\/ack\?token=(\S+)/.exec(first!.body);
    expect(link).not.toBeNull();
    const probe = await web.app.inject({ method: 'HEAD', url: `/api/pages/ack?token=${link![1]}` });
    expect(probe.statusCode).toBe(200);
    expect((await pages(web, t.id))[0]!.state).toBe('open');
    const ack = await web.app.inject({ method: 'GET', url: `/api/pages/ack?token=${link![1]}` });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json()).toEqual({ acknowledged: true, alreadyAcknowledged: false, ticketId: t.id });
    const again = await web.app.inject({ method: 'GET', url: `/api/pages/ack?token=${link![1]}` });
    expect(again.json()).toMatchObject({ alreadyAcknowledged: true });
    const forged = await web.app.inject({ method: 'GET', url: `/api/pages/ack?token=${p!.id}.${'A'.repeat(43)}` });
    expect(forged.statusCode).toBe(404);
    expect(codeOf(forged)).toBe('PAGE_TOKEN_INVALID');
    [p] = await pages(web, t.id);
    expect(p).toMatchObject({ state: 'acknowledged', ackedBy: 'admin' });
    expect((await timeline(web, t.id)).at(-1)).toEqual(['page_acknowledged_by_link', 'page acknowledged by admin']);
    await pass(web, 30 * 60_000);
    expect(await outbox(web, 'page')).toHaveLength(2);
  });

  it('a deadline at risk pages the assignee 10 minutes before; the console button acknowledges; customers see no login id', async () => {
    const web = await start();
    const t = await web.ticket('VA1', 'extra_urgent');
    await web.tickets.assign(t.id, 'engineer', 'dispatcher');
    await web.tickets.start();
    await web.notifications.paging.start();
    await pass(web, 19 * 60_000);
    expect(await pages(web, t.id)).toEqual([]);
    await pass(web, 60_000);
    const [p] = await pages(web, t.id);
    expect(p).toMatchObject({ reason: 'at_risk', deadline: 'work_content', accountId: 'engineer', state: 'open' });
    expect((await outbox(web, 'page')).map((r) => [r.channel, r.target])).toEqual([['inbox', 'engineer']]);

    const customer = await web.login('cust-a');
    const seen = await customer.get(`/api/tickets/${t.id}`);
    expect(seen.body).toContain('paged Engineer');
    expect(seen.body).not.toContain('"paged engineer"');
    expect((await customer.post(`/api/pages/${p!.id}/ack`)).statusCode).toBe(403);

    const engineer = await web.login('engineer');
    const res = await engineer.post(`/api/pages/${p!.id}/ack`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      alreadyAcknowledged: false,
      page: { state: 'acknowledged', ackedBy: 'engineer' },
    });
    expect((await engineer.post(`/api/pages/${p!.id}/ack`)).json()).toMatchObject({ alreadyAcknowledged: true });
    expect(codeOf(await engineer.post('/api/pages/999999/ack'))).toBe('PAGE_NOT_FOUND');
    await pass(web, 11 * 60_000);
    // no escalation of the acknowledged page; the breach at 30 min pages the duty lead anew
    expect((await pages(web, t.id)).map((x) => [x.reason, x.accountId, x.state])).toEqual([
      ['at_risk', 'engineer', 'acknowledged'],
      ['breached', 'dispatcher', 'open'],
    ]);
  });

  it('an unacknowledged at-risk page escalates, and the breach takes the story over', async () => {
    const web = await start({ PAGE_CHAIN: 'assignee:5m,duty_lead:10m,service_manager' });
    const t = await web.ticket('VA1', 'extra_urgent');
    await web.tickets.assign(t.id, 'engineer', 'dispatcher');
    await web.tickets.start();
    await web.notifications.paging.start();
    await pass(web, 25 * 60_000);
    expect((await pages(web, t.id)).map((x) => [x.reason, x.accountId, x.state])).toEqual([
      ['at_risk', 'dispatcher', 'open'],
    ]);
    await pass(web, 5 * 60_000);
    expect((await pages(web, t.id)).map((x) => [x.reason, x.accountId, x.state])).toEqual([
      ['at_risk', 'dispatcher', 'resolved'],
      ['breached', 'dispatcher', 'open'],
    ]);
    expect(await timeline(web, t.id)).toEqual([
      ['paged_at_risk', 'paged engineer'],
      ['page_escalated', 'page escalated to dispatcher'],
      ['paged_breached', 'paged dispatcher'],
    ]);
  });

  it('an at-risk page whose deadline is met before it escalates goes quiet', async () => {
    const web = await start();
    const t = await web.ticket('VA1', 'extra_urgent');
    await web.tickets.start();
    await web.notifications.paging.start();
    await pass(web, 20 * 60_000);
    // unassigned: the duty lead is paged
    expect((await pages(web, t.id)).map((x) => x.accountId)).toEqual(['dispatcher']);
    await web.tickets.transition(t.id, 'determine_work_content', 'engineer');
    await pass(web, 15 * 60_000);
    expect((await pages(web, t.id)).map((x) => [x.accountId, x.state])).toEqual([['dispatcher', 'resolved']]);
    expect(await outbox(web, 'page')).toHaveLength(1);
  });
});
