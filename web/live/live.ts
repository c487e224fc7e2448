import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Server, type Socket } from 'socket.io';
import type { EventBus } from '../../core/bus.ts';
import type { Counters } from '../../core/counters.ts';
import { isPlatformError, type ErrorCode } from '../../core/errors.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { derive, newMemory } from '../../diagnostics/derived-signals.ts';
import type { Alarm } from '../../diagnostics/types.ts';
import type { PowerProfile, TelemetryFrame } from '../../protocol/index.ts';
import type { VehicleRegistry } from '../../registry/vehicles.ts';
import type { Account } from '../auth/accounts.ts';
import { SESSION_COOKIE, type SessionEnded, type Sessions } from '../auth/sessions.ts';
import type { Tenancy } from '../context.ts';
import { ticketView } from '../ticket-view.ts';
import {
  LIVE_PATH,
  type ClientToServerEvents,
  type FleetEntry,
  type FleetUpdate,
  type LiveAck,
  type LiveFrame,
  type LiveTicket,
  type ServerToClientEvents,
} from './events.ts';

export interface LiveOptions {
  /** At most this many `frame` messages a second per vehicle (latest value wins). */
  maxRateHz: number;
  /** Fleet changes are batched and sent this often. */
  fleetIntervalMs: number;
  /** A connection with this many messages waiting to be written is "behind": frames for it are dropped. */
  maxBuffered: number;
  /** Vehicles one connection may subscribe to at once. */
  maxSubscriptions: number;
  /** How often every connection's session is checked again (expiry, idle timeout, another process). */
  sessionCheckMs: number;
  /** A connection behind (`maxBuffered`) without a break for this long has stopped reading: it is closed. */
  slowTimeoutMs: number;
  /** Behind a reverse proxy: the console's own host is in X-Forwarded-Host / -Proto. */
  trustProxy?: boolean;
}

export const LIVE_DEFAULTS: LiveOptions = {
  maxRateHz: 4,
  fleetIntervalMs: 1000,
  maxBuffered: 32,
  maxSubscriptions: 100,
  sessionCheckMs: 30_000,
  slowTimeoutMs: 30_000,
};

/** Messages of any kind waiting for a connection, as a multiple of `maxBuffered`, beyond which the connection is closed. */
const HARD_CAP_FACTOR = 16;
/** How long a closing layer waits for connections to close before cutting them. */
const CLOSE_GRACE_MS = 500;

export interface LiveDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  sessions: Pick<Sessions, 'lookup' | 'alive' | 'onEnded'>;
  tenancy: Pick<Tenancy, 'vehicle'>;
  vehicles: Pick<VehicleRegistry, 'get'>;
  counters: Counters;
  log: Logger;
  now?: () => number;
  /** Put on the HTTP answers socket.io writes itself (long-polling, refused handshakes): the API's security headers. */
  securityHeaders?: Record<string, string>;
}

/** The requests a client may send (ClientToServerEvents); anything else is counted as `live.invalid` and refused. */
const REQUESTS = new Set<string>(['subscribe', 'unsubscribe']);

interface SocketData {
  account: Account;
  sessionId: string;
  vehicles: Set<string>;
  /** Fleet changes held back while the connection is behind, merged per vehicle (latest wins). */
  fleetBacklog: Map<string, FleetEntry>;
  /** Since when (performance.now) the connection has been behind without a break. */
  behindSince?: number;
}

type LiveServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Rooms. Staff sockets join STAFF and TICKETS; a customer's join its unit's two rooms. */
export const rooms = {
  staff: 'staff',
  customer: (customerId: string) => `customer:${customerId}`,
  tickets: 'tickets',
  customerTickets: (customerId: string) => `tickets:${customerId}`,
  vehicle: (vehicleId: string) => `vehicle:${vehicleId}`,
};

class LiveError extends Error {
  readonly data: { code: ErrorCode };
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.data = { code };
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v?.split(',')[0]?.trim();
}

