import { execFile, spawn } from 'node:child_process';
import Fastify from 'fastify';
import { expect } from 'vitest';
import { ERROR_CODES } from '../../web/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { securityHeaders, webConsole } from '../../web/app.ts';
import type { WebContext } from '../../web/context.ts';
import type { Access } from '../../web/auth/guard.ts';
import type { TestPlatform } from '../helpers/platform.ts';
import { startTestPlatform, withTimeout } from '../helpers/platform.ts';
import { startWeb } from '../web/helpers.ts';

// ---------------------------------------------------------------------------------------------
// Routes, as the app itself declares them

export interface DeclaredRoute {
  method: string;
  /** Fastify's form, e.g. `/api/vehicles/:id`. */
  url: string;
  /** OpenAPI's form, e.g. `/api/vehicles/{id}`. */
  path: string;
  /** Open to everybody (login, reset links): no session, no CSRF token. */
  public: boolean;
  /** The API token scope that opens it, if any (web/auth/guard.ts `Access.token`). */
  tokenScope: string | undefined;
}

/**
 * Every route the console registers, from Fastify's onRoute hook on an instance built with the
 * same plugin: a route hidden from the OpenAPI document is still listed. HEAD routes that only
 * mirror a GET are left out.
 */
export async function declaredRoutes(ctx: WebContext): Promise<DeclaredRoute[]> {
  const seen: DeclaredRoute[] = [];
  const app = Fastify({ logger: false });
  app.addHook('onRoute', (r) => {
    const access = (r.config as { access?: Access } | undefined)?.access;
    for (const method of [r.method].flat())
      seen.push({
        method,
        url: r.url,
        path: r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
        public: access === 'public',
        tokenScope: access && access !== 'public' ? access.token : undefined,
      });
  });
  await app.register(webConsole, { ctx, bootstrapAdmin: false });
  await app.ready();
  await app.close();
  const gets = new Set(seen.filter((r) => r.method === 'GET').map((r) => r.url));
  const unique = new Map<string, DeclaredRoute>();
  for (const r of seen) if (!(r.method === 'HEAD' && gets.has(r.url))) unique.set(`${r.method} ${r.url}`, r);
  return [...unique.values()];
}

export const routeKey = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/** The third-party documentation UI (swagger-ui): public, static, no data. */
export const isDocsRoute = (r: DeclaredRoute) => r.url === '/docs' || r.url.startsWith('/docs/');

/** Public static content, which takes no input: the API documentation (swagger-ui) and the console's single-page app. */
export const isStaticRoute = (r: DeclaredRoute) =>
  isDocsRoute(r) || r.url === '/' || r.url === '/*' || r.url.startsWith('/assets/');

/** Every route the app declares, from a throwaway unseeded instance (for tables built before beforeAll). */
export async function appRoutes(): Promise<DeclaredRoute[]> {
  const w0 = await startWeb({ seed: false });
  try {
    return await declaredRoutes(w0.ctx);
  } finally {
    await w0.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Answers

/**
 * An error answer is exactly `{error:{code, message}}` with a code of the API (web/errors.ts), and
 * for a schema's VALIDATION_FAILED also `fields: [{path, message}]` naming each wrong field.
 */
export function expectErrorShape(res: { body: string }, what = ''): { code: string; message: string } {
  const body = res.body;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new Error(`${what}: the error answer is not JSON: ${body.slice(0, 200)}`);
  }
  const err = (json as { error: { code: string; message: string; fields?: unknown } }).error;
  // a schema's VALIDATION_FAILED names its fields; one from the URL parser (a malformed URL) cannot
  if (err?.code === 'VALIDATION_FAILED' && err.fields !== undefined)
    expect(json, what).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: expect.any(String),
        fields: expect.arrayContaining([
          { path: expect.stringMatching(/^(body|query|path|header)/), message: expect.any(String) },
        ]),
      },
    });
  else expect(json, what).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
  expect(ERROR_CODES as readonly string[], `${what}: code ${err.code}`).toContain(err.code);
  return err;
}

/** The security headers helmet sets on every API answer; every other answer must carry the same. */
export async function referenceSecurityHeaders(): Promise<Record<string, string>> {
  return securityHeaders();
}

