import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createInProcessBus, mergeBuses, type EventBus } from '../core/bus.ts';
import { createCounters, type Counters } from '../core/counters.ts';
import { createHistograms } from '../core/histograms.ts';
import { createEventLoopMonitor } from '../core/event-loop.ts';
import { createRuntimeStats, memoryFigures } from '../core/runtime-stats.ts';
import { createReadiness, DrainingError } from '../core/readiness.ts';
import { sql } from 'kysely';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { PlatformError } from '../core/errors.ts';
import { createBroker } from '../broker/broker.ts';
import { revocationCheck } from '../broker/revocation-list.ts';
import { createMqttWebSocket } from '../broker/websocket.ts';
import { createCommandPolicy } from '../commands/policy.ts';
import { createCommandService } from '../commands/service.ts';
import { createCommandLog } from '../commands/command-log.ts';
import { createIngest } from '../ingest/ingest.ts';
import { createConfirmations } from '../ingest/confirmations.ts';
import type { RecordsDb } from '../records/db.ts';
import { createDeadLetterLog } from '../records/dead-letters.ts';
import { createVehicleEventLog } from '../records/vehicle-events.ts';
import { createRegistryAuthenticator } from '../registry/authenticator.ts';
import { createRegistryWatcher } from '../registry/changes.ts';
import { createPresenceStore } from '../registry/presence.ts';
import { createServiceAccounts } from '../registry/service-accounts.ts';
import { createVehicleRegistry } from '../registry/vehicles.ts';
import { createCustomers } from '../registry/customers.ts';
import { createRetention } from '../telemetry/retention.ts';
import type { SqliteTelemetryStore } from '../telemetry/sqlite-store.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import { withLatestFrames } from '../telemetry/latest-frames.ts';
import { rateLimitsOf, type PlatformConfig } from './config.ts';
import { createDiagnosticsStage } from './diagnostics.ts';
import { createAuditLog } from '../web/auth/audit.ts';
import { createNotificationDelivery } from './notification-delivery.ts';
import { loadChannelsFile, NO_CHANNELS } from '../notifications/channel-config.ts';
import { createRemoteStage, createSessionParts } from './remote.ts';
import { createServiceStage } from './service.ts';
import { createWebServer } from '../web/server.ts';
import { loadTotpKey } from './totp-key.ts';
import { renderPrometheus } from './prometheus.ts';
import { tlsFileList, tlsFiles, watchTlsFiles } from './tls-files.ts';
import { createInfluxEvents } from './influx-events.ts';
import { photoDir } from './data-files.ts';
import { openRecords } from './records.ts';
import { confirmationMarksOf, frameExportOf, openTelemetry } from './telemetry.ts';
import { createInfluxExport, influxWriter } from '../telemetry/influx-export.ts';
import { createStock } from '../resources/stock/stock.ts';
import { ledgerReportParts } from './report-parts.ts';
import { createResourceRegister } from '../resources/register.ts';
import { createToolReminderNotices } from '../notifications/tool-reminders.ts';
import { createSupportPlanStage } from './support-plans.ts';
import { createRedisConnections } from '../cluster/redis.ts';
import { createClusterMqtt } from '../cluster/mqtt.ts';
import { createEventRelay } from '../cluster/event-relay.ts';
import { createRelayGroupExpiry } from '../cluster/relay-groups.ts';
import { createLiveFeed } from '../cluster/live-feed.ts';
import { createVehicleOwners } from '../cluster/vehicle-owners.ts';
import { createVehicleOwnership } from '../cluster/vehicle-ownership.ts';
import { alwaysLeader, createLeaderLease, type Leadership } from '../cluster/leader.ts';

/**
 * Where `npm run build:console` puts the browser app: dist/console, which is `../dist/console` from
 * this source file and `../console` from its built copy (dist/platform/platform.js).
 */
const DEFAULT_CONSOLE_DIR = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../dist/console' : '../console', import.meta.url),
);

/** Group commits under way at once on the PostgreSQL telemetry store unless INGEST_COMMITS_IN_FLIGHT says (docs/benchmarks.md). */
const POSTGRES_COMMITS_IN_FLIGHT = 4;
/**
 * …and on SQLite: its writer thread still commits one batch after the other, but the next batch
 * already waits in its queue when one ends, instead of after the answer's trip to the main thread
 * and back (docs/benchmarks.md: −18 % of the time messages waited for their PUBACK at 7,235/s).
 */
const SQLITE_COMMITS_IN_FLIGHT = 2;

