import type Database from 'better-sqlite3';
import type { InsertOutcome } from './frame-writes.ts';
import {
  coarseInterval,
  mergeAggregate,
  mergeIntoMinutes,
  packAggregate,
  ROLLUP_SQL,
  rollupInterval,
} from './rollup.ts';
import { SLOT_SQL, slotOf } from './slots.ts';
import { ROLLUP_MS } from './store.ts';

/** When and in what steps the compactor rolls up (telemetry/rollup.ts ROLLUP_*). */
export interface CompactorOptions {
  /** An interval is rolled up once it ended this long ago. */
  graceMs: number;
  /** How often a pass runs on its own. */
  everyMs: number;
  /** At most this much of one vehicle's time per statement. */
  stepMs: number;
  /** …and at most this many of its frames (whole intervals; at least one interval). */
  stepFrames: number;
  /** A turn gives way to queued writes after this long. */
  turnMs: number;
  /** Told how long each turn took (ms), for the writer's timings. */
  onTurn?: (ms: number) => void;
}

export interface RollupCompactor {
  /** The rollup marks (telemetry_rollup_state), as the inserts need them. */
  readonly rolledTo: ReadonlyMap<string, number>;
  /** Keeps the marks, the vehicles to roll up and their open intervals' aggregates in step with what an insert stored (after its commit). */
  stored(outcome: InsertOutcome): void;
  /** Retention deleted frames before `ts`: the aggregates kept of intervals up to the one `ts` falls into no longer hold. */
  deleted(ts: number): void;
  /** Runs a pass (or joins the next one if one is running); `done` is called when it is over. */
  pass(done?: (err?: Error) => void): void;
  /** Stops the timer; a pass under way ends with an error at its next turn. */
  close(): void;
}

/**
 * Moves the vehicles' rollup marks forward on the writer's connection (the invariant is in
 * telemetry/rollup.ts): a pass every `everyMs` (and one at start) over the vehicles with frames
 * that may not be rolled up yet, in turns of at most `turnMs`, each its own transaction, so the
 * writes queued meanwhile go in between.
 */
