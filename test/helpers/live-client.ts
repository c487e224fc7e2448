/**
 * The console's live channel from a test: log in over HTTP, open real socket.io clients (never
 * reconnecting on their own), wait for the welcome or the refusal, and record what arrives.
 * One way for test/web, test/security and test/reliability.
 */
import { performance } from 'node:perf_hooks';
import { io as ioClient, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveAck, ServerToClientEvents } from '../../web/live/events.ts';
import { withTimeout } from './platform.ts';

export type LiveClient = Socket<ServerToClientEvents, ClientToServerEvents>;
export type LiveRefusal = Error & { data?: { code?: string } };

export interface Login {
  /** The session cookie as a `Cookie` header value. */
  cookie: string;
  token: string;
  csrf: string;
}

/** POST /api/auth/login; throws unless it answers 200. */
export async function httpLogin(
  base: string,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Login> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login as ${username}: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  return {
    cookie,
    token: cookie.slice(cookie.indexOf('=') + 1),
    csrf: ((await res.json()) as { csrfToken: string }).csrfToken,
  };
}

/** A socket.io client that never reconnects on its own. */
export function openLive(
  base: string,
  headers: Record<string, string>,
  options: {
    transport?: 'websocket' | 'polling';
    namespace?: string;
    auth?: Record<string, string>;
    query?: Record<string, string>;
  } = {},
): LiveClient {
  return ioClient(`${base}${options.namespace ?? ''}`, {
    transports: [options.transport ?? 'websocket'],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
    timeout: 5000,
    ...(options.auth ? { auth: options.auth } : {}),
    ...(options.query ? { query: options.query } : {}),
  });
}

/** Resolves with the connect_error of a connection that must be refused (then closes it); fails if it connects. */
export function connectRefused(s: LiveClient, ms = 5000): Promise<LiveRefusal> {
  return withTimeout(
    new Promise<LiveRefusal>((resolve, reject) => {
      s.once('connect', () => reject(new Error('the connection was accepted')));
      s.once('connect_error', (err) => resolve(err as LiveRefusal));
    }),
    ms,
    'connect_error',
  ).finally(() => s.disconnect());
}

/** Resolves once connected (`on: 'connect'`) or, by default, once welcomed; rejects on connect_error. */
export function connected(
  s: LiveClient,
  ms = 5000,
  what = 'the live connection',
  on: 'connect' | 'welcome' = 'welcome',
): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      s.once(on, () => resolve());
      s.once('connect_error', reject);
    }),
    ms,
    what,
  );
}

/** Every event a client received (with its arrival, performance.now()), and a way to wait for one. */
export function recorder(s: LiveClient, label = '') {
  const got: { event: string; at: number; payload: unknown }[] = [];
  type Waiter = { event: string; match: (p: unknown) => boolean; resolve: (p: unknown) => void };
  const waiters = new Set<Waiter>();
  s.onAny((event: string, payload: unknown) => {
    got.push({ event, at: performance.now(), payload });
    for (const w of waiters) {
      if (w.event === event && w.match(payload)) {
        waiters.delete(w);
        w.resolve(payload);
      }
    }
  });
  return {
    got,
    next<T>(event: string, match: (m: T) => boolean = () => true, ms = 5000): Promise<T> {
      const seen = got.find((g) => g.event === event && match(g.payload as T));
      if (seen) return Promise.resolve(seen.payload as T);
      let w: Waiter | undefined;
      const p = new Promise<T>((resolve) => {
        w = { event, match: match as (p: unknown) => boolean, resolve: resolve as (p: unknown) => void };
        waiters.add(w);
      });
      return withTimeout(p, ms, label ? `${event} at ${label}` : event).finally(() => waiters.delete(w!));
    },
  };
}

export type LiveRecorder = ReturnType<typeof recorder>;

/**
 * A signed-in console: logs in, opens the live connection with the session cookie (added to
 * `opened`, for the caller to close), records what arrives and waits for the welcome (or `on`).
 */
export async function openConsole(
  base: string,
  username: string,
  password: string,
  options: { transport?: 'websocket' | 'polling'; opened?: LiveClient[]; on?: 'connect' | 'welcome' } = {},
): Promise<{ login: Login; s: LiveClient; rec: LiveRecorder }> {
  const login = await httpLogin(base, username, password);
  const s = openLive(base, { cookie: login.cookie }, { transport: options.transport ?? 'websocket' });
  options.opened?.push(s);
  const rec = recorder(s, username);
  await connected(s, 5000, options.on === 'connect' ? `${username} to connect` : 'the live connection', options.on);
  return { login, s, rec };
}

/** Subscribes to (or unsubscribes from) a vehicle's frames and resolves with the server's answer. */
export const askVehicle = (s: LiveClient, event: 'subscribe' | 'unsubscribe', vehicleId: string) =>
  withTimeout(
    s.timeout(5000).emitWithAck(event, { vehicleId }) as Promise<LiveAck<{ vehicleId: string }>>,
    6000,
    `${event} ${vehicleId}`,
  );

/** An API request as the signed-in console sends it: session cookie, CSRF token, JSON body. */
export const apiAs = (base: string, login: Login, method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: {
      cookie: login.cookie,
      'x-csrf-token': login.csrf,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
