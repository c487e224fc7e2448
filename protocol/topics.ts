/**
 * The MQTT topic contract between gateways and the platform.
 * Every vehicle topic lives under `v1/vehicles/{vehicleId}/`.
 */
export const PROTOCOL_VERSION = 1 as const;
export const TOPIC_ROOT = 'v1/vehicles';

/** The platform's MQTT port unless `MQTT_PORT` says otherwise (IANA's port for MQTT over TCP). */
export const DEFAULT_MQTT_PORT = 1883;

/**
 * The longest MQTT keepalive the platform honours for a vehicle, seconds. A vehicle that asks for 0
 * (no keepalive) or more is held to this: its connection is closed after 1.5 × this without a packet,
 * and its will published, so a half-open connection cannot keep a vehicle "online" for ever.
 */
export const MAX_VEHICLE_KEEPALIVE_S = 300;

/** A vehicle id: 1–64 characters of letters, digits, `_` and `-`. It is also the MQTT username and client id. */
export const VEHICLE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidVehicleId(id: string): boolean {
  return VEHICLE_ID_PATTERN.test(id);
}

/** Per-topic wire rules. `from` says who publishes it. */
export const TOPICS = {
  telemetry: { from: 'gateway', qos: 1, retain: false },
  /** The highest seq of the gateway's current run stored without a gap (see docs/protocol.md, delivery guarantee). */
  'telemetry/confirmed': { from: 'platform', qos: 1, retain: true },
  status: { from: 'gateway', qos: 1, retain: true },
  events: { from: 'gateway', qos: 1, retain: false },
  commands: { from: 'platform', qos: 1, retain: false },
  'commands/ack': { from: 'gateway', qos: 1, retain: false },
  errors: { from: 'platform', qos: 1, retain: false },
} as const;

export type TopicKind = keyof typeof TOPICS;
export const TOPIC_KINDS = Object.keys(TOPICS) as TopicKind[];

/** Topics a gateway may publish to (its own only) and subscribe to (its own only). */
export const GATEWAY_PUBLISH_KINDS: readonly TopicKind[] = ['telemetry', 'status', 'events', 'commands/ack'];
export const GATEWAY_SUBSCRIBE_KINDS: readonly TopicKind[] = ['commands', 'errors', 'telemetry/confirmed'];

/** Topics the platform publishes to a vehicle. */
export type PlatformTopicKind = {
  [K in TopicKind]: (typeof TOPICS)[K]['from'] extends 'platform' ? K : never;
}[TopicKind];

export function vehicleTopic(vehicleId: string, kind: TopicKind): string {
  return `${TOPIC_ROOT}/${vehicleId}/${kind}`;
}

export interface ParsedVehicleTopic {
  vehicleId: string;
  kind: TopicKind;
}

const KIND_SET = new Set<string>(TOPIC_KINDS);

/** Parses a concrete (wildcard-free) vehicle topic; returns null for anything else. */
export function parseVehicleTopic(topic: string): ParsedVehicleTopic | null {
  if (!topic.startsWith(TOPIC_ROOT + '/')) return null;
  const rest = topic.slice(TOPIC_ROOT.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const vehicleId = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  if (!VEHICLE_ID_PATTERN.test(vehicleId) || !KIND_SET.has(kind)) return null;
  return { vehicleId, kind: kind as TopicKind };
}
