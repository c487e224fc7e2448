import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import { Aedes, type Client, type AedesPublishPacket, type PublishPacket } from 'aedes';
import mqttPacket from 'mqtt-packet';
import {
  MAX_VEHICLE_KEEPALIVE_S,
  TOPICS,
  isValidVehicleId,
  vehicleTopic,
  type PlatformTopicKind,
  type ProtocolError,
  type TopicKind,
} from '../protocol/index.ts';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import { secondsSince, type Histograms } from '../core/histograms.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { VehicleMessageHandler } from '../core/inbound.ts';
import type { Logger } from '../core/logger.ts';
import {
  authorizePublish,
  authorizeSubscribe,
  authorizeWill,
  mayReceive,
  retainDecision,
  type Principal,
  type Will,
} from './acl.ts';
import { CONNACK_CODE, type Authenticator, type AuthResult, type RefusalReason } from './authenticator.ts';
import {
  certificateIdentity,
  refusedCertificate,
  tlsFailureReason,
  type ClientCertMode,
} from './client-certificate.ts';
import { createConnectThrottle, type ConnectThrottleOptions } from './throttle.ts';
import { createLoginFailureAudit, type BrokerAudit, type LoginFailureAuditOptions } from './login-failure-audit.ts';
import { createPacketSizeGuard } from './packet-size.ts';
import { createConnectionGuards, MAX_TOPIC_LEVELS } from './flow-control.ts';
import { lightenParser, settleConnectedParser } from './idle-footprint.ts';
import { createSessionStore } from './session-store.ts';
import { createTelemetryListeners } from './telemetry-listeners.ts';

export interface BrokerDeps {
  log: Logger;
  counters: Counters;
  bus: EventBus<PlatformEvents>;
  authenticator: Authenticator;
  vehicleMessages: VehicleMessageHandler;
  /** The customer unit of a vehicle (registry), for unit-limited service accounts; none: such an account reaches nothing. */
  vehicleUnit?: (vehicleId: string) => Promise<string | undefined>;
  /**
   * The command log (commands/command-log.ts): every command published on a vehicle's `commands`
   * topic, by a service account or the platform, is recorded here before it is delivered.
   */
  commandLog?: { record(c: { vehicleId: string; publisher: string; payload: Buffer | string }): Promise<void> };
  /** Where refused logins are summed up (one row per address per minute); none: only logged and counted. */
  audit?: BrokerAudit;
  /** Where the PUBACK latency of vehicle messages goes (`mqtt.puback_latency`); none: not measured. */
  histograms?: Pick<Histograms, 'observe'>;
  /** The same wait in fine buckets (ms), for the benches' cause breakdown (core/runtime-stats.ts `puback`). */
  pubackWaits?: { record(ms: number): void };
  /**
   * Where aedes passes messages between connections (`mq`) and keeps retained messages, sessions and
   * wills (`persistence`), shared by every node in cluster mode (cluster/mqtt.ts: Redis); `close` runs
   * after aedes has closed. None: aedes' in-memory ones (one process).
   */
  sharedState?: { mq: unknown; persistence: unknown; close(): Promise<void>; stats?(): Record<string, number> };
  now?: () => number;
}

export interface BrokerOptions {
  /** The plain MQTT (TCP) port; null: none (TLS and WebSocket only). */
  port: number | null;
  host: string;
  /** Publishes with a bigger payload are refused with `payload_too_large`. */
  maxPayloadBytes: number;
  /** Any MQTT packet bigger than this closes the connection before it is buffered. */
  maxPacketBytes: number;
  maxConnections: number;
  /** A connection with bytes waiting to be written that makes no progress for this long is closed (a stuck consumer). */
  drainTimeoutMs: number;
  /**
   * Bytes one connection may have waiting to be written (messages for a subscriber that does not
   * read). Up to this much, writes to it never wait, so a slow subscriber holds up nobody else;
   * a message that would take it beyond is not sent and the connection is closed as a slow consumer.
   */
  maxQueuedBytes: number;
  /** Errors sent back for one message at most (a bad 500-frame batch yields at most this many). */
  maxErrorsPerMessage?: number;
  /**
   * Receive window: packets one connection may have in progress at once (a publish until it is
   * stored and delivered). At the limit the connection is not read until half have completed, so a
   * publisher faster than the platform is slowed by TCP instead of queued in memory.
   */
  maxInflight: number;
  /** QoS 0 messages a vehicle may publish per second (a one-second burst); beyond, dropped and counted. 0: no limit. */
  qos0RatePerSecond: number;
  /** QoS 2 messages one connection may leave awaiting PUBREL; one more closes it. */
  maxQos2AwaitingRelease?: number;
  /** The failed-login throttle (broker/throttle.ts); defaults in CONNECT_THROTTLE_DEFAULTS. */
  loginThrottle?: Partial<ConnectThrottleOptions>;
  /** How refused logins are summed up in the audit log (broker/login-failure-audit.ts). */
  loginFailureAudit?: Partial<LoginFailureAuditOptions>;
  /**
   * MQTT over TLS (mqtts) on its own port, beside the plain one; none: no TLS listener. `clientCert`
   * (mutual TLS; `secureContext` then names the trusted CA in `ca`): `optional` asks each client for a
   * certificate, `required` refuses the handshake without one. A vehicle with a certificate the CA
   * issued is authenticated by its CN (client-certificate.ts).
   */
  tls?: {
    port: number;
    host: string;
    secureContext: () => SecureContextOptions;
    clientCert?: ClientCertMode;
  };
}

