import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, NO_RATE_LIMITS, startWeb, type Agent, type TestWeb } from '../web/helpers.ts';
import {
  appRoutes,
  expectErrorShape,
  expectSecurityHeaders,
  isStaticRoute,
  referenceSecurityHeaders,
  routeKey,
  type DeclaredRoute,
} from './helpers.ts';

/**
 * Invalid input against every route (ASVS V5.1, V13.1): wrong types, missing and unknown fields,
 * bad JSON, other content types, oversize bodies, bad ids in the path, bad query values, other
 * methods. Every answer is a 4xx `{error:{code, message}}` with a stable code and the security
 * headers — never a 500 — and none of the requests has any effect. The routes and their schemas
 * come from the app (its OpenAPI document, checked against Fastify's own route list so that no
 * route escapes by hiding from the document).
 */

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  pattern?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
}
interface Operation {
  method: string;
  path: string;
  params: { name: string; in: 'path' | 'query'; schema: JsonSchema; required?: boolean }[];
  body?: { required: boolean; schema: JsonSchema };
}

const ROUTES: DeclaredRoute[] = await appRoutes();

const nullable = (s: JsonSchema) =>
  s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')) || !!s.anyOf?.some(nullable);
const typeOf = (s: JsonSchema): string | undefined =>
  typeof s.type === 'string'
    ? s.type
    : Array.isArray(s.type)
      ? s.type.find((t) => t !== 'null')
      : s.anyOf?.map(typeOf).find(Boolean);

/** Values of the wrong JSON type for a schema. */
function wrongTypes(s: JsonSchema): unknown[] {
  const t = typeOf(s);
  const all: Record<string, unknown> = {
    string: 'text',
    number: 12.5,
    integer: 7,
    boolean: true,
    array: [],
    object: {},
    null: null,
  };
  const wrong = Object.entries(all)
    .filter(([k]) => k !== t && !(t === 'number' && k === 'integer') && !(k === 'null' && nullable(s)))
    .map(([, v]) => v);
  if (s.enum) wrong.push('not-one-of-them');
  if (s.pattern) wrong.push('!! not the pattern !!');
  if (t === 'integer') wrong.push(1.5, -1e308, 1e308);
  if (t === 'string') wrong.push('x'.repeat(10_000));
  return wrong;
}

/** A well-formed id for a path parameter that names nothing that exists. */
function absentId(s: JsonSchema): string {
  if (typeOf(s) === 'integer' || typeOf(s) === 'number') return '987654';
  for (const c of ['nobody.here', 'ZZZ-NOPE', 'V-NOPE']) if (!s.pattern || new RegExp(s.pattern).test(c)) return c;
  return 'V-NOPE';
}

const BAD_PATH_VALUES = [
  '%ZZ',
  '%',
  '%E0%A4%A',
  'a'.repeat(65),
  'a'.repeat(150),
  'a'.repeat(3000),
  '..',
  '%2e%2e',
  'a%2Fb',
  '%00',
  '%20',
  '-1',
  '0',
  '1.5',
  '1e400',
  '9'.repeat(30),
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  'prototype',
  '%E8%BD%A6%E8%BE%86',
  '%F0%9F%9A%91',
  "'%20OR%201=1--",
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  'null',
];

const NOT_JSON = ['{"a":', '{', 'nul', '\u0000', '{"a":1}}', "{'a':1}", '{"a":1,}', '\uFEFF{"a":1'];