export interface PlatformDeps {
  log: Logger;
  now?: () => number;
  /** Injected stores replace the embedded SQLite ones (tests, other engines). */
  records?: RecordsDb;
  telemetry?: TelemetryStore;
}

/**
 * The composition root: builds every part with its dependencies and wires them through the bus.
 * Nothing else in the code base knows how the parts fit together.
 *
 * A step that refuses (a bad RULES_FILE, say, read after the stores are open) leaves nothing open
 * behind: what the building opened itself (the Redis connections, the records database, the
 * telemetry store with its writer thread) is closed again, the last opened first (a closer that
 * fails is logged, the rest still run), before the error goes on to the caller. Injected stores
 * stay the caller's.
 */
export async function createPlatform(config: PlatformConfig, deps: PlatformDeps) {
  const opened: (() => Promise<unknown>)[] = [];
  try {
    return await assemble(config, deps, opened);
  } catch (err) {
    for (const close of opened.reverse())
      await close().catch((closeErr: unknown) =>
        deps.log.warn({ err: closeErr }, 'closing what a refused start had opened failed'),
      );
    throw err;
  }
}

/** createPlatform's building; `opened` gets a closer for each thing it opens before the platform exists. */
async function assemble(config: PlatformConfig, deps: PlatformDeps, opened: (() => Promise<unknown>)[]) {
  const log = deps.log;
  const now = deps.now ?? Date.now;
  const counters: Counters = createCounters();
  const histograms = createHistograms();
  const eventLoop = createEventLoopMonitor();
  const runtime = createRuntimeStats();
  const bus: EventBus<PlatformEvents> = createInProcessBus<PlatformEvents>(log.child({ module: 'bus' }));
  // cluster mode: Redis between the nodes (REDIS_URL; config.ts checked the databases are PostgreSQL)
  const redis = config.REDIS_URL
    ? createRedisConnections(
        { log: log.child({ module: 'redis' }), counters },
        { url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, node: config.NODE_ID },
      )
    : undefined;
  if (redis) opened.push(() => redis.close());
  // cluster mode: the events other nodes need cross over a Redis stream and come back on `relay.remote`
  // (never on `bus`: the stages act on their own node's events only); the live layer hears both
  // (`clusterBus`), and gets the other nodes' watched frames and fleet changes (`liveFeed`)
  const relay = redis
    ? createEventRelay(
        { bus, redis, counters, log: log.child({ module: 'event-relay' }) },
        { node: config.NODE_ID, maxLength: config.CLUSTER_EVENTS_MAX_LEN },
      )
    : undefined;
  const clusterBus = relay ? mergeBuses(bus, relay.remote) : bus;
  const liveFeed = redis
    ? createLiveFeed(
        { bus, redis, counters, log: log.child({ module: 'live-feed' }), now },
        {
          node: config.NODE_ID,
          fleetIntervalMs: config.LIVE_FLEET_INTERVAL_MS,
          refreshMs: config.CLUSTER_WATCH_REFRESH_MS,
        },
      )
    : undefined;
  // the jobs that must fire once across the cluster run on the leader (an advisory lock on the records
  // database, cluster/leader.ts); one process is always the leader (docs/architecture.md)
  const lease =
    config.REDIS_URL && config.DATABASE_URL
      ? createLeaderLease(
          { log: log.child({ module: 'leader' }) },
          { url: config.DATABASE_URL, node: config.NODE_ID, retryMs: config.LEADER_RETRY_MS },
        )
      : undefined;
  const leader: Leadership = lease ?? alwaysLeader();
  // cluster mode: the leader removes the relay consumer groups of nodes gone for good
  const relayGroups =
    redis && relay
      ? createRelayGroupExpiry(
          { redis: redis.client, counters, log: log.child({ module: 'relay-groups' }), gate: () => leader.isLeader() },
          {
            key: relay.key,
            readersKey: relay.readersKey,
            ownGroup: relay.group,
            expiryMs: config.CLUSTER_GROUP_EXPIRY_MS,
          },
        )
      : undefined;
  // the gate each once-job checks at its fire, the poll of the due times, the fence of its transaction
  const once = lease
    ? { gate: () => lease.isLeader(), gatePollMs: config.LEADER_POLL_MS, fence: (tx: RecordsDb) => lease.fence(tx) }
    : {};

  // the delivery channels file is checked before anything is opened: a bad one stops the start cleanly
  const channels = config.NOTIFY_CHANNELS_FILE ? loadChannelsFile(config.NOTIFY_CHANNELS_FILE) : NO_CHANNELS;
  // the records on PostgreSQL when DATABASE_URL names one, else the embedded SQLite file
  const records = deps.records ?? (await openRecords(config, log));
  if (!deps.records) opened.push(() => records.destroy());
  // the latest frame per vehicle also in memory: fleet views read no database (telemetry/latest-frames.ts)
  // (SQLite in DATA_DIR, or PostgreSQL with TELEMETRY_STORE=postgres)
  const telemetry = withLatestFrames(deps.telemetry ?? (await openTelemetry(config, log)));
  if (!deps.telemetry) opened.push(() => telemetry.close());

  const vehicles = createVehicleRegistry({ db: records, now });
  // every stored frame to InfluxDB from a durable cursor (INFLUX_URL); reads the store, never slows ingest
  const frameExport = config.INFLUX_URL ? frameExportOf(telemetry, config) : undefined;
  const influxExport =
    config.INFLUX_URL && frameExport
      ? createInfluxExport(
          {
            ...frameExport,
            // in a cluster the leader exports (the cursor's lock keeps a second exporter out anyway)
            gate: () => leader.isLeader(),
            tagsOf: async (id) => {
              const v = await vehicles.get(id);
              return v ? { unit: v.customerId, model: v.model } : {};
            },
            write: influxWriter({
              url: config.INFLUX_URL,
              token: config.INFLUX_TOKEN ?? '',
              org: config.INFLUX_ORG,
              bucket: config.INFLUX_BUCKET,
              timeoutMs: config.INFLUX_TIMEOUT_MS,
            }),
            counters,
            log: log.child({ module: 'influx-export' }),
            now,
          },
          {
            batchFrames: config.INFLUX_BATCH_FRAMES,
            idleMs: config.INFLUX_IDLE_MS,
            backoffMinMs: config.INFLUX_BACKOFF_MIN_MS,
            backoffMaxMs: config.INFLUX_BACKOFF_MAX_MS,
          },
        )
      : undefined;
  // alarms and ticket events to the same bucket as the `events` measurement (annotations; best effort)
  const influxEvents = config.INFLUX_URL
    ? createInfluxEvents(
        {
          bus,
          write: influxWriter({
            url: config.INFLUX_URL,
            token: config.INFLUX_TOKEN ?? '',
            org: config.INFLUX_ORG,
            bucket: config.INFLUX_BUCKET,
            timeoutMs: config.INFLUX_TIMEOUT_MS,
          }),
          counters,
          log: log.child({ module: 'influx-events' }),
          now,
        },
        { maxQueued: 10_000, backoffMinMs: config.INFLUX_BACKOFF_MIN_MS, backoffMaxMs: config.INFLUX_BACKOFF_MAX_MS },
      )
    : undefined;
  const customers = createCustomers({ db: records, now });
  const serviceAccounts = createServiceAccounts({ db: records, now });
  // cluster mode: presence names the node of each connection; one owner node per vehicle for its rules
  const presence = createPresenceStore({ db: records }, redis ? { node: config.NODE_ID } : {});
  const owners = redis
    ? createVehicleOwners(
        { db: records, log: log.child({ module: 'vehicle-owners' }), now },
        { node: config.NODE_ID, leaseMs: config.OWNER_LEASE_MS },
      )
    : undefined;
  const deadLetters = createDeadLetterLog(
    { db: records, log: log.child({ module: 'dead-letters' }) },
    { maxEntries: config.DEAD_LETTER_MAX },
  );
  const eventLog = createVehicleEventLog({ db: records, log: log.child({ module: 'vehicle-events' }) });

  // TLS material (config.ts checked that both files of each pair exist): read now, so a bad pair stops the start
  // the vehicles' CA and CRL: for client certificates on the TLS port and over wss (HTTP_TLS_CLIENT_CERT)
  const vehicleCa = config.MQTT_TLS_CA_FILE
    ? { caFile: config.MQTT_TLS_CA_FILE, crlFile: config.MQTT_TLS_CRL_FILE }
    : undefined;
  const mqttTlsFiles =
    config.MQTT_TLS_PORT !== undefined
      ? tlsFileList(
          config.MQTT_TLS_CERT_FILE!,
          config.MQTT_TLS_KEY_FILE!,
          config.MQTT_TLS_CLIENT_CERT !== 'off' ? vehicleCa : undefined,
        )
      : undefined;
  const mqttTls =
    config.MQTT_TLS_PORT !== undefined
      ? {
          port: config.MQTT_TLS_PORT,
          context: tlsFiles(
            config.MQTT_TLS_CERT_FILE!,
            config.MQTT_TLS_KEY_FILE!,
            config.MQTT_TLS_CLIENT_CERT !== 'off' ? vehicleCa : undefined,
          ),
        }
      : undefined;
  const httpsClientCa = config.HTTP_TLS_CLIENT_CERT !== 'off' ? vehicleCa : undefined;
  const httpsContext = config.HTTP_TLS_CERT_FILE
    ? tlsFiles(config.HTTP_TLS_CERT_FILE, config.HTTP_TLS_KEY_FILE!, httpsClientCa)
    : undefined;
  for (const context of [mqttTls?.context, httpsContext]) if (context) createSecureContext(context());
  const tlsWatchers: { stop(): void }[] = [];

  const ingest = createIngest(
    { store: telemetry, bus, log: log.child({ module: 'ingest' }), counters, histograms, deadLetters, eventLog, now },
    {
      maxPayloadBytes: config.MQTT_MAX_PAYLOAD_BYTES,
      maxBatchFrames: config.INGEST_BATCH_FRAMES,
      flushMs: config.INGEST_FLUSH_MS,
      flush: config.INGEST_FLUSH,
      maxCommitsInFlight:
        config.INGEST_COMMITS_IN_FLIGHT ||
        (config.TELEMETRY_STORE === 'postgres' ? POSTGRES_COMMITS_IN_FLIGHT : SQLITE_COMMITS_IN_FLIGHT),
    },
  );
  // every command over MQTT (service accounts' and the platform's) with its ack (issue 16)
  const commandLog = createCommandLog({ db: records, bus, log: log.child({ module: 'command-log' }), now });
  const broker = createBroker(
    {
      log: log.child({ module: 'broker' }),
      counters,
      bus,
      authenticator: createRegistryAuthenticator({ vehicles, serviceAccounts }),
      vehicleMessages: ingest,
      vehicleUnit: async (vehicleId) => (await vehicles.get(vehicleId))?.customerId,
      commandLog,
      audit: createAuditLog({ db: records, now }, { source: 'mqtt' }),
      histograms,
      pubackWaits: runtime.puback,
      // cluster mode: messages, retained messages and sessions shared through Redis (cluster/mqtt.ts)
      ...(redis
        ? {
            sharedState: createClusterMqtt(
              { redis, log: log.child({ module: 'mqtt-cluster' }), counters },
              { node: config.NODE_ID },
            ),
          }
        : {}),
      now,
    },
    {
      port: config.MQTT_PORT,
      host: config.MQTT_HOST,
      maxPayloadBytes: config.MQTT_MAX_PAYLOAD_BYTES,
      maxPacketBytes: Math.max(4 * config.MQTT_MAX_PAYLOAD_BYTES, 1024 * 1024),
      maxConnections: config.MQTT_MAX_CONNECTIONS,
      drainTimeoutMs: config.MQTT_DRAIN_TIMEOUT_MS,
      // at least two of the largest messages, so that any one can be delivered
      maxQueuedBytes: Math.max(config.MQTT_MAX_QUEUED_BYTES, 2 * config.MQTT_MAX_PAYLOAD_BYTES),
      maxInflight: config.MQTT_MAX_INFLIGHT,
      qos0RatePerSecond: config.MQTT_QOS0_RATE,
      ...(mqttTls
        ? {
            tls: {
              port: mqttTls.port,
              host: config.MQTT_HOST,
              secureContext: mqttTls.context,
              clientCert: config.MQTT_TLS_CLIENT_CERT,
            },
          }
        : {}),
    },
  );
  // MQTT over WebSocket on the console's port (MQTT_WS): the same broker, authentication and ACL
  const mqttWs = config.MQTT_WS
    ? createMqttWebSocket(
        { broker, counters, log: log.child({ module: 'mqtt-ws' }) },
        { maxPacketBytes: Math.max(4 * config.MQTT_MAX_PAYLOAD_BYTES, 1024 * 1024) },
      )
    : undefined;
  // delivery confirmation: the per-vehicle mark of stored frames, published to the gateway (telemetry/confirmed)
  const confirmations = createConfirmations(
    {
      bus,
      store: confirmationMarksOf(telemetry, { records, log: log.child({ module: 'confirmations' }), now }),
      publish: (vehicleId, kind, payload) => broker.publishToVehicle(vehicleId, kind, payload),
      log: log.child({ module: 'confirmations' }),
      counters,
      now,
    },
    { intervalMs: config.TELEMETRY_CONFIRM_INTERVAL_MS, gapGraceMs: config.TELEMETRY_GAP_GRACE_MS },
  );
  const watcher = createRegistryWatcher(
    {
      db: records,
      log: log.child({ module: 'registry' }),
      onChange: (change) => {
        // a vehicle added, moved or removed elsewhere (the CLI, another node): the fleet list reads it again
        if (change.subject === 'vehicle') vehicles.forget();
        // its presence row went with it (registry/vehicles.ts remove)
        if (change.subject === 'vehicle' && change.change === 'removed') presence.forget();
        bus.emit('registry.changed', { subject: change.subject, id: change.subjectId, change: change.change });
        if (change.change === 'rotated' || change.change === 'removed') {
          broker.disconnect(
            change.subjectId,
            change.change === 'removed' ? 'account removed' : 'secret rotated',
            change.at,
          );
        } else if (change.change === 'updated' && change.subject === 'service') {
          // a service account's scope is read at CONNECT: a changed one applies from the next
          broker.disconnect(change.subjectId, 'scope changed', change.at);
        }
      },
    },
    { pollMs: config.REGISTRY_POLL_MS },
  );
  const retention = createRetention(
    { store: telemetry, log: log.child({ module: 'retention' }), now, ...(once.gate ? { gate: once.gate } : {}) },
    { days: config.TELEMETRY_RETENTION_DAYS },
  );

  // rules → alarms → incidents → tickets, and the ticket service the console shares with them
  const stage = createDiagnosticsStage(
    { bus, records, log, counters, now, vehicles, telemetry, ...once, ...(owners ? { ownership: owners } : {}) },
    config,
  );
  // cluster mode: leases taken on connect, dropped state on loss, the stale-presence sweep (on the leader)
  const ownership = owners
    ? createVehicleOwnership(
        {
          bus,
          owners,
          diagnostics: stage.diagnostics,
          presence,
          log: log.child({ module: 'vehicle-ownership' }),
          counters,
          now,
          gate: () => leader.isLeader(),
        },
        { sweepMs: config.OWNER_SWEEP_MS },
      )
    : undefined;
  const { diagnostics, tickets } = stage;
  // the notification outbox's delivery: channels from NOTIFY_CHANNELS_FILE, the dispatcher, the inbox
  const notifications = createNotificationDelivery(
    { bus, records, log, counters, now, channels, ...(once.gate ? { gate: once.gate } : {}) },
    config,
  );

  // operator commands: published on the vehicle's `commands` topic, settled by its `commands/ack`
  const commands = createCommandService(
    {
      db: records,
      bus,
      ...(relay ? { elsewhere: relay.remote } : {}),
      publish: (vehicleId, command) => broker.publishToVehicle(vehicleId, 'commands', command),
      isOnline: async (vehicleId) => (await presence.get(vehicleId))?.online === true,
      audit: (db) => createAuditLog({ db, now }, { source: 'console' }),
      log: log.child({ module: 'commands' }),
      counters,
      now,
    },
    {
      ackTimeoutMs: config.COMMAND_ACK_TIMEOUT_MS,
      // several nodes: an ack may be settled by the node its vehicle is connected to
      ...(redis ? { elsewherePollMs: 500 } : {}),
    },
  );
  // remote guidance sessions: records, roster and ringing, hung off the ticket service; their guided
  // steps, the 10 Hz rate while live (through the command service) and who is in a live session
  const remote = createRemoteStage(
    { bus, records, log, now, tickets, vehicles, telemetry, producer: stage.notifications.producer, ...once },
    config,
  );
  const sessionParts = createSessionParts(
    { sessions: remote, tickets, bus, records, log, now, commands, vehicles },
    { ...config, photoDir: photoDir(config.dataDir) },
  );
  // after a ticket: the satisfaction survey and follow-up, the outcomes the statistics read, the customer file
  const service = createServiceStage({ bus, records, log, now, messages: stage.notifications.messages }, config);
  const commandPolicy = createCommandPolicy({
    liveSessionRole: (accountId, vehicleId) => sessionParts.liveSessionRole(accountId, vehicleId),
    isDutyLead: (accountId) => accountId === config.DUTY_LEAD,
  });

  // these events are announced after commits whose transactions may have written outbox rows (the
  // notifications producer's hooks): the dispatcher delivers at once rather than at its next poll. In
  // cluster mode the other nodes' events too (relayed): the dispatcher runs on the leader only
  for (const e of [
    'ticket.opened',
    'ticket.updated',
    'ticket.deadline_breached',
    'alarm.raised',
    'alarm.updated',
    'remote.session.changed',
    'remote.ringing',
  ] as const)
    clusterBus.on(e, () => notifications.dispatcher.wake());

  bus.on('ticket.deadline_breached', () => counters.inc('tickets.deadline_breached'));
  if (influxExport) bus.on('telemetry.stored', () => influxExport.wake());
  // spare-parts stock: the plans' parts become reservations on tickets (resources/stock/)
  const stock = createStock({
    db: records,
    // the vehicles' GPS positions from telemetry: the proposal's nearest store
    bus,
    log: log.child({ module: 'stock' }),
    now,
    planParts: (code) => stage.forWeb.plans.get(code)?.parts,
  });
  // the resource register (tools, suppliers and quality, partners, people) and its reminders in the inbox
  const resourceRegister = createResourceRegister({ db: records, now, bus, log });
  // the support plan document (应急保障工作计划): parts reserved in the stock, tools checked out of the register
  const supportPlans = createSupportPlanStage({ db: records, log, now, tickets, stock, tools: resourceRegister.tools });
  const toolReminderNotices = createToolReminderNotices({
    db: records,
    bus,
    now,
    log: log.child({ module: 'notify' }),
  });

  bus.on('vehicle.connected', (e) => presence.connected(e.vehicleId, e.at, e.address));
  bus.on('vehicle.disconnected', (e) => presence.disconnected(e.vehicleId, e.at, e.reason));

  const startedAt = now();
  /** From the first moment of a graceful stop: `/readyz` answers 503 so the balancers send no more. */
  let draining = false;
  const readiness = createReadiness(
    {
      checks: [
        // the records database answers a query (SQLite file open, or PostgreSQL reachable)
        { name: 'records', check: () => sql`select 1`.execute(records) },
        // the telemetry store is open and its writer (the SQLite writer thread) answers; on PostgreSQL a
        // count for an id no vehicle can have (not a NUL character: PostgreSQL text refuses it)
        {
          name: 'telemetry',
          check: () =>
            'writerStats' in telemetry ? (telemetry as SqliteTelemetryStore).writerStats() : telemetry.count('#readyz'),
        },
        // the MQTT listeners take connections (not yet started, or draining: not ready)
        {
          name: 'broker',
          check: () => {
            if (draining) throw new DrainingError();
            if (!broker.acceptingConnections()) throw new Error('the MQTT broker is not listening');
          },
        },
        // cluster mode: the Redis between the nodes answers
        ...(redis ? [{ name: 'redis', check: () => redis.ping() }] : []),
      ],
      draining: () => draining,
      log: log.child({ module: 'readiness' }),
    },
    { node: config.NODE_ID, timeoutMs: config.READY_CHECK_TIMEOUT_MS },
  );
  /** Readiness turns 503 first; the listeners stay open (stop() closes them DRAIN_READY_DELAY_MS later). */
  const beginDrain = () => {
    if (draining) return;
    draining = true;
    log.info({ node: config.NODE_ID, delayMs: config.DRAIN_READY_DELAY_MS }, 'draining: /readyz answers 503');
  };
  const web = createWebServer(
    {
      log,
      now,
      bus: clusterBus,
      ...(liveFeed ? { liveCluster: liveFeed } : {}),
      records,
      vehicles,
      customers,
      presence,
      telemetry,
      diagnostics: stage.forWeb,
      commands: { service: commands, policy: commandPolicy },
      deliveries: notifications.deliveries,
      remote,
      steps: sessionParts.steps,
      notifications: stage.notifications.forWeb,
      service,
      photos: sessionParts.photos,
      invites: sessionParts.invites,
      stock,
      // the service report's parts used: the ledger's consumptions, then the ticket's free lines
      reportParts: ledgerReportParts((id) => stock.consumed(id)),
      resourceRegister,
      supportPlans,
      counters,
      health: () => ({
        status: 'ok',
        node: config.NODE_ID,
        uptimeS: Math.round((now() - startedAt) / 1000),
        connectedClients: broker.connectedCount(),
        draining,
        leader: leader.isLeader(),
        // answering at all shows the event loop turns; this is how late its timers were lately
        eventLoopLagMaxMs: eventLoop.snapshot().last?.maxMs ?? null,
      }),
      ready: () => readiness.report(),
      metrics: async () => ({
        ...counters.snapshot(),
        ingest: ingest.stats(),
        connectedClients: broker.connectedCount(),
        liveConnections: web.live?.connections() ?? 0,
        eventLoop: eventLoop.snapshot(),
        notifications: notifications.dispatcher.stats(),
        histograms: histograms.snapshot(),
        memory: memoryFigures(),
        // cumulative fine histograms (core/fine-histogram.ts) for the benches' cause breakdown
        runtime: {
          ...runtime.snapshot(),
          telemetryWriter:
            'writerStats' in telemetry
              ? await (telemetry as SqliteTelemetryStore).writerStats().catch(() => undefined)
              : undefined,
        },
      }),
      prometheus: async () => {
        await influxExport?.refreshLag();
        return renderPrometheus({
          node: config.NODE_ID,
          draining,
          leader: leader.isLeader(),
          counters: counters.snapshot(),
          histograms: histograms.snapshot(),
          uptimeS: Math.round((now() - startedAt) / 1000),
          mqttConnectedClients: broker.connectedCount(),
          liveSocketClients: web.live?.connections() ?? 0,
          eventLoop: eventLoop.snapshot(),
          ingestQueuedFrames: ingest.stats().queuedFrames,
          notifications: notifications.dispatcher.stats(),
          ...(influxExport ? { export: influxExport.stats() } : {}),
        });
      },
    },
    {
      port: config.HTTP_PORT,
      host: config.HTTP_HOST,
      trustedProxies: config.trustedProxies,
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
      consoleDir: config.CONSOLE_DIR ?? DEFAULT_CONSOLE_DIR,
      ...(httpsContext ? { https: httpsContext } : {}),
      ...(httpsClientCa ? { httpsClientCertificates: true } : {}),
      ...(mqttWs ? { upgrades: { [mqttWs.path]: mqttWs.handleUpgrade } } : {}),
      session: {
        idleTimeoutMs: config.SESSION_IDLE_TIMEOUT_MS,
        maxAgeMs: config.SESSION_MAX_AGE_MS,
        requireTwoFactorRoles: config.REQUIRE_2FA_ROLES,
      },
      totpSecretKey: loadTotpKey(config),
      reportFont: { file: config.REPORT_FONT_FILE, name: config.REPORT_FONT_NAME },
      reauthWindowMs: config.REAUTH_WINDOW_MS,
      resetLinkTtlMs: config.RESET_LINK_TTL_MS,
      apiTokenRatePerMin: config.API_TOKEN_RATE_PER_MIN,
      rateLimits: rateLimitsOf(config),
      login: {
        maxPerAccount: config.LOGIN_MAX_FAILURES,
        maxPerIp: config.LOGIN_IP_MAX_FAILURES,
        windowMs: config.LOGIN_FAILURE_WINDOW_MS,
      },
      live: {
        maxRateHz: config.LIVE_MAX_RATE_HZ,
        fleetIntervalMs: config.LIVE_FLEET_INTERVAL_MS,
        maxBuffered: config.LIVE_MAX_BUFFERED,
        maxSubscriptions: config.LIVE_MAX_SUBSCRIPTIONS,
        sessionCheckMs: config.LIVE_SESSION_CHECK_MS,
        slowTimeoutMs: config.LIVE_SLOW_TIMEOUT_MS,
        eventRateHz: config.LIVE_EVENT_RATE_HZ,
        eventBurst: config.LIVE_EVENT_BURST,
        floodMaxRefused: config.LIVE_FLOOD_MAX_REFUSED,
      },
    },
  );

  let ports: PlatformPorts | undefined;
  let stopping: Promise<void> | undefined;

  return {
    config,
    bus,
    counters,
    records,
    telemetry,
    vehicles,
    customers,
    serviceAccounts,
    commandLog,
    presence,
    deadLetters,
    eventLog,
    broker,
    ingest,
    influxExport,
    influxEvents,
    confirmations,
    diagnostics,
    tickets,
    commands,
    notifications,
    alerts: stage.notifications,
    remote,
    service,
    web,
    sessionParts,
    stock,
    resourceRegister,
    supportPlans,
    registryWatcher: watcher,
    readiness,
    redis,
    relay,
    relayGroups,
    liveFeed,
    ownership,
    owners,
    leader,
    /** Whether a graceful stop has begun (`/readyz` 503). */
    get draining() {
      return draining;
    },
    /**
     * The first step of the graceful stop alone: `/readyz` answers 503 while everything still serves.
     * stop() does this itself; tests and an orchestrator's pre-stop hook may do it earlier.
     */
    beginDrain,
    get ports() {
      if (!ports) throw new Error('platform not started');
      return ports;
    },
    async start() {
      await presence.markOwnOffline(now(), 'platform restarted');
      // cluster mode: relaying before any stage can announce something
      await relay?.start();
      await liveFeed?.start();
      // before the timers start: a node that takes the lock now fires the due jobs at its first look
      await leader.start();
      relayGroups?.start();
      eventLoop.start();
      runtime.start();
      ingest.start();
      influxExport?.start();
      influxEvents?.start();
      commandLog.start();
      await confirmations.start();
      await ownership?.start();
      await stage.start();
      await commands.start();
      await notifications.start();
      await remote.start();
      service.start();
      await watcher.start();
      retention.start();
      await sessionParts.start();
      toolReminderNotices.start();
      resourceRegister.start();
      await stock.start();
      const mqtt = await broker.start();
      const http = await web.start();
      ports = platformPorts(mqtt.port, http.port, mqtt.tlsPort);
      const tlsLog = log.child({ module: 'tls' });
      if (mqttTlsFiles) tlsWatchers.push(watchTlsFiles(mqttTlsFiles, () => broker.reloadTls(), tlsLog));
      // a changed CRL also closes the open connections of the certificates it revokes (TLS port and wss)
      if (vehicleCa?.crlFile && (mqttTlsFiles || httpsClientCa)) {
        const crlFile = vehicleCa.crlFile;
        tlsWatchers.push(
          watchTlsFiles(
            [crlFile],
            () => {
              const closed = broker.closeRevoked(revocationCheck(readFileSync(crlFile, 'utf8')));
              if (closed) tlsLog.warn({ closed }, 'connections of revoked client certificates closed');
            },
            tlsLog,
          ),
        );
      }
      if (httpsContext)
        tlsWatchers.push(
          watchTlsFiles(
            tlsFileList(config.HTTP_TLS_CERT_FILE!, config.HTTP_TLS_KEY_FILE!, httpsClientCa),
            () => web.reloadTls(),
            tlsLog,
          ),
        );
      log.info({ ports, dataDir: config.dataDir }, 'platform started');
      return ports;
    },
    /**
     * Graceful shutdown (the drain, docs/operations.md): `/readyz` 503 for DRAIN_READY_DELAY_MS while
     * everything still serves, so the balancers stop sending; then no new MQTT or HTTP connections;
     * the MQTT connections closed over DRAIN_MOVE_MS, so the gateways reconnect to the other nodes
     * (a PUBACK only ever follows the commit: what a gateway saw acknowledged is stored; what it did
     * not, it sends again there); the commits in flight and the telemetry writer flushed; sessions
     * and stores closed, the records last.
     */
    stop(): Promise<void> {
      stopping ??= (async () => {
        beginDrain();
        if (config.DRAIN_READY_DELAY_MS > 0)
          await new Promise((resolve) => setTimeout(resolve, config.DRAIN_READY_DELAY_MS));
        log.info('platform stopping');
        for (const w of tlsWatchers) w.stop();
        mqttWs?.close();
        await broker.stopAccepting();
        await Promise.all([web.stop(), broker.closeConnections('node draining', config.DRAIN_MOVE_MS)]);
        await ingest.stop();
        await confirmations.stop();
        await broker.stop();
        await commands.stop();
        await commandLog.stop();
        await sessionParts.stop();
        resourceRegister.stop();
        toolReminderNotices.stop();
        await stock.stop();
        await remote.stop();
        await service.stop();
        await stage.stop();
        // after diagnostics' last writes (they are fenced by the leases this stops renewing)
        await ownership?.stop();
        // sends in flight finish (bounded by NOTIFY_STOP_TIMEOUT_MS); what is left stays pending
        await notifications.stop();
        await Promise.all([watcher.stop(), retention.stop(), relayGroups?.stop()]);
        // the lock goes with the dedicated connection: another node takes over at its next try
        await leader.stop();
        await presence.flush();
        eventLoop.stop();
        runtime.stop();
        await influxExport?.stop();
        await influxEvents?.stop();
        await liveFeed?.stop();
        await relay?.stop();
        await telemetry.close();
        if (!deps.records) await records.destroy();
        await redis?.close();
        log.info('platform stopped');
      })();
      return stopping;
    },
  };
}

export type Platform = Awaited<ReturnType<typeof createPlatform>>;

/**
 * The ports the platform listens on. `mqtt` is the plain MQTT port: with MQTT_PORT=off there is none
 * and reading it throws (it is not enumerated, so the ports can still be logged).
 */
export interface PlatformPorts {
  mqtt: number;
  http: number;
  mqttTls?: number;
}

function platformPorts(mqtt: number | undefined, http: number, mqttTls: number | undefined): PlatformPorts {
  if (mqtt !== undefined) return { mqtt, http, ...(mqttTls !== undefined ? { mqttTls } : {}) };
  const ports = { http, ...(mqttTls !== undefined ? { mqttTls } : {}) } as PlatformPorts;
  Object.defineProperty(ports, 'mqtt', {
    enumerable: false,
    get() {
      throw new PlatformError('CONFIG_INVALID', 'there is no plain MQTT port: MQTT_PORT=off');
    },
  });
  return ports;
}
