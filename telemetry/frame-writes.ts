import type Database from 'better-sqlite3';
import { ALL_COLUMNS, decodeRows, type EncodedRows } from './columns.ts';
import {
  addToAggregate,
  coarseInterval,
  emptyAggregate,
  mergeIntoMinutes,
  packAggregate,
  ROLLUP_SQL,
  rollupInterval,
} from './rollup.ts';
import { SLOT_SQL, slotOf } from './slots.ts';
import { ROLLUP_COARSE_MS, ROLLUP_MS } from './store.ts';

/** Positional parameters: binding an array is cheaper than binding 26 named ones from an object. */
export const INSERT_FRAME_SQL = `INSERT OR IGNORE INTO telemetry (${ALL_COLUMNS.join(', ')}) VALUES (${ALL_COLUMNS.map(() => '?').join(', ')})`;
/** (ts, limit): retention, in chunks. */
export const DELETE_FRAMES_SQL = `DELETE FROM telemetry WHERE rowid IN (SELECT rowid FROM telemetry WHERE ts < ? LIMIT ?)`;

const VEHICLE = ALL_COLUMNS.indexOf('vehicle_id');
const TS = ALL_COLUMNS.indexOf('ts');

/** The frames one insert stored for a vehicle: the oldest and newest ts. */
export interface StoredSpan {
  oldest: number;
  newest: number;
}

export interface InsertOutcome {
  /** Per row: 1 stored, 0 already stored (the unique key). A typed array, to go back to the caller as a transfer. */
  inserted: Uint8Array;
  /** Per vehicle with a row stored. */
  stored: Map<string, StoredSpan>;
  /** Per vehicle whose rollup mark was moved back: the interval it was moved back to. */
  lowered: Map<string, number>;
  /** Per vehicle and slot (telemetry/slots.ts) with a row stored: the aggregate of the rows stored (SlotAggregate). */
  aggregates: Map<string, Map<number, SlotAggregate>>;
}

/**
 * What one insert stored into one vehicle's slot, aggregated as a rollup is (telemetry/rollup.ts),
 * so that the writer thread can roll the interval up without reading its frames back
 * (rollup-compactor.ts). `fresh`: the slot had no frame of the vehicle before this insert, so the
 * aggregate is the whole slot's.
 */
export interface SlotAggregate {
  fresh: boolean;
  agg: Float64Array;
}

/** The writes of the telemetry store, on the writer's connection (the writer thread's, or the caller's when inline). */
export interface FrameWrites {
  /**
   * Inserts rows in one transaction. A frame stored before its vehicle's rollup mark moves the mark
   * back to the frame's interval, in the same transaction (telemetry/rollup.ts). `rolledTo`: the
   * marks as the caller knows them (the writer thread keeps them); without it the mark of every
   * vehicle with a stored frame is moved back where it lies later (an UPDATE that never moves it forward).
   */
  insert(rows: EncodedRows, rolledTo?: ReadonlyMap<string, number>): InsertOutcome;
  /** Deletes up to `limit` frames with ts < `ts`; returns how many went. */
  deleteChunk(ts: number, limit: number): number;
  /**
   * Retention of what is kept beside the frames, after them: deletes up to `limit` of the slot
   * directory's rows wholly before `ts` (telemetry/slots.ts), then of the 10 s and minute rollups
   * before `ts`; the last chunk also rolls up again, from the frames that are left, the interval
   * `ts` falls into, and merges again the minute it falls into.
   */
  trimRollups(ts: number, limit: number): number;
}