/** `ownCsp`: the page sets a CSP of its own (swagger-ui, with its script hashes): checked for the essentials only. */
export function expectSecurityHeaders(
  headers: Record<string, unknown> | Headers,
  reference: Record<string, string>,
  what: string,
  options: { ownCsp?: boolean } = {},
): void {
  const get = (name: string) =>
    headers instanceof Headers ? (headers.get(name) ?? undefined) : (headers[name] as string | undefined);
  // the ones ASVS asks for, spelled out
  expect(get('content-security-policy'), `${what}: CSP`).toMatch(/default-src 'self'/);
  expect(get('content-security-policy'), `${what}: CSP frame-ancestors`).toMatch(/frame-ancestors 'none'/);
  expect(get('x-content-type-options'), `${what}: X-Content-Type-Options`).toBe('nosniff');
  expect(get('x-frame-options'), `${what}: X-Frame-Options`).toBe('SAMEORIGIN');
  expect(get('referrer-policy'), `${what}: Referrer-Policy`).toBe('no-referrer');
  // and every other one helmet sets, with the same value
  for (const [name, value] of Object.entries(reference))
    if (!(options.ownCsp && name === 'content-security-policy')) expect(get(name), `${what}: ${name}`).toBe(value);
  // no CORS: nothing grants another origin access
  expect(get('access-control-allow-origin'), `${what}: Access-Control-Allow-Origin`).toBeUndefined();
  expect(get('access-control-allow-credentials'), `${what}: Access-Control-Allow-Credentials`).toBeUndefined();
  expect(get('x-powered-by'), `${what}: X-Powered-By`).toBeUndefined();
}

// ---------------------------------------------------------------------------------------------
// Secrets

/** The ways a secret could end up in a log line: as is, JSON-escaped, base64, hex, as a Buffer's byte list. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [
    secret,
    JSON.stringify(secret).slice(1, -1),
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    `[${[...bytes].join(',')}]`,
    encodeURIComponent(secret),
  ];
}

/** Fails naming the secret (by its label, never its value) when any form of it is in `text`. */
export function expectNoSecrets(text: string, secrets: Record<string, string>, where: string): void {
  const found: string[] = [];
  for (const [label, secret] of Object.entries(secrets)) {
    if (secret.length < 8) throw new Error(`${label} is too short to search for safely`);
    for (const form of secretForms(secret)) if (text.includes(form)) found.push(label);
  }
  expect([...new Set(found)], `secrets found in ${where}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// A platform with a clock the test moves

export interface ClockedPlatform extends TestPlatform {
  /** Moves the platform's clock (stopped otherwise) forward; the broker's failed-login throttle reads it. */
  advance(ms: number): void;
}

/** The whole platform like startTestPlatform, but on a clock that stands still unless the test moves it. */
export async function startClockedPlatform(
  env: Record<string, string> = {},
  options: { log?: Logger } = {},
): Promise<ClockedPlatform> {
  const start = Date.now();
  let skew = 0;
  const tp = await startTestPlatform(env, { ...options, now: () => start + skew });
  return { ...tp, advance: (ms) => void (skew += ms) };
}

// ---------------------------------------------------------------------------------------------
// Debian's mosquitto clients as third-party MQTT clients

export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a mosquitto tool to its end (bounded by `timeoutMs`); never rejects on a non-zero exit. */
export function runTool(bin: string, args: string[], timeoutMs = 15_000): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/**
 * Starts mosquitto_sub in debug mode and resolves once its SUBACK arrived, with the granted codes
 * as the broker sent them; `done` resolves when the tool exits.
 */
export async function startMosquittoSub(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ granted: number[]; done: Promise<ToolResult>; kill(): void }> {
  // stdbuf: line-buffered stdout, so the SUBACK line is seen while it runs (a pipe is block-buffered)
  const child = spawn('/usr/bin/stdbuf', ['-oL', MOSQUITTO_SUB, '-d', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const done = new Promise<ToolResult>((resolve) =>
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  const granted = new Promise<number[]>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const m = /Subscribed \(mid: \d+\): ([\d, ]+)/.exec(stdout);
      if (m) resolve(m[1]!.split(',').map((x) => Number(x.trim())));
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('close', () => reject(new Error(`mosquitto_sub exited before its SUBACK: ${stderr}${stdout}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  void done.finally(() => clearTimeout(timer));
  return {
    granted: await withTimeout(granted, timeoutMs, 'the SUBACK of mosquitto_sub'),
    done,
    kill: () => child.kill('SIGTERM'),
  };
}

/** The messages mosquitto_sub -d -v printed: lines "topic payload" that are not its debug lines. */
export function printedMessages(stdout: string): { topic: string; payload: string }[] {
  return stdout
    .split('\n')
    .filter((l) => l && !/^Client \S+ (sending|received) /.test(l) && !l.startsWith('Subscribed (mid'))
    .map((l) => {
      const i = l.indexOf(' ');
      return i < 0 ? { topic: l, payload: '' } : { topic: l.slice(0, i), payload: l.slice(i + 1) };
    });
}
