/** A web console as the benches drive it: log in over HTTP, then one live socket.io connection. */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LiveWelcome, ServerToClientEvents } from '../../web/live/events.ts';

export type ConsoleSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Logs in through POST /api/auth/login; returns the session cookie as a `Cookie` header value. */
export async function login(baseUrl: string, account: { username: string; password: string }): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: account.password }),
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200)
    throw new Error(`login as ${account.username} failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__Host-pw_session='));
  if (!cookie) throw new Error(`login as ${account.username}: no session cookie in the answer`);
  return cookie.split(';')[0]!;
}

/**
 * Opens the live connection with a session cookie (websocket only, no reconnection) and waits up to
 * 30 s for the server's `welcome`; `label` names the console in errors.
 */
export async function openLive(
  baseUrl: string,
  cookie: string,
  label: string,
): Promise<{ socket: ConsoleSocket; welcome: LiveWelcome }> {
  const socket: ConsoleSocket = io(baseUrl, {
    transports: ['websocket'],
    extraHeaders: { cookie },
    reconnection: false,
    forceNew: true,
    timeout: 30_000,
  });
  const welcome = await new Promise<LiveWelcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: no welcome within 30 s`)), 30_000);
    socket.once('welcome', (w) => {
      clearTimeout(timer);
      resolve(w);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${label}: ${err.message}`));
    });
  });
  return { socket, welcome };
}
