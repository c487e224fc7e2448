import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { createDingtalkChannel } from '../../notifications/channels/dingtalk.ts';
import { createWecomChannel } from '../../notifications/channels/wecom.ts';
import { createDispatcher } from '../../notifications/dispatcher.ts';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { openTestRecords } from '../helpers/records.ts';
import { dingtalkAccepts, startReceiver, type Received } from './receivers.ts';

const DING_SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const T0 = Date.UTC(2026, 11, 3, 8, 0, 0);

const row = (
  key: string,
  channel: 'dingtalk' | 'wecom',
  target: string,
  extra: Partial<NewNotification> = {},
): NewNotification => ({
  key,
  channel,
  target,
  kind: 'ticket.opened',
  language: 'zh',
  urgent: true,
  customerId: 'C1',
  ticketId: 42,
  subject: '工单 42：市电中断',
  text: '车辆 V1 市电中断，已转入发电。',
  ...extra,
});

describe('group robots: DingTalk and WeCom', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(url: string) {
    let clock = T0;
    const now = () => clock;
    const db = await openTestRecords();
    cleanup.push(() => db.destroy());
    const log = pino({ level: 'silent' });
    const robots = [
      {
        id: 'duty-ding',
        kind: 'dingtalk' as const,
        url: `${url}/robot/send?access_token=ding-token-1`,
        secret: DING_SECRET,
        customerId: null,
      },
      {
        id: 'unit-wecom',
        kind: 'wecom' as const,
        url: `${url}/cgi-bin/webhook/send?key=wecom-key-1`,
        secret: null,
        customerId: 'C1',
      },
    ];
    const opts = { robots, timeoutMs: 2000, publicUrl: 'https://pw.example.com' };
    const counters = createCounters();
    const dispatcher = createDispatcher(
      {
        db,
        channels: { dingtalk: createDingtalkChannel({ ...opts, now }), wecom: createWecomChannel(opts) },
        bus: createInProcessBus<PlatformEvents>(log),
        log,
        counters,
        now,
        random: () => 0,
      },
      { maxTries: 5, backoffBaseMs: 1000, backoffMaxMs: 10_000, pollMs: 3_600_000, concurrency: 1 },
    );
    cleanup.push(() => dispatcher.stop());
    const rowOf = (key: string) =>
      db.selectFrom('notifications').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    return { db, dispatcher, rowOf, now, counters, advance: (ms: number) => (clock += ms) };
  }

  it('DingTalk: markdown to the signed URL, checked as DingTalk documents it; errcode 130101 waits out the 10-minute block', async () => {
    let limited = true;
    let now = T0;
    const receiver = await startReceiver((r: Received) => {
      if (!dingtalkAccepts(r.url, DING_SECRET, now))
        return { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' };
      if (limited)
        return { status: 200, body: '{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}' };
      return { status: 200, body: '{"errcode":0,"errmsg":"ok"}' };
    });
    cleanup.push(() => receiver.close());
    const t = await setup(receiver.url);
    await enqueue(t.db, [row('d-1', 'dingtalk', 'duty-ding')], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();
    const r1 = await t.rowOf('d-1');
    expect(r1).toMatchObject({ status: 'pending', tries: 1 });
    expect(r1.last_error).toMatch(/^DingTalk errcode 130101/);
    expect(Number(r1.next_at) - t.now()).toBe(10 * 60_000);

    limited = false;
    now = t.advance(10 * 60_000);
    await t.dispatcher.drain();
    expect(await t.rowOf('d-1')).toMatchObject({ status: 'delivered', tries: 2 });

    const sent = receiver.received.at(-1)!;
    expect(sent.url.pathname).toBe('/robot/send');
    expect(sent.url.searchParams.get('access_token')).toBe('ding-token-1');
    expect(sent.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(sent.body) as { msgtype: string; markdown: { title: string; text: string } };
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('工单 42：市电中断');
    expect(body.markdown.text).toContain('### ‼ 工单 42：市电中断');
    expect(body.markdown.text).toContain('车辆 V1 市电中断');
    expect(body.markdown.text).toContain('[查看工单](https://pw.example.com/#/tickets/42)');
  });

  it('DingTalk: a wrong signature (errcode 310000) fails at once', async () => {
    const receiver = await startReceiver((r) =>
      dingtalkAccepts(r.url, 'SECanother', T0)
        ? { status: 200, body: '{"errcode":0,"errmsg":"ok"}' }
        : { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' },
    );
    cleanup.push(() => receiver.close());
    const t = await setup(receiver.url);
    await enqueue(t.db, [row('d-2', 'dingtalk', 'duty-ding'), row('d-3', 'dingtalk', 'no-such-robot')], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();
    expect(await t.rowOf('d-2')).toMatchObject({
      status: 'failed',
      tries: 1,
      last_error: 'DingTalk errcode 310000: sign not match',
    });
    expect(await t.rowOf('d-3')).toMatchObject({
      status: 'failed',
      last_error: 'DingTalk robot "no-such-robot" is not configured',
    });
  });

  it('WeCom: markdown content to the key URL, at most 4096 bytes; 45009 is tried again, 93000 fails; another unit’s row is refused', async () => {
    const answers = [
      '{"errcode":45009,"errmsg":"api freq out of limit"}',
      '{"errcode":0,"errmsg":"ok"}',
      '{"errcode":93000,"errmsg":"invalid webhook url"}',
    ];
    const receiver = await startReceiver((r) => {
      const body = JSON.parse(r.body) as { msgtype?: string; markdown?: { content?: string } };
      const wellFormed =
        r.url.pathname === '/cgi-bin/webhook/send' &&
        r.url.searchParams.get('key') === 'wecom-key-1' &&
        body.msgtype === 'markdown' &&
        typeof body.markdown?.content === 'string' &&
        Buffer.byteLength(body.markdown.content) <= 4096;
      return { status: 200, body: wellFormed ? answers.shift()! : '{"errcode":40008,"errmsg":"invalid message type"}' };
    });
    cleanup.push(() => receiver.close());
    const t = await setup(receiver.url);
    await enqueue(t.db, [row('w-1', 'wecom', 'unit-wecom', { text: '长'.repeat(3000) })], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();
    const r1 = await t.rowOf('w-1');
    expect(r1).toMatchObject({ status: 'pending', tries: 1, last_error: 'WeCom errcode 45009: api freq out of limit' });
    t.advance(60_000);
    await t.dispatcher.drain();
    expect(await t.rowOf('w-1')).toMatchObject({ status: 'delivered', tries: 2 });
    const content = (JSON.parse(receiver.received[1]!.body) as { markdown: { content: string } }).markdown.content;
    expect(content.startsWith('### ‼ 工单 42：市电中断')).toBe(true);
    expect(content.endsWith('[查看工单](https://pw.example.com/#/tickets/42)')).toBe(true);

    await enqueue(
      t.db,
      [row('w-2', 'wecom', 'unit-wecom'), row('w-3', 'wecom', 'unit-wecom', { customerId: 'C2' })],
      t.now(),
    );
    await t.dispatcher.drain();
    expect(await t.rowOf('w-2')).toMatchObject({
      status: 'failed',
      last_error: 'WeCom errcode 93000: invalid webhook url',
    });
    expect(await t.rowOf('w-3')).toMatchObject({
      status: 'failed',
      last_error: 'WeCom robot "unit-wecom" belongs to another customer unit',
    });
    expect(receiver.received).toHaveLength(3);
    expect(t.counters.get('notify.failed', 'wecom')).toBe(2);
  });
});