export function startRollupCompactor(db: Database.Database, options: CompactorOptions): RollupCompactor {
  const aggregate = db.prepare(ROLLUP_SQL.aggregate).raw(true);
  const put = db.prepare(ROLLUP_SQL.put);
  const firstTs = db.prepare(ROLLUP_SQL.firstTs).pluck();
  const nthTs = db.prepare(ROLLUP_SQL.nthTs).pluck();
  const setState = db.prepare(ROLLUP_SQL.setState);
  const tensOf = db.prepare(ROLLUP_SQL.tensOf).raw(true);
  const coarseDelete = db.prepare(ROLLUP_SQL.coarseDelete);
  const coarsePut = db.prepare(ROLLUP_SQL.coarsePut);
  const slotsBetween = db.prepare(SLOT_SQL.between).pluck();
  // A turn's COMMIT does not wait for its own fsync (synchronous = NORMAL for that transaction, the
  // connection's setting again after): rollups and their marks are derived from the frames and
  // change together in one transaction, so a turn lost to a power cut leaves them consistent, and
  // is done again from the frames by the next pass. WAL frames are synced in order, so the next
  // frame insert's COMMIT (FULL) makes the turns before it durable too. A frame insert queued
  // behind a turn then waits for the turn's work only, not for one more fsync (≈ 18 turns/s at
  // 15,000 frames/s from 1,000 vehicles).
  const syncMode = Number(db.pragma('synchronous', { simple: true }));
  const relaxed = syncMode > 1;

  /** Merges the minutes [from, to) (on the minute grid) of a vehicle again from its 10 s rollups. */
  function mergeMinutes(vehicle: string, from: number, to: number): void {
    if (!(to > from)) return;
    coarseDelete.run(vehicle, from, to);
    for (const [minute, a] of mergeIntoMinutes(tensOf.all(vehicle, from, to) as [number, Buffer][]))
      coarsePut.run(vehicle, minute, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }

  // rolledTo mirrors telemetry_rollup_state; pending holds the vehicles with frames that may not be
  // rolled up yet, with the newest ts stored for each
  const rolledTo = new Map<string, number>();
  for (const r of db.prepare(ROLLUP_SQL.states).all() as { vehicle_id: string; rolled_to: number }[])
    rolledTo.set(r.vehicle_id, r.rolled_to);
  const pending = new Map<string, number>();
  // Per vehicle, the aggregates of intervals not rolled up yet whose every frame was stored by this
  // thread (InsertOutcome.aggregates: the slot was empty when its first frame came). Rolling such an
  // interval up writes its aggregate instead of reading its frames back (that took ≈ 10 µs a frame,
  // a tenth of the writer thread at 8,400 frames/s). An interval with frames from before (the
  // thread started again, a retention cut-off) has none kept and is read from the frames.
  const open = new Map<string, Map<number, Float64Array>>();
  /** At most this many intervals of one vehicle are written from their aggregates in one step. */
  const OPEN_STEP = 64;
  const nextVehicle = db.prepare(ROLLUP_SQL.nextVehicle);
  const lastTs = db.prepare(ROLLUP_SQL.lastTs);
  for (let last = ''; ;) {
    const r = nextVehicle.get(last) as { vehicle_id: string } | undefined;
    if (!r) break;
    last = r.vehicle_id;
    const newest = lastTs.get(last) as { ts: number | null } | undefined;
    if (newest && newest.ts !== null && !(rolledTo.get(last)! > newest.ts)) pending.set(last, newest.ts);
  }

  /** Rolls up one vehicle's closed intervals, a step at a time, until closeUpTo or the deadline; returns its new mark. */
  function compactVehicle(vehicle: string, closeUpTo: number, deadline: number, marks: Map<string, number>): number {
    const start = marks.has(vehicle) ? marks.get(vehicle) : rolledTo.get(vehicle);
    let mark = start === undefined ? -Number.MAX_SAFE_INTEGER : start;
    let firstFrom: number | undefined;
    // every interval with frames from the mark to closeUpTo kept as an aggregate: written as it is
    const kept = open.get(vehicle);
    if (kept?.size) {
      const slots = slotsBetween.all(vehicle, slotOf(mark), slotOf(closeUpTo), OPEN_STEP + 1) as number[];
      if (slots.length <= OPEN_STEP && slots.every((slot) => kept.has(slot))) {
        for (const slot of slots) put.run(vehicle, slot * ROLLUP_MS, Buffer.from(kept.get(slot)!.buffer));
        if (slots.length) firstFrom = slots[0]! * ROLLUP_MS;
        mark = closeUpTo;
      }
    }
    // else from the frames, at least one step, however late: every turn makes progress
    for (let steps = 0; mark < closeUpTo && (steps === 0 || performance.now() < deadline); steps++) {
      const first = firstTs.get(vehicle, slotOf(mark), mark) as number | undefined;
      if (first === undefined || first >= closeUpTo) {
        mark = closeUpTo;
        break;
      }
      const from = rollupInterval(first);
      firstFrom ??= from;
      // whole intervals up to the one of the frame stepFrames on (so at most stepFrames frames), at least one
      const nth = nthTs.get(vehicle, slotOf(from), from, options.stepFrames) as number | undefined;
      const to = Math.min(
        closeUpTo,
        from + options.stepMs,
        nth === undefined ? Infinity : Math.max(from + ROLLUP_MS, rollupInterval(nth)),
      );
      for (const row of aggregate.all(vehicle, slotOf(from), slotOf(to), from, to) as unknown[][])
        put.run(vehicle, row[0], packAggregate(row, 1));
      mark = to;
    }
    if (mark !== start && mark > -Number.MAX_SAFE_INTEGER) {
      // the minutes now wholly below the mark, merged from the 10 s rollups (telemetry/rollup.ts)
      const since = start === undefined || start <= -Number.MAX_SAFE_INTEGER ? firstFrom : start;
      if (since !== undefined) mergeMinutes(vehicle, coarseInterval(since), coarseInterval(mark));
      setState.run(vehicle, mark);
      marks.set(vehicle, mark);
    }
    return mark;
  }

  let passing = false;
  let closed = false;
  let waiting: ((err?: Error) => void)[] = [];

  function pass(done?: (err?: Error) => void): void {
    if (done) waiting.push(done);
    if (passing || closed) return;
    passing = true;
    const callbacks = waiting;
    waiting = [];
    const closeUpTo = rollupInterval(Date.now() - options.graceMs);
    // vehicles already rolled up to closeUpTo with nothing newer leave without a statement
    for (const [vehicle, newest] of pending)
      if (rolledTo.get(vehicle)! >= closeUpTo && newest < closeUpTo) pending.delete(vehicle);
    const queue = [...pending.keys()].filter((vehicle) => !(rolledTo.get(vehicle)! >= closeUpTo));
    let i = 0;
    const finish = (err?: Error) => {
      passing = false;
      for (const cb of callbacks) cb(err);
      if (waiting.length) pass();
    };
    const turn = () => {
      if (closed) return finish(new Error('closed'));
      const turnStart = performance.now();
      const deadline = turnStart + options.turnMs;
      const marks = new Map<string, number>();
      try {
        if (relaxed) db.pragma('synchronous = NORMAL');
        db.transaction(() => {
          do {
            if (compactVehicle(queue[i]!, closeUpTo, deadline, marks) < closeUpTo) break;
            i++;
          } while (i < queue.length && performance.now() < deadline);
        })();
      } catch (err) {
        return finish(err as Error);
      } finally {
        if (relaxed) db.pragma(`synchronous = ${syncMode}`);
      }
      options.onTurn?.(performance.now() - turnStart);
      for (const [vehicle, mark] of marks) {
        rolledTo.set(vehicle, mark);
        forgetOpen(vehicle, slotOf(mark));
      }
      for (const [vehicle, mark] of marks)
        if (mark >= closeUpTo && pending.get(vehicle)! < closeUpTo) pending.delete(vehicle);
      if (i < queue.length) setImmediate(turn);
      else finish();
    };
    if (queue.length === 0) return finish();
    turn();
  }

  /** The kept aggregates of a vehicle's intervals before slot `below` (rolled up, or no longer whole). */
  function forgetOpen(vehicle: string, below: number): void {
    const kept = open.get(vehicle);
    if (!kept) return;
    for (const slot of kept.keys()) if (slot < below) kept.delete(slot);
    if (kept.size === 0) open.delete(vehicle);
  }

  const timer = setInterval(() => pass(), options.everyMs);
  setImmediate(() => pass());

  return {
    rolledTo,
    stored({ stored, lowered, aggregates }) {
      for (const [vehicle, { newest }] of stored) {
        const known = pending.get(vehicle);
        if (known === undefined || newest > known) pending.set(vehicle, newest);
      }
      for (const [vehicle, bySlot] of aggregates) {
        let kept = open.get(vehicle);
        for (const [slot, { fresh, agg }] of bySlot) {
          if (fresh) {
            if (!kept) open.set(vehicle, (kept = new Map()));
            kept.set(slot, agg);
          } else {
            // the slot had frames before: its kept aggregate, if any, was whole until now and stays so
            const whole = kept?.get(slot);
            if (whole) mergeAggregate(whole, agg);
          }
        }
      }
      for (const [vehicle, to] of lowered) rolledTo.set(vehicle, Math.min(rolledTo.get(vehicle)!, to));
    },
    deleted(ts) {
      for (const vehicle of [...open.keys()]) forgetOpen(vehicle, slotOf(ts) + 1);
    },
    pass,
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