/** Why a handshake from a browser page of another site is refused, or null when it is not. */
export function foreignOrigin(req: IncomingMessage, trustProxy: boolean): string | null {
  if (req.headers['sec-fetch-site'] === 'cross-site') return 'cross-site connection refused';
  const origin = req.headers.origin;
  if (!origin) return null; // not a browser page: the session cookie alone decides
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'cross-site connection refused (unreadable Origin)';
  }
  const rawHost = (trustProxy ? first(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host ?? '';
  const proto =
    (trustProxy ? first(req.headers['x-forwarded-proto']) : undefined) ??
    ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  let own: string;
  try {
    own = new URL(`${proto}://${rawHost}`).host; // drops a default port, as Origin does
  } catch {
    own = rawHost;
  }
  return host === own ? null : `cross-site connection refused (Origin ${origin})`;
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0 || part.slice(0, i).trim() !== name) continue;
    const raw = part.slice(i + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** Messages waiting in a connection's engine buffer (not yet handed to its transport). */
function backlog(s: LiveSocket): number {
  const conn = s.conn as unknown as { writeBuffer?: unknown[] };
  return conn.writeBuffer?.length ?? 0;
}

interface VehicleInfo {
  customerId: string;
  profile: PowerProfile;
}

interface Throttle {
  last: number;
  lastTs: number;
  pending: LiveFrame | null;
  timer: NodeJS.Timeout | null;
}

interface FleetPending {
  presence?: { online: boolean; at: number; reason: string | null };
  latest?: { receivedAt: number; frame: TelemetryFrame };
}

/**
 * The console's live layer: socket.io on the console's HTTP server. Authenticated by the session
 * cookie at the handshake; rooms per vehicle (subscribed on request, tenant-checked), per customer
 * unit / staff (fleet changes, alarms) and for the ticket queue. Bus listeners never wait on a
 * socket: frames are throttled per vehicle (latest wins) and dropped for a connection that is
 * behind; alarms and tickets are never dropped, but a connection whose backlog keeps growing is closed.
 */
export function createLiveLayer(server: HttpServer, deps: LiveDeps, opts: Partial<LiveOptions> = {}) {
  const options: LiveOptions = { ...LIVE_DEFAULTS, ...opts };
  const log = deps.log.child({ module: 'live' });
  const now = deps.now ?? Date.now;
  const { counters } = deps;
  const intervalMs = 1000 / options.maxRateHz;
  const hardCap = options.maxBuffered * HARD_CAP_FACTOR;
  const trustProxy = options.trustProxy ?? false;

  const io: LiveServer = new Server(server, {
    path: LIVE_PATH,
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    allowRequest: (req, cb) => {
      const refused = foreignOrigin(req, trustProxy);
      if (refused) counters.inc('live.refused', 'origin');
      cb(refused, refused === null);
    },
  });

  // socket.io answers its HTTP requests itself, outside Fastify's hooks: give them the API's security
  // headers (set before engine.io writes its own), and count bodies it refused as too large.
  const livePrefix = `${LIVE_PATH}/`;
  const onHttpRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!req.url?.startsWith(livePrefix)) return;
    for (const [name, value] of Object.entries(deps.securityHeaders ?? {})) res.setHeader(name, value);
    res.once('finish', () => {
      if (res.statusCode === 413) counters.inc('live.invalid', 'too_large');
    });
  };
  server.prependListener('request', onHttpRequest);

  // Upgraded (WebSocket) connections are not closed by the HTTP server's close: they are cut here.
  const upgraded = new Set<Duplex>();
  const onUpgrade = (_req: IncomingMessage, socket: Duplex) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };
  server.on('upgrade', onUpgrade);

  // -- who may connect ------------------------------------------------------------------------
  io.use((socket, next) => {
    void (async () => {
      const refused = foreignOrigin(socket.request, trustProxy);
      if (refused) return next(new LiveError('CSRF_INVALID', refused));
      const token = cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE);
      if (!token) {
        counters.inc('live.refused', 'unauthenticated');
        return next(
          new LiveError(
            'UNAUTHENTICATED',
            `log in first (POST /api/auth/login): the live channel needs the ${SESSION_COOKIE} cookie`,
          ),
        );
      }
      const session = await deps.sessions.lookup(token);
      if (!session) {
        counters.inc('live.refused', 'unauthenticated');
        return next(new LiveError('UNAUTHENTICATED', 'your session has ended; log in again'));
      }
      if (session.account.mustChangePassword)
        return next(new LiveError('PASSWORD_CHANGE_REQUIRED', 'set your own password first (POST /api/auth/password)'));
      socket.data = { account: session.account, sessionId: session.id, vehicles: new Set(), fleetBacklog: new Map() };
      next();
    })().catch((err: unknown) => {
      log.error({ err }, 'live handshake failed');
      next(new LiveError('INTERNAL', 'the live channel is unavailable; try again'));
    });
  });

  // -- sessions -------------------------------------------------------------------------------
  const bySession = new Map<string, Set<LiveSocket>>();

  function endSocket(s: LiveSocket, reason: string): void {
    if (!s.connected) return;
    counters.inc('live.sessions_ended');
    s.emit('session.ended', { reason });
    s.disconnect(true);
  }

  const offEnded = deps.sessions.onEnded((e: SessionEnded) => {
    if ('sessionId' in e) {
      for (const s of bySession.get(e.sessionId) ?? []) endSocket(s, 'logged out');
      return;
    }
    for (const [sid, set] of bySession) {
      if (sid === e.keep) continue;
      for (const s of set)
        if (s.data.account.id === e.accountId) endSocket(s, 'your session was ended (account changed)');
    }
  });

  let checking = false;
  const sessionTimer = setInterval(() => {
    if (checking || bySession.size === 0) return;
    checking = true;
    void (async () => {
      for (const [sid, set] of [...bySession]) {
        if (!(await deps.sessions.alive(sid)))
          for (const s of set) endSocket(s, 'your session has ended; log in again');
      }
    })()
      .catch((err: unknown) => log.warn({ err }, 'live session check failed'))
      .finally(() => (checking = false));
  }, options.sessionCheckMs);
  sessionTimer.unref();

  // -- slow consumers: a connection that stopped reading is closed, and what waits for it freed --
  /**
   * Closes a connection that does not keep up, at once: what waits for it is discarded (a plain
   * disconnect would wait for it to drain, i.e. for ever) and a WebSocket's TCP connection is cut.
   */
  function dropSlow(s: LiveSocket, why: string): void {
    counters.inc('live.slow_disconnected');
    log.warn({ account: s.data.account.id, backlog: backlog(s), why }, 'live connection does not keep up: closed');
    s.disconnect(true);
    s.conn.close(true);
    (s.conn.transport as unknown as { socket?: { terminate?: () => void } }).socket?.terminate?.();
  }

  const slowTimer = setInterval(
    () => {
      const at = performance.now();
      for (const s of io.sockets.sockets.values()) {
        if (backlog(s) < options.maxBuffered) {
          s.data.behindSince = undefined;
          continue;
        }
        s.data.behindSince ??= at;
        if (at - s.data.behindSince >= options.slowTimeoutMs)
          dropSlow(s, `behind for ${Math.round(at - s.data.behindSince)} ms`);
      }
    },
    Math.min(1000, Math.max(50, Math.floor(options.slowTimeoutMs / 4))),
  );
  slowTimer.unref();

  // -- vehicles: owner and profile, cached; the cached promise keeps events of a vehicle in order --
  const vehicleCache = new Map<string, Promise<VehicleInfo | undefined>>();
  function vehicleInfo(id: string): Promise<VehicleInfo | undefined> {
    let p = vehicleCache.get(id);
    if (!p) {
      p = deps.vehicles.get(id).then(
        (v) => v && { customerId: v.customerId, profile: v.profile },
        (err: unknown) => {
          vehicleCache.delete(id);
          throw err;
        },
      );
      vehicleCache.set(id, p);
    }
    return p;
  }

  // -- sending ----------------------------------------------------------------------------------
  // A connection's backlog as it was when this turn of the event loop began sending to it. What one
  // turn queues waits only for the next one (socket.io hands a connection's messages to the socket
  // once the previous write returned): after a pause, one commit can bring frames of hundreds of
  // vehicles in a single turn, and that burst must not make a healthy connection "behind". A
  // connection that does not read keeps its backlog from turn to turn. See docs/benchmarks.md (live).
  const backlogAtTurnStart = new Map<string, number>();
  function settledBacklog(s: LiveSocket): number {
    let b = backlogAtTurnStart.get(s.id);
    if (b === undefined) {
      if (backlogAtTurnStart.size === 0) setImmediate(() => backlogAtTurnStart.clear());
      backlogAtTurnStart.set(s.id, (b = backlog(s)));
    }
    return b;
  }

  /** Members of rooms whose backlog is over `limit`; those over the hard cap are disconnected. */
  function behindIn(roomNames: string[], limit: number): string[] {
    const behind: string[] = [];
    for (const room of roomNames) {
      for (const id of io.sockets.adapter.rooms.get(room) ?? []) {
        const s = io.sockets.sockets.get(id);
        if (!s) continue;
        const b = backlog(s);
        if (b >= hardCap) {
          dropSlow(s, `${b} messages waiting`);
          behind.push(id);
        } else if (settledBacklog(s) >= limit) behind.push(id);
      }
    }
    return behind;
  }

  function members(roomNames: string[]): number {
    let n = 0;
    for (const r of roomNames) n += io.sockets.adapter.rooms.get(r)?.size ?? 0;
    return n;
  }

  /** Alarms and tickets: never dropped (a connection too far behind is closed instead). */
  function sendReliable<E extends 'alarm' | 'ticket'>(
    roomNames: string[],
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    const n = members(roomNames);
    if (n === 0) return;
    const cut = behindIn(roomNames, hardCap);
    const target = cut.length ? io.to(roomNames).except(cut) : io.to(roomNames);
    target.emit(event, ...args);
    counters.inc(`live.${event}_sent`, undefined, n - cut.length);
  }

  function mergeFleet(s: LiveSocket, entries: FleetEntry[]): void {
    const m = s.data.fleetBacklog;
    for (const e of entries) m.set(e.id, { ...m.get(e.id), ...e });
  }

  /** Sends what was held back for a connection once it has caught up. */
  function flushFleetBacklog(s: LiveSocket): void {
    const m = s.data.fleetBacklog;
    if (m.size === 0 || !s.connected || backlog(s) >= options.maxBuffered) return;
    const vehicles = [...m.values()];
    m.clear();
    s.emit('fleet', { at: now(), vehicles });
  }

  /** Fleet changes: a connection that is behind gets them later, merged (latest per vehicle wins), not queued. */
  function sendFleet(room: string, update: FleetUpdate): void {
    const ids = io.sockets.adapter.rooms.get(room);
    if (!ids?.size) return;
    const behind = behindIn([room], options.maxBuffered);
    const held = new Set(behind);
    for (const id of ids) {
      const s = io.sockets.sockets.get(id);
      if (!s) continue;
      if (held.has(id)) mergeFleet(s, update.vehicles);
      else flushFleetBacklog(s);
    }
    if (behind.length) counters.inc('live.fleet_deferred', undefined, behind.length);
    if (behind.length >= ids.size) return;
    (behind.length ? io.to(room).except(behind) : io.to(room)).emit('fleet', update);
    counters.inc('live.fleet_sent', undefined, ids.size - behind.length);
  }

  function sendFrame(m: LiveFrame): void {
    const room = rooms.vehicle(m.vehicleId);
    const n = members([room]);
    if (n === 0) return;
    const behind = behindIn([room], options.maxBuffered);
    if (behind.length) counters.inc('live.frames_dropped', undefined, behind.length);
    if (behind.length >= n) return;
    (behind.length ? io.to(room).except(behind) : io.to(room)).emit('frame', m);
    counters.inc('live.frames_sent', undefined, n - behind.length);
  }

  // -- frames: per vehicle, at most maxRateHz, latest wins ----------------------------------------
  const throttles = new Map<string, Throttle>();

  function flushThrottle(id: string, t: Throttle): void {
    t.timer = null;
    const m = t.pending;
    if (!m) return;
    t.pending = null;
    t.last = performance.now();
    sendFrame(m);
  }

  function onFrames(e: PlatformEvents['telemetry.stored']): void {
    if (!io.sockets.adapter.rooms.get(rooms.vehicle(e.vehicleId))?.size) return;
    let newest: TelemetryFrame | undefined;
    for (const f of e.frames) if (!newest || f.ts >= newest.ts) newest = f;
    if (!newest) return;
    let t = throttles.get(e.vehicleId);
    if (!t) throttles.set(e.vehicleId, (t = { last: -Infinity, lastTs: -Infinity, pending: null, timer: null }));
    if (newest.ts < t.lastTs || (t.pending && newest.ts < t.pending.frame.ts)) return; // a replay of older frames is history, not live
    t.lastTs = newest.ts;
    const m: LiveFrame = { vehicleId: e.vehicleId, receivedAt: e.receivedAt, frame: newest };
    const at = performance.now();
    if (!t.timer && at - t.last >= intervalMs) {
      t.last = at;
      sendFrame(m);
      return;
    }
    t.pending = m;
    if (!t.timer) {
      const th = t;
      th.timer = setTimeout(() => flushThrottle(e.vehicleId, th), Math.max(0, th.last + intervalMs - at));
    }
  }

  function forgetIfUnwatched(vehicleId: string): void {
    if (io.sockets.adapter.rooms.get(rooms.vehicle(vehicleId))?.size) return;
    const t = throttles.get(vehicleId);
    if (t?.timer) clearTimeout(t.timer);
    throttles.delete(vehicleId);
  }

  // -- fleet changes: batched -----------------------------------------------------------------------
  let fleetPending = new Map<string, FleetPending>();
  let fleetTimer: NodeJS.Timeout | null = null;

  function fleetChanged(vehicleId: string, change: FleetPending): void {
    if (io.sockets.sockets.size === 0) return;
    const p = fleetPending.get(vehicleId) ?? {};
    if (change.presence) p.presence = change.presence;
    if (change.latest && (!p.latest || change.latest.frame.ts >= p.latest.frame.ts)) p.latest = change.latest;
    fleetPending.set(vehicleId, p);
    fleetTimer ??= setTimeout(
      () => void flushFleet().catch((err: unknown) => log.warn({ err }, 'fleet update failed')),
      options.fleetIntervalMs,
    );
  }

  async function flushFleet(): Promise<void> {
    fleetTimer = null;
    const batch = fleetPending;
    fleetPending = new Map();
    const all: FleetEntry[] = [];
    const byCustomer = new Map<string, FleetEntry[]>();
    const infos = await Promise.all([...batch.keys()].map((id) => vehicleInfo(id)));
    let i = 0;
    for (const [id, p] of batch) {
      const info = infos[i++];
      if (!info) continue;
      const entry: FleetEntry = { id };
      if (p.presence) {
        entry.online = p.presence.online;
        entry.presenceChangedAt = p.presence.at;
        entry.disconnectReason = p.presence.reason;
      }
      if (p.latest) {
        const f = p.latest.frame;
        entry.latest = {
          receivedAt: p.latest.receivedAt,
          ts: f.ts,
          source: f.source,
          batterySocPct: f.battery?.socPct ?? null,
          timeToEmptyMin: derive(f, info.profile, newMemory()).timeToEmptyMin,
        };
      }
      all.push(entry);
      const list = byCustomer.get(info.customerId);
      if (list) list.push(entry);
      else byCustomer.set(info.customerId, [entry]);
    }
    const at = now();
    if (all.length) sendFleet(rooms.staff, { at, vehicles: all });
    for (const [cid, vehicles] of byCustomer) sendFleet(rooms.customer(cid), { at, vehicles });
  }

  // -- alarms and tickets: as they happen, to the staff and the owning unit ------------------------
  async function onAlarm(kind: 'raised' | 'updated' | 'cleared', alarm: Alarm): Promise<void> {
    const info = await vehicleInfo(alarm.vehicleId);
    sendReliable(info ? [rooms.staff, rooms.customer(info.customerId)] : [rooms.staff], 'alarm', { kind, alarm });
  }

  function onTicket(m: LiveTicket): void {
    const cid = m.ticket.customerId;
    sendReliable(cid ? [rooms.tickets, rooms.customerTickets(cid)] : [rooms.tickets], 'ticket', m);
  }

  const failed = (what: string) => (err: unknown) => log.warn({ err }, `live ${what} failed`);
  const offs = [
    deps.bus.on('telemetry.stored', (e) => {
      onFrames(e);
      let newest: TelemetryFrame | undefined;
      for (const f of e.frames) if (!newest || f.ts >= newest.ts) newest = f;
      if (newest) fleetChanged(e.vehicleId, { latest: { receivedAt: e.receivedAt, frame: newest } });
    }),
    deps.bus.on('vehicle.connected', (e) =>
      fleetChanged(e.vehicleId, { presence: { online: true, at: e.at, reason: null } }),
    ),
    deps.bus.on('vehicle.disconnected', (e) =>
      fleetChanged(e.vehicleId, { presence: { online: false, at: e.at, reason: e.reason } }),
    ),
    deps.bus.on('alarm.raised', (e) => void onAlarm('raised', e.alarm).catch(failed('alarm'))),
    deps.bus.on('alarm.updated', (e) => void onAlarm('updated', e.alarm).catch(failed('alarm'))),
    deps.bus.on('alarm.cleared', (e) => void onAlarm('cleared', e.alarm).catch(failed('alarm'))),
    deps.bus.on('ticket.opened', (e) => onTicket({ kind: 'opened', ticket: ticketView(e.ticket) })),
    deps.bus.on('ticket.updated', (e) => onTicket({ kind: 'updated', ticket: ticketView(e.ticket), action: e.action })),
    deps.bus.on('ticket.deadline_breached', (e) =>
      onTicket({
        kind: 'deadline_breached',
        ticket: ticketView(e.ticket),
        deadline: e.deadline,
        escalatedTo: e.escalatedTo,
      }),
    ),
    deps.bus.on('registry.changed', (e) => {
      if (e.subject !== 'vehicle') return;
      vehicleCache.delete(e.id);
      if (e.change === 'removed') {
        for (const s of io.sockets.sockets.values())
          if (s.data.vehicles.delete(e.id)) void s.leave(rooms.vehicle(e.id));
        forgetIfUnwatched(e.id);
      }
    }),
  ];

  // -- connections ---------------------------------------------------------------------------------
  const ack = <T extends object>(cb: unknown, res: LiveAck<T>) => {
    if (typeof cb === 'function') (cb as (r: LiveAck<T>) => void)(res);
  };
  const refuse = (code: ErrorCode, message: string) => ({ ok: false as const, error: { code, message } });
  const vehicleIdOf = (req: unknown): string | undefined => {
    const id = (req as { vehicleId?: unknown } | null)?.vehicleId;
    return typeof id === 'string' && id.length >= 1 && id.length <= 64 ? id : undefined;
  };
  type VehicleAck = (res: LiveAck<{ vehicleId: string }>) => void;
  /**
   * A `{vehicleId}` request and its acknowledgement callback, or undefined when it is invalid:
   * counted (`live.invalid`), answered with VALIDATION_FAILED when there is a callback to answer,
   * else ignored.
   */
  const vehicleRequest = (args: unknown[]): { id: string; cb: VehicleAck } | undefined => {
    const cb = args.at(-1);
    if (typeof cb !== 'function') {
      counters.inc('live.invalid', 'no_ack');
      return undefined;
    }
    const id = args.length === 2 ? vehicleIdOf(args[0]) : undefined;
    if (!id) {
      counters.inc('live.invalid', 'bad_payload');
      ack(cb, refuse('VALIDATION_FAILED', 'send {vehicleId: string} and an acknowledgement callback'));
      return undefined;
    }
    return { id, cb: cb as VehicleAck };
  };

  io.on('connection', (socket) => {
    const { account, sessionId } = socket.data;
    let set = bySession.get(sessionId);
    if (!set) bySession.set(sessionId, (set = new Set()));
    set.add(socket);
    counters.inc('live.connections');
    if (account.role === 'customer') {
      if (account.customerId)
        void socket.join([rooms.customer(account.customerId), rooms.customerTickets(account.customerId)]);
    } else void socket.join([rooms.staff, rooms.tickets]);
    socket.conn.on('drain', () => flushFleetBacklog(socket));
    socket.emit('welcome', {
      account: { id: account.id, role: account.role, customerId: account.customerId },
      maxRateHz: options.maxRateHz,
      maxSubscriptions: options.maxSubscriptions,
    });

    // invalid input never ends the connection: unknown events are counted and refused (or ignored
    // without a callback); packets socket.io cannot decode close the connection and are counted
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event === 'string' && REQUESTS.has(event)) return;
      counters.inc('live.invalid', 'unknown_event');
      log.debug({ account: account.id, event: String(event).slice(0, 64) }, 'live: unknown event refused');
      ack(
        args.at(-1),
        refuse(
          'NOT_FOUND',
          `no event ${JSON.stringify(String(event).slice(0, 64))} on the live channel; send subscribe or unsubscribe`,
        ),
      );
    });
    socket.on('error', (err: unknown) => {
      if (!(err instanceof Error)) return; // an "error" event sent by the client: counted above
      counters.inc('live.invalid', 'malformed_packet');
      log.debug({ account: account.id, err: err.message }, 'live: malformed packet');
    });

    socket.on('subscribe', (...args: unknown[]) => {
      const r = vehicleRequest(args);
      if (!r) return;
      const { id, cb } = r;
      if (socket.data.vehicles.has(id)) return ack(cb, { ok: true, vehicleId: id });
      if (socket.data.vehicles.size >= options.maxSubscriptions) {
        return ack(
          cb,
          refuse(
            'INVALID_ARGUMENT',
            `at most ${options.maxSubscriptions} vehicles at once on one connection; unsubscribe from one first`,
          ),
        );
      }
      deps.tenancy.vehicle(account, id).then(
        () => {
          if (!socket.connected) return;
          socket.data.vehicles.add(id);
          void socket.join(rooms.vehicle(id));
          ack(cb, { ok: true, vehicleId: id });
        },
        (err: unknown) => {
          if (isPlatformError(err)) return ack(cb, refuse(err.code, err.message));
          log.error({ err }, 'live subscribe failed');
          ack(cb, refuse('INTERNAL', 'subscribing failed; try again'));
        },
      );
    });

    socket.on('unsubscribe', (...args: unknown[]) => {
      const r = vehicleRequest(args);
      if (!r) return;
      const { id, cb } = r;
      socket.data.vehicles.delete(id);
      void socket.leave(rooms.vehicle(id));
      forgetIfUnwatched(id);
      ack(cb, { ok: true, vehicleId: id });
    });

    socket.on('disconnect', (reason) => {
      // the transport refused what the client sent (a message over maxHttpBufferSize, a broken frame)
      if (reason === 'transport error') counters.inc('live.invalid', 'transport_error');
      const s = bySession.get(sessionId);
      s?.delete(socket);
      if (s?.size === 0) bySession.delete(sessionId);
      for (const id of socket.data.vehicles) forgetIfUnwatched(id);
    });

    // a session ended while this handshake was in flight was not seen by onEnded
    deps.sessions.alive(sessionId).then(
      (ok) => {
        if (!ok) endSocket(socket, 'your session has ended; log in again');
      },
      (err: unknown) => log.warn({ err }, 'live session check failed'),
    );
  });

  let closed: Promise<void> | undefined;
  return {
    io,
    options,
    connections: () => io.engine.clientsCount,
    /** Disconnects every connection and stops listening to the bus; the HTTP server is closed by its owner. */
    close(): Promise<void> {
      closed ??= (async () => {
        for (const off of offs) off();
        offEnded();
        clearInterval(sessionTimer);
        clearInterval(slowTimer);
        if (fleetTimer) clearTimeout(fleetTimer);
        for (const t of throttles.values()) if (t.timer) clearTimeout(t.timer);
        throttles.clear();
        io.local.disconnectSockets(true);
        io.engine.close();
        if (upgraded.size) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, CLOSE_GRACE_MS);
            const check = () => {
              if (upgraded.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            };
            for (const s of upgraded) s.once('close', check);
          });
          for (const s of upgraded) s.destroy();
        }
        server.off('upgrade', onUpgrade);
        server.off('request', onHttpRequest);
      })();
      return closed;
    },
  };
}

export type LiveLayer = ReturnType<typeof createLiveLayer>;
