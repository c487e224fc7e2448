import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type Client, type AedesPublishPacket, type PublishPacket } from 'aedes';
import { isValidVehicleId, vehicleTopic, type ProtocolError, type TopicKind } from '../protocol/index.ts';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { VehicleMessageHandler } from '../core/inbound.ts';
import type { Logger } from '../core/logger.ts';
import { authorizePublish, authorizeSubscribe, authorizeWill, type Principal } from './acl.ts';
import { CONNACK_CODE, type Authenticator, type RefusalReason } from './authenticator.ts';
import { createLoginThrottle } from './throttle.ts';
import { guardPacketSize } from './packet-size.ts';

export interface BrokerDeps {
  log: Logger;
  counters: Counters;
  bus: EventBus<PlatformEvents>;
  authenticator: Authenticator;
  vehicleMessages: VehicleMessageHandler;
  now?: () => number;
}

export interface BrokerOptions {
  port: number;
  host: string;
  /** Publishes with a bigger payload are refused with `payload_too_large`. */
  maxPayloadBytes: number;
  /** Any MQTT packet bigger than this closes the connection before it is buffered. */
  maxPacketBytes: number;
  maxConnections: number;
  /** A subscriber whose socket does not drain within this time is disconnected. */
  drainTimeoutMs: number;
  /** Errors sent back for one message at most (a bad 500-frame batch yields at most this many). */
  maxErrorsPerMessage?: number;
}

/** Where refused messages go: a topic nobody can subscribe to, so they are acknowledged but never delivered. */
const REFUSED_TOPIC = '$platform/refused';

export type Broker = ReturnType<typeof createBroker>;

