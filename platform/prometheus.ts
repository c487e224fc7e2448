import type { CountersSnapshot } from '../core/counters.ts';
import type { EventLoopSnapshot } from '../core/event-loop.ts';
import type { HistogramSnapshot } from '../core/histograms.ts';
import { createExposition, type Sample } from '../core/prometheus.ts';
import { memoryFigures } from '../core/runtime-stats.ts';

/** What `GET /metrics` shows, gathered by the composition root. */
export interface PrometheusSource {
  /** This node's NODE_ID: the `node` label of every sample. */
  node?: string;
  /** Whether the node is draining (a graceful stop has begun). */
  draining?: boolean;
  /** Whether the node is the leader (runs the jobs that fire once across the cluster). */
  leader?: boolean;
  counters: CountersSnapshot;
  histograms: Record<string, HistogramSnapshot>;
  uptimeS: number;
  mqttConnectedClients: number;
  liveSocketClients: number;
  eventLoop?: EventLoopSnapshot;
  ingestQueuedFrames?: number;
  notifications?: { inFlight: number; pending: Record<string, number>; held: Record<string, number> };
  /** The InfluxDB export (telemetry/influx-export.ts), when configured. */
  export?: { lagFrames: number; lagSeconds: number; exportedFrames: number; failures: number; up: boolean };
}

export const PREFIX = 'powerwatch_';

/**
 * The platform's counters (core/counters.ts names) with their Prometheus names, help and, where
 * the key is of few values (a status, a channel, a reason, a rule code), the label it becomes.
 * Keys that are vehicle, client or account ids never become labels (cardinality): those counters
 * show their total only; the counts per key stay in the staff-only `GET /metrics.json`.
 * A counter not listed here is still exposed, under its name made Prometheus-safe.
 */
const COUNTERS: Record<string, { name: string; help: string; label?: string }> = {
  'ingest.messages': {
    name: 'ingest_messages_total',
    help: 'MQTT messages from vehicles by topic kind',
    label: 'kind',
  },
  'ingest.frames_stored': { name: 'ingest_frames_stored_total', help: 'Telemetry frames committed to the store' },
  'ingest.frames_duplicate': {
    name: 'ingest_frames_duplicate_total',
    help: 'Telemetry frames already stored (resent)',
  },
  'ingest.store_failed': { name: 'ingest_store_failures_total', help: 'Messages not acknowledged: the store failed' },
  'mqtt.connected': { name: 'mqtt_connections_total', help: 'MQTT connections authenticated' },
  'mqtt.disconnected': { name: 'mqtt_disconnections_total', help: 'MQTT connections ended' },
  'mqtt.connect_refused': {
    name: 'mqtt_connect_refused_total',
    help: 'MQTT CONNECTs refused by reason',
    label: 'reason',
  },
  'mqtt.client_cert_refused': {
    name: 'mqtt_client_cert_refused_total',
    help: 'MQTT TLS client certificates refused by reason (mutual TLS)',
    label: 'reason',
  },
  'mqtt.protocol_error': {
    name: 'mqtt_protocol_errors_total',
    help: 'MQTT protocol errors by reason',
    label: 'reason',
  },
  'diagnostics.alarms_raised': { name: 'alarms_raised_total', help: 'Alarms raised by rule code', label: 'rule' },
  'diagnostics.tickets_opened': { name: 'tickets_opened_total', help: 'Tickets opened by level', label: 'level' },
  'diagnostics.failed': { name: 'rule_evaluation_failures_total', help: 'Rule evaluations that failed' },
  'diagnostics.evaluated': { name: 'rule_evaluations_total', help: 'Telemetry frames evaluated by the rules' },
  'tickets.deadline_breached': { name: 'ticket_deadline_breaches_total', help: 'Ticket deadlines breached' },
  'web.requests': { name: 'http_requests_total', help: 'HTTP requests by status code', label: 'status' },
  'live.refused': { name: 'live_refused_total', help: 'Console socket connections refused by reason', label: 'reason' },
  'live.invalid': { name: 'live_invalid_total', help: 'Console socket packets refused by reason', label: 'reason' },
  'notify.delivered': {
    name: 'notifications_delivered_total',
    help: 'Notifications delivered by channel',
    label: 'channel',
  },
  'notify.failed': {
    name: 'notifications_failed_total',
    help: 'Notification deliveries failed by channel',
    label: 'channel',
  },
  'notify.retried': {
    name: 'notifications_retried_total',
    help: 'Notification deliveries retried by channel',
    label: 'channel',
  },
  'notify.targets_disabled': {
    name: 'notifications_targets_disabled_total',
    help: 'Notification targets disabled after permanent failures by channel',
    label: 'channel',
  },
  // cluster mode (docs/architecture.md, "Several nodes", Failures)
  'cluster.redis_connection_lost': {
    name: 'cluster_redis_connection_lost_total',
    help: 'Redis connections lost (once per outage) by connection',
    label: 'connection',
  },
  'cluster.mqtt_redis_failed': {
    name: 'cluster_mqtt_redis_failed_total',
    help: 'MQTT publishes and persistence calls failed because Redis was unreachable, by operation',
    label: 'operation',
  },
  'cluster.events_relay_failed': {
    name: 'cluster_events_relay_failed_total',
    help: 'Events not relayed to the other nodes (Redis unreachable) by event',
    label: 'event',
  },
  'cluster.events_group_recreated': {
    name: 'cluster_events_group_recreated_total',
    help: 'This node’s relay consumer group made again after it was lost',
  },
  'cluster.events_groups_expired': {
    name: 'cluster_events_groups_expired_total',
    help: 'Relay consumer groups of nodes gone for longer than CLUSTER_GROUP_EXPIRY_MS removed (leader)',
    label: 'group',
  },
};
/** Per-code rejections are counted as `ingest.rejected.<code>`: one family with a `code` label. */
const REJECTED_PREFIX = 'ingest.rejected.';

