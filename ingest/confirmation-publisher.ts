import type { TelemetryConfirmed } from '../protocol/index.ts';
import type { Counters } from '../core/counters.ts';
import type { Logger } from '../core/logger.ts';
import type { ConfirmationStore } from '../records/telemetry-confirmations.ts';
import { confirmable, type SeqMark } from './seq-marks.ts';

/** The fields of a vehicle's record the publisher reads (`vehicleId`, `mark`) and keeps (the rest). */
export interface ConfirmedVehicle {
  readonly vehicleId: string;
  readonly mark: SeqMark;
  /** What was last persisted and published. */
  saved: { seq: number; ts: number } | null;
  lastPublishAt: number;
  /** Publish at the next flush, whatever the interval (a batch or a settlement moved the mark). */
  urgent: boolean;
}

const payloadOf = (s: { seq: number; ts: number }): TelemetryConfirmed => ({ v: 1, seq: s.seq, ts: s.ts });

/**
 * Publishing the marks: persisted first (records store), then published retained on
 * `telemetry/confirmed`, at most once per `intervalMs` per vehicle unless urgent. One flush at a
 * time, ended when the broker has taken its publishes; marks whose save failed are tried again at
 * the next flush.
 */
export function createConfirmationPublisher<V extends ConfirmedVehicle>(
  deps: {
    store: Pick<ConfirmationStore, 'save'>;
    publish(vehicleId: string, kind: 'telemetry/confirmed', payload: TelemetryConfirmed): Promise<void>;
    log: Logger;
    counters: Counters;
  },
  options: { intervalMs: number },
) {
  const { store, log, counters } = deps;
  /** Vehicles whose mark moved since it was last published. */
  const dirty = new Set<V>();
  let flushing: Promise<void> | null = null;

  /** Persists the marks that are due (all: every one that moved), then publishes them; the one under way if any. */
  function flush(at: number, all = false): Promise<void> {
    if (flushing) return flushing;
    const due: { v: V; seq: number; ts: number }[] = [];
    for (const v of dirty) {
      if (!all && !v.urgent && at - v.lastPublishAt < options.intervalMs) continue;
      dirty.delete(v);
      v.urgent = false;
      const c = confirmable(v.mark);
      if (!c || (v.saved && v.saved.seq === c.seq && v.saved.ts === c.ts)) continue;
      due.push({ v, ...c });
    }
    if (due.length === 0) return Promise.resolve();
    flushing = (async () => {
      try {
        await store.save(
          due.map((d) => ({ vehicleId: d.v.vehicleId, seq: d.seq, ts: d.ts })),
          at,
        );
      } catch (err) {
        log.error({ err, vehicles: due.length }, 'confirmation marks could not be saved; retrying');
        for (const d of due) dirty.add(d.v);
        return;
      }
      const published: Promise<void>[] = [];
      const failed: { vehicleId: string; err: unknown }[] = [];
      for (const d of due) {
        d.v.saved = { seq: d.seq, ts: d.ts };
        d.v.lastPublishAt = at;
        counters.inc('telemetry.confirmations', d.v.vehicleId);
        published.push(
          deps
            .publish(d.v.vehicleId, 'telemetry/confirmed', payloadOf(d.v.saved))
            .catch((err: unknown) => void failed.push({ vehicleId: d.v.vehicleId, err })),
        );
      }
      // The flush ends when the broker has taken every message (retained, and in cluster mode sent
      // to Redis): a stop that closes the broker after it no longer cuts publishes in flight.
      await Promise.all(published);
      if (failed.length) {
        // one line per flush, not per vehicle (Redis away in cluster mode fails them all)
        counters.inc('telemetry.confirmations_unpublished', undefined, failed.length);
        log.warn(
          { err: failed[0]!.err, vehicleId: failed[0]!.vehicleId, vehicles: failed.length },
          'could not publish confirmations (sent again with the next mark, or at the vehicle’s next connection)',
        );
      }
    })().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  return {
    /** The vehicle's mark moved; `urgent`: confirm it at the next flush, whatever the interval. */
    moved(v: V, urgent = false) {
      dirty.add(v);
      if (urgent) v.urgent = true;
    },
    forget: (v: V) => void dirty.delete(v),
    /** Flushes the marks that are due now (the timer). */
    flushDue(at: number) {
      if (dirty.size) void flush(at);
    },
    flush,
    /** The flush under way, if any. */
    pending: (): Promise<void> | null => flushing,
    /** Publishes the saved mark again (the retained message is gone after a platform restart). */
    republish(v: V) {
      if (v.saved) deps.publish(v.vehicleId, 'telemetry/confirmed', payloadOf(v.saved)).catch(() => undefined);
    },
  };
}
