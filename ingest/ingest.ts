import {
  commandAckSchema,
  statusSchema,
  vehicleEventSchema,
  type ProtocolError,
  type TelemetryFrame,
  type VehicleEvent,
} from '../protocol/index.ts';
import type { EventBus } from '../core/bus.ts';
import type { Histograms } from '../core/histograms.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { PlatformError } from '../core/errors.ts';
import type { StoredFrame, TelemetryStore } from '../telemetry/store.ts';
import { decode } from './decode.ts';
import { dedupeWithinMessage } from './dedupe.ts';
import type { DeadLetterLog, InboundMessage, IngestVerdict, Rejection } from './types.ts';
import { validateMessage, validateTelemetry } from './validate.ts';
import { createBatchWriter } from './writer.ts';

/** Where gateway-reported events are kept (the records store). */
export interface VehicleEventLog {
  /** Resolves once the event is durably stored. */
  append(vehicleId: string, event: VehicleEvent, receivedAt: number): Promise<void>;
  flush(): Promise<void>;
}

export interface IngestDeps {
  store: TelemetryStore;
  bus: EventBus<PlatformEvents>;
  log: Logger;
  counters: Counters;
  deadLetters: DeadLetterLog;
  eventLog: VehicleEventLog;
  /** Where the store's commit latency goes (`ingest.store_commit`); none: not measured. */
  histograms?: Pick<Histograms, 'observe'>;
  now?: () => number;
}

export interface IngestOptions {
  maxPayloadBytes: number;
  maxBatchFrames: number;
  flushMs: number;
  /** When a batch is committed (ingest/writer.ts `flush`); default `timer`. */
  flush?: 'timer' | 'adaptive';
  /** Group commits under way at once (ingest/writer.ts); default 1. */
  maxCommitsInFlight?: number;
}

export type Ingest = ReturnType<typeof createIngest>;

const EXCERPT_BYTES = 200;

/**
 * The ingest pipeline: decode → validate → de-duplicate → persist → publish on the bus.
 * It never throws for bad input: every refusal becomes a ProtocolError for the vehicle, a counter
 * and a dead letter. It throws only when storage fails, so that nothing unstored is acknowledged.
 */
