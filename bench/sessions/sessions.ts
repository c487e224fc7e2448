/**
 * The remote sessions of bench:sessions, driven as the consoles drive them: the crew asks for
 * support over HTTP, an engineer answers, the engineer's console joins the session over the live
 * socket (`session.join`) and receives its `remote.frames`; commands go through
 * `POST /api/vehicles/:id/commands` with the session's id, which answers once the gateway's ack settled it.
 */
import { performance } from 'node:perf_hooks';
import type { LiveAck, LiveSessionFrames, SessionJoined } from '../../web/live/events.ts';
import type { ConsoleLogin } from '../live/accounts.ts';
import { openLive, type ConsoleSocket } from '../shared/console-client.ts';
import { newHistogram, record } from '../live/stats.ts';

type Histogram = Uint32Array;

export interface ApiLogin {
  cookie: string;
  csrf: string;
}

/** POST /api/auth/login: the session cookie and the CSRF token the state-changing routes take. */
export async function apiLogin(baseUrl: string, account: ConsoleLogin): Promise<ApiLogin> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: account.username, password: account.password }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`login as ${account.username}: ${res.status} ${text.slice(0, 200)}`);
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  return { cookie, csrf: (JSON.parse(text) as { csrfToken: string }).csrfToken };
}

export async function api<T>(
  baseUrl: string,
  who: ApiLogin,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      cookie: who.cookie,
      'x-csrf-token': who.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, json: (await res.json()) as T };
}

export interface SessionView {
  sessionId: number;
  vehicleId: string;
  engineer: ApiLogin;
  socket: ConsoleSocket;
  /** Seqs of the frames received with a ts in the window (a frame counted once). */
  seqsInWindow: Set<number>;
  framesOutside: number;
  duplicates: number;
}

/** Requests (as the crew), answers (as the engineer) and joins (the engineer's socket) one session. */
export async function openSession(
  baseUrl: string,
  crew: ConsoleLogin,
  engineer: ConsoleLogin,
  vehicleId: string,
): Promise<SessionView> {
  const crewLogin = await apiLogin(baseUrl, crew);
  const asked = await api<{ session?: { id: number }; error?: { message: string } }>(
    baseUrl,
    crewLogin,
    'POST',
    '/api/sessions',
    { vehicleId, description: 'bench: generator will not start' },
  );
  if (asked.status !== 201 || !asked.json.session)
    throw new Error(`request for ${vehicleId}: ${asked.status} ${asked.json.error?.message ?? ''}`);
  const sessionId = asked.json.session.id;
  const eng = await apiLogin(baseUrl, engineer);
  const answered = await api<{ error?: { message: string } }>(
    baseUrl,
    eng,
    'POST',
    `/api/sessions/${sessionId}/answer`,
  );
  if (answered.status !== 200)
    throw new Error(`answer ${sessionId}: ${answered.status} ${answered.json.error?.message}`);
  const { socket } = await openLive(baseUrl, eng.cookie, engineer.username);
  const joined = (await socket.timeout(30_000).emitWithAck('session.join', { sessionId })) as LiveAck<SessionJoined>;
  if (!joined.ok) throw new Error(`join ${sessionId}: ${joined.error.code} ${joined.error.message}`);
  return { sessionId, vehicleId, engineer: eng, socket, seqsInWindow: new Set(), framesOutside: 0, duplicates: 0 };
}

/** Publish (the frame's ts, its sampling on the gateway) → arrival in the session view, for frames in the window. */
export function measureFrames(views: SessionView[], window: { start: number; end: number }): Histogram {
  const latency = newHistogram();
  for (const v of views) {
    v.socket.on('remote.frames', (m: LiveSessionFrames) => {
      const at = Date.now();
      if (m.sessionId !== v.sessionId) return;
      for (const f of m.frames) {
        if (f.ts < window.start || f.ts >= window.end) {
          v.framesOutside++;
          continue;
        }
        if (v.seqsInWindow.has(f.seq)) {
          v.duplicates++;
          continue;
        }
        v.seqsInWindow.add(f.seq);
        record(latency, at - f.ts);
      }
    });
  }
  return latency;
}

export interface CommandFigures {
  latency: Histogram;
  sent: number;
  done: number;
  /** Not done: refused, no answer, or an HTTP error (the first one in `firstError`). */
  failed: number;
  firstError?: string;
}

/**
 * Each session's engineer sends `snapshot` from the session every `everyMs` (the sessions spread
 * over the period) from `start` until `end`; the round trip is the request's (it answers once the ack came).
 */
export async function sendCommands(
  baseUrl: string,
  views: SessionView[],
  start: number,
  end: number,
  everyMs: number,
): Promise<CommandFigures> {
  const f: CommandFigures = { latency: newHistogram(), sent: 0, done: 0, failed: 0 };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  await Promise.all(
    views.map(async (v, i) => {
      let at = start + (i / views.length) * everyMs;
      for (; at < end; at += everyMs) {
        await sleep(at - Date.now());
        f.sent++;
        const t0 = performance.now();
        try {
          const r = await api<{ state?: string; error?: unknown }>(
            baseUrl,
            v.engineer,
            'POST',
            `/api/vehicles/${v.vehicleId}/commands`,
            { name: 'snapshot', args: {}, sessionId: v.sessionId },
          );
          const ms = performance.now() - t0;
          if (r.status === 200 && r.json.state === 'done') {
            f.done++;
            record(f.latency, ms);
          } else {
            f.failed++;
            f.firstError ??= `${r.status} ${JSON.stringify(r.json).slice(0, 200)}`;
          }
        } catch (err) {
          f.failed++;
          f.firstError ??= (err as Error).message;
        }
      }
    }),
  );
  return f;
}
