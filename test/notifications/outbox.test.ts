import { afterEach, describe, expect, it } from 'vitest';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';

const item = (key: string, extra: Partial<NewNotification> = {}): NewNotification => ({
  key,
  channel: 'email',
  target: 'ops@example.com',
  kind: 'ticket.opened',
  language: 'zh',
  urgent: false,
  subject: 'subject',
  text: 'body',
  ...extra,
});

describe('notification outbox', () => {
  let db: RecordsDb | undefined;
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
  });

  it('stores each key once: enqueueing a key again is a no-op', async () => {
    db = await openTestRecords();
    expect(await enqueue(db, [item('a'), item('b')], 1000)).toBe(2);
    expect(await enqueue(db, [item('b'), item('c')], 2000)).toBe(1);
    const rows = await db.selectFrom('notifications').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.key, r.status, r.next_at])).toEqual([
      ['a', 'pending', 1000],
      ['b', 'pending', 1000],
      ['c', 'pending', 2000],
    ]);
  });

  it('holds a delivery until its time and keeps the structured payload', async () => {
    db = await openTestRecords();
    await enqueue(db, [item('q', { holdUntil: 5000, payload: { ticket: 7 } })], 1000);
    const row = await db.selectFrom('notifications').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'held', next_at: 5000, payload: '{"ticket":7}' });
  });

  it('commits with the event that causes it, or not at all', async () => {
    db = await openTestRecords();
    await expect(
      inTransaction(db, async (tx) => {
        await enqueue(tx, [item('lost')], 1000);
        throw new Error('the event failed');
      }),
    ).rejects.toThrow('the event failed');
    expect(await db.selectFrom('notifications').selectAll().execute()).toEqual([]);
  });
});
