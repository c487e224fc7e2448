import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessBus } from '../../core/bus.ts';
import { createCounters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { createEmailChannel, messageIdOf } from '../../notifications/channels/email.ts';
import { createDispatcher } from '../../notifications/dispatcher.ts';
import { ticketLink } from '../../notifications/links.ts';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { openTestRecords } from '../helpers/records.ts';
import { PASSWORD, startSmtp, USER } from './smtp.ts';

const FROM = 'PowerWatch <noreply@pw.example.com>';
const PUBLIC = 'https://pw.example.com';

const mail = (key: string, language: 'en' | 'zh', extra: Partial<NewNotification> = {}): NewNotification => {
  const link = ticketLink(PUBLIC, 42)!;
  return {
    key,
    channel: 'email',
    target: 'duty@example.com',
    kind: 'ticket.opened',
    language,
    urgent: true,
    ticketId: 42,
    subject: language === 'zh' ? '工单 42：市电中断（特急）' : 'Ticket 42: mains lost (urgent)',
    text: language === 'zh' ? `车辆 V1 市电中断。查看工单：${link}` : `Vehicle V1 lost mains. Open the ticket: ${link}`,
    html:
      language === 'zh'
        ? `<p>车辆 V1 市电中断。<a href="${link}">查看工单</a></p>`
        : `<p>Vehicle V1 lost mains. <a href="${link}">Open the ticket</a></p>`,
    ...extra,
  };
};

describe('email channel over a real SMTP server', () => {
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(smtp: Awaited<ReturnType<typeof startSmtp>>, password = PASSWORD) {
    const db = await openTestRecords();
    cleanup.push(() => db.destroy());
    const log = pino({ level: 'silent' });
    const bus = createInProcessBus<PlatformEvents>(log);
    const email = createEmailChannel({
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'starttls',
        user: USER,
        password,
        from: FROM,
        rejectUnauthorized: false,
      },
      timeoutMs: 5000,
      maxConnections: 2,
    });
    const dispatcher = createDispatcher(
      { db, channels: { email }, bus, log, counters: createCounters(), random: () => 0.5 },
      { maxTries: 3, backoffBaseMs: 1000, backoffMaxMs: 10_000, pollMs: 3_600_000, concurrency: 2 },
    );
    cleanup.push(() => dispatcher.stop());
    const rowOf = (key: string) =>
      db.selectFrom('notifications').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    return { db, dispatcher, rowOf };
  }

  it('delivers over STARTTLS with login, text and HTML, in English and Chinese, with the ticket link and the idempotency key', async () => {
    const smtp = await startSmtp();
    cleanup.push(() => smtp.close());
    const t = await setup(smtp);
    await enqueue(
      t.db,
      [
        mail('ticket:42:opened:duty:en', 'en'),
        mail('ticket:42:opened:duty:zh', 'zh', { target: 'zhiban@example.com' }),
      ],
      Date.now(),
    );
    await t.dispatcher.start();
    await t.dispatcher.drain();
    expect(smtp.arrived).toHaveLength(2);
    const byKey = new Map(smtp.arrived.map((a) => [a.mail.headers.get('x-powerwatch-id') as string, a]));

    const en = byKey.get('ticket:42:opened:duty:en')!;
    expect(en.secure).toBe(true); // STARTTLS happened before the login
    expect(en.user).toBe(USER);
    expect(en.rcpt).toEqual(['duty@example.com']);
    expect(en.mail.to).toMatchObject({ value: [{ address: 'duty@example.com' }] });
    expect(en.mail.from).toMatchObject({ value: [{ address: 'noreply@pw.example.com', name: 'PowerWatch' }] });
    expect(en.mail.subject).toBe('Ticket 42: mains lost (urgent)');
    expect(en.mail.headers.get('content-language')).toBe('en');
    expect(en.mail.messageId).toBe(messageIdOf('ticket:42:opened:duty:en', FROM));
    expect(en.mail.text).toContain('https://pw.example.com/#/tickets/42');
    expect(en.mail.html).toContain('<a href="https://pw.example.com/#/tickets/42">Open the ticket</a>');

    const zh = byKey.get('ticket:42:opened:duty:zh')!;
    expect(zh.rcpt).toEqual(['zhiban@example.com']);
    expect(zh.mail.subject).toBe('工单 42：市电中断（特急）');
    expect(zh.mail.headers.get('content-language')).toBe('zh-CN');
    expect(zh.mail.text).toContain('查看工单：https://pw.example.com/#/tickets/42');
    expect(zh.mail.html).toContain('查看工单');
    expect(zh.mail.messageId).not.toBe(en.mail.messageId);

    expect(await t.rowOf('ticket:42:opened:duty:en')).toMatchObject({ status: 'delivered', tries: 1 });
  });

  it('a refused mailbox (5xx) fails at once; a wrong password fails with the server’s answer; a server not there is tried again', async () => {
    const smtp = await startSmtp((rcpt) => (rcpt.startsWith('nobody@') ? 550 : undefined));
    cleanup.push(() => smtp.close());
    const t = await setup(smtp);
    await enqueue(
      t.db,
      [mail('m-550', 'en', { target: 'nobody@example.com' }), mail('m-bad', 'en', { target: 'not an address' })],
      Date.now(),
    );
    await t.dispatcher.start();
    await t.dispatcher.drain();
    expect(await t.rowOf('m-550')).toMatchObject({ status: 'failed', tries: 1 });
    expect((await t.rowOf('m-550')).last_error).toMatch(/550/);
    expect(await t.rowOf('m-bad')).toMatchObject({ status: 'failed', last_error: 'not an email address' });

    const wrong = await setup(smtp, 'wrong-password');
    await enqueue(wrong.db, [mail('m-535', 'en')], Date.now());
    await wrong.dispatcher.start();
    await wrong.dispatcher.drain();
    const r = await wrong.rowOf('m-535');
    expect(r).toMatchObject({ status: 'failed' });
    expect(r.last_error).toMatch(/535/);
    expect(r.last_error).not.toContain('wrong-password');

    // the pooled connections go with their dispatchers, then the server
    await Promise.all([t.dispatcher.stop(), wrong.dispatcher.stop()]);
    await smtp.close();
    const gone = await setup(smtp);
    await enqueue(gone.db, [mail('m-down', 'en')], Date.now());
    await gone.dispatcher.start();
    await gone.dispatcher.drain();
    expect(await gone.rowOf('m-down')).toMatchObject({ status: 'pending', tries: 1 });
  });
});
