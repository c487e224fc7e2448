import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { EventBus } from '../../core/bus.ts';
import type { Counters } from '../../core/counters.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { VehicleRegistry } from '../../registry/vehicles.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { Tenancy } from '../context.ts';
import { createProxyTrust } from '../proxy-trust.ts';
import type { PublicNames } from '../public-names.ts';
import { createBackpressure } from './backpressure.ts';
import { frameSource, type LiveClusterFeed } from './cluster-feed.ts';
import { createEventFanOut } from './event-fan-out.ts';
import { LIVE_PATH } from './events.ts';
import { createFleetBatches } from './fleet-batches.ts';
import { createFloodGuard } from './flood.ts';
import { createHandshake, refuseForeignOrigins } from './handshake.ts';
import { createInboxPush } from './inbox.ts';
import { createRingingPush } from './ringing.ts';
import { LIVE_DEFAULTS, type LiveOptions } from './options.ts';
import { createProtocolGuard } from './protocol.ts';
import { createRemoteSessionStream, type SessionTimelineReader } from './remote-session-stream.ts';
import { createSocketWrites } from './socket-writes.ts';
import type { SessionAccess } from '../../remote/types.ts';
import type { SessionInvites } from '../../remote/invites.ts';
import { rooms, staffIn, type LiveModule, type LiveServer } from './sockets.ts';
import { createTransportHooks } from './transport.ts';
import { createVehicleFrames } from './vehicle-frames.ts';
import { createVehicleInfo } from './vehicles.ts';

export type { LiveOptions } from './options.ts';

export interface LiveDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  sessions: Pick<Sessions, 'lookup' | 'alive' | 'onEnded'>;
  /** Guest sessions (remote/invites.ts): a guest's connection may only join its remote session. */
  guests?: Pick<SessionInvites, 'lookup' | 'alive' | 'onEnded'>;
  tenancy: Pick<Tenancy, 'vehicle'>;
  vehicles: Pick<VehicleRegistry, 'get'>;
  /** How people are named to customers (web/public-names.ts). */
  names: Pick<PublicNames, 'forCustomer'>;
  counters: Counters;
  log: Logger;
  now?: () => number;
  /**
   * Remote sessions: access and presence (the session records) and their timeline; without them the
   * session stream (`session.join`) is not offered. Wired by the coordinator when remote sessions land.
   */
  remote?: { access: SessionAccess; timeline: SessionTimelineReader };
  /**
   * Cluster mode: the frames and fleet changes of the vehicles connected to other nodes (cluster/live-feed.ts).
   * The bus is then the cluster's view (core/bus.ts mergeBuses): this node's events and those relayed.
   */
  cluster?: LiveClusterFeed;
  /** Put on the HTTP answers socket.io writes itself (long-polling, refused handshakes): the API's security headers. */
  securityHeaders?: Record<string, string>;
}

/**
 * The console's live layer: socket.io on the console's HTTP server, composed of one module per
 * concern (see each file): the handshake (session cookie, origin, session expiry), backpressure
 * (slow consumers), vehicle frames (subscriptions, throttled frames), fleet batches, and the fan-out
 * of alarms and tickets. Bus listeners never wait on a socket.
 */