/** Where refused messages go: a topic nobody can subscribe to, so they are acknowledged but never delivered. */
const REFUSED_TOPIC = '$platform/refused';
/** Bytes buffered from one connection ahead of the parser (packets larger than this are assembled across reads). */
const READ_AHEAD_BYTES = 64 * 1024;
/** Packets parsed from one connection per turn of the event loop, so that no connection holds up the others. */
const PACKETS_PER_TURN = 256;

export type Broker = ReturnType<typeof createBroker>;

/** The embedded MQTT broker: aedes with the platform's authentication, ACL, size limits and presence. */
export function createBroker(deps: BrokerDeps, options: BrokerOptions) {
  const { log, counters, bus, authenticator, vehicleMessages } = deps;
  /** Whether a vehicle belongs to one of `units` (false for an unknown vehicle or a failed lookup). */
  const inUnits = async (vehicleId: string, units: readonly string[]): Promise<boolean> => {
    const unit = deps.vehicleUnit ? await deps.vehicleUnit(vehicleId).catch(() => undefined) : undefined;
    return unit !== undefined && units.includes(unit);
  };
  const now = deps.now ?? Date.now;
  const principals = new WeakMap<Client, Principal>();
  /** The will of a connection that sent one, until it is authenticated. */
  const wills = new WeakMap<Client, Will>();
  /** Each connection's CONNECT packet until it is authenticated (its keepalive is read after that). */
  const connectPackets = new WeakMap<Client, { keepalive?: number }>();
  const closeReasons = new WeakMap<Client, string>();
  /** The certificate (DER) a connection was authenticated by, for closing it when it is revoked. */
  const peerCertificates = new WeakMap<Client, Buffer>();
  const connectedAt = new WeakMap<Client, number>();
  /** Bytes of messages let through to a connection that aedes has not written to it yet. */
  const inHandover = new WeakMap<Client, number>();
  /** Per connection with bytes waiting: how much had gone out, and since when it has not moved. */
  const progress = new WeakMap<Client, { sent: number; since: number }>();
  let sweeper: NodeJS.Timeout | undefined;
  const throttle = createConnectThrottle(options.loginThrottle, now);
  const loginFailures = deps.audit
    ? createLoginFailureAudit({ audit: deps.audit, log, now }, options.loginFailureAudit)
    : undefined;
  const maxErrors = options.maxErrorsPerMessage ?? 10;

  const maxQos2AwaitingRelease = options.maxQos2AwaitingRelease ?? 100;
  // mqtt-packet's default pre-builds a Buffer for each of the 65,536 two-byte numbers at the first
  // write (~7 MB of heap for the process's life); without the cache it builds the one a packet needs.
  mqttPacket.writeToStream.cacheNumbers = false;
  const aedes = new Aedes({
    maxClientsIdLength: 64,
    drainTimeout: options.drainTimeoutMs,
    connectTimeout: 10_000,
    heartbeatInterval: 60_000,
    // No delivery queue in mqemitter: past its concurrency it queues every publish and, once the
    // queue is drained by messages nobody subscribes to, recurses through it until the stack
    // overflows (RangeError under a QoS 0 flood). Each connection's receive window bounds the work instead.
    concurrency: 0,
    maxTopicLevels: MAX_TOPIC_LEVELS,
    maxInflightInbound: maxQos2AwaitingRelease,
    // cluster mode: Redis (cluster/mqtt.ts; its emitter has no delivery queue either); one node:
    // aedes' in-memory store, which tells aedes when a client's queue is empty (session-store.ts)
    ...(deps.sharedState
      ? { mq: deps.sharedState.mq, persistence: deps.sharedState.persistence }
      : { persistence: createSessionStore() }),
  });
  // one node: telemetry nobody subscribed to skips aedes' forwarding (telemetry-listeners.ts)
  const telemetryListeners = deps.sharedState ? null : createTelemetryListeners();
  /** Accepted messages nobody can hear: aedes' `publish` lets them go at once. */
  const unheard = new WeakSet<object>();
  if (telemetryListeners) {
    const internals = aedes as unknown as {
      publish(packet: PublishPacket, client: Client | null, done: (err?: Error | null) => void): void;
    };
    const publish = internals.publish.bind(aedes);
    internals.publish = (packet, client, done) => {
      if (!unheard.delete(packet)) return publish(packet, client, done);
      counters.inc('mqtt.telemetry_unheard');
      done(null);
    };
  }
  const guards = createConnectionGuards(
    {
      maxInflight: options.maxInflight,
      readAheadBytes: READ_AHEAD_BYTES,
      packetsPerTurn: PACKETS_PER_TURN,
      maxQos2AwaitingRelease,
      maxTopicLevels: MAX_TOPIC_LEVELS,
      placeholderTopic: REFUSED_TOPIC,
    },
    {
      qos2WindowExceeded(client) {
        counters.inc('mqtt.protocol_error', 'qos2_window_exceeded');
        closeReasons.set(client, `more than ${maxQos2AwaitingRelease} QoS 2 messages awaiting PUBREL`);
        log.warn(
          { clientId: client.id, limit: maxQos2AwaitingRelease },
          'too many QoS 2 messages awaiting PUBREL: connection closed',
        );
      },
      windowFull: (client) => counters.inc('mqtt.receive_window_full', client.id),
    },
  );
  /** Per vehicle connection: QoS 0 token bucket (tokens, last refill) and whether drops were logged. */
  const qos0Buckets = new WeakMap<Client, { tokens: number; at: number; logged: boolean }>();
  function qos0Allowed(client: Client): boolean {
    const rate = options.qos0RatePerSecond;
    if (rate <= 0) return true;
    const t = now();
    let b = qos0Buckets.get(client);
    if (!b) qos0Buckets.set(client, (b = { tokens: rate, at: t, logged: false }));
    b.tokens = Math.min(rate, b.tokens + ((t - b.at) * rate) / 1000);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    return false;
  }
  const servers: Server[] = [];
  let tlsServer: ReturnType<typeof createTlsServer> | undefined;
  let serverClosed: Promise<void> | undefined;
  const sockets = new Set<Pick<Duplex, 'destroy'>>();
  /** One listener for every connection ('close' comes once): no closure kept per connection. */
  function forgetSocket(this: Pick<Duplex, 'destroy'>) {
    sockets.delete(this);
  }
  const guardPacketSize = createPacketSizeGuard(options.maxPacketBytes, (client) => {
    counters.inc('mqtt.packet_too_large');
    closeReasons.set(client, 'packet too large');
  });
  let accepting = true;
  let listening = false;
  /** Stops listening now; resolves once the last connection has gone. */
  const closeServer = (): Promise<void> => {
    accepting = false;
    return (serverClosed ??= Promise.all(
      servers.map(
        (server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
      ),
    ).then(() => undefined));
  };

  /**
   * Serves one connection, whatever carries it: TCP, TLS or a WebSocket's stream. Anything but a
   * TCP socket carries `remoteAddress`/`remotePort` for the login throttle and the logs.
   */
  function serve(socket: Duplex & { remoteAddress?: string | undefined }): void {
    if (!accepting) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', forgetSocket);
    const client = aedes.handle(socket);
    lightenParser(client);
    guardPacketSize(client);
    guards.install(client);
  }

  async function listen(server: Server, port: number, host: string): Promise<number> {
    server.maxConnections = options.maxConnections;
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  function refuse(
    reason: RefusalReason,
    clientId: string,
    address: string | null,
    done: (err: Error & { returnCode: number }, ok: null) => void,
    ip: string | null,
  ) {
    counters.inc('mqtt.connect_refused', reason);
    loginFailures?.failed(ip, clientId, reason);
    log.warn({ clientId: clientId.slice(0, 80), address, reason }, 'MQTT connection refused');
    const err = Object.assign(new Error(`connection refused: ${reason}`), { returnCode: CONNACK_CODE[reason] });
    done(err, null);
  }

  aedes.preConnect = (client, packet, callback) => {
    if (packet.will)
      wills.set(client, { topic: packet.will.topic, payload: packet.will.payload, retain: !!packet.will.retain });
    connectPackets.set(client, packet);
    callback(null, true);
  };

  /**
   * A vehicle's keepalive of 0 (none) or above MAX_VEHICLE_KEEPALIVE_S is held to that maximum
   * (MQTT lets a server close a connection it finds inactive whatever the keepalive): silent for
   * 1.5 × that, the connection is closed and the will published. aedes reads the keepalive from the
   * CONNECT packet right after authentication.
   */
  function boundKeepalive(client: Client, principal: Principal): void {
    const packet = connectPackets.get(client);
    connectPackets.delete(client);
    if (!packet || principal.kind !== 'vehicle') return;
    const asked = packet.keepalive ?? 0;
    if (asked > 0 && asked <= MAX_VEHICLE_KEEPALIVE_S) return;
    counters.inc('mqtt.keepalive_bounded', principal.id);
    log.info(
      { vehicleId: principal.id, keepaliveS: asked, boundS: MAX_VEHICLE_KEEPALIVE_S },
      `vehicle keepalive outside 1–${MAX_VEHICLE_KEEPALIVE_S} s: held to the maximum`,
    );
    packet.keepalive = MAX_VEHICLE_KEEPALIVE_S;
  }

  aedes.authenticate = (client, username, password, done) => {
    const clientId = client.id;
    const address = remoteAddress(client);
    const ip = remoteIp(client);
    if (!isValidVehicleId(clientId)) return refuse('bad_client_id', clientId, address, done, ip);
    const certified = certificateIdentity(client.conn);
    if (certified) return authenticateByCertificate(client, certified, username, done);
    if (username === undefined || password === undefined)
      return refuse('missing_credentials', clientId, address, done, ip);
    if (username !== clientId) return refuse('client_id_mismatch', clientId, address, done, ip);
    // Verify first, throttle the failures: a throttled source (this id from this address, or this
    // address) is not refused outright — a secret verified before is still accepted — but nothing
    // is computed for any other secret it sends (no scrypt).
    const gate = throttle.gate(clientId, ip);
    if (gate === 'busy') return refuse('busy', clientId, address, done, ip);
    const end = throttle.begin(ip);
    authenticator
      .authenticate({ clientId, username, password, address, cachedOnly: gate === 'cached' })
      .then((result) => {
        if (!result.ok) {
          if (result.reason === 'bad_secret' || result.reason === 'unknown_account') {
            const failed = throttle.failed(clientId, ip);
            if (failed.source.firstBlock)
              log.warn(
                { clientId: clientId.slice(0, 80), address: ip },
                'repeated failed MQTT logins: source throttled',
              );
            if (failed.address.firstBlock) log.warn({ address: ip }, 'repeated failed MQTT logins: address throttled');
          }
          return refuse(result.reason, clientId, address, done, ip);
        }
        const will = wills.get(client);
        wills.delete(client);
        if (will && !authorizeWill(result.principal, will))
          return refuse('will_not_allowed', clientId, address, done, ip);
        throttle.succeeded(clientId, ip);
        principals.set(client, result.principal);
        boundKeepalive(client, result.principal);
        done(null, true);
      })
      .catch((err: unknown) => {
        log.error({ err, clientId }, 'authentication failed with an error');
        const e = Object.assign(new Error('server unavailable'), { returnCode: 3 });
        done(e as Error & { returnCode: 5 }, null);
      })
      .finally(end);
  };

  /** Mutual TLS: the CA verified the certificate in the handshake; its CN names the vehicle. */
  function authenticateByCertificate(
    client: Client,
    certified: { cn: string; raw: Buffer } | { problem: string },
    username: string | undefined,
    done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
  ): void {
    const clientId = client.id;
    const address = remoteAddress(client);
    const ip = remoteIp(client);
    const refused = (reason: RefusalReason) => refuse(reason, clientId, address, done, ip);
    if ('problem' in certified) {
      counters.inc('mqtt.client_cert_refused', 'no_usable_cn');
      log.warn({ clientId, address, problem: certified.problem }, 'client certificate without a usable CN');
      return refused('unknown_certificate');
    }
    // the certificate names the vehicle: the client id (and a user name, if one is sent) must be it
    if (clientId !== certified.cn || (username !== undefined && username !== certified.cn))
      return refused('client_id_mismatch');
    const lookup = authenticator.authenticateCertificate
      ? authenticator.authenticateCertificate(certified.cn)
      : Promise.resolve<AuthResult>({ ok: false, reason: 'unknown_certificate' });
    lookup
      .then((result) => {
        if (!result.ok) {
          if (result.reason === 'unknown_certificate') counters.inc('mqtt.client_cert_refused', 'unknown_certificate');
          return refused(result.reason);
        }
        const will = wills.get(client);
        wills.delete(client);
        if (will && !authorizeWill(result.principal, will)) return refused('will_not_allowed');
        counters.inc('mqtt.client_cert_login');
        peerCertificates.set(client, certified.raw);
        principals.set(client, result.principal);
        boundKeepalive(client, result.principal);
        done(null, true);
      })
      .catch((err: unknown) => {
        log.error({ err, clientId }, 'certificate authentication failed with an error');
        done(Object.assign(new Error('server unavailable'), { returnCode: 3 }), null);
      });
  }

  function sendErrors(vehicleId: string, errors: ProtocolError[]) {
    for (const error of errors.slice(0, maxErrors)) {
      aedes.publish(
        {
          cmd: 'publish',
          topic: vehicleTopic(vehicleId, 'errors'),
          payload: Buffer.from(JSON.stringify(error)),
          qos: 1,
          retain: false,
          dup: false,
        },
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
    if (guards.isRefused(packet)) return callback(new Error('QoS 2 window exceeded'));
    if (packet.qos === 0 && principal.kind === 'vehicle' && !qos0Allowed(client)) {
      // QoS 0 promises nothing: beyond its rate a vehicle's QoS 0 messages are dropped, counted, never decoded
      counters.inc('mqtt.qos0_dropped', principal.id);
      const bucket = qos0Buckets.get(client)!;
      if (!bucket.logged) {
        bucket.logged = true;
        log.warn(
          { vehicleId: principal.id, ratePerSecond: options.qos0RatePerSecond },
          'QoS 0 messages beyond the rate limit are dropped (counted in mqtt.qos0_dropped)',
        );
      }
      divert(packet);
      return callback(null);
    }
    // a topic too deep for the broker's router arrives under a placeholder: judge the one sent
    const topic = guards.originalTopic(packet) ?? packet.topic;
    const decision = authorizePublish(principal, topic);
    // a vehicle's telemetry nobody subscribed to is stored and acknowledged, never forwarded
    const vehicleMessage = decision.allow ? decision.vehicleMessage : undefined;
    const unheardTelemetry =
      vehicleMessage?.kind === 'telemetry' &&
      packet.qos < 2 &&
      !packet.retain &&
      telemetryListeners !== null &&
      !telemetryListeners.heard(vehicleMessage.vehicleId);
    // The parser's payload is a view into the socket read it arrived in: a message kept afterwards
    // (retained, queued for a subscriber, awaiting PUBREL) would keep that whole read in memory,
    // tens of KiB for a few hundred bytes. Each such message gets its own copy; telemetry nobody
    // hears is dropped once stored and acknowledged (it keeps its read only until then).
    if (
      !unheardTelemetry &&
      typeof packet.payload !== 'string' &&
      packet.payload.byteLength < packet.payload.buffer.byteLength
    )
      packet.payload = Buffer.from(packet.payload);
    if (!decision.allow) {
      counters.inc('mqtt.publish_denied', principal.id);
      if (principal.kind === 'vehicle') {
        const msg = {
          vehicleId: principal.id,
          kind: 'telemetry' as TopicKind,
          topic,
          payload: Buffer.from(packet.payload),
          retain: !!packet.retain,
        };
        sendErrors(principal.id, [
          vehicleMessages.refuse(msg, { code: 'topic_not_allowed', message: decision.reason }),
        ]);
      } else {
        log.warn({ clientId: principal.id, topic: topic.slice(0, 200) }, decision.reason);
      }
      divert(packet);
      return callback(null);
    }
    const retain = retainDecision(principal, topic, !!packet.retain);
    if (retain === 'refuse') {
      // a retained command would run again at every connect: never kept, never delivered
      counters.inc('mqtt.retained_command_refused', principal.id);
      log.warn(
        { clientId: principal.id, topic: topic.slice(0, 200) },
        'retained command refused: commands are never retained',
      );
      divert(packet);
      return callback(null);
    }
    if (retain === 'strip') {
      counters.inc('mqtt.retain_stripped', principal.id);
      packet.retain = false;
    }
    if (principal.kind === 'service' && (decision.unitOf || decision.command)) {
      // a unit-limited account reaches its units' vehicles only; a command goes on once recorded
      const { unitOf, command } = decision;
      const payload = packet.payload;
      void (async () => {
        if (unitOf && !(await inUnits(unitOf.vehicleId, unitOf.units))) {
          counters.inc('mqtt.publish_denied', principal.id);
          log.warn(
            { clientId: principal.id, topic: topic.slice(0, 200) },
            `service account ${principal.id} may publish only to vehicles of units ${unitOf.units.join(', ')}`,
          );
          divert(packet);
          return callback(null);
        }
        if (command) {
          if (!deps.commandLog) throw new Error('no command log: commands from service accounts are refused');
          await deps.commandLog.record({ vehicleId: command.vehicleId, publisher: principal.id, payload });
          counters.inc('mqtt.service_command', principal.id);
        }
        callback(null);
      })().catch((err: unknown) => {
        // not recorded, so not delivered (nor acknowledged: the connection is closed)
        log.error(
          { err, clientId: principal.id, topic: topic.slice(0, 200) },
          'a command could not be recorded: refused',
        );
        closeReasons.set(client, 'command could not be recorded');
        callback(err instanceof Error ? err : new Error(String(err)));
      });
      return;
    }
    if (!decision.vehicleMessage) return callback(null);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const arrived = process.hrtime.bigint();
    vehicleMessages
      .handle({ ...decision.vehicleMessage, topic: packet.topic, payload, retain: !!packet.retain })
      .then((verdict) => {
        if (verdict.errors.length) sendErrors(decision.vehicleMessage!.vehicleId, verdict.errors);
        if (!verdict.forward) divert(packet);
        else if (unheardTelemetry) unheard.add(packet);
        if (packet.qos > 0) {
          const waited = secondsSince(arrived);
          deps.histograms?.observe('mqtt.puback_latency', waited);
          deps.pubackWaits?.record(waited * 1000);
        }
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
    const decision = principal
      ? authorizeSubscribe(principal, sub.topic)
      : { allow: false as const, reason: 'not authenticated' };
    if (!decision.allow) {
      counters.inc('mqtt.subscribe_denied', principal?.id ?? client.id);
      log.warn({ clientId: client.id, topic: sub.topic }, `subscription refused: ${decision.reason}`);
      return callback(null, null);
    }
    const { unitOf } = decision;
    if (!unitOf) {
      telemetryListeners?.granted(sub.topic);
      return callback(null, sub);
    }
    void inUnits(unitOf.vehicleId, unitOf.units).then((ok) => {
      if (ok) {
        telemetryListeners?.granted(sub.topic);
        return callback(null, sub);
      }
      counters.inc('mqtt.subscribe_denied', client.id);
      log.warn(
        { clientId: client.id, topic: sub.topic },
        `subscription refused: ${unitOf.vehicleId} is not a vehicle of units ${unitOf.units.join(', ')}`,
      );
      callback(null, null);
    });
  };

  /**
   * Closes a connection that does not read what it is sent: its queued bytes are freed, its session
   * ends (a vehicle's will is published), and it is counted as `mqtt.slow_consumer_disconnected`.
   */
  function dropSlowConsumer(client: Client, reason: string): void {
    const conn = client.conn as Partial<Socket>;
    if (conn.destroyed) return;
    counters.inc('mqtt.slow_consumer_disconnected', client.id);
    closeReasons.set(client, `slow consumer: ${reason}`);
    log.warn(
      { clientId: client.id, queuedBytes: conn.writableLength, reason },
      'MQTT connection does not read what it is sent: closed',
    );
    conn.destroy?.();
  }

  aedes.authorizeForward = (client, packet: AedesPublishPacket) => {
    // Defence in depth: deliver nothing to a vehicle but its own commands and errors.
    const principal = principals.get(client);
    if (!principal) return null;
    if (!mayReceive(principal, packet.topic)) return null;
    // A subscriber that does not keep up: its queue is bounded; it is closed rather than waited for.
    const queued = ((client.conn as Partial<Socket>).writableLength ?? 0) + (inHandover.get(client) ?? 0);
    const size = packet.payload.length + packet.topic.length + 16;
    if (queued + size > options.maxQueuedBytes) {
      dropSlowConsumer(client, `${queued} bytes not read`);
      return null;
    }
    // aedes writes the packet in an immediate it schedules right after this returns; counted as
    // queued until then (an immediate scheduled from a microtask runs after it)
    inHandover.set(client, (inHandover.get(client) ?? 0) + size);
    queueMicrotask(() => setImmediate(() => inHandover.set(client, (inHandover.get(client) ?? size) - size)));
    return packet;
  };

  /** Connections whose queued bytes have not moved for `drainTimeoutMs` are stuck: closed. */
  function sweepStuck(): void {
    const at = now();
    // for…in, not Object.values: no array of every client at each sweep (10,000 connections: 80 KB a
    // second, promoted in a connect storm)
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
    for (const id in clients) {
      const client = clients[id];
      if (!client) continue;
      const conn = client.conn as Partial<Socket>;
      const queued = conn.writableLength ?? 0;
      if (queued === 0 || conn.bytesWritten === undefined) {
        progress.delete(client);
        continue;
      }
      const sent = conn.bytesWritten - queued; // handed to the kernel so far
      const p = progress.get(client);
      if (!p || p.sent !== sent) progress.set(client, { sent, since: at });
      else if (at - p.since >= options.drainTimeoutMs)
        dropSlowConsumer(client, `${queued} bytes not read for ${Math.round((at - p.since) / 1000)} s`);
    }
  }

  aedes.on('client', (client) => {
    settleConnectedParser(client);
    const principal = principals.get(client);
    connectedAt.set(client, now());
    counters.inc('mqtt.connected');
    if (principal?.kind === 'vehicle')
      bus.emit('vehicle.connected', { vehicleId: principal.id, at: now(), address: remoteAddress(client) });
  });
  aedes.on('clientDisconnect', (client) => {
    const principal = principals.get(client);
    counters.inc('mqtt.disconnected');
    if (principal?.kind === 'vehicle') {
      bus.emit('vehicle.disconnected', {
        vehicleId: principal.id,
        at: now(),
        reason: closeReasons.get(client) ?? 'connection closed',
      });
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
    /** The ports listened on: `port` is absent with the plain port off (`port: null`). */
    async start(): Promise<{ port?: number; tlsPort?: number }> {
      // the same client id connected to another node (aedes announces every new client on the
      // emitter; its own listener, registered by listen() after this one, closes the old connection)
      const mq = (
        aedes as unknown as { mq: { on(t: string, f: (p: AedesPublishPacket, done: () => void) => void): void } }
      ).mq;
      mq.on('$SYS/+/new/clients', (packet, done) => {
        const clientId = packet.payload.toString();
        const old = (aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
        if (old && packet.topic.split('/')[1] !== aedes.id) {
          closeReasons.set(old, 'connected again on another node');
          counters.inc('mqtt.taken_over_elsewhere', clientId);
        }
        done();
      });
      await aedes.listen();
      // Writes to a connection do not wait for it to drain below `maxQueuedBytes` (the stream's
      // high-water mark); aedes would otherwise hold every publish to a subscriber that does not
      // read until it drains, and with it, past its delivery concurrency, every other client's.
      // What is read ahead from one connection is bounded separately (READ_AHEAD_BYTES, flow-control.ts).
      const port =
        options.port === null
          ? undefined
          : await listen(
              createServer({ noDelay: true, highWaterMark: options.maxQueuedBytes }, serve),
              options.port,
              options.host,
            );
      let tlsPort: number | undefined;
      if (options.tls) {
        const tls = options.tls;
        const clientCert = tls.clientCert ?? 'off';
        const secure = createTlsServer(
          {
            ...tls.secureContext(),
            noDelay: true,
            highWaterMark: options.maxQueuedBytes,
            requestCert: clientCert !== 'off',
            rejectUnauthorized: clientCert === 'required',
          },
          (socket: TLSSocket) => {
            // `optional`: a certificate the CA did not issue (or expired) is refused, not ignored
            const bad = clientCert === 'optional' ? refusedCertificate(socket) : undefined;
            if (bad) {
              counters.inc('mqtt.client_cert_refused', bad);
              log.warn({ address: socket.remoteAddress, reason: bad }, 'client certificate refused');
              socket.destroy();
              return;
            }
            serve(socket);
          },
        );
        // a failed handshake (wrong CA, expired certificate, plain MQTT on the TLS port) never reaches aedes
        secure.on('tlsClientError', (err, socket) => {
          counters.inc('mqtt.tls_error');
          const reason = tlsFailureReason(err, socket);
          if (reason) counters.inc('mqtt.client_cert_refused', reason);
          log.debug({ err: err.message, reason, address: socket.remoteAddress }, 'TLS handshake failed');
        });
        tlsServer = secure;
        tlsPort = await listen(secure, tls.port, tls.host);
      }
      listening = true;
      sweeper = setInterval(sweepStuck, Math.min(1000, Math.max(50, Math.floor(options.drainTimeoutMs / 4))));
      sweeper.unref();
      loginFailures?.start();
      log.info({ port, tlsPort, host: options.host }, 'MQTT broker listening');
      return { ...(port !== undefined ? { port } : {}), ...(tlsPort !== undefined ? { tlsPort } : {}) };
    },
    /** Serves one MQTT connection carried by another transport (MQTT over WebSocket: broker/websocket.ts). */
    serve,
    /**
     * Takes a new certificate and key (and client CA, CRL) for new TLS connections; connections already
     * open keep theirs. New session ticket keys: no TLS session resumes past a changed CA or CRL.
     */
    reloadTls(): void {
      if (!tlsServer || !options.tls) return;
      tlsServer.setSecureContext(options.tls.secureContext());
      tlsServer.setTicketKeys(randomBytes(48));
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
    /** Whether new connections are taken: started, every listener listening, and not stopping (`/readyz`). */
    acceptingConnections(): boolean {
      return listening && accepting && servers.every((server) => server.listening);
    },
    /**
     * Closes every connection, spread evenly over `spreadMs` (0: all at once), so that the gateways
     * reconnect to the other nodes without all arriving in the same instant (the drain on SIGTERM).
     * A message whose PUBACK had not gone out is not acknowledged: the gateway sends it again there.
     * Resolves once the last one is closed.
     */
    async closeConnections(reason: string, spreadMs: number): Promise<void> {
      const clients = Object.values((aedes as unknown as { clients: Record<string, Client> }).clients);
      log.info({ connections: clients.length, spreadMs, reason }, 'closing MQTT connections');
      const gap = clients.length > 1 ? spreadMs / (clients.length - 1) : 0;
      for (const [i, client] of clients.entries()) {
        if (i > 0 && gap > 0) await new Promise((resolve) => setTimeout(resolve, gap));
        if (client.closed) continue;
        closeReasons.set(client, reason);
        client.close();
      }
      // connections that had not sent CONNECT yet
      for (const s of sockets) s.destroy();
    },
    async stop(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      const closing = closeServer();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await deps.sharedState?.close();
      for (const s of sockets) s.destroy();
      await closing;
      await loginFailures?.stop();
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
    /**
     * Closes the connections authenticated by a certificate that `revoked` (the CRL just reloaded)
     * says is revoked: a revocation cuts the vehicle off, not only its next connection. Returns how many.
     */
    closeRevoked(revoked: (certificate: Buffer) => boolean): number {
      let closed = 0;
      for (const client of Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)) {
        const raw = peerCertificates.get(client);
        if (!raw || !revoked(raw)) continue;
        closeReasons.set(client, 'certificate revoked');
        counters.inc('mqtt.client_cert_revoked_closed');
        log.warn({ clientId: client.id }, 'closing MQTT session: its client certificate was revoked');
        client.close();
        closed++;
      }
      return closed;
    },
    /** Publishes as the platform; a command is recorded in the command log first (not published if it cannot be). */
    async publishToVehicle(vehicleId: string, kind: PlatformTopicKind, payload: unknown): Promise<void> {
      const bytes = Buffer.from(JSON.stringify(payload));
      if (kind === 'commands' && deps.commandLog)
        await deps.commandLog.record({ vehicleId, publisher: 'platform', payload: bytes });
      return new Promise((resolve, reject) =>
        aedes.publish(
          {
            cmd: 'publish',
            topic: vehicleTopic(vehicleId, kind),
            payload: bytes,
            qos: 1,
            retain: TOPICS[kind].retain,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    /** Cluster mode: how many messages went through Redis and how many stayed on this node (cluster/mqtt.ts). */
    clusterStats: (): Record<string, number> | undefined => deps.sharedState?.stats?.(),
    isConnected(clientId: string): boolean {
      return !!(aedes as unknown as { clients: Record<string, Client> }).clients[clientId];
    },
    connectedCount: () => aedes.connectedClients,
  };
}

/** The peer's IP address (no port): what the login throttle counts by. */
function remoteIp(client: Client): string | null {
  return (client.conn as Partial<Socket>).remoteAddress ?? null;
}

function remoteAddress(client: Client): string | null {
  const conn = client.conn as Partial<Socket>;
  return conn.remoteAddress ? `${conn.remoteAddress}:${conn.remotePort}` : null;
}
