import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Channel } from '../../notifications/channels/channel.ts';
import { createInboxChannel } from '../../notifications/channels/inbox.ts';
import { createWebhookChannel } from '../../notifications/channels/webhook.ts';
import { createDeliveries } from '../../notifications/deliveries.ts';
import { createDispatcher, type DispatcherOptions } from '../../notifications/dispatcher.ts';
import { enqueue, type Channel as ChannelName, type NewNotification } from '../../notifications/outbox.ts';
import { type RecordsDb } from '../../records/db.ts';
import { openTestRecords, recordsSettled, TEST_RECORDS_DIALECT } from '../helpers/records.ts';
import { startReceiver, type Receiver } from './receivers.ts';
import { docsVerifier } from './verifier.ts';

const SECRET = 'ops-hook-secret-0123456789';
const T0 = Date.UTC(2026, 11, 3, 8, 0, 0);
const OPTIONS: DispatcherOptions = {
  maxTries: 8,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  pollMs: 3_600_000,
  concurrency: 2,
  stopTimeoutMs: 200,
};

const row = (key: string, extra: Partial<NewNotification> = {}): NewNotification => ({
  key,
  channel: 'webhook',
  target: 'ops-hook',
  kind: 'ticket.opened',
  language: 'en',
  urgent: true,
  customerId: 'C1',
  ticketId: 42,
  subject: 'Ticket 42 opened',
  text: 'Mains lost at V1',
  payload: { ticket: 42 },
  ...extra,
});

