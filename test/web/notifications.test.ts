import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../notifications/outbox.ts';
import { startWeb, type Agent, type TestWeb } from './helpers.ts';

/** The deliveries API (admin, dispatcher) and the inbox API (every account, its own items only). */
describe('notifications API', () => {
  let w: TestWeb;
  let admin: Agent;
  let dispatcher: Agent;
  let engineer: Agent;
  let custA: Agent;
  let custB: Agent;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    w = await startWeb();
    const base = { kind: 'ticket.opened', language: 'en' as const, urgent: false, subject: 's', text: 't' };
    await enqueue(
      w.db,
      [
        { ...base, key: 'd-1', channel: 'email', target: 'a@example.com', ticketId: 1 },
        { ...base, key: 'd-2', channel: 'webhook', target: 'hook', ticketId: 1 },
        { ...base, key: 'd-3', channel: 'webhook', target: 'hook', ticketId: 2 },
        { ...base, key: 'd-4', channel: 'dingtalk', target: 'ding', ticketId: 2 },
      ],
      w.now(),
    );
    await w.db
      .updateTable('notifications')
      .set({ status: 'failed', tries: 8, last_error: 'HTTP 500' })
      .where('key', 'in', ['d-2', 'd-4'])
      .execute();
    for (const r of await w.db.selectFrom('notifications').select(['id', 'key']).execute()) ids[r.key] = Number(r.id);
    ids['a-1'] = await w.inboxItem('cust-a', 'A one', 1);
    ids['a-2'] = await w.inboxItem('cust-a', 'A two', null);
    ids['b-1'] = await w.inboxItem('cust-b', 'B one', 2);
    admin = await w.login('admin');
    dispatcher = await w.login('dispatcher');
    engineer = await w.login('engineer');
    custA = await w.login('cust-a');
    custB = await w.login('cust-b');
  });
  afterAll(async () => w?.close());

  it('lists deliveries newest first, filtered by status, channel and ticket, keyset paged', async () => {
    const all = (await admin.get('/api/notifications')).json() as { deliveries: { key: string }[] };
    expect(all.deliveries.map((d) => d.key).slice(-4)).toEqual(['d-4', 'd-3', 'd-2', 'd-1']);
    const failed = (await dispatcher.get('/api/notifications?status=failed&channel=webhook,dingtalk')).json() as {
      deliveries: { key: string; tries: number; lastError: string }[];
    };
    expect(failed.deliveries.map((d) => [d.key, d.tries, d.lastError])).toEqual([
      ['d-4', 8, 'HTTP 500'],
      ['d-2', 8, 'HTTP 500'],
    ]);
    const page1 = (await admin.get('/api/notifications?ticketId=1&channel=email,webhook&limit=1')).json() as {
      deliveries: { key: string }[];
      nextCursor: string;
    };
    expect(page1.deliveries.map((d) => d.key)).toEqual(['d-2']);
    const page2 = (
      await admin.get(`/api/notifications?ticketId=1&channel=email,webhook&limit=1&cursor=${page1.nextCursor}`)
    ).json() as {
      deliveries: { key: string }[];
      nextCursor: string | null;
    };
    expect(page2).toMatchObject({ deliveries: [{ key: 'd-1' }], nextCursor: null });
    // a cursor of another filter is refused
    expect((await admin.get(`/api/notifications?ticketId=2&limit=1&cursor=${page1.nextCursor}`)).json()).toMatchObject({
      error: { code: 'INVALID_CURSOR' },
    });
    expect((await admin.get('/api/notifications?status=lost')).json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED' },
    });
  });

  it('re-sends a failed delivery (audited) and refuses one that has not failed; engineers and customers may not', async () => {
    const res = await dispatcher.post(`/api/notifications/${ids['d-2']}/resend`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ delivery: { key: 'd-2', status: 'pending', tries: 0 } });
    const audit = await w.ctx.audit.list({ action: 'notification.resend' });
    expect(audit).toMatchObject([{ actor: 'dispatcher', subject: `notification:${ids['d-2']}` }]);
    expect((await admin.post(`/api/notifications/${ids['d-1']}/resend`)).json()).toMatchObject({
      error: { code: 'NOTIFICATION_NOT_FAILED' },
    });
    expect((await admin.post('/api/notifications/999999/resend')).statusCode).toBe(404);
    expect((await engineer.get('/api/notifications')).statusCode).toBe(403);
    expect((await custA.post(`/api/notifications/${ids['d-4']}/resend`)).statusCode).toBe(403);
  });

  it('enables a disabled target (admin only, audited)', async () => {
    await w.db
      .insertInto('notification_targets_disabled')
      .values({ id: 'hook', channel: 'webhook', reason: 'HTTP 410 Gone', disabled_at: w.now() })
      .execute();
    expect((await dispatcher.get('/api/notifications/targets')).json()).toMatchObject({
      targets: [{ id: 'hook', channel: 'webhook' }],
    });
    expect((await dispatcher.post('/api/notifications/targets/hook/enable')).statusCode).toBe(403);
    expect((await admin.post('/api/notifications/targets/hook/enable')).json()).toMatchObject({
      target: { id: 'hook' },
    });
    expect((await admin.post('/api/notifications/targets/hook/enable')).json()).toMatchObject({
      error: { code: 'NOTIFY_TARGET_NOT_FOUND' },
    });
    expect(await w.ctx.audit.list({ action: 'notification.target_enabled' })).toHaveLength(1);
  });

  it('an inbox is its own account’s: listed, counted, read one by one or all; another account’s item is 404', async () => {
    const inbox = (await custA.get('/api/inbox')).json() as {
      items: { id: number; subject: string }[];
      unread: number;
    };
    expect(inbox).toMatchObject({
      unread: 2,
      items: [
        { id: ids['a-2'], subject: 'A two' },
        { id: ids['a-1'], subject: 'A one' },
      ],
    });
    // B's item: as if it did not exist, for reading and for marking
    const foreign = await custA.post(`/api/inbox/${ids['b-1']}/read`);
    const missing = await custA.post('/api/inbox/999999/read');
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({ error: { code: 'NOTIFICATION_NOT_FOUND' } });
    expect(foreign.json().error.message.replace(String(ids['b-1']), '#')).toBe(
      missing.json().error.message.replace('999999', '#'),
    );
    // staff have no business in a customer's inbox either
    expect((await admin.post(`/api/inbox/${ids['b-1']}/read`)).statusCode).toBe(404);

    expect((await custA.post(`/api/inbox/${ids['a-1']}/read`)).json()).toMatchObject({
      item: { id: ids['a-1'] },
      unread: 1,
    });
    expect((await custA.get('/api/inbox?unread=true')).json()).toMatchObject({
      items: [{ id: ids['a-2'] }],
      unread: 1,
    });
    expect((await custA.post('/api/inbox/read-all')).json()).toEqual({ marked: 1, unread: 0 });
    expect((await custA.get('/api/inbox/unread-count')).json()).toEqual({ unread: 0 });
    // B's stayed unread
    expect((await custB.get('/api/inbox/unread-count')).json()).toEqual({ unread: 1 });
    // a pending (not yet delivered) inbox row is not in the inbox
    await enqueue(
      w.db,
      [
        {
          key: 'pend',
          channel: 'inbox',
          target: 'cust-b',
          kind: 'k',
          language: 'en',
          urgent: false,
          subject: 'later',
          text: 't',
        },
      ],
      w.now(),
    );
    expect((await custB.get('/api/inbox')).json()).toMatchObject({ unread: 1, items: [{ subject: 'B one' }] });
  });
});
