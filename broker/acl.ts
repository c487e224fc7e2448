import {
  TOPICS,
  GATEWAY_PUBLISH_KINDS,
  GATEWAY_SUBSCRIBE_KINDS,
  isValidVehicleId,
  parseVehicleTopic,
  statusSchema,
  vehicleTopic,
  type TopicKind,
} from '../protocol/index.ts';
import { MAX_TOPIC_LEVELS, topicLevels } from './flow-control.ts';

/** Who is on the other end of an MQTT connection. */
export type Principal = { kind: 'vehicle'; id: string; customerId: string } | { kind: 'service'; id: string };

export type PublishDecision =
  { allow: true; vehicleMessage?: { vehicleId: string; kind: TopicKind } } | { allow: false; reason: string };

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
  if (principal.kind === 'service') return { allow: true };
  const parsed = parseVehicleTopic(topic);
  if (!parsed || parsed.vehicleId !== principal.id) {
    return { allow: false, reason: `vehicle ${principal.id} may publish only under v1/vehicles/${principal.id}/` };
  }
  if (!GATEWAY_PUBLISH_KINDS.includes(parsed.kind)) {
    return { allow: false, reason: `vehicles may not publish on ${parsed.kind}` };
  }
  return { allow: true, vehicleMessage: parsed };
}

export function authorizeSubscribe(
  principal: Principal,
  filter: string,
): { allow: true } | { allow: false; reason: string } {
  if (principal.kind === 'service') {
    // services may watch the broker's own $SYS topics, and nothing else under $
    return filter.startsWith('$') && !filter.startsWith('$SYS/')
      ? { allow: false, reason: 'reserved topic' }
      : { allow: true };
  }
  const own = GATEWAY_SUBSCRIBE_KINDS.map((k) => vehicleTopic(principal.id, k));
  return own.includes(filter)
    ? { allow: true }
    : { allow: false, reason: `vehicle ${principal.id} may subscribe only to ${own.join(' and ')}` };
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
  if (principal.kind === 'service')
    return !will.topic.startsWith('$') && retainDecision(principal, will.topic, will.retain) !== 'refuse';
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
