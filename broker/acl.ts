import {
  TOPICS,
  TOPIC_KINDS,
  TOPIC_ROOT,
  GATEWAY_PUBLISH_KINDS,
  GATEWAY_SUBSCRIBE_KINDS,
  isValidVehicleId,
  parseVehicleTopic,
  statusSchema,
  vehicleTopic,
  type TopicKind,
} from '../protocol/index.ts';
import { MAX_TOPIC_LEVELS, topicLevels } from './flow-control.ts';

/**
 * A service account's scope (registry/service-accounts.ts ServiceScope): the vehicle topic kinds it
 * may use and the customer units whose vehicles it may reach (absent: every unit).
 */
export interface ServiceScope {
  units?: readonly string[];
  topics: readonly TopicKind[];
}

/** Who is on the other end of an MQTT connection. */
export type Principal =
  { kind: 'vehicle'; id: string; customerId: string } | { kind: 'service'; id: string; scope: ServiceScope };

/**
 * `unitOf`: the vehicle whose customer unit must be one of `units` before the message may go on
 * (a unit-limited service account); the broker looks the unit up and refuses otherwise.
 */
export type PublishDecision =
  | {
      allow: true;
      vehicleMessage?: { vehicleId: string; kind: TopicKind };
      unitOf?: { vehicleId: string; units: readonly string[] };
      /** A command on a vehicle's `commands` topic: recorded in the command log before it goes on. */
      command?: { vehicleId: string };
    }
  | { allow: false; reason: string };

export type SubscribeDecision =
  { allow: true; unitOf?: { vehicleId: string; units: readonly string[] } } | { allow: false; reason: string };

/** Per vehicle principal: its own telemetry topic and the (immutable) decision for it, the one topic it publishes thousands of times. */
const ownTelemetry = new WeakMap<Principal, { topic: string; decision: PublishDecision } | null>();

/**
 * Access rules as plain functions. Default deny: a vehicle publishes only to its own telemetry,
 * status, events and commands/ack topics, and subscribes only to its own commands and errors
 * (exact topics, no wildcards). Nobody but the platform itself publishes under `$SYS/`. Nobody
 * publishes to a topic of more than `MAX_TOPIC_LEVELS` levels (the broker's router cannot take it).
 */
export function authorizePublish(principal: Principal, topic: string): PublishDecision {
  if (principal.kind === 'vehicle') {
    let own = ownTelemetry.get(principal);
    if (own === undefined) {
      // exactly what the general rules below allow for this topic, computed once
      own = isValidVehicleId(principal.id)
        ? {
            topic: vehicleTopic(principal.id, 'telemetry'),
            decision: Object.freeze({
              allow: true as const,
              vehicleMessage: Object.freeze({ vehicleId: principal.id, kind: 'telemetry' as const }),
            }),
          }
        : null;
      ownTelemetry.set(principal, own);
    }
    if (own && topic === own.topic) return own.decision;
  }
  const levels = topicLevels(topic);
  if (levels > MAX_TOPIC_LEVELS)
    return { allow: false, reason: `a topic has at most ${MAX_TOPIC_LEVELS} levels; this one has ${levels}` };
  if (topic.startsWith('$'))
    return { allow: false, reason: `${topic.split('/')[0]}/ topics are reserved for the platform` };
  if (principal.kind === 'service') return authorizeServicePublish(principal, topic);
  const parsed = parseVehicleTopic(topic);
  if (!parsed || parsed.vehicleId !== principal.id) {
    return { allow: false, reason: `vehicle ${principal.id} may publish only under v1/vehicles/${principal.id}/` };
  }
  if (!GATEWAY_PUBLISH_KINDS.includes(parsed.kind)) {
    return { allow: false, reason: `vehicles may not publish on ${parsed.kind}` };
  }
  return { allow: true, vehicleMessage: parsed };
}

/**
 * A service account publishes only on a vehicle topic of a kind the platform publishes (`commands`,
 * `errors`, `telemetry/confirmed`: never a gateway's kind, which would speak for the vehicle), named
 * in its scope's `topics`, to a vehicle of its scope's `units` (checked by the broker: `unitOf`).
 */
function authorizeServicePublish(principal: Extract<Principal, { kind: 'service' }>, topic: string): PublishDecision {
  const parsed = parseVehicleTopic(topic);
  const { scope } = principal;
  if (!parsed)
    return {
      allow: false,
      reason: `service account ${principal.id} may publish only under ${TOPIC_ROOT}/{vehicleId}/`,
    };
  if (TOPICS[parsed.kind].from !== 'platform')
    return { allow: false, reason: `service accounts may not publish on ${parsed.kind} (a vehicle's own topic)` };
  if (!scope.topics.includes(parsed.kind))
    return {
      allow: false,
      reason: `service account ${principal.id} may not publish on ${parsed.kind} (not in its scope)`,
    };
  return {
    allow: true,
    ...(scope.units ? { unitOf: { vehicleId: parsed.vehicleId, units: scope.units } } : {}),
    ...(parsed.kind === 'commands' ? { command: { vehicleId: parsed.vehicleId } } : {}),
  };
}

/** Whether an MQTT topic filter matches a topic (`+` one level, `#` the rest). */
export function filterMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whose telemetry a subscription filter can receive: every vehicle's (`'all'`, a wildcard where the
 * vehicle id goes, or above it), the one vehicle's it names, or nobody's (`null`).
 */