export function createIngest(deps: IngestDeps, options: IngestOptions) {
  const { bus, log, counters, deadLetters } = deps;
  const now = deps.now ?? Date.now;
  const histograms = deps.histograms;
  const writer = createBatchWriter(deps.store, {
    maxBatchFrames: options.maxBatchFrames,
    flushMs: options.flushMs,
    ...(options.flush ? { flush: options.flush } : {}),
    ...(options.maxCommitsInFlight ? { maxCommitsInFlight: options.maxCommitsInFlight } : {}),
    ...(histograms ? { onCommit: (s: number) => histograms.observe('ingest.store_commit', s) } : {}),
  });
  let stopped = false;

  function reject(msg: InboundMessage, r: Rejection, at: number): ProtocolError {
    const error: ProtocolError = { ts: at, code: r.code, message: r.message, topic: msg.topic };
    if (r.index !== undefined) error.index = r.index;
    if (r.seq !== undefined) error.seq = r.seq;
    if (r.issues) error.issues = r.issues;
    counters.inc('ingest.rejected', msg.vehicleId);
    counters.inc(`ingest.rejected.${r.code}`, msg.vehicleId);
    deadLetters.add({
      at,
      vehicleId: msg.vehicleId,
      topic: msg.topic,
      code: r.code,
      message: r.message,
      excerpt: msg.payload.subarray(0, EXCERPT_BYTES).toString('utf8'),
    });
    log.warn({ vehicleId: msg.vehicleId, topic: msg.topic, code: r.code, index: r.index, seq: r.seq }, r.message);
    bus.emit('ingest.rejected', { vehicleId: msg.vehicleId, error });
    return error;
  }

  /**
   * A telemetry message: validated, de-duplicated, then written with the next group commit. The hot
   * path of ingest, so it is a plain function over one promise (`write(…).then`), not async
   * functions awaiting each other: each level of those cost a promise, a suspended frame and a
   * resolution job per message.
   */
  function telemetry(msg: InboundMessage, value: unknown, at: number): Promise<IngestVerdict> {
    const { frames, rejections } = validateTelemetry(value, at);
    const errors = rejections.length === 0 ? [] : rejections.map((r) => reject(msg, r, at));
    const { unique, duplicates } = dedupeWithinMessage(frames);
    if (unique.length === 0) return Promise.resolve({ forward: false, errors });
    const stored: StoredFrame[] = new Array(unique.length);
    for (let i = 0; i < unique.length; i++) stored[i] = { vehicleId: msg.vehicleId, receivedAt: at, frame: unique[i]! };
    return writer.write(stored).then(
      (inserted) => committed(msg.vehicleId, at, unique, duplicates, inserted, errors),
      (err: unknown) => {
        counters.inc('ingest.store_failed');
        log.error({ err, vehicleId: msg.vehicleId }, 'telemetry could not be stored; the message is not acknowledged');
        throw err instanceof PlatformError
          ? err
          : new PlatformError('STORAGE_FAILED', 'telemetry could not be stored', { cause: err });
      },
    );
  }

  /** The frames of one message are committed (`inserted`: stored now, or already stored before). */
  function committed(
    vehicleId: string,
    at: number,
    unique: TelemetryFrame[],
    duplicates: number,
    inserted: boolean[],
    errors: ProtocolError[],
  ): IngestVerdict {
    let freshCount = 0;
    for (let i = 0; i < unique.length; i++) if (inserted[i]) freshCount++;
    // the usual case, every frame new: the same array for both events (listeners only read it)
    const fresh = freshCount === unique.length ? unique : unique.filter((_, i) => inserted[i]);
    counters.inc('ingest.frames_stored', vehicleId, freshCount);
    const dupes = duplicates + unique.length - freshCount;
    if (dupes > 0) counters.inc('ingest.frames_duplicate', vehicleId, dupes);
    bus.emit('telemetry.committed', { vehicleId, receivedAt: at, frames: unique });
    if (freshCount > 0) bus.emit('telemetry.stored', { vehicleId, receivedAt: at, frames: fresh });
    return { forward: true, errors };
  }

  /** Status, events and command acks: small and few. */
  async function other(msg: InboundMessage, value: unknown, at: number): Promise<IngestVerdict> {
    switch (msg.kind) {
      case 'status': {
        const r = validateMessage(statusSchema, value, 'invalid_status', 'status');
        if (!r.ok) return { forward: false, errors: [reject(msg, r.rejection, at)] };
        bus.emit('vehicle.status', { vehicleId: msg.vehicleId, receivedAt: at, status: r.value });
        return { forward: true, errors: [] };
      }
      case 'events': {
        const r = validateMessage(vehicleEventSchema, value, 'invalid_event', 'event');
        if (!r.ok) return { forward: false, errors: [reject(msg, r.rejection, at)] };
        try {
          await deps.eventLog.append(msg.vehicleId, r.value, at);
        } catch (err) {
          counters.inc('ingest.store_failed');
          throw new PlatformError('STORAGE_FAILED', 'vehicle event could not be stored', { cause: err });
        }
        bus.emit('vehicle.event', { vehicleId: msg.vehicleId, receivedAt: at, event: r.value });
        return { forward: true, errors: [] };
      }
      case 'commands/ack': {
        const r = validateMessage(commandAckSchema, value, 'invalid_ack', 'command ack');
        if (!r.ok) return { forward: false, errors: [reject(msg, r.rejection, at)] };
        bus.emit('command.ack', { vehicleId: msg.vehicleId, receivedAt: at, ack: r.value });
        return { forward: true, errors: [] };
      }
      default:
        return {
          forward: false,
          errors: [reject(msg, { code: 'topic_not_allowed', message: `gateways may not publish on ${msg.kind}` }, at)],
        };
    }
  }

  return {
    /**
     * Handles one message from a vehicle; resolves once what it accepted is durable. Never throws:
     * every failure (stopping, storage) is a rejection of the promise.
     */
    handle(msg: InboundMessage): Promise<IngestVerdict> {
      try {
        if (stopped) throw new PlatformError('SHUTTING_DOWN', 'ingest is stopping');
        const at = now();
        counters.inc('ingest.messages', msg.kind);
        const decoded = decode(msg.payload, options.maxPayloadBytes);
        if (!decoded.ok) return Promise.resolve({ forward: false, errors: [reject(msg, decoded.rejection, at)] });
        return msg.kind === 'telemetry' ? telemetry(msg, decoded.value, at) : other(msg, decoded.value, at);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
    /** Rejects a message refused before ingest (e.g. by the broker's ACL), with the same bookkeeping. */
    refuse(msg: InboundMessage, rejection: Rejection): ProtocolError {
      return reject(msg, rejection, now());
    },
    start() {
      stopped = false;
    },
    /** Stops taking messages and waits until everything accepted is committed. */
    async stop() {
      stopped = true;
      await writer.flush();
      await Promise.all([deps.deadLetters.flush(), deps.eventLog.flush()]);
    },
    stats: () => writer.stats(),
  };
}