export function prepareFrameWrites(db: Database.Database): FrameWrites {
  const insert = db.prepare(INSERT_FRAME_SQL);
  const addSlot = db.prepare(SLOT_SQL.add);
  const slotTrimChunk = db.prepare(SLOT_SQL.trimChunk);
  const del = db.prepare(DELETE_FRAMES_SQL);
  const lower = db.prepare(ROLLUP_SQL.lower);
  const trimChunk = db.prepare(ROLLUP_SQL.trimChunk);
  const edgeDelete = db.prepare(ROLLUP_SQL.edgeDelete);
  const aggregateAll = db.prepare(ROLLUP_SQL.aggregateAll).raw(true);
  const put = db.prepare(ROLLUP_SQL.put);
  const coarseTrimChunk = db.prepare(ROLLUP_SQL.coarseTrimChunk);
  const coarseEdgeDelete = db.prepare(ROLLUP_SQL.coarseEdgeDelete);
  const tensOfAll = db.prepare(ROLLUP_SQL.tensOfAll).raw(true);
  const coarsePut = db.prepare(ROLLUP_SQL.coarsePut);

  const insertMany = db.transaction((rows: EncodedRows, rolledTo?: ReadonlyMap<string, number>): InsertOutcome => {
    const inserted = new Uint8Array(rows.count);
    const stored = new Map<string, StoredSpan>();
    const aggregates = new Map<string, Map<number, SlotAggregate>>();
    decodeRows(rows, (values, i) => {
      if (insert.run(values).changes !== 1) return;
      inserted[i] = 1;
      const vehicle = values[VEHICLE] as string;
      const ts = values[TS] as number;
      const span = stored.get(vehicle);
      // the slot directory's row for the slot, with the batch's first frame of it
      const slot = slotOf(ts);
      let bySlot = aggregates.get(vehicle);
      if (!bySlot) aggregates.set(vehicle, (bySlot = new Map()));
      let slotAgg = bySlot.get(slot);
      if (!slotAgg)
        bySlot.set(slot, (slotAgg = { fresh: addSlot.run(vehicle, slot).changes === 1, agg: emptyAggregate() }));
      addToAggregate(slotAgg.agg, values);
      if (!span) stored.set(vehicle, { oldest: ts, newest: ts });
      else if (ts < span.oldest) span.oldest = ts;
      else if (ts > span.newest) span.newest = ts;
    });
    const lowered = new Map<string, number>();
    for (const [vehicle, { oldest }] of stored) {
      // stored late, into an interval already rolled up: read it from the frames until it is again
      if (rolledTo && !(rolledTo.get(vehicle)! > oldest)) continue;
      const to = rollupInterval(oldest);
      lower.run(to, vehicle, to);
      lowered.set(vehicle, to);
    }
    return { inserted, stored, lowered, aggregates };
  });

  const rollUpEdge = db.transaction((ts: number, edge: number) => {
    edgeDelete.run(edge);
    for (const row of aggregateAll.all(ts, edge + ROLLUP_MS) as unknown[][])
      put.run(row[0], edge, packAggregate(row, 1));
  });
  /** The minute the cut-off falls into, merged again per vehicle from the 10 s rollups left. */
  const mergeEdgeMinute = db.transaction((minute: number) => {
    coarseEdgeDelete.run(minute);
    const rows = tensOfAll.all(minute, minute + ROLLUP_COARSE_MS) as [string, number, Buffer][];
    const byVehicle = new Map<string, [number, Buffer][]>();
    for (const [vehicle, bucket, agg] of rows) {
      let list = byVehicle.get(vehicle);
      if (!list) byVehicle.set(vehicle, (list = []));
      list.push([bucket, agg]);
    }
    for (const [vehicle, list] of byVehicle)
      for (const [m, a] of mergeIntoMinutes(list))
        coarsePut.run(vehicle, m, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  });

  return {
    insert: insertMany,
    deleteChunk: (ts, limit) => del.run(ts, limit).changes,
    trimRollups(ts, limit) {
      const edge = rollupInterval(ts);
      const minute = coarseInterval(ts);
      const slots = slotTrimChunk.run(slotOf(ts), limit).changes;
      if (slots >= limit) return slots;
      limit -= slots;
      const changes = trimChunk.run(edge, limit).changes;
      const coarse = changes < limit ? coarseTrimChunk.run(minute, limit - changes).changes : 0;
      if (changes + coarse < limit) {
        if (ts > edge) rollUpEdge(ts, edge);
        if (ts > minute) mergeEdgeMinute(minute);
      }
      return slots + changes + coarse;
    },
  };
}
