import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadChannelsFile, parseChannels } from '../../notifications/channel-config.ts';

const noFiles = () => {
  throw new Error('no secret files here');
};

describe('the channels file (NOTIFY_CHANNELS_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-channels-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads SMTP, webhooks and robots, with secret files relative to the file', () => {
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'smtp'), 'smtp-secret-1\n');
    writeFileSync(join(dir, 'secrets', 'hook'), 'hook-secret-0123456789\n');
    writeFileSync(join(dir, 'secrets', 'ding-url'), 'https://oapi.dingtalk.com/robot/send?access_token=abc\n');
    const file = join(dir, 'channels.yaml');
    writeFileSync(
      file,
      `smtp:
  host: smtp.example.com
  user: pw
  passwordFile: secrets/smtp
  from: "PowerWatch <noreply@example.com>"
webhooks:
  - { id: ops-hook, url: "https://ops.example.com/h", secretFile: secrets/hook, customerId: C1 }
robots:
  - { id: duty, kind: dingtalk, urlFile: secrets/ding-url, secret: SECabc }
  - { id: unit, kind: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k" }
`,
    );
    expect(loadChannelsFile(file)).toEqual({
      smtp: {
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        user: 'pw',
        password: 'smtp-secret-1',
        from: 'PowerWatch <noreply@example.com>',
        rejectUnauthorized: true,
      },
      webhooks: [
        { id: 'ops-hook', url: 'https://ops.example.com/h', secret: 'hook-secret-0123456789', customerId: 'C1' },
      ],
      robots: [
        {
          id: 'duty',
          kind: 'dingtalk',
          url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
          secret: 'SECabc',
          customerId: null,
        },
        {
          id: 'unit',
          kind: 'wecom',
          url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k',
          secret: null,
          customerId: null,
        },
      ],
    });
  });

  it.each([
    ['smtp: { host: h, from: a@b.c, security: ssl }', 'smtp.security: must be starttls, tls or none'],
    ['smtp: { host: h, from: a@b.c, user: u }', 'smtp: user needs password or passwordFile'],
    ['webhooks: [{ id: h, url: "https://x/h" }]', 'webhooks.0: give exactly one of secret or secretFile'],
    [
      'webhooks: [{ id: "bad id", url: "https://x/h", secret: "0123456789abcdef" }]',
      'webhooks.0.id: must be 1–64 letters',
    ],
    ['robots: [{ id: r, kind: slack, url: "https://x" }]', 'robots.0.kind: must be dingtalk or wecom'],
    ['robots: [{ id: r, kind: wecom, url: "https://x", secret: s }]', 'robots.0: a wecom robot has no secret'],
    [
      'webhooks: [{ id: same, url: "https://x/h", secret: "0123456789abcdef" }]\nrobots: [{ id: same, kind: wecom, url: "https://x" }]',
      'robots.0.id: "same" is used twice',
    ],
    ['pager: {}', 'Unrecognized key'],
    ['webhooks: [', 'not valid YAML'],
  ])('refuses %j naming the key', (text, message) => {
    expect(() => parseChannels(text, 'channels.yaml', noFiles)).toThrow(message);
    expect(() => parseChannels(text, 'channels.yaml', noFiles)).toThrow(/^invalid channels file: channels.yaml: /);
  });

  it('an empty file configures nothing but the inbox', () => {
    expect(parseChannels('', 'c.yaml', noFiles)).toEqual({ smtp: null, webhooks: [], robots: [] });
  });
});
