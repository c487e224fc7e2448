import {
  BACKFILL_COMMAND,
  backfillResultSchema,
  type BackfillArgs,
  type Command,
  type TelemetryConfirmed,
  type TelemetryFrame,
} from '../protocol/index.ts';
import type { EventBus } from '../core/bus.ts';
import type { Counters } from '../core/counters.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';

/** Where each vehicle's confirmation mark survives a restart (records/telemetry-confirmations.ts). */
export interface ConfirmationStore {
  load(): Promise<{ vehicleId: string; seq: number; ts: number }[]>;
  /** Resolves once committed. */
  save(rows: readonly { vehicleId: string; seq: number; ts: number }[], at: number): Promise<void>;
  remove(vehicleId: string): Promise<void>;
}

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

/** Seqs `from`…`to` known (stored, or settled), with the ts of the lowest and newest stored frame among them. */
interface Range {
  from: number;
  to: number;
  lowTs: number | null;
  highTs: number | null;
}

interface Track {
  vehicleId: string;
  /** False until the first frame: a vehicle's history before the first frame seen is not asked for. */
  known: boolean;
  /** Disconnected: gaps wait (a backfill request would be lost) and no attempt is counted. */
  offline: boolean;
  /** Live sessions (a takeover may report the new connection before the old one's end). */
  connections: number;
  /** The mark: every seq of this run up to here is settled. -1 before the first frame of a run. */
  seq: number;
  /** ts of the newest stored frame at or below the mark (null: none yet in this run). */
  ts: number | null;
  /** Newest ts seen in this run (mark and ranges). */
  maxTs: number;
  /** Seqs known above the mark: sorted, disjoint, never adjacent (the gaps lie between). */
  ranges: Range[];
  run: number;
  /** ts of the first frame of the current run, after a seq restart (frames of the earlier run are older). */
  runStartTs: number | null;
  /** What was last persisted and published. */
  saved: { seq: number; ts: number } | null;
  lastPublishAt: number;
  urgent: boolean;
  gapSince: number | null;
  attempts: number;
  lastRequestAt: number | null;
  missingAtRequest: number;
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

const BACKFILL_ID_PREFIX = 'bf-';
const maxNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const minNull = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

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
 */
export function createConfirmations(deps: ConfirmationsDeps, options: ConfirmationsOptions) {
  const { bus, store, log, counters } = deps;
  const now = deps.now ?? Date.now;
  const retryMs = options.backfillRetryMs ?? Math.max(10_000, 5 * options.gapGraceMs);
  const maxAttempts = options.maxBackfillAttempts ?? 3;
  const maxHoles = options.maxHolesPerRound ?? 16;
  const maxRanges = options.maxRanges ?? 1000;
  const tickMs = options.tickMs ?? Math.max(10, Math.min(100, options.intervalMs / 2, options.gapGraceMs / 2));
  const tracks = new Map<string, Track>();
  /** Vehicles whose mark moved since it was last published. */
  const dirty = new Set<Track>();
  /** Vehicles with gaps. */
  const gapped = new Set<Track>();
  const requests = new Map<string, { track: Track; run: number; fromSeq: number; toSeq: number }>();
  let requestNo = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | null = null;
  const unsubscribe: (() => void)[] = [];

  function newTrack(vehicleId: string): Track {
    return {
      vehicleId,
      known: false,
      offline: false,
      connections: 0,
      seq: -1,
      ts: null,
      maxTs: -Infinity,
      ranges: [],
      run: 0,
      runStartTs: null,
      saved: null,
      lastPublishAt: -Infinity,
      urgent: false,
      gapSince: null,
      attempts: 0,
      lastRequestAt: null,
      missingAtRequest: 0,
      gatewayDropped: null,
    };
  }

  function holes(t: Track): { from: number; to: number; afterTs: number | null; beforeTs: number | null }[] {
    const out = [];
    let prevEnd = t.seq;
    let prevTs = t.ts;
    for (const r of t.ranges) {
      out.push({ from: prevEnd + 1, to: r.from - 1, afterTs: prevTs, beforeTs: r.lowTs });
      prevEnd = r.to;
      prevTs = maxNull(prevTs, r.highTs);
    }
    return out;
  }

  const holeFrames = (t: Track) => holes(t).reduce((n, h) => n + h.to - h.from + 1, 0);

  /** Moves the mark over the ranges that now touch it. */
  function merge(t: Track): boolean {
    let moved = false;
    while (t.ranges.length && t.ranges[0]!.from <= t.seq + 1) {
      const r = t.ranges.shift()!;
      if (r.to > t.seq) {
        t.seq = r.to;
        moved = true;
      }
      t.ts = maxNull(t.ts, r.highTs);
    }
    if (t.ranges.length === 0) {
      gapped.delete(t);
      t.gapSince = null;
      t.attempts = 0;
      t.lastRequestAt = null;
    }
    return moved;
  }

  /** Adds seqs from…to above the mark to the ranges. */
  function insert(t: Track, from: number, to: number, lowTs: number | null, highTs: number | null) {
    if (to <= t.seq) return;
    if (from <= t.seq) {
      from = t.seq + 1;
      lowTs = null;
    }
    const rs = t.ranges;
    const last = rs[rs.length - 1];
    if (!last || from > last.to + 1) {
      // the usual case above a gap: a new run of seqs on top
      rs.push({ from, to, lowTs, highTs });
      if (from > (last ? last.to : t.seq) + 1) counters.inc('telemetry.seq_gaps', t.vehicleId);
    } else {
      // first range that reaches `from - 1`, last range that starts by `to + 1`
      let i = 0;
      while (rs[i]!.to < from - 1) i++;
      let j = i;
      while (j + 1 < rs.length && rs[j + 1]!.from <= to + 1) j++;
      if (rs[i]!.from > to + 1) {
        rs.splice(i, 0, { from, to, lowTs, highTs }); // inside a gap, touching nothing: splits it
      } else {
        const merged: Range = { from: Math.min(from, rs[i]!.from), to: Math.max(to, rs[j]!.to), lowTs, highTs };
        for (let k = i; k <= j; k++) {
          merged.lowTs = minNull(merged.lowTs, rs[k]!.lowTs);
          merged.highTs = maxNull(merged.highTs, rs[k]!.highTs);
        }
        rs.splice(i, j - i + 1, merged);
      }
    }
    if (rs.length) {
      gapped.add(t);
      t.gapSince ??= now();
    }
    while (rs.length > maxRanges) {
      const h = holes(t)[0]!;
      log.warn(
        { vehicleId: t.vehicleId, from: h.from, to: h.to },
        'too many seq gaps open: the lowest is given up as lost',
      );
      settleLost(t, h.from, h.to);
    }
  }

  /** Seqs the gateway no longer has (or that can never be stored): the mark may pass them. */
  function settleLost(t: Track, from: number, to: number): boolean {
    if (to <= t.seq) return false;
    counters.inc('telemetry.frames_lost', t.vehicleId, to - Math.max(from, t.seq + 1) + 1);
    insert(t, from, to, null, null);
    return merge(t);
  }

  function newRun(t: Track) {
    const lost = holeFrames(t);
    if (lost) counters.inc('telemetry.frames_lost', t.vehicleId, lost);
    log.info(
      { vehicleId: t.vehicleId, previousSeq: t.seq, lostInGaps: lost },
      'seq restarted (gateway reboot): confirmation starts a new run',
    );
    counters.inc('telemetry.seq_restarts', t.vehicleId);
    t.seq = -1;
    t.ts = null;
    t.maxTs = -Infinity;
    t.ranges = [];
    t.run++;
    t.runStartTs = null;
    gapped.delete(t);
    t.gapSince = null;
    t.attempts = 0;
    t.lastRequestAt = null;
  }

  function trackOf(vehicleId: string): Track {
    let t = tracks.get(vehicleId);
    if (!t) tracks.set(vehicleId, (t = newTrack(vehicleId)));
    return t;
  }

  /** Frames of one message are durably stored. */
  function onCommitted(vehicleId: string, frames: readonly TelemetryFrame[]) {
    const t = trackOf(vehicleId);
    let moved = false;
    for (const f of frames) {
      const { seq, ts } = f;
      if (!t.known) {
        // never seen: its history before this frame is not ours to ask for
        t.known = true;
        t.seq = seq - 1;
      }
      if (seq <= t.seq) {
        if (ts <= t.maxTs) continue; // stored before (a re-send)
        newRun(t);
        t.runStartTs = ts;
      } else if (t.runStartTs !== null && ts < t.runStartTs) {
        counters.inc('telemetry.seq_out_of_run', vehicleId); // a higher seq, older than the restart: a late frame of the earlier run
        continue;
      }
      if (ts > t.maxTs) t.maxTs = ts;
      if (seq === t.seq + 1) {
        t.seq = seq;
        t.ts = maxNull(t.ts, ts);
        if (t.ranges.length) merge(t);
        moved = true;
      } else {
        insert(t, seq, seq, ts, ts);
      }
    }
    if (moved) {
      dirty.add(t);
      if (frames.length > 1) t.urgent = true;
    }
  }

  function onRejected(vehicleId: string, seq: number) {
    const t = tracks.get(vehicleId);
    if (!t?.known) return;
    const top = t.ranges.length ? t.ranges[t.ranges.length - 1]!.to : t.seq;
    if (seq <= t.seq || seq > top + 1) return;
    counters.inc('telemetry.frames_refused', vehicleId);
    insert(t, seq, seq, null, null);
    if (merge(t)) dirty.add(t);
  }

  function onBackfillAck(id: string, ok: boolean, result: unknown, error: string | undefined) {
    const req = requests.get(id);
    if (!req) return;
    requests.delete(id);
    const t = req.track;
    if (tracks.get(t.vehicleId) !== t || t.run !== req.run) return;
    if (!ok) {
      counters.inc('telemetry.backfill_refused', t.vehicleId);
      log.warn({ vehicleId: t.vehicleId, fromSeq: req.fromSeq, toSeq: req.toSeq, error }, 'gateway refused a backfill');
      return;
    }
    const parsed = backfillResultSchema.safeParse(result);
    if (!parsed.success) return;
    let moved = false;
    let missing = 0;
    for (const [a, b] of parsed.data.missing) {
      const from = Math.max(a, req.fromSeq);
      const to = Math.min(b, req.toSeq);
      if (from > to) continue;
      missing += to - from + 1;
      moved = settleLost(t, from, to) || moved;
    }
    if (missing)
      log.warn(
        { vehicleId: t.vehicleId, fromSeq: req.fromSeq, toSeq: req.toSeq, missing },
        'gateway no longer has frames of a seq gap: counted as lost',
      );
    if (moved) {
      dirty.add(t);
      t.urgent = true;
    }
  }

  /** Asks gateways for the frames of gaps open longer than the grace period. */
  function checkGaps(at: number) {
    for (const t of gapped) {
      if (t.offline || t.gapSince === null || at - t.gapSince < options.gapGraceMs) continue;
      const missing = holeFrames(t);
      if (t.lastRequestAt !== null) {
        if (missing < t.missingAtRequest) {
          // frames are coming in: wait
          t.missingAtRequest = missing;
          t.lastRequestAt = at;
          t.attempts = 0;
          continue;
        }
        if (at - t.lastRequestAt < retryMs) continue;
        if (t.attempts >= maxAttempts) {
          log.warn(
            { vehicleId: t.vehicleId, missing, attempts: t.attempts },
            'seq gaps not backfilled: given up as lost',
          );
          for (const h of holes(t)) settleLost(t, h.from, h.to);
          dirty.add(t);
          t.urgent = true;
          continue;
        }
      }
      for (const [id, r] of requests) if (r.track === t) requests.delete(id);
      for (const h of holes(t).slice(0, maxHoles)) {
        const id = `${BACKFILL_ID_PREFIX}${(++requestNo).toString(36)}`;
        const args: BackfillArgs = { fromSeq: h.from, toSeq: h.to };
        if (h.afterTs !== null) args.afterTs = h.afterTs;
        if (h.beforeTs !== null) args.beforeTs = h.beforeTs;
        requests.set(id, { track: t, run: t.run, fromSeq: h.from, toSeq: h.to });
        counters.inc('telemetry.backfill_requests', t.vehicleId);
        log.info({ vehicleId: t.vehicleId, ...args }, 'seq gap: backfill requested');
        deps
          .publish(t.vehicleId, 'commands', { id, ts: at, name: BACKFILL_COMMAND, args: { ...args } })
          .catch((err: unknown) => log.warn({ err, vehicleId: t.vehicleId }, 'could not send a backfill request'));
      }
      t.attempts++;
      t.lastRequestAt = at;
      t.missingAtRequest = missing;
    }
  }

  const payloadOf = (s: { seq: number; ts: number }): TelemetryConfirmed => ({ v: 1, seq: s.seq, ts: s.ts });

  /** Persists the marks that are due, then publishes them. One flush at a time. */
  function flush(at: number, all = false): Promise<void> {
    if (flushing) return flushing;
    const due: { t: Track; seq: number; ts: number }[] = [];
    for (const t of dirty) {
      if (!all && !t.urgent && at - t.lastPublishAt < options.intervalMs) continue;
      dirty.delete(t);
      t.urgent = false;
      if (t.ts === null || t.seq < 0) continue;
      if (t.saved && t.saved.seq === t.seq && t.saved.ts === t.ts) continue;
      due.push({ t, seq: t.seq, ts: t.ts });
    }
    if (due.length === 0) return Promise.resolve();
    flushing = (async () => {
      try {
        await store.save(
          due.map((d) => ({ vehicleId: d.t.vehicleId, seq: d.seq, ts: d.ts })),
          at,
        );
      } catch (err) {
        log.error({ err, vehicles: due.length }, 'confirmation marks could not be saved; retrying');
        for (const d of due) dirty.add(d.t);
        return;
      }
      for (const d of due) {
        d.t.saved = { seq: d.seq, ts: d.ts };
        d.t.lastPublishAt = at;
        counters.inc('telemetry.confirmations', d.t.vehicleId);
        deps
          .publish(d.t.vehicleId, 'telemetry/confirmed', payloadOf(d.t.saved))
          .catch((err: unknown) => log.warn({ err, vehicleId: d.t.vehicleId }, 'could not publish a confirmation'));
      }
    })().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  function tick(at = now()) {
    if (gapped.size) checkGaps(at);
    if (dirty.size) void flush(at);
  }

  return {
    async start() {
      for (const row of await store.load()) {
        const t = newTrack(row.vehicleId);
        t.known = true;
        t.seq = row.seq;
        t.ts = row.ts;
        t.maxTs = row.ts;
        t.saved = { seq: row.seq, ts: row.ts };
        tracks.set(row.vehicleId, t);
      }
      unsubscribe.push(
        bus.on('telemetry.committed', (e) => onCommitted(e.vehicleId, e.frames)),
        bus.on('ingest.rejected', (e) => {
          if (e.error.seq !== undefined && e.error.topic.endsWith('/telemetry')) onRejected(e.vehicleId, e.error.seq);
        }),
        bus.on('command.ack', (e) => {
          if (e.ack.id.startsWith(BACKFILL_ID_PREFIX)) onBackfillAck(e.ack.id, e.ack.ok, e.ack.result, e.ack.error);
        }),
        bus.on('vehicle.status', (e) => {
          const dropped = e.status.dropped;
          if (dropped === undefined) return;
          const t = trackOf(e.vehicleId);
          const before = t.gatewayDropped ?? 0;
          const delta = dropped >= before ? dropped - before : dropped; // fewer: the gateway restarted
          t.gatewayDropped = dropped;
          if (delta > 0) {
            counters.inc('gateway.frames_dropped', e.vehicleId, delta);
            log.warn(
              { vehicleId: e.vehicleId, dropped, new: delta },
              'gateway buffer was full: frames dropped before they were sent',
            );
          }
        }),
        bus.on('vehicle.connected', (e) => {
          const t = trackOf(e.vehicleId);
          t.connections++;
          t.offline = false;
          if (t.gapSince !== null) {
            // its replay may fill the gaps: a new grace period, and a fresh round of requests
            t.gapSince = now();
            t.lastRequestAt = null;
            t.attempts = 0;
          }
          // the retained confirmation is gone after a platform restart: publish it again
          if (t.saved) deps.publish(e.vehicleId, 'telemetry/confirmed', payloadOf(t.saved)).catch(() => undefined);
        }),
        bus.on('vehicle.disconnected', (e) => {
          const t = tracks.get(e.vehicleId);
          if (!t) return;
          t.connections = Math.max(0, t.connections - 1);
          t.offline = t.connections === 0;
        }),
        bus.on('registry.changed', (e) => {
          if (e.subject !== 'vehicle' || e.change !== 'removed') return;
          const t = tracks.get(e.id);
          if (t) {
            dirty.delete(t);
            gapped.delete(t);
          }
          tracks.delete(e.id);
          store
            .remove(e.id)
            .catch((err: unknown) => log.warn({ err, vehicleId: e.id }, 'could not remove a confirmation mark'));
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
      if (flushing) await flushing;
      await flush(now(), true);
    },
    /** Runs the timer's work now (tests). */
    tick,
    /** Persists and publishes every mark that moved, now. */
    flush: () => (flushing ?? Promise.resolve()).then(() => flush(now(), true)),
    state(vehicleId: string): ConfirmationState | undefined {
      const t = tracks.get(vehicleId);
      if (!t) return undefined;
      return {
        seq: t.seq,
        ts: t.ts,
        confirmed: t.saved,
        gaps: holes(t).map((h) => ({ from: h.from, to: h.to })),
        run: t.run,
      };
    },
  };
}