describe(
  'invalid input against every route: 4xx with a stable code, never a 500, never an effect',
  { timeout: 60_000 },
  () => {
    let w: TestWeb;
    let admin: Agent;
    /** The customer-only routes (answering a survey, confirming a step, signing a service order off) are sent as a customer, so only their input can be wrong. */
    let customer: Agent;
    let ops: Operation[];
    let reference: Record<string, string>;
    const cap = captureLogger('warn');
    const seen: { what: string; status: number; code: string }[] = [];

    beforeAll(async () => {
      // hundreds of bad requests to each route as one account: the rate limits are not what is tested here
      w = await startWeb({ log: cap.log, options: { rateLimits: NO_RATE_LIMITS } });
      admin = await w.login('admin');
      customer = await w.login('cust-a');
      reference = await referenceSecurityHeaders();
      const doc = (await w.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
        paths: Record<
          string,
          Record<
            string,
            {
              parameters?: Operation['params'];
              requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
            }
          >
        >;
      };
      ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({
          method: method.toUpperCase(),
          path,
          params: op.parameters ?? [],
          ...(op.requestBody
            ? {
                body: {
                  required: op.requestBody.required ?? false,
                  schema: op.requestBody.content['application/json']!.schema,
                },
              }
            : {}),
        })),
      );
    });
    afterAll(async () => w?.close());

    it('every route the app declares is in its OpenAPI document (nothing escapes the schema-driven checks)', () => {
      const documented = new Set(ops.map((o) => `${o.method} ${o.path}`));
      const missing = ROUTES.filter((r) => !isStaticRoute(r) && !documented.has(`${r.method} ${r.path}`)).map(routeKey);
      expect(missing).toEqual([]);
      expect(ops.length).toBeGreaterThan(30);
    });

    const urlOf = (op: Operation, path: Record<string, string> = {}, query = '') =>
      op.path.replace(
        /\{(\w+)\}/g,
        (_m, name: string) => path[name] ?? absentId(op.params.find((p) => p.name === name && p.in === 'path')!.schema),
      ) + query;

    /** Sends a raw request as the admin (allowed everywhere), so that only the input can be wrong. */
    function send(
      method: string,
      url: string,
      payload?: string | Buffer,
      contentType?: string,
    ): Promise<LightMyRequestResponse> {
      const who =
        method === 'POST' &&
        /^\/api\/(tickets\/[^/]+\/(survey|mode-steps\/[^/]+\/confirm)|service-orders\/[^/]+\/sign-off)(\?|$)/.test(url)
          ? customer
          : admin;
      return w.app.inject({
        method: method as 'GET',
        url,
        cookies: { '__Host-pw_session': who.cookie },
        headers: { 'x-csrf-token': who.csrf, ...(contentType ? { 'content-type': contentType } : {}) },
        ...(payload !== undefined ? { payload } : {}),
      });
    }

    function expectRefused(res: LightMyRequestResponse, what: string, codes?: string[]): void {
      expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
      const err = expectErrorShape(res, what);
      if (codes) expect(codes, `${what}: ${err.code} ${err.message}`).toContain(err.code);
      expectSecurityHeaders(res.headers, reference, what);
      if (/^[A-Z]+ \/api\//.test(what)) expect(res.headers['cache-control'], what).toBe('no-store');
      seen.push({ what, status: res.statusCode, code: err.code });
    }

    const bodyFor = (op: Operation) => (op.body ? '{}' : undefined);
    const json = 'application/json';

    it('bad ids in the path: 400 (or 404 for a well-formed id that names nothing)', async () => {
      for (const op of ops) {
        for (const p of op.params.filter((x) => x.in === 'path')) {
          for (const bad of BAD_PATH_VALUES) {
            const url = op.path.replace(/\{(\w+)\}/g, (_m, name: string) =>
              name === p.name ? bad : absentId(op.params.find((x) => x.name === name)!.schema),
            );
            // a dot segment is resolved before routing: `/api/tickets/../pages` is `/api/pages`, another route
            if (new URL(url, 'http://x').pathname !== url.split('?')[0]) continue;
            const res = await send(op.method, url, bodyFor(op), op.body ? json : undefined);
            expectRefused(res, `${op.method} ${op.path} with ${p.name}=${bad.slice(0, 20)}`, [
              'VALIDATION_FAILED',
              'NOT_FOUND',
              'VEHICLE_NOT_FOUND',
              'TICKET_NOT_FOUND',
              'SERVICE_ORDER_NOT_FOUND',
              'ORDER_RECORD_NOT_FOUND',
              'ALARM_NOT_FOUND',
              'ACCOUNT_NOT_FOUND',
              'CUSTOMER_NOT_FOUND',
              'PLAN_NOT_FOUND',
              'COMMAND_NOT_FOUND',
              'SESSION_NOT_FOUND',
              'STEP_NOT_FOUND',
              'DUTY_SHIFT_NOT_FOUND',
              'NOTIFICATION_NOT_FOUND',
              'NOTIFY_TARGET_NOT_FOUND',
              'LOGIN_SESSION_NOT_FOUND',
              'TOKEN_NOT_FOUND',
              'CONTACT_NOT_FOUND',
              'PAGE_NOT_FOUND',
              'TOOL_NOT_FOUND',
              'SUPPLIER_NOT_FOUND',
              'FEEDBACK_NOT_FOUND',
              'PARTNER_NOT_FOUND',
              'PARTNER_DISPATCH_NOT_FOUND',
              'PERSON_NOT_FOUND',
            ]);
          }
        }
      }
    });

    it('bad query strings: unknown and repeated parameters, wrong types and values', async () => {
      for (const op of ops) {
        const query = op.params.filter((x) => x.in === 'query');
        // a route that takes no query (no schema) ignores one; one that takes a query refuses anything unknown
        if (op.method !== 'GET' || query.length === 0) continue;
        expectRefused(await send('GET', urlOf(op, {}, '?zzz=1')), `${op.method} ${op.path}?zzz=1`, [
          'VALIDATION_FAILED',
        ]);
        expectRefused(
          await send('GET', urlOf(op, {}, '?__proto__=x&constructor=y')),
          `${op.method} ${op.path}?__proto__`,
          ['VALIDATION_FAILED'],
        );
        for (const q of query) {
          const s = q.schema;
          const strict = [`${q.name}=a&${q.name}=b`, `${q.name}[]=1`];
          if (typeOf(s) === 'integer')
            strict.push(
              `${q.name}=abc`,
              `${q.name}=1.5`,
              `${q.name}=-1`,
              `${q.name}=1e999`,
              `${q.name}=${'9'.repeat(30)}`,
              `${q.name}=`,
            );
          if (s.enum) strict.push(`${q.name}=zzz`, `${q.name}=`);
          if (s.pattern) strict.push(`${q.name}=${encodeURIComponent('!!bad!!')}`, `${q.name}=${'a'.repeat(200)}`);
          if (/^(since|until|from|to)$/.test(q.name))
            strict.push(`${q.name}=yesterday`, `${q.name}=${'9'.repeat(20)}`, `${q.name}=275760-09-14T00:00:00Z`);
          for (const v of strict)
            expectRefused(await send('GET', urlOf(op, {}, `?${v}`)), `${op.method} ${op.path}?${v.slice(0, 40)}`, [
              'VALIDATION_FAILED',
            ]);
          // anything else: any answer but a 500
          for (const v of ['%00', '%ZZ', 'x'.repeat(5000), '%E8%BD%A6', '<script>', "' OR 1=1--", 'true', 'null']) {
            const res = await send('GET', urlOf(op, {}, `?${q.name}=${v}`));
            expect(
              res.statusCode,
              `${op.method} ${op.path}?${q.name}=${v.slice(0, 20)}: ${res.body.slice(0, 200)}`,
            ).toBeLessThan(500);
            if (res.statusCode >= 400) expectRefused(res, `${op.method} ${op.path}?${q.name}=${v.slice(0, 20)}`);
          }
        }
      }
    });

    it('bodies: not JSON, other content types, oversize — refused before any handler, on every route that takes a body', async () => {
      for (const op of ops.filter((o) => !['GET', 'HEAD'].includes(o.method))) {
        const url = urlOf(op);
        const what = `${op.method} ${op.path}`;
        // guests only: the admin sending these is refused (403) before any body is read
        if (op.path === '/api/guest/logout') continue;
        if (op.path.endsWith('/photos')) {
          // a photo upload takes an image, never JSON or a form: anything else is its own 415, too big its own 413
          for (const type of [
            json,
            'text/plain',
            'multipart/form-data; boundary=x',
            'application/octet-stream',
            'image/gif',
          ])
            expectRefused(await send(op.method, url, '{"a":1}', type), `${what} as ${type}`, [
              'PHOTO_TYPE_UNSUPPORTED',
            ]);
          const big = Buffer.alloc(5 * 1024 * 1024 + 1);
          Buffer.from('89504e470d0a1a0a', 'hex').copy(big);
          expectRefused(await send(op.method, url, big, 'image/png'), `${what} over 5 MB`, ['PHOTO_TOO_LARGE']);
          continue;
        }
        for (const bad of NOT_JSON)
          expectRefused(await send(op.method, url, bad, json), `${what} body ${JSON.stringify(bad)}`, ['INVALID_JSON']);
        expectRefused(await send(op.method, url, '', json), `${what} empty JSON body`, ['INVALID_JSON']);
        for (const type of [
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'text/html',
          'application/json-patch+json',
          'application/octet-stream',
        ]) {
          expectRefused(await send(op.method, url, '{"a":1}', type), `${what} as ${type}`, ['UNSUPPORTED_MEDIA_TYPE']);
        }
        expectRefused(
          await send(op.method, url, JSON.stringify({ filler: 'x'.repeat(300 * 1024) }), json),
          `${what} 300 KiB`,
          ['PAYLOAD_TOO_LARGE'],
        );
        expectRefused(
          await send(op.method, url, '['.repeat(200_000) + ']'.repeat(200_000), json),
          `${what} 400 KB of nesting`,
          ['PAYLOAD_TOO_LARGE'],
        );
      }
    });

    it('bodies of the right kind but the wrong shape: every field with every wrong type, unknown fields, missing bodies, prototype keys, deep nesting, huge numbers', async () => {
      for (const op of ops.filter((o) => o.body)) {
        const url = urlOf(op);
        const what = `${op.method} ${op.path}`;
        const schema = op.body!.schema.anyOf?.find((s) => typeOf(s) === 'object') ?? op.body!.schema;
        const invalid: [string, string][] = [
          ['unknown field', JSON.stringify({ zzz: 1 })],
          ['__proto__', '{"__proto__":{"role":"admin","isAdmin":true}}'],
          ['constructor.prototype', '{"constructor":{"prototype":{"role":"admin"}}}'],
          ['deep nesting', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)],
          ['a huge number', '{"zzz":1e400}'],
          ['an array', '[]'],
          ['a string', '"text"'],
          ['a number', '123'],
          ['a boolean', 'true'],
        ];
        if (!nullable(op.body!.schema)) invalid.push(['null', 'null']);
        for (const [name, prop] of Object.entries(schema.properties ?? {})) {
          for (const v of wrongTypes(prop))
            invalid.push([`${name}=${JSON.stringify(v).slice(0, 20)}`, JSON.stringify({ [name]: v })]);
        }
        for (const [name, payload] of invalid)
          expectRefused(await send(op.method, url, payload, json), `${what} ${name}`, [
            'VALIDATION_FAILED',
            'INVALID_JSON',
            'PAYLOAD_TOO_LARGE',
          ]);
        if (op.body!.required && !nullable(op.body!.schema))
          expectRefused(await send(op.method, url), `${what} without a body`, ['VALIDATION_FAILED', 'INVALID_JSON']);
      }
    });

    it('methods a path does not have: 404 NOT_FOUND in the same error shape', async () => {
      const byPath = new Map<string, Set<string>>();
      for (const op of ops) byPath.set(op.path, (byPath.get(op.path) ?? new Set()).add(op.method));
      for (const [path, methods] of byPath) {
        for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE']) {
          if (methods.has(m) || (m === 'HEAD' && methods.has('GET'))) continue;
          const op = ops.find((o) => o.path === path)!;
          expectRefused(
            await send(
              m,
              urlOf(op),
              m === 'GET' || m === 'TRACE' ? undefined : '{}',
              m === 'GET' || m === 'TRACE' ? undefined : json,
            ),
            `${m} ${path}`,
            ['NOT_FOUND'],
          );
        }
      }
    });

    it('nothing above was a 500, reached a handler that changed anything, or logged an error', async () => {
      expect(seen.length).toBeGreaterThan(1000);
      expect(w.counters.get('web.requests', '500')).toBe(0);
      expect(cap.lines().filter((l) => Number(l.level) >= 50)).toEqual([]);
      // the admin session is still alive (no logout got through), nothing was created, changed or removed
      expect((await admin.get('/api/auth/session')).statusCode).toBe(200);
      expect((await w.ctx.audit.list()).filter((e) => !e.action.startsWith('login'))).toEqual([]);
      expect((await w.vehicles.list()).map((v) => v.id)).toEqual(['VA1', 'VB1']);
      expect((await w.ctx.accounts.list()).map((a) => [a.id, a.disabled, a.mustChangePassword])).toEqual([
        ['admin', false, false],
        ['cust-a', false, false],
        ['cust-b', false, false],
        ['dispatcher', false, false],
        ['engineer', false, false],
        ['supply', false, false],
      ]);
      expect((await w.customers.list()).map((c) => [c.id, c.name])).toEqual([
        ['CA', 'Unit A'],
        ['CB', 'Unit B'],
      ]);
    });
  },
);
