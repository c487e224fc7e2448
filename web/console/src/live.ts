/**
 * The console's live channel: one socket.io connection per tab, authenticated by the session
 * cookie. Views watch vehicles (ref-counted, re-subscribed after a reconnect) and listen to frames,
 * fleet changes, alarms, tickets and (staff, on a watched vehicle) operator commands. The server throttles frames per vehicle (latest value wins).
 */
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  FleetUpdate,
  LiveAlarm,
  LiveCommand,
  LiveFrame,
  LiveInbox,
  LiveRinging,
  LiveSessionFrames,
  LiveTicket,
  LiveWelcome,
  ServerToClientEvents,
  SessionJoined,
} from '../../live/events.ts';
import { fleetEntries } from '../../live/fleet-wire.ts';
import type { RemoteSession, SessionTimelineEntry, StepResult } from '../../../remote/types.ts';

export type {
  FleetUpdate,
  LiveAlarm,
  LiveCommand,
  LiveFrame,
  LiveInbox,
  LiveRinging,
  LiveSessionFrames,
  LiveTicket,
  SessionJoined,
};

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type Handler<T> = (m: T) => void;

interface Topics {
  frame: LiveFrame;
  fleet: FleetUpdate;
  alarm: LiveAlarm;
  ticket: LiveTicket;
  command: LiveCommand;
  inbox: LiveInbox;
  ringing: LiveRinging;
  remoteFrames: LiveSessionFrames;
  remoteTimeline: { sessionId: number; entry: SessionTimelineEntry };
  remoteChanged: { sessionId: number; action: string; session: RemoteSession };
  remoteStep: { sessionId: number; result: StepResult };
  status: boolean;
  /** Connected again after a break: changes sent in between were missed, so re-read what you show. */
  resync: true;
  ended: string;
}

let socket: LiveSocket | null = null;
let connected = false;
const watched = new Map<string, number>();
/** Joined remote sessions: each joins again (with the last seq it has) after a reconnect. */
const sessionRejoins = new Set<() => void>();
const handlers: { [K in keyof Topics]: Set<Handler<Topics[K]>> } = {
  frame: new Set(),
  fleet: new Set(),
  alarm: new Set(),
  ticket: new Set(),
  command: new Set(),
  inbox: new Set(),
  ringing: new Set(),
  remoteFrames: new Set(),
  remoteTimeline: new Set(),
  remoteChanged: new Set(),
  remoteStep: new Set(),
  status: new Set(),
  resync: new Set(),
  ended: new Set(),
};
let welcome: LiveWelcome | null = null;

function emit<K extends keyof Topics>(k: K, m: Topics[K]): void {
  for (const fn of handlers[k]) {
    try {
      fn(m);
    } catch (err) {
      console.error(`live ${k} handler failed`, err);
    }
  }
}

function subscribe(vehicleId: string): void {
  socket?.emit('subscribe', { vehicleId }, (res) => {
    if (!res.ok) console.warn(`live: subscribe ${vehicleId} refused: ${res.error.code}`);
  });
}

/** Opens the connection (after login). Idempotent. */
export function connectLive(): void {
  if (socket) return;
  const s: LiveSocket = io({ path: '/socket.io', withCredentials: true, reconnectionDelayMax: 10_000 });
  socket = s;
  let connects = 0;
  s.on('connect', () => {
    connected = true;
    emit('status', true);
    if (connects++ > 0) emit('resync', true);
    for (const id of watched.keys()) subscribe(id);
    for (const rejoin of sessionRejoins) rejoin();
  });
  s.on('disconnect', () => {
    connected = false;
    emit('status', false);
  });
  s.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    connected = false;
    emit('status', false);
    if (s.active) return; // a transport failure: socket.io reconnects by itself
    // refused by the server's handshake: an ended session means signing in again; anything else
    // (the server was busy or restarting) is tried again, as a transport failure would be
    const code = err.data?.code;
    if (code === 'UNAUTHENTICATED') return emit('ended', err.message);
    if (code === 'CSRF_INVALID' || code === 'PASSWORD_CHANGE_REQUIRED' || code === 'TWO_FACTOR_REQUIRED') return;
    setTimeout(() => {
      if (socket === s && !s.connected) s.connect();
    }, 2_000);
  });
  s.on('welcome', (m) => (welcome = m));
  s.on('frame', (m) => emit('frame', m));
  // a vehicle that only reported again comes in `seen`: the views get every vehicle as an entry
  s.on('fleet', (m) => emit('fleet', { at: m.at, vehicles: fleetEntries(m) }));
  s.on('alarm', (m) => emit('alarm', m));
  s.on('ticket', (m) => emit('ticket', m));
  s.on('command', (m) => emit('command', m));
  s.on('inbox', (m) => emit('inbox', m));
  s.on('remote.ringing', (m) => emit('ringing', m));
  s.on('remote.frames', (m) => emit('remoteFrames', m));
  s.on('remote.timeline', (m) => emit('remoteTimeline', m));
  s.on('remote.changed', (m) => emit('remoteChanged', m));
  s.on('remote.step', (m) => emit('remoteStep', m));
  s.on('session.ended', (m) => emit('ended', m.reason));
}

/** Closes the connection (logout, session ended). */
export function disconnectLive(): void {
  socket?.disconnect();
  socket = null;
  connected = false;
  welcome = null;
  watched.clear();
  sessionRejoins.clear();
  emit('status', false);
}

export function isLiveConnected(): boolean {
  return connected;
}

export function liveWelcome(): LiveWelcome | null {
  return welcome;
}

export function onLive<K extends keyof Topics>(k: K, fn: Handler<Topics[K]>): () => void {
  handlers[k].add(fn);
  return () => void handlers[k].delete(fn);
}

/** Receive `frame` messages of this vehicle until the returned function is called. */
export function watchVehicle(vehicleId: string): () => void {
  const n = watched.get(vehicleId) ?? 0;
  watched.set(vehicleId, n + 1);
  if (n === 0 && connected) subscribe(vehicleId);
  return () => {
    const left = (watched.get(vehicleId) ?? 1) - 1;
    if (left > 0) return void watched.set(vehicleId, left);
    watched.delete(vehicleId);
    if (connected) socket?.emit('unsubscribe', { vehicleId }, () => undefined);
  };
}

/**
 * Joins a remote session's room (`session.join`): `onJoined` gets the session and the timeline after
 * `sinceSeq()` now and again after every reconnect. Until the returned function is called.
 */
export function joinSession(
  sessionId: number,
  sinceSeq: () => number,
  onJoined: (j: SessionJoined) => void,
  onRefused: (code: string, message: string) => void,
): () => void {
  const join = () =>
    socket?.emit('session.join', { sessionId, sinceSeq: sinceSeq() }, (res) => {
      if (res.ok) onJoined(res);
      else onRefused(res.error.code, res.error.message);
    });
  sessionRejoins.add(join);
  if (connected) join();
  return () => {
    sessionRejoins.delete(join);
    if (connected) socket?.emit('session.leave', { sessionId }, () => undefined);
  };
}