export function createLiveLayer(server: HttpServer, deps: LiveDeps, opts: Partial<LiveOptions> = {}) {
  const options: LiveOptions = { ...LIVE_DEFAULTS, ...opts };
  const log = deps.log.child({ module: 'live' });
  const now = deps.now ?? Date.now;
  const { bus, counters } = deps;
  const trustProxy = createProxyTrust(options.trustedProxies ?? []);

  const io: LiveServer = new Server(server, {
    path: LIVE_PATH,
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    allowRequest: refuseForeignOrigins(counters, trustProxy),
  });
  const transport = createTransportHooks(server, { counters, securityHeaders: deps.securityHeaders });

  const handshake = createHandshake(
    io,
    { sessions: deps.sessions, guests: deps.guests, counters, log },
    { ...options, trustProxy },
  );
  const backpressure = createBackpressure(io, { counters, log }, options);
  const vehicleInfo = createVehicleInfo({ bus, vehicles: deps.vehicles });
  const frames = frameSource(bus, deps.cluster);
  // telemetry.stored: frames before fleet changes
  const vehicleFrames = createVehicleFrames(
    io,
    { bus, tenancy: deps.tenancy, send: backpressure, frames, counters, log },
    options,
  );
  const fleet = createFleetBatches(
    io,
    { bus, vehicleInfo, backpressure, counters, log, now, ...(deps.cluster ? { cluster: deps.cluster } : {}) },
    options,
  );
  const fanOut = createEventFanOut({
    bus,
    send: backpressure,
    log,
    names: deps.names,
    staffWatching: (vehicleId) => staffIn(io, rooms.vehicle(vehicleId)),
  });
  const inbox = createInboxPush({ bus, send: backpressure });
  const ringing = createRingingPush({ bus, send: backpressure });
  const features: LiveModule[] = [vehicleFrames, fleet, fanOut, inbox, ringing];
  /** What a guest's connection gets: the session stream only (no fleet, vehicles, alarms, tickets, inbox, rings). */
  const guestFeatures: LiveModule[] = [];
  // remote sessions: their own rooms and telemetry.stored listener, every frame (no throttle), same backpressure
  if (deps.remote) {
    const stream = createRemoteSessionStream(io, {
      bus,
      access: deps.remote.access,
      timeline: deps.remote.timeline,
      send: backpressure,
      frames,
      names: deps.names,
      counters,
      log,
    });
    features.push(stream);
    guestFeatures.push(stream);
  }
  const guard = createProtocolGuard(
    { counters, log },
    features.flatMap((m) => m.requests ?? []),
  );
  const guestGuard = createProtocolGuard(
    { counters, log },
    guestFeatures.flatMap((m) => m.requests ?? []),
  );
  // every connection's event rate, before any module handles an event
  const flood = createFloodGuard({ counters, log, now }, options);
  /** Called on every connection in this order; closed in this order. */
  const socketWrites = createSocketWrites();
  const modules: LiveModule[] = [handshake, flood, backpressure, socketWrites, vehicleInfo, guard, ...features];
  const guestModules: LiveModule[] = [handshake, flood, backpressure, socketWrites, guestGuard, ...guestFeatures];

  // cluster mode: the other nodes send their fleet changes while this node has connections
  let consoles = 0;
  io.on('connection', (socket) => {
    if (deps.cluster) {
      const cluster = deps.cluster;
      if (consoles++ === 0) cluster.consoles(true);
      socket.on('disconnect', () => {
        if (--consoles === 0) cluster.consoles(false);
      });
    }
    const { account, guest } = socket.data;
    if (guest) {
      for (const m of guestModules) m.connected?.(socket);
      socket.emit('welcome', {
        account: { id: guest.id, role: 'guest', customerId: null },
        maxRateHz: options.maxRateHz,
        maxSubscriptions: 0,
      });
      return;
    }
    const joined = rooms.of(account);
    if (joined.length) void socket.join(joined);
    for (const m of modules) m.connected?.(socket);
    socket.emit('welcome', {
      account: { id: account.id, role: account.role, customerId: account.customerId },
      maxRateHz: options.maxRateHz,
      maxSubscriptions: options.maxSubscriptions,
    });
  });

  let closed: Promise<void> | undefined;
  return {
    io,
    options,
    connections: () => io.engine.clientsCount,
    /** Disconnects every connection and stops listening to the bus; the HTTP server is closed by its owner. */
    close(): Promise<void> {
      closed ??= (async () => {
        for (const m of modules) m.close();
        io.local.disconnectSockets(true);
        io.engine.close();
        await transport.close();
      })();
      return closed;
    },
  };
}

export type LiveLayer = ReturnType<typeof createLiveLayer>;