export function telemetryReach(filter: string): 'all' | { vehicleId: string } | null {
  const named = namedVehicle(filter);
  if (!filterMatches(filter, vehicleTopic(named ?? 'any', 'telemetry'))) return null;
  return named === undefined ? 'all' : { vehicleId: named };
}

/** The vehicle id a filter names where the id goes (`v1/vehicles/{id}/…`); none behind a wildcard. */
function namedVehicle(filter: string): string | undefined {
  const named = filter.split('/')[TOPIC_ROOT.split('/').length];
  return named && named !== '+' && named !== '#' ? named : undefined;
}

/** A service's subscription: `$SYS/` (the broker's own), or vehicle topics of its scope. */
function authorizeServiceSubscribe(
  principal: Extract<Principal, { kind: 'service' }>,
  filter: string,
): SubscribeDecision {
  if (filter.startsWith('$'))
    return filter.startsWith('$SYS/') ? { allow: true } : { allow: false, reason: 'reserved topic' };
  const { scope } = principal;
  // the kinds this filter reaches, for the vehicle it names (or any, behind a wildcard)
  const probe = namedVehicle(filter) ?? 'any';
  const kinds = TOPIC_KINDS.filter((k) => filterMatches(filter, vehicleTopic(probe, k)));
  if (!kinds.length)
    return { allow: false, reason: `service account ${principal.id} may subscribe only under ${TOPIC_ROOT}/` };
  const outside = kinds.filter((k) => !scope.topics.includes(k));
  if (outside.length)
    return {
      allow: false,
      reason: `service account ${principal.id} may not subscribe to ${outside.join(', ')} (not in its scope)`,
    };
  if (!scope.units) return { allow: true };
  // a unit-limited account names one vehicle: `v1/vehicles/{id}/…`
  const levels = filter.split('/');
  const root = TOPIC_ROOT.split('/');
  const vehicleId = levels[root.length];
  if (
    levels.length <= root.length + 1 ||
    root.some((r, i) => levels[i] !== r) ||
    vehicleId === undefined ||
    !isValidVehicleId(vehicleId)
  )
    return {
      allow: false,
      reason: `service account ${principal.id} is limited to units ${scope.units.join(', ')}: subscribe to one vehicle's topics`,
    };
  return { allow: true, unitOf: { vehicleId, units: scope.units } };
}

export function authorizeSubscribe(principal: Principal, filter: string): SubscribeDecision {
  if (principal.kind === 'service') return authorizeServiceSubscribe(principal, filter);
  const own = GATEWAY_SUBSCRIBE_KINDS.map((k) => vehicleTopic(principal.id, k));
  return own.includes(filter)
    ? { allow: true }
    : { allow: false, reason: `vehicle ${principal.id} may subscribe only to ${own.join(' and ')}` };
}

/**
 * Whether a message may be delivered to a connection (defence in depth behind the subscribe
 * check): a vehicle gets its own commands, errors and confirmations only; a service account only
 * `$SYS/` and vehicle topics of the kinds in its scope (the unit was checked at SUBSCRIBE).
 */
export function mayReceive(principal: Principal, topic: string): boolean {
  if (principal.kind === 'vehicle') return authorizeSubscribe(principal, topic).allow;
  if (topic.startsWith('$SYS/')) return true;
  const parsed = parseVehicleTopic(topic);
  return !!parsed && principal.scope.topics.includes(parsed.kind);
}

/** A CONNECT's last will, as the broker sees it. */
export interface Will {
  topic: string;
  payload: Buffer | string;
  retain: boolean;
}

/**
 * The last will, checked like a publish at CONNECT: a vehicle's must be its own `status` topic,
 * retained (as the protocol says of `status`), with a valid status payload saying `online:false`.
 * A service's may not aim at `$` topics nor be a retained command.
 */
export function authorizeWill(principal: Principal, will: Will): boolean {
  if (principal.kind === 'service') {
    const decision = authorizeServicePublish(principal, will.topic);
    // a will is published when nobody is there to record it: never a command, nothing that needs a unit check
    return (
      decision.allow &&
      !decision.command &&
      !decision.unitOf &&
      retainDecision(principal, will.topic, will.retain) !== 'refuse'
    );
  }
  if (will.topic !== vehicleTopic(principal.id, 'status') || !will.retain) return false;
  let value: unknown;
  try {
    value = JSON.parse(typeof will.payload === 'string' ? will.payload : will.payload.toString('utf8'));
  } catch {
    return false;
  }
  const parsed = statusSchema.safeParse(value);
  return parsed.success && !parsed.data.online;
}

/**
 * What the broker does with a publish's retain flag. Commands are never retained: a retained
 * command is refused (`refuse`: not delivered, not kept), so none can be planted for a later
 * connect. A vehicle's retain flag on a topic the protocol does not retain (`telemetry`, `events`,
 * `commands/ack`) is cleared (`strip`: the message goes on, it is not kept). `status` stays retained.
 */
export function retainDecision(principal: Principal, topic: string, retain: boolean): 'keep' | 'strip' | 'refuse' {
  if (!retain) return 'keep';
  const parsed = parseVehicleTopic(topic);
  if (!parsed) return 'keep';
  if (parsed.kind === 'commands') return 'refuse';
  if (principal.kind === 'vehicle' && !TOPICS[parsed.kind].retain) return 'strip';
  return 'keep';
}