/** The embedded MQTT broker: aedes with the platform's authentication, ACL, size limits and presence. */
export function createBroker(deps: BrokerDeps, options: BrokerOptions) {
  const { log, counters, bus, authenticator, vehicleMessages } = deps;
  const now = deps.now ?? Date.now;
  const principals = new WeakMap<Client, Principal>();
  const wills = new WeakMap<Client, string | null>();
  const closeReasons = new WeakMap<Client, string>();
  const connectedAt = new WeakMap<Client, number>();
  const throttle = createLoginThrottle({ freeAttempts: 5, windowMs: 60_000, baseBlockMs: 1_000, maxBlockMs: 5 * 60_000 }, now);
  const maxErrors = options.maxErrorsPerMessage ?? 10;

  const aedes = new Aedes({
    maxClientsIdLength: 64,
    drainTimeout: options.drainTimeoutMs,
    connectTimeout: 10_000,
    heartbeatInterval: 60_000,
  });
  let server: Server | undefined;
  let serverClosed: Promise<void> | undefined;
  const sockets = new Set<Socket>();
  /** Stops listening now; resolves once the last connection has gone. */
  const closeServer = (): Promise<void> =>
    (serverClosed ??= new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve())));

  function refuse(reason: RefusalReason, clientId: string, address: string | null, done: (err: Error & { returnCode: number }, ok: null) => void) {
    counters.inc('mqtt.connect_refused', reason);
    log.warn({ clientId: clientId.slice(0, 80), address, reason }, 'MQTT connection refused');
    const err = Object.assign(new Error(`connection refused: ${reason}`), { returnCode: CONNACK_CODE[reason] });
    done(err, null);
  }

  aedes.preConnect = (client, packet, callback) => {
    wills.set(client, packet.will?.topic ?? null);
    callback(null, true);
  };

  aedes.authenticate = (client, username, password, done) => {
    const clientId = client.id;
    const address = remoteAddress(client);
    if (!isValidVehicleId(clientId)) return refuse('bad_client_id', clientId, address, done);
    if (username === undefined || password === undefined) return refuse('missing_credentials', clientId, address, done);
    if (username !== clientId) return refuse('client_id_mismatch', clientId, address, done);
    if (throttle.isBlocked(clientId)) return refuse('throttled', clientId, address, done);
    authenticator
      .authenticate({ clientId, username, password, address })
      .then((result) => {
        if (!result.ok) {
          if (result.reason === 'bad_secret' || result.reason === 'unknown_account') throttle.failed(clientId);
          return refuse(result.reason, clientId, address, done);
        }
        const will = wills.get(client);
        if (will && !authorizeWill(result.principal, will)) return refuse('will_not_allowed', clientId, address, done);
        throttle.succeeded(clientId);
        principals.set(client, result.principal);
        done(null, true);
      })
      .catch((err: unknown) => {
        log.error({ err, clientId }, 'authentication failed with an error');
        const e = Object.assign(new Error('server unavailable'), { returnCode: 3 });
        done(e as Error & { returnCode: 5 }, null);
      });
  };

  function sendErrors(vehicleId: string, errors: ProtocolError[]) {
    for (const error of errors.slice(0, maxErrors)) {
      aedes.publish(
        { cmd: 'publish', topic: vehicleTopic(vehicleId, 'errors'), payload: Buffer.from(JSON.stringify(error)), qos: 1, retain: false, dup: false },
        (err) => err && log.warn({ err, vehicleId }, 'could not publish error answer'),
      );
    }
  }

  function divert(packet: PublishPacket) {
    packet.topic = REFUSED_TOPIC;
    packet.retain = false;
  }

  aedes.authorizePublish = (client, packet, callback) => {
    if (!client) return callback(null); // a stale will published by aedes itself
    const principal = principals.get(client);
    if (!principal) return callback(new Error('not authenticated'));
    const decision = authorizePublish(principal, packet.topic);
    if (!decision.allow) {
      counters.inc('mqtt.publish_denied', principal.id);
      if (principal.kind === 'vehicle') {
        const msg = { vehicleId: principal.id, kind: 'telemetry' as TopicKind, topic: packet.topic, payload: Buffer.from(packet.payload), retain: !!packet.retain };
        sendErrors(principal.id, [vehicleMessages.refuse(msg, { code: 'topic_not_allowed', message: decision.reason })]);
      } else {
        log.warn({ clientId: principal.id, topic: packet.topic }, decision.reason);
      }
      divert(packet);
      return callback(null);
    }
    if (!decision.vehicleMessage) return callback(null);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    vehicleMessages
      .handle({ ...decision.vehicleMessage, topic: packet.topic, payload, retain: !!packet.retain })
      .then((verdict) => {
        if (verdict.errors.length) sendErrors(decision.vehicleMessage!.vehicleId, verdict.errors);
        if (!verdict.forward) divert(packet);
        callback(null);
      })
      .catch((err: unknown) => {
        // Not stored, so not acknowledged: closing the connection makes the gateway send it again.
        closeReasons.set(client, 'message could not be stored');
        callback(err instanceof Error ? err : new Error(String(err)));
      });
  };

  aedes.authorizeSubscribe = (client, sub, callback) => {
    const principal = principals.get(client);
    const decision = principal ? authorizeSubscribe(principal, sub.topic) : { allow: false as const, reason: 'not authenticated' };
    if (!decision.allow) {
      counters.inc('mqtt.subscribe_denied', principal?.id ?? client.id);
      log.warn({ clientId: client.id, topic: sub.topic }, `subscription refused: ${decision.reason}`);
      return callback(null, null);
    }
    callback(null, sub);
  };

  aedes.authorizeForward = (client, packet: AedesPublishPacket) => {
    // Defence in depth: deliver nothing to a vehicle but its own commands and errors.
    const principal = principals.get(client);
    if (!principal) return null;
    if (principal.kind === 'vehicle' && !authorizeSubscribe(principal, packet.topic).allow) return null;
    return packet;
  };

  aedes.on('client', (client) => {
    const principal = principals.get(client);
    connectedAt.set(client, now());
    counters.inc('mqtt.connected');
    if (principal?.kind === 'vehicle') bus.emit('vehicle.connected', { vehicleId: principal.id, at: now(), address: remoteAddress(client) });
  });
  aedes.on('clientDisconnect', (client) => {
    const principal = principals.get(client);
    counters.inc('mqtt.disconnected');
    if (principal?.kind === 'vehicle') {
      bus.emit('vehicle.disconnected', { vehicleId: principal.id, at: now(), reason: closeReasons.get(client) ?? 'connection closed' });
    }
  });
  aedes.on('keepaliveTimeout', (client) => {
    closeReasons.set(client, 'keepalive timeout');
    counters.inc('mqtt.keepalive_timeout');
  });
  aedes.on('clientError', (client, err) => {
    if (!closeReasons.has(client)) closeReasons.set(client, err.message);
    log.debug({ clientId: client.id, err: err.message }, 'client error');
  });
  aedes.on('connectionError', (client, err) => {
    counters.inc('mqtt.connection_error');
    log.debug({ clientId: client?.id, err: err.message }, 'connection error');
  });

  return {
    aedes,
    async start(): Promise<{ port: number }> {
      await aedes.listen();
      server = createServer({ noDelay: true }, (socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        const client = aedes.handle(socket);
        guardPacketSize(client, options.maxPacketBytes, () => {
          counters.inc('mqtt.packet_too_large');
          closeReasons.set(client, 'packet too large');
        });
      });
      server.maxConnections = options.maxConnections;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(options.port, options.host, () => {
          server!.off('error', reject);
          resolve();
        });
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      log.info({ port, host: options.host }, 'MQTT broker listening');
      return { port };
    },
    /**
     * Stops accepting new connections; live ones go on. Resolves at once: `net.Server.close()`
     * stops listening immediately but calls back only once every connection has ended, which
     * live gateways never do on their own.
     */
    stopAccepting(): Promise<void> {
      void closeServer();
      return Promise.resolve();
    },
    async stop(): Promise<void> {
      const closing = closeServer();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closing;
    },
    /**
     * Closes a live session, e.g. when its credentials were rotated or revoked. With
     * `connectedBefore`, a session that connected after that time (already with the new secret) stays.
     */
    disconnect(clientId: string, reason: string, connectedBefore?: number): boolean {
      const client = (aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
      if (!client) return false;
      if (connectedBefore !== undefined && (connectedAt.get(client) ?? 0) > connectedBefore) return false;
      closeReasons.set(client, reason);
      log.info({ clientId, reason }, 'closing MQTT session');
      client.close();
      return true;
    },
    publishToVehicle(vehicleId: string, kind: 'commands' | 'errors', payload: unknown): Promise<void> {
      return new Promise((resolve, reject) =>
        aedes.publish(
          { cmd: 'publish', topic: vehicleTopic(vehicleId, kind), payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    isConnected(clientId: string): boolean {
      return !!(aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
    },
    connectedCount: () => aedes.connectedClients,
  };
}

function remoteAddress(client: Client): string | null {
  const conn = client.conn as Partial<Socket>;
  return conn.remoteAddress ? `${conn.remoteAddress}:${conn.remotePort}` : null;
}