describe('notification dispatcher', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(
    receiver: Receiver,
    opts: Partial<DispatcherOptions> = {},
    db?: RecordsDb,
    extraChannels: Partial<Record<ChannelName, Channel>> = {},
  ) {
    let clock = T0;
    const now = () => clock;
    const records = db ?? (await openTestRecords());
    if (!db) cleanup.push(() => records.destroy());
    const log = pino({ level: 'silent' });
    const bus = createInProcessBus<PlatformEvents>(log);
    const counters = createCounters();
    const webhook = createWebhookChannel({
      endpoints: [{ id: 'ops-hook', url: `${receiver.url}/hook`, secret: SECRET, customerId: null }],
      timeoutMs: 2000,
      publicUrl: 'https://pw.example.com/',
      now,
    });
    const dispatcher = createDispatcher(
      {
        db: records,
        channels: { webhook, inbox: createInboxChannel(), ...extraChannels },
        bus,
        log,
        counters,
        now,
        random: () => 0.5,
      },
      { ...OPTIONS, ...opts },
    );
    cleanup.push(() => dispatcher.stop());
    const deliveries = createDeliveries({
      db: records,
      now,
      queued: () => bus.emit('notification.enqueued', { count: 1 }),
    });
    const rowOf = async (key: string) =>
      records.selectFrom('notifications').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    return { db: records, bus, counters, dispatcher, deliveries, rowOf, now, advance: (ms: number) => (clock += ms) };
  }

  it('retries a webhook answering 500 three times with backoff and full jitter, delivers on the 4th try with the same key and a valid signature', async () => {
    const verify = await docsVerifier();
    const receiver = await startReceiver((_r, n) => ({ status: n <= 3 ? 500 : 204 }));
    cleanup.push(() => receiver.close());
    const t = await setup(receiver);
    await enqueue(t.db, [row('ticket:42:opened:ops-hook')], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();

    // random 0.5: waits of 0.5 × 1000 × 2^(n−1) ms
    const waits: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const r = await t.rowOf('ticket:42:opened:ops-hook');
      expect(r).toMatchObject({ status: 'pending', tries: n, last_error: 'HTTP 500' });
      waits.push(Number(r.next_at) - t.now());
      // not due yet: nothing is sent
      t.advance(Number(r.next_at) - t.now() - 1);
      await t.dispatcher.drain();
      expect(receiver.received).toHaveLength(n);
      t.advance(1);
      await t.dispatcher.drain();
    }
    expect(waits).toEqual([500, 1000, 2000]);
    const done = await t.rowOf('ticket:42:opened:ops-hook');
    expect(done).toMatchObject({ status: 'delivered', tries: 4, delivered_at: t.now() });

    expect(receiver.received).toHaveLength(4);
    for (const [i, r] of receiver.received.entries()) {
      expect(r.method).toBe('POST');
      expect(r.headers['x-powerwatch-id']).toBe('ticket:42:opened:ops-hook');
      expect(r.headers['x-powerwatch-attempt']).toBe(String(i + 1));
      expect(verify(SECRET, r.headers, r.body, 300, t.now())).toBe(true);
      expect(verify('another-secret-0123456789', r.headers, r.body, 300, t.now())).toBe(false);
      expect(verify(SECRET, r.headers, r.body.replace('Mains', 'mains'), 300, t.now())).toBe(false);
    }
    // a replay long after is refused by the timestamp
    expect(verify(SECRET, receiver.received[0]!.headers, receiver.received[0]!.body, 300, t.now() + 3_600_000)).toBe(
      false,
    );
    expect(JSON.parse(receiver.received[3]!.body)).toMatchObject({
      id: 'ticket:42:opened:ops-hook',
      kind: 'ticket.opened',
      ticketId: 42,
      link: 'https://pw.example.com/#/tickets/42',
      data: { ticket: 42 },
    });
    expect(t.counters.get('notify.retried', 'webhook')).toBe(3);
    expect(t.counters.get('notify.delivered', 'webhook')).toBe(1);
  });

  it('sends a retry at its time on its own (fake timers): no poll interval, no wake-up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    cleanup.push(() => void vi.useRealTimers());
    const receiver = await startReceiver((_r, n) => ({ status: n === 1 ? 500 : 200 }));
    cleanup.push(() => receiver.close());
    const db = await openTestRecords();
    cleanup.push(() => db.destroy());
    const log = pino({ level: 'silent' });
    const bus = createInProcessBus<PlatformEvents>(log);
    const webhook = createWebhookChannel({
      endpoints: [{ id: 'ops-hook', url: `${receiver.url}/hook`, secret: SECRET, customerId: null }],
      timeoutMs: 2000,
    });
    const dispatcher = createDispatcher(
      { db, channels: { webhook }, bus, log, counters: createCounters(), random: () => 0.5 },
      { ...OPTIONS, pollMs: 3_600_000 },
    );
    cleanup.push(() => dispatcher.stop());
    const delivered = new Promise<number>((resolve) =>
      bus.on('notification.delivered', (e) => resolve(e.delivery.tries)),
    );
    await enqueue(db, [row('timed')], Date.now());
    const first = receiver.next();
    await dispatcher.start();
    await first;
    await dispatcher.drain();
    const retryAt = Number((await db.selectFrom('notifications').select('next_at').executeTakeFirstOrThrow()).next_at);
    expect(retryAt - Date.now()).toBe(500);
    const second = receiver.next();
    await vi.advanceTimersByTimeAsync(499);
    expect(receiver.received).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(await delivered).toBe(2);
  });

  it('fails a delivery after NOTIFY_MAX_TRIES with its last error; a re-send starts again from 0 tries and delivers', async () => {
    let up = false;
    const receiver = await startReceiver(() => ({ status: up ? 200 : 503 }));
    cleanup.push(() => receiver.close());
    const t = await setup(receiver, { maxTries: 3 });
    const failed: number[] = [];
    t.bus.on('notification.failed', (e) => void failed.push(e.delivery.id));
    await enqueue(t.db, [row('k-max')], t.now());
    await t.dispatcher.start();
    for (let i = 0; i < 3; i++) {
      await t.dispatcher.drain();
      t.advance(60_000);
    }
    await t.dispatcher.drain();
    const r = await t.rowOf('k-max');
    expect(r).toMatchObject({ status: 'failed', tries: 3, last_error: 'HTTP 503' });
    expect(receiver.received).toHaveLength(3);
    expect(failed).toEqual([Number(r.id)]);
    expect(t.counters.get('notify.failed', 'webhook')).toBe(1);

    up = true;
    const delivered = new Promise<number>((resolve) =>
      t.bus.on('notification.delivered', (e) => resolve(e.delivery.tries)),
    );
    const view = await t.deliveries.resend(Number(r.id));
    expect(view).toMatchObject({ status: 'pending', tries: 0 });
    // the re-send woke the dispatcher through notification.enqueued: no drain needed
    expect(await delivered).toBe(1);
    expect(receiver.received.at(-1)!.headers['x-powerwatch-id']).toBe('k-max');
    await expect(t.deliveries.resend(Number(r.id))).rejects.toMatchObject({ code: 'NOTIFICATION_NOT_FAILED' });
    await expect(t.deliveries.resend(99999)).rejects.toMatchObject({ code: 'NOTIFICATION_NOT_FOUND' });
  });

  it('410 Gone disables the endpoint and fails its waiting deliveries until an admin enables it', async () => {
    let gone = true;
    const receiver = await startReceiver(() => ({ status: gone ? 410 : 200 }));
    cleanup.push(() => receiver.close());
    const t = await setup(receiver, { concurrency: 1 });
    await enqueue(t.db, [row('g-1'), row('g-2'), row('g-3', { holdUntil: T0 + 3_600_000 })], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();
    expect(receiver.received).toHaveLength(1);
    for (const key of ['g-1', 'g-2', 'g-3']) expect((await t.rowOf(key)).status).toBe('failed');
    expect((await t.rowOf('g-2')).last_error).toMatch(/^target disabled: HTTP 410/);
    expect(await t.deliveries.disabledTargets()).toMatchObject([{ id: 'ops-hook', channel: 'webhook' }]);

    // a later delivery fails at once without a request
    await enqueue(t.db, [row('g-4')], t.now());
    await t.dispatcher.drain();
    expect((await t.rowOf('g-4')).last_error).toMatch(/target disabled: ops-hook/);
    expect(receiver.received).toHaveLength(1);

    gone = false;
    await t.deliveries.enableTarget('ops-hook');
    await expect(t.deliveries.enableTarget('ops-hook')).rejects.toMatchObject({ code: 'NOTIFY_TARGET_NOT_FOUND' });
    await t.deliveries.resend(Number((await t.rowOf('g-4')).id));
    await t.dispatcher.drain();
    expect((await t.rowOf('g-4')).status).toBe('delivered');
    expect(t.counters.get('notify.targets_disabled', 'webhook')).toBe(1);
  });

  it('a webhook that does not answer within the timeout is tried again later', async () => {
    const receiver = await startReceiver(() => 'hang');
    cleanup.push(() => receiver.close());
    const t = await setup(receiver);
    const webhook = createWebhookChannel({
      endpoints: [{ id: 'slow-hook', url: `${receiver.url}/slow`, secret: SECRET, customerId: null }],
      timeoutMs: 100,
      now: t.now,
    });
    const slow = createDispatcher(
      { db: t.db, channels: { webhook }, bus: t.bus, log: pino({ level: 'silent' }), counters: t.counters, now: t.now },
      OPTIONS,
    );
    cleanup.push(() => slow.stop());
    await enqueue(t.db, [row('slow-1', { target: 'slow-hook' })], t.now());
    await slow.start();
    await slow.drain();
    expect(await t.rowOf('slow-1')).toMatchObject({
      status: 'pending',
      tries: 1,
      last_error: 'no answer within 100 ms',
    });
  });

  it('holds a held row until its next_at, and leaves a row merged meanwhile alone', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanup.push(() => receiver.close());
    const t = await setup(receiver);
    await enqueue(t.db, [row('h-1', { holdUntil: T0 + 60_000 }), row('h-2', { holdUntil: T0 + 60_000 })], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();
    expect(receiver.received).toHaveLength(0);
    expect(t.dispatcher.stats().held.webhook).toBe(2);
    await t.db.updateTable('notifications').set({ status: 'merged' }).where('key', '=', 'h-2').execute();
    t.advance(60_000);
    await t.dispatcher.drain();
    expect(receiver.received.map((r) => r.headers['x-powerwatch-id'])).toEqual(['h-1']);
    expect((await t.rowOf('h-1')).status).toBe('delivered');
    expect((await t.rowOf('h-2')).status).toBe('merged');
    expect(t.dispatcher.stats().held.webhook).toBe(0);
  });

  it('fails rows of a channel the deployment has not configured, clearly', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanup.push(() => receiver.close());
    const t = await setup(receiver);
    await enqueue(t.db, [row('e-1', { channel: 'email', target: 'ops@example.com' })], t.now());
    await t.dispatcher.start();
    await t.dispatcher.drain();
    expect(await t.rowOf('e-1')).toMatchObject({
      status: 'failed',
      tries: 1,
      last_error: 'channel not configured: email',
    });
  });

  it('sends at most `concurrency` at once per channel, in id order', async () => {
    const receiver = await startReceiver(() => 'hang');
    cleanup.push(() => receiver.close());
    const t = await setup(receiver, { concurrency: 2 });
    await enqueue(
      t.db,
      [row('c-1'), row('c-2'), row('c-3'), row('i-1', { channel: 'inbox', target: 'cust-a' })],
      t.now(),
    );
    const two = Promise.all([receiver.next(), receiver.next()]);
    const inbox = new Promise<string>((resolve) => t.bus.on('notification.delivered', (e) => resolve(e.delivery.key)));
    await t.dispatcher.start();
    const first = await two;
    const ids = first.map((r) => r.headers['x-powerwatch-id'] as string);
    // started in id order; on PostgreSQL each send's target check is its own round trip, so which of
    // the two reaches the receiver first is the network's
    expect(TEST_RECORDS_DIALECT === 'sqlite' ? ids : ids.sort()).toEqual(['c-1', 'c-2']);
    // the webhook's slots are taken; the inbox is not held up by them
    expect(await inbox).toBe('i-1');
    await recordsSettled(); // PostgreSQL: the inbox send's bookkeeping after its commit
    expect(t.dispatcher.stats().inFlight).toBe(2);
    expect(receiver.received).toHaveLength(2);
  });

  it('a read of the outbox answered after a send settled does not send that row again', async () => {
    // the race CI found in cluster mode (8 POSTs for 6 rows): a pass reads the outbox, a send in
    // flight commits `delivered` before the read's answer arrives, and the answer still shows the row
    // pending. The read's answer is held here until the send has settled.
    // (a Kysely plugin cannot hold it: it runs while the query keeps the connection, which on SQLite
    // is the one the send's recording needs)
    let holdRead: Promise<void> | undefined;
    let heldReads = 0;
    const holding = <T extends object>(builder: T): T =>
      new Proxy(builder, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (typeof value !== 'function') return value;
          if (prop === 'execute')
            return async (...args: unknown[]) => {
              const rows = (await (value as (...a: unknown[]) => Promise<unknown[]>).apply(target, args)) as Record<
                string,
                unknown
              >[];
              if (holdRead && rows[0] && 'key' in rows[0] && rows[0].status === 'pending') {
                heldReads++;
                await holdRead;
              }
              return rows;
            };
          return (...args: unknown[]) => {
            const r = (value as (...a: unknown[]) => unknown).apply(target, args);
            return r && typeof r === 'object' && 'execute' in r ? holding(r) : r;
          };
        },
      });
    const receiver = await startReceiver(() => ({ status: 204 }));
    cleanup.push(() => receiver.close());
    const base = await openTestRecords();
    cleanup.push(() => base.destroy());
    const sent: string[] = [];
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const slow: Channel = {
      async send(d) {
        sent.push(d.key);
        await answered;
        return { ok: true };
      },
    };
    const db = new Proxy(base, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (prop === 'selectFrom')
          return (table: 'notifications') =>
            table === 'notifications' ? holding(target.selectFrom(table)) : target.selectFrom(table);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const t = await setup(receiver, {}, db, { email: slow });
    await enqueue(t.db, [row('s-1', { channel: 'email', target: 'ops@example.com' })], t.now());
    const delivered = new Promise<void>((resolve) => t.bus.on('notification.delivered', () => resolve()));
    await t.dispatcher.start();
    expect(sent).toEqual(['s-1']);

    // a second read starts while s-1 is in flight; its answer waits
    let release!: () => void;
    holdRead = new Promise<void>((resolve) => (release = resolve));
    t.dispatcher.wake();
    // s-1 is answered and recorded delivered
    answer();
    await delivered;
    await recordsSettled();
    release();
    holdRead = undefined;
    await t.dispatcher.drain();
    // the read did see s-1 pending (the race happened), and s-1 went out once
    expect(heldReads).toBe(1);
    expect(sent).toEqual(['s-1']);
    expect(await t.rowOf('s-1')).toMatchObject({ status: 'delivered', tries: 1 });
  });

  it('a restart between enqueue and delivery still delivers, with the same key (at least once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-notify-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'records.sqlite');
    let answering = false;
    const receiver = await startReceiver(() => (answering ? { status: 200 } : 'hang'));
    cleanup.push(() => receiver.close());

    // first run: the send is in flight (the receiver has it, no answer yet) when the process stops
    const db1 = await openTestRecords({ file });
    const t1 = await setup(receiver, { stopTimeoutMs: 50 }, db1);
    await enqueue(db1, [row('r-1')], t1.now());
    const arrived = receiver.next();
    await t1.dispatcher.start();
    await arrived;
    await t1.dispatcher.stop();
    expect(await t1.rowOf('r-1')).toMatchObject({ status: 'pending', tries: 0 });
    await db1.destroy();

    // second run over the same file: the row is due and goes again
    answering = true;
    const db2 = await openTestRecords({ file });
    cleanup.push(() => db2.destroy());
    const t2 = await setup(receiver, {}, db2);
    await t2.dispatcher.start();
    await t2.dispatcher.drain();
    expect(await t2.rowOf('r-1')).toMatchObject({ status: 'delivered', tries: 1 });
    expect(receiver.received.map((r) => r.headers['x-powerwatch-id'])).toEqual(['r-1', 'r-1']);
  });
});
