import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { parseChannels } from '../../notifications/channel-config.ts';
import { enqueue, type NewNotification } from '../../notifications/outbox.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import { startReceiver } from '../notifications/receivers.ts';
import { expectNoSecrets } from './helpers.ts';

const SECRETS = {
  'the SMTP password': 'smtp-pass-Zq81-secret',
  'a webhook secret': 'webhook-secret-Hy27-0123456789',
  'a DingTalk signing secret': 'SECding-sign-Kp55-abcdef0123456789',
  'a DingTalk access token (in its URL)': 'dingtoken-Xr93-abcdef0123',
  'a WeCom robot key (in its URL)': 'wecomkey-Lm46-abcdef0123',
};

const row = (key: string, channel: NewNotification['channel'], target: string): NewNotification => ({
  key,
  channel,
  target,
  kind: 'ticket.opened',
  language: 'en',
  urgent: false,
  subject: 'subject',
  text: 'text',
});

/**
 * The delivery channels' secrets (SMTP password, webhook secrets, robots' signing secrets and the
 * tokens in their URLs) never reach the log: the platform with the production logger at trace level,
 * every channel failing in its own way (login refused, 500, 410, errcodes), the errors recorded in
 * the outbox too.
 */
describe('notification channel secrets never reach the log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-notify-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every channel into failures at trace level without a secret in the log or in last_error', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString('utf8'));
        cb();
      },
    });
    const smtp = new SMTPServer({
      secure: false,
      logger: false,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth: (_a, _s, cb) => cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 })),
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    let n = 0;
    const receiver = await startReceiver((r) => {
      if (r.url.pathname === '/hook') return { status: n++ === 0 ? 500 : 410 };
      if (r.url.pathname === '/robot/send')
        return { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' };
      return { status: 200, body: '{"errcode":93000,"errmsg":"invalid webhook url"}' };
    });
    writeFileSync(join(dir, 'smtp-password'), SECRETS['the SMTP password']);
    writeFileSync(join(dir, 'hook-secret'), SECRETS['a webhook secret']);
    writeFileSync(
      join(dir, 'ding-url'),
      `${receiver.url}/robot/send?access_token=${SECRETS['a DingTalk access token (in its URL)']}`,
    );
    const file = join(dir, 'channels.yaml');
    writeFileSync(
      file,
      [
        'smtp:',
        '  host: 127.0.0.1',
        `  port: ${(smtp.server.address() as AddressInfo).port}`,
        '  user: powerwatch',
        '  passwordFile: smtp-password',
        '  from: noreply@pw.example.com',
        '  rejectUnauthorized: false',
        'webhooks:',
        `  - { id: hook, url: "${receiver.url}/hook", secretFile: hook-secret }`,
        'robots:',
        `  - { id: ding, kind: dingtalk, urlFile: ding-url, secret: "${SECRETS['a DingTalk signing secret']}" }`,
        `  - { id: wecom, kind: wecom, url: "${receiver.url}/cgi-bin/webhook/send?key=${SECRETS['a WeCom robot key (in its URL)']}" }`,
      ].join('\n'),
    );
    const tp = await startTestPlatform(
      { NOTIFY_CHANNELS_FILE: file, NOTIFY_BACKOFF_BASE_MS: '10', NOTIFY_BACKOFF_MAX_MS: '100', NOTIFY_MAX_TRIES: '2' },
      { log: createLogger({ level: 'trace' }, stream) },
    );
    try {
      const p = tp.platform;
      const failed = new Set<string>();
      const allFailed = new Promise<void>((resolve) =>
        p.bus.on('notification.failed', (e) => {
          failed.add(e.delivery.key);
          if (failed.size === 4) resolve();
        }),
      );
      await enqueue(
        p.records,
        [
          row('s-mail', 'email', 'ops@example.com'),
          row('s-hook', 'webhook', 'hook'),
          row('s-ding', 'dingtalk', 'ding'),
          row('s-wecom', 'wecom', 'wecom'),
        ],
        Date.now(),
      );
      p.bus.emit('notification.enqueued', { count: 4 });
      await allFailed;
      const rows = await p.records
        .selectFrom('notifications')
        .select(['key', 'last_error', 'tries'])
        .orderBy('key')
        .execute();
      expect(rows.map((r) => [r.key, r.tries])).toEqual([
        ['s-ding', 1],
        ['s-hook', 2],
        ['s-mail', 1],
        ['s-wecom', 1],
      ]);
      expect(rows.find((r) => r.key === 's-hook')!.last_error).toMatch(/410/);
      expect(rows.find((r) => r.key === 's-mail')!.last_error).toMatch(/535/);
      expectNoSecrets(JSON.stringify(rows), SECRETS, 'the outbox’s last errors');
    } finally {
      await tp.close();
      await receiver.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
    const log = chunks.join('');
    expect(log).toContain('notification failed'); // the failures were logged, at trace level
    expectNoSecrets(log, SECRETS, 'the log');
  });

  it('a channels file error never repeats a secret', () => {
    const secret = 'short-Qw12';
    expect(() =>
      parseChannels(
        `webhooks:\n  - { id: h, url: "https://x.example/h", secret: "${secret}" }\n`,
        'channels.yaml',
        () => '',
      ),
    ).toThrow(/channels.yaml: webhooks.0.secret: must be at least 16 characters$/);
    try {
      parseChannels(
        `smtp: { host: h, from: a@b.c, user: u, password: "${secret}", passwordFile: x }\n`,
        'c.yaml',
        () => '',
      );
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('give password or passwordFile, not both');
      expect((err as Error).message).not.toContain(secret);
    }
  });
});