const safe = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

const HISTOGRAMS: Record<string, { name: string; help: string }> = {
  'mqtt.puback_latency': {
    name: 'mqtt_puback_latency_seconds',
    help: 'From a vehicle message arriving to its acknowledgement (PUBACK: stored and published)',
  },
  'ingest.store_commit': { name: 'store_commit_duration_seconds', help: 'One telemetry store commit (group commit)' },
};

const byLabel = (label: string, values: Record<string, number>): Sample[] =>
  Object.entries(values).map(([v, value]) => ({ labels: { [label]: v }, value }));

/** The Prometheus text exposition of the platform's metrics. */
export function renderPrometheus(src: PrometheusSource): string {
  const x = createExposition(src.node !== undefined ? { defaultLabels: { node: src.node } } : {});
  const { totals, byKey } = src.counters;

  const codes: Record<string, number> = {};
  for (const [name, value] of Object.entries(totals))
    if (name.startsWith(REJECTED_PREFIX)) codes[name.slice(REJECTED_PREFIX.length)] = value;
  x.counter(
    `${PREFIX}ingest_rejected_total`,
    'Vehicle messages or frames refused by error code',
    byLabel('code', codes),
  );

  for (const [counter, meta] of Object.entries(COUNTERS)) {
    const total = totals[counter] ?? 0;
    const keyed = byKey[counter];
    x.counter(
      `${PREFIX}${meta.name}`,
      meta.help,
      meta.label && keyed && Object.keys(keyed).length ? byLabel(meta.label, keyed) : total,
    );
  }
  for (const [counter, total] of Object.entries(totals)) {
    if (counter in COUNTERS || counter === 'ingest.rejected' || counter.startsWith(REJECTED_PREFIX)) continue;
    const name = `${PREFIX}${safe(counter)}_total`;
    if (!x.has(name)) x.counter(name, `Platform counter ${counter}`, total);
  }

  for (const [h, meta] of Object.entries(HISTOGRAMS)) {
    const snap = src.histograms[h];
    if (snap) x.histogram(`${PREFIX}${meta.name}`, meta.help, snap);
  }

  x.gauge(`${PREFIX}uptime_seconds`, 'Seconds since the platform started', src.uptimeS);
  if (src.draining !== undefined)
    x.gauge(`${PREFIX}draining`, '1 from the start of a graceful stop (/readyz answers 503)', src.draining ? 1 : 0);
  if (src.leader !== undefined)
    x.gauge(`${PREFIX}leader`, '1 while this node is the leader (runs the jobs that fire once)', src.leader ? 1 : 0);
  x.gauge(
    `${PREFIX}mqtt_connected_clients`,
    'MQTT clients connected (vehicles and service accounts)',
    src.mqttConnectedClients,
  );
  x.gauge(`${PREFIX}live_socket_clients`, 'Console socket connections open', src.liveSocketClients);
  if (src.ingestQueuedFrames !== undefined)
    x.gauge(`${PREFIX}ingest_queued_frames`, 'Frames waiting for the next group commit', src.ingestQueuedFrames);
  const last = src.eventLoop?.last;
  if (last) {
    x.gauge(
      `${PREFIX}event_loop_lag_p99_seconds`,
      'Event-loop lag, 99th percentile of the last window',
      last.p99Ms / 1000,
    );
    x.gauge(`${PREFIX}event_loop_lag_max_seconds`, 'Event-loop lag, maximum of the last window', last.maxMs / 1000);
    x.gauge(
      `${PREFIX}event_loop_utilization_ratio`,
      'Share of the last window the event loop was busy',
      last.utilization,
    );
  }
  if (src.notifications) {
    x.gauge(`${PREFIX}notifications_in_flight`, 'Notification sends in flight', src.notifications.inFlight);
    x.gauge(`${PREFIX}notifications_waiting`, 'Notifications waiting in the outbox by channel and state', [
      ...Object.entries(src.notifications.pending).map(([channel, value]) => ({
        labels: { channel, state: 'pending' },
        value,
      })),
      ...Object.entries(src.notifications.held).map(([channel, value]) => ({
        labels: { channel, state: 'held' },
        value,
      })),
    ]);
  }
  if (src.export) {
    const e = src.export;
    x.gauge(`${PREFIX}influx_export_lag_frames`, 'Stored frames not yet exported to InfluxDB', e.lagFrames);
    x.gauge(`${PREFIX}influx_export_lag_seconds`, 'Age of the oldest stored frame not yet exported', e.lagSeconds);
    x.counter(`${PREFIX}influx_export_frames_total`, 'Frames exported to InfluxDB (answered 204)', e.exportedFrames);
    x.counter(
      `${PREFIX}influx_export_failures_total`,
      'InfluxDB writes that failed (retried with backoff)',
      e.failures,
    );
    x.gauge(`${PREFIX}influx_export_up`, '1 while the last InfluxDB write succeeded', e.up ? 1 : 0);
  }
  const mem = memoryFigures();
  x.gauge('process_resident_memory_bytes', 'Resident memory size in bytes', mem.rss);
  x.gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved in bytes', mem.heapTotal);
  x.gauge('nodejs_heap_size_used_bytes', 'V8 heap used in bytes', mem.heapUsed);
  x.gauge(
    'nodejs_external_memory_bytes',
    'Memory outside the V8 heap held by JavaScript objects (Buffers and other ArrayBuffers among it), in bytes',
    mem.external,
  );
  return x.text();
}
