import { backfillResultSchema, type Command, type TelemetryConfirmed, type TelemetryFrame } from '../protocol/index.ts';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { ConfirmationStore } from '../records/telemetry-confirmations.ts';
import { createBackfillRequests } from './backfill-requests.ts';
import { createConfirmationPublisher, type ConfirmedVehicle } from './confirmation-publisher.ts';
import {
  followGaps,
  missingWithin,
  nextRound,
  watchFrom,
  type BackfillPolicy,
  type GapWatch,
} from './backfill-rounds.ts';
import {
  commitFrames,
  gapsOf,
  restoredMark,
  settleMissing,
  settleRefused,
  unseenMark,
  type SeqMark,
  type SeqNote,
  type SeqStep,
} from './seq-marks.ts';

export type { ConfirmationStore };

export interface ConfirmationsDeps {
  bus: EventBus<PlatformEvents>;
  store: ConfirmationStore;
  /** Publishes to one vehicle (the broker): the retained confirmation, and backfill commands. */
  publish(
    vehicleId: string,
    kind: 'telemetry/confirmed' | 'commands',
    payload: TelemetryConfirmed | Command,
  ): Promise<void>;
  log: Logger;
  counters: Counters;
  now?: () => number;
}

export interface ConfirmationsOptions {
  /** At most one confirmation per vehicle this often; progress made by a batch (a replay) is confirmed at the next tick. */
  intervalMs: number;
  /** A seq gap still open after this long gets a backfill request. */
  gapGraceMs: number;
  /** A backfill that brought no progress for this long is asked again. Default max(10 s, 5 × gapGraceMs). */
  backfillRetryMs?: number;
  /** Requests for the same gaps without progress before they are given up as lost. Default 3. */
  maxBackfillAttempts?: number;
  /** Separate gaps asked for per vehicle and round. Default 16. */
  maxHolesPerRound?: number;
  /** Runs of seqs kept above the mark per vehicle; beyond, the lowest gap is given up as lost. Default 1000. */
  maxRanges?: number;
  /** Timer period. Default min(100, intervalMs / 2, gapGraceMs / 2), at least 10 ms. */
  tickMs?: number;
}

/** The shell's record of one vehicle: its seq marks and gap watch (plain data), its connections and what was published. */
interface Track extends ConfirmedVehicle {
  mark: SeqMark;
  /** Timing of the open gaps (null: none). */
  gap: GapWatch | null;
  /** Disconnected: gaps wait (a backfill request would be lost) and no attempt is counted. */
  offline: boolean;
  /** Live sessions (a takeover may report the new connection before the old one's end). */
  connections: number;
  /** The gateway's last `dropped` figure (status). */
  gatewayDropped: number | null;
}

export interface ConfirmationState {
  seq: number;
  ts: number | null;
  confirmed: { seq: number; ts: number } | null;
  gaps: { from: number; to: number }[];
  run: number;
}

export type Confirmations = ReturnType<typeof createConfirmations>;

/**
 * Delivery confirmation. Per vehicle it keeps the **mark**: the highest seq of the gateway's current
 * run such that every seq up to it is durably stored (or settled: refused by validation, or reported
 * missing by the gateway, counted as lost). After the mark is persisted (records store) it publishes
 * `{"v":1,"seq","ts"}` retained on `telemetry/confirmed`, at most once per `intervalMs` per vehicle,
 * at the next tick after a batch (replay) moved it; the gateway then deletes those frames.
 *
 * Frames above a missing seq are kept as ranges; a gap still open after `gapGraceMs` is asked for
 * with a `backfill` command, again when a request brings no progress within `backfillRetryMs`, and
 * given up (counted `telemetry.frames_lost`) after `maxBackfillAttempts`. A seq that falls while ts
 * moves on starts a new run (gateway reboot without a persistent buffer): the mark starts again at -1.
 * Listens on the bus to `telemetry.committed` (after the commit), `ingest.rejected`, `command.ack`,
 * `vehicle.status` (frames the gateway dropped), `vehicle.connected` (re-publishes the mark).
 *
 * This is the shell around a pure core: the mark and its gaps are functions over plain data in
 * seq-marks.ts, when to ask, retry and give up in backfill-rounds.ts. Here are the bus, the timer,
 * connections, counters and log; backfill-requests.ts keeps the commands in flight and
 * confirmation-publisher.ts persists then publishes the marks.
 */
