import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlatformError } from '../core/errors.ts';

/**
 * The deployment's delivery channels (`NOTIFY_CHANNELS_FILE`, YAML): the SMTP server, the webhook
 * endpoints and the group robots. Secrets are given inline or, better, as a file (`passwordFile`,
 * `secretFile`, `urlFile`: read once at start, relative to the channels file); they are never logged
 * and never repeated in an error. See docs/notifications.md "Channels and their configuration".
 */
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
  error: 'must be 1–64 letters, digits, _ . - (starting with a letter or digit)',
});
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const customerId = z.string().min(1).max(64).optional();

const smtpSchema = z
  .strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** `starttls`: plain connection upgraded (required) with STARTTLS; `tls`: TLS from the start (465); `none`: neither (a local relay). */
    security: z.enum(['starttls', 'tls', 'none'], { error: 'must be starttls, tls or none' }).default('starttls'),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    from: z.string().min(3),
    /** PEM file of the CA that signed the server's certificate (a private CA). */
    caFile: z.string().min(1).optional(),
    /** Refuse a certificate no known CA signed (default true; false only for tests and labs). */
    rejectUnauthorized: z.boolean().default(true),
  })
  .refine((s) => !(s.password && s.passwordFile), { error: 'give password or passwordFile, not both' })
  .refine((s) => !s.user || s.password || s.passwordFile, { error: 'user needs password or passwordFile' });

const webhookSchema = z
  .strictObject({
    id,
    url: httpUrl,
    secret: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
    secretFile: z.string().min(1).optional(),
    customerId,
  })
  .refine((w) => !!w.secret !== !!w.secretFile, { error: 'give exactly one of secret or secretFile' });

const robotSchema = z
  .strictObject({
    id,
    kind: z.enum(['dingtalk', 'wecom'], { error: 'must be dingtalk or wecom' }),
    url: httpUrl.optional(),
    urlFile: z.string().min(1).optional(),
    /** DingTalk's signing secret (加签, starts with SEC); WeCom robots have none (the key is in the URL). */
    secret: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
    customerId,
  })
  .refine((r) => !!r.url !== !!r.urlFile, { error: 'give exactly one of url or urlFile' })
  .refine((r) => !(r.secret && r.secretFile), { error: 'give secret or secretFile, not both' })
  .refine((r) => r.kind === 'dingtalk' || !(r.secret || r.secretFile), { error: 'a wecom robot has no secret' });

const fileSchema = z.strictObject({
  smtp: smtpSchema.optional(),
  webhooks: z.array(webhookSchema).default([]),
  robots: z.array(robotSchema).default([]),
});

export interface SmtpSettings {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  user?: string;
  password?: string;
  from: string;
  ca?: string;
  rejectUnauthorized: boolean;
}
export interface WebhookEndpoint {
  id: string;
  url: string;
  secret: string;
  customerId: string | null;
}
export interface Robot {
  id: string;
  kind: 'dingtalk' | 'wecom';
  url: string;
  secret: string | null;
  customerId: string | null;
}
export interface ChannelSettings {
  smtp: SmtpSettings | null;
  webhooks: WebhookEndpoint[];
  robots: Robot[];
}

/** No file: only the console inbox delivers. */
export const NO_CHANNELS: ChannelSettings = { smtp: null, webhooks: [], robots: [] };

const fail = (source: string, message: string) =>
  new PlatformError('CONFIG_INVALID', `invalid channels file: ${source}: ${message}`);

/** Parses the channels file's text; `readSecret(path, where)` reads a secret file. */
export function parseChannels(
  text: string,
  source: string,
  readSecret: (path: string, where: string) => string,
): ChannelSettings {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw fail(source, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    // zod messages here never carry the value, so a secret given in the wrong place is not repeated
    throw fail(source, `${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const f = parsed.data;
  const ids = new Set<string>();
  const unique = (kind: string, index: number, value: string) => {
    if (ids.has(value))
      throw fail(source, `${kind}.${index}.id: "${value}" is used twice (webhook and robot ids share one space)`);
    ids.add(value);
  };
  const secret = (inline: string | undefined, file: string | undefined, where: string) =>
    inline ?? (file ? readSecret(file, where) : undefined);
  const smtp: SmtpSettings | null = f.smtp
    ? {
        host: f.smtp.host,
        port: f.smtp.port,
        security: f.smtp.security,
        ...(f.smtp.user ? { user: f.smtp.user } : {}),
        ...(f.smtp.user ? { password: secret(f.smtp.password, f.smtp.passwordFile, 'smtp.passwordFile')! } : {}),
        from: f.smtp.from,
        ...(f.smtp.caFile ? { ca: readSecret(f.smtp.caFile, 'smtp.caFile') } : {}),
        rejectUnauthorized: f.smtp.rejectUnauthorized,
      }
    : null;
  const webhooks = f.webhooks.map((w, i) => {
    unique('webhooks', i, w.id);
    return {
      id: w.id,
      url: w.url,
      secret: secret(w.secret, w.secretFile, `webhooks.${i}.secretFile`)!,
      customerId: w.customerId ?? null,
    };
  });
  const robots = f.robots.map((r, i) => {
    unique('robots', i, r.id);
    const url = r.url ?? secret(undefined, r.urlFile, `robots.${i}.urlFile`)!;
    if (!/^https?:\/\//.test(url)) throw fail(source, `robots.${i}.urlFile: the file does not hold an http(s) URL`);
    return {
      id: r.id,
      kind: r.kind,
      url,
      secret: secret(r.secret, r.secretFile, `robots.${i}.secretFile`) ?? null,
      customerId: r.customerId ?? null,
    };
  });
  return { smtp, webhooks, robots };
}

/** Reads and validates `NOTIFY_CHANNELS_FILE`; secret files are read relative to it. Errors name the file and the key. */
export function loadChannelsFile(file: string): ChannelSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fail(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const base = dirname(resolve(file));
  return parseChannels(text, file, (path, where) => {
    try {
      const value = readFileSync(resolve(base, path), 'utf8').trim();
      if (!value) throw fail(file, `${where}: ${path} is empty`);
      return value;
    } catch (err) {
      if (err instanceof PlatformError) throw err;
      throw fail(file, `${where}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  });
}
