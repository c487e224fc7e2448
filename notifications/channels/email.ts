import { createHash } from 'node:crypto';
import type nodemailerModule from 'nodemailer';
import { lazyModule } from '../../core/lazy-module.ts';
import type { SmtpSettings } from '../channel-config.ts';
import { describeError, permanent, retry, type Channel } from './channel.ts';

/** nodemailer, loaded when an email channel is configured (core/lazy-module.ts). */
const nodemailer = lazyModule<typeof nodemailerModule>('nodemailer');

/** A plain address: one @, no spaces or angle brackets (the target is never parsed as a display name or a list). */
const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

/** The Message-ID of a delivery: the same for every try of one key, so a mail system can drop the repeats. */
export function messageIdOf(key: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'powerwatch.invalid';
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 40)}@${domain}>`;
}

/**
 * Email over SMTP (nodemailer, a pooled connection): STARTTLS required (`starttls`), TLS from the
 * start (`tls`) or neither (`none`, a local relay), with login when a user is configured. Plain text
 * and HTML (when the row has it); `Content-Language` from the row; `Message-ID` and
 * `X-Powerwatch-Id` carry the idempotency key. A 5xx answer (no such mailbox, refused login) fails
 * at once; 4xx and connection problems are tried again.
 */
export function createEmailChannel(options: {
  smtp: SmtpSettings;
  timeoutMs: number;
  maxConnections: number;
}): Channel {
  const { smtp } = options;
  const transport = nodemailer().createTransport({
    pool: true,
    maxConnections: options.maxConnections,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    tls: { rejectUnauthorized: smtp.rejectUnauthorized, ...(smtp.ca ? { ca: smtp.ca } : {}) },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    logger: false,
    debug: false,
  });
  return {
    async send(d) {
      if (!ADDRESS.test(d.target)) return permanent('not an email address');
      try {
        await transport.sendMail({
          from: smtp.from,
          to: d.target,
          subject: d.subject,
          text: d.body,
          ...(d.html ? { html: d.html } : {}),
          messageId: messageIdOf(d.key, smtp.from),
          headers: {
            'X-Powerwatch-Id': d.key,
            'Content-Language': d.language === 'zh' ? 'zh-CN' : 'en',
            ...(d.urgent ? { Importance: 'high', 'X-Priority': '1' } : {}),
          },
        });
        return { ok: true };
      } catch (err) {
        const code = (err as { responseCode?: unknown }).responseCode;
        const error = describeError(err);
        return typeof code === 'number' && code >= 500 ? permanent(error) : retry(error);
      }
    },
    async close() {
      transport.close();
    },
  };
}