export function createConfirmations(deps: ConfirmationsDeps, options: ConfirmationsOptions) {
  const { bus, store, log, counters } = deps;
  const now = deps.now ?? Date.now;
  const policy: BackfillPolicy = {
    gapGraceMs: options.gapGraceMs,
    retryMs: options.backfillRetryMs ?? Math.max(10_000, 5 * options.gapGraceMs),
    maxAttempts: options.maxBackfillAttempts ?? 3,
    maxGapsPerRound: options.maxHolesPerRound ?? 16,
  };
  const maxRanges = options.maxRanges ?? 1000;
  const tickMs = options.tickMs ?? Math.max(10, Math.min(100, options.intervalMs / 2, options.gapGraceMs / 2));
  const tracks = new Map<string, Track>();
  /** Vehicles with gaps. */
  const gapped = new Set<Track>();
  const publish: ConfirmationsDeps['publish'] = (vehicleId, kind, payload) => deps.publish(vehicleId, kind, payload);
  const publisher = createConfirmationPublisher<Track>({ store, publish, log, counters }, options);
  const backfill = createBackfillRequests<Track>({ publish, log, counters });
  let timer: NodeJS.Timeout | undefined;
  const unsubscribe: (() => void)[] = [];

  function newTrack(vehicleId: string, mark: SeqMark): Track {
    const t: Track = {
      vehicleId,
      mark,
      gap: null,
      offline: false,
      connections: 0,
      saved: null,
      lastPublishAt: -Infinity,
      urgent: false,
      gatewayDropped: null,
    };
    tracks.set(vehicleId, t);
    return t;
  }

  const trackOf = (vehicleId: string): Track => tracks.get(vehicleId) ?? newTrack(vehicleId, unseenMark);

  /** Takes a step of the seq marks: counts and logs its notes, and follows its gaps. */
  function apply(t: Track, step: SeqStep, at: number): boolean {
    for (const note of step.notes) reportNote(counters, log, t.vehicleId, note);
    t.mark = step.mark;
    t.gap = followGaps(t.gap, step, at);
    if (step.closed) gapped.delete(t);
    if (t.gap) gapped.add(t);
    return step.moved;
  }

  /** Frames of one message are durably stored. */
  function onCommitted(vehicleId: string, frames: readonly TelemetryFrame[]) {
    const t = trackOf(vehicleId);
    if (apply(t, commitFrames(t.mark, frames, maxRanges), now())) publisher.moved(t, frames.length > 1);
  }

  function onRejected(vehicleId: string, seq: number) {
    const t = tracks.get(vehicleId);
    const step = t && settleRefused(t.mark, seq, maxRanges);
    if (!t || !step) return;
    counters.inc('telemetry.frames_refused', vehicleId);
    if (apply(t, step, now())) publisher.moved(t);
  }

  function onBackfillAck(id: string, ok: boolean, result: unknown, error: string | undefined) {
    const req = backfill.take(id);
    if (!req) return;
    const t = req.owner;
    if (tracks.get(t.vehicleId) !== t || t.mark.run !== req.run) return;
    if (!ok) {
      counters.inc('telemetry.backfill_refused', t.vehicleId);
      log.warn({ vehicleId: t.vehicleId, fromSeq: req.fromSeq, toSeq: req.toSeq, error }, 'gateway refused a backfill');
      return;
    }
    const parsed = backfillResultSchema.safeParse(result);
    if (!parsed.success) return;
    const { spans, seqs } = missingWithin(parsed.data.missing, req);
    const moved = apply(t, settleMissing(t.mark, spans, maxRanges), now());
    if (seqs)
      log.warn(
        { vehicleId: t.vehicleId, fromSeq: req.fromSeq, toSeq: req.toSeq, missing: seqs },
        'gateway no longer has frames of a seq gap: counted as lost',
      );
    if (moved) publisher.moved(t, true);
  }

  /** Asks gateways for the frames of gaps open longer than the grace period; gives up those asked enough. */
  function checkGaps(at: number) {
    for (const t of gapped) {
      if (t.offline) continue;
      const round = nextRound(t.gap, t.mark, at, policy);
      if (round.kind === 'progress') t.gap = round.watch;
      else if (round.kind === 'ask') {
        backfill.send(t, t.mark.run, round.gaps, at);
        t.gap = round.watch;
      } else if (round.kind === 'give_up') {
        const { missing, attempts } = round;
        log.warn({ vehicleId: t.vehicleId, missing, attempts }, 'seq gaps not backfilled: given up as lost');
        apply(t, settleMissing(t.mark, gapsOf(t.mark), maxRanges), at);
        publisher.moved(t, true);
      }
    }
  }

  function tick(at = now()) {
    if (gapped.size) checkGaps(at);
    publisher.flushDue(at);
  }

  function onStatus(vehicleId: string, dropped: number) {
    const t = trackOf(vehicleId);
    const before = t.gatewayDropped ?? 0;
    const delta = dropped >= before ? dropped - before : dropped; // fewer: the gateway restarted
    t.gatewayDropped = dropped;
    if (delta > 0) {
      counters.inc('gateway.frames_dropped', vehicleId, delta);
      log.warn({ vehicleId, dropped, new: delta }, 'gateway buffer was full: frames dropped before they were sent');
    }
  }

  function onConnected(vehicleId: string) {
    const t = trackOf(vehicleId);
    t.connections++;
    t.offline = false;
    // its replay may fill the gaps: a new grace period, and a fresh round of requests
    if (t.gap) t.gap = watchFrom(now());
    // the retained confirmation is gone after a platform restart: publish it again
    publisher.republish(t);
  }

  function onDisconnected(vehicleId: string) {
    const t = tracks.get(vehicleId);
    if (!t) return;
    t.connections = Math.max(0, t.connections - 1);
    t.offline = t.connections === 0;
  }

  function onRemoved(vehicleId: string) {
    const t = tracks.get(vehicleId);
    if (t) {
      publisher.forget(t);
      gapped.delete(t);
    }
    tracks.delete(vehicleId);
    store
      .remove(vehicleId)
      .catch((err: unknown) => log.warn({ err, vehicleId }, 'could not remove a confirmation mark'));
  }

  return {
    async start() {
      for (const row of await store.load()) {
        newTrack(row.vehicleId, restoredMark(row.seq, row.ts)).saved = { seq: row.seq, ts: row.ts };
      }
      unsubscribe.push(
        bus.on('telemetry.committed', (e) => onCommitted(e.vehicleId, e.frames)),
        bus.on('ingest.rejected', (e) => {
          if (e.error.seq !== undefined && e.error.topic.endsWith('/telemetry')) onRejected(e.vehicleId, e.error.seq);
        }),
        bus.on('command.ack', (e) => {
          if (backfill.owns(e.ack.id)) onBackfillAck(e.ack.id, e.ack.ok, e.ack.result, e.ack.error);
        }),
        bus.on('vehicle.status', (e) => {
          if (e.status.dropped !== undefined) onStatus(e.vehicleId, e.status.dropped);
        }),
        bus.on('vehicle.connected', (e) => onConnected(e.vehicleId)),
        bus.on('vehicle.disconnected', (e) => onDisconnected(e.vehicleId)),
        bus.on('registry.changed', (e) => {
          if (e.subject === 'vehicle' && e.change === 'removed') onRemoved(e.id);
        }),
      );
      timer = setInterval(() => tick(), tickMs);
      timer.unref();
    },
    /** Persists and publishes every mark that moved (graceful shutdown: call while the broker still runs). */
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const u of unsubscribe.splice(0)) u();
      const flushing = publisher.pending();
      if (flushing) await flushing;
      await publisher.flush(now(), true);
    },
    /** Runs the timer's work now (tests). */
    tick,
    /** Persists and publishes every mark that moved, now. */
    flush: () => (publisher.pending() ?? Promise.resolve()).then(() => publisher.flush(now(), true)),
    state(vehicleId: string): ConfirmationState | undefined {
      const t = tracks.get(vehicleId);
      if (!t) return undefined;
      return {
        seq: t.mark.seq,
        ts: t.mark.ts,
        confirmed: t.saved,
        gaps: gapsOf(t.mark).map((g) => ({ from: g.from, to: g.to })),
        run: t.mark.run,
      };
    },
  };
}

/** Counts and logs what a step of the seq marks noted. */
function reportNote(counters: Counters, log: Logger, vehicleId: string, note: SeqNote) {
  switch (note.kind) {
    case 'gap':
      return counters.inc('telemetry.seq_gaps', vehicleId);
    case 'lost':
      return counters.inc('telemetry.frames_lost', vehicleId, note.frames);
    case 'out_of_run':
      // a higher seq, older than the restart: a late frame of the earlier run
      return counters.inc('telemetry.seq_out_of_run', vehicleId);
    case 'too_many_gaps':
      return log.warn(
        { vehicleId, from: note.from, to: note.to },
        'too many seq gaps open: the lowest is given up as lost',
      );
    case 'restart':
      if (note.lostInGaps) counters.inc('telemetry.frames_lost', vehicleId, note.lostInGaps);
      log.info(
        { vehicleId, previousSeq: note.previousSeq, lostInGaps: note.lostInGaps },
        'seq restarted (gateway reboot): confirmation starts a new run',
      );
      return counters.inc('telemetry.seq_restarts', vehicleId);
  }
}
