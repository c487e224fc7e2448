import { FIELD_READERS as READERS } from '../protocol/field-readers.ts';
import type { TelemetryFrame } from '../protocol/telemetry.ts';
import { NUMERIC_FIELDS, type NumericFieldPath } from '../protocol/numeric-fields.ts';

/** `mains.voltageV` → `mains_voltage_v`. */
export function columnOf(path: NumericFieldPath): string {
  return path
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export const FIELD_COLUMNS = NUMERIC_FIELDS.map((f) => ({
  path: f.path as NumericFieldPath,
  column: columnOf(f.path),
}));

/** Which optional sections a frame carried, as bits. */
export const SECTION_BITS = { mains: 1, generator: 2, battery: 4, charging: 8 } as const;

export function sectionsOf(frame: TelemetryFrame): number {
  return (frame.mains ? 1 : 0) | (frame.generator ? 2 : 0) | (frame.battery ? 4 : 0) | (frame.charging ? 8 : 0);
}

/** The stored columns in insert order: the fixed ones, then one per numeric field (encodeRows writes them in this order). */
export const BASE_COLUMNS = [
  'vehicle_id',
  'seq',
  'ts',
  'received_at',
  'source',
  'sections',
  'mains_present',
  'generator_running',
  'charging_engine_running',
] as const;
export const ALL_COLUMNS: readonly string[] = [...BASE_COLUMNS, ...FIELD_COLUMNS.map((f) => f.column)];

/** Positions in ALL_COLUMNS of the text columns; every other column holds a number or null. */
export const TEXT_COLUMNS: readonly number[] = [ALL_COLUMNS.indexOf('vehicle_id'), ALL_COLUMNS.indexOf('source')];
const NUMBER_COUNT = ALL_COLUMNS.length - TEXT_COLUMNS.length;

/**
 * Rows to insert, column by column in ALL_COLUMNS order: per row, its text columns in `texts` and
 * its other columns in `numbers` (NaN for null). One typed array moves to the writer thread as a
 * single copy-free transfer instead of a clone of thousands of small arrays.
 */
export interface EncodedRows {
  count: number;
  numbers: Float64Array;
  texts: string[];
}

const orNaN = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);

/** Encodes frames for the insert: the hot path of ingest, plain property reads, no per-frame objects. */
export function encodeRows(
  frames: readonly { vehicleId: string; receivedAt: number; frame: TelemetryFrame }[],
): EncodedRows {
  const count = frames.length;
  const numbers = new Float64Array(count * NUMBER_COUNT);
  const texts: string[] = new Array(count * 2);
  let n = 0;
  for (let r = 0; r < count; r++) {
    const { vehicleId, receivedAt, frame } = frames[r]!;
    const m = frame.mains;
    const g = frame.generator;
    const c = frame.charging;
    // vehicle_id, seq, ts, received_at, source, sections, mains_present, generator_running, charging_engine_running, fields…
    texts[2 * r] = vehicleId;
    texts[2 * r + 1] = frame.source;
    numbers[n++] = frame.seq;
    numbers[n++] = frame.ts;
    numbers[n++] = receivedAt;
    numbers[n++] = sectionsOf(frame);
    numbers[n++] = m ? (m.present ? 1 : 0) : NaN;
    numbers[n++] = g ? (g.running ? 1 : 0) : NaN;
    numbers[n++] = c ? (c.engineRunning ? 1 : 0) : NaN;
    for (let i = 0; i < FIELD_READERS.length; i++) numbers[n++] = orNaN(FIELD_READERS[i]!(frame));
  }
  return { count, numbers, texts };
}

/**
 * The insert's side of encodeRows (telemetry/frame-writes.ts, on the writer thread or inline):
 * calls `row` with each row's values in ALL_COLUMNS order, in one reused array.
 */
export function decodeRows(rows: EncodedRows, row: (values: (number | string | null)[], index: number) => void): void {
  const values: (number | string | null)[] = new Array(ALL_COLUMNS.length);
  const isText = ALL_COLUMNS.map((_, i) => TEXT_COLUMNS.includes(i));
  let n = 0;
  let t = 0;
  for (let r = 0; r < rows.count; r++) {
    for (let col = 0; col < values.length; col++) {
      if (isText[col]) values[col] = rows.texts[t++]!;
      else {
        const v = rows.numbers[n++]!;
        values[col] = v !== v ? null : v;
      }
    }
    row(values, r);
  }
}

/** One reader per numeric field, in FIELD_COLUMNS order (protocol/telemetry.ts: each its own function). */
const FIELD_READERS = FIELD_COLUMNS.map(({ path }) => READERS[path]);

/** Where each numeric field sits in ALL_COLUMNS and in the frame, computed once. */
const FIELD_SLOTS = FIELD_COLUMNS.map(({ path }, i) => {
  const dot = path.indexOf('.');
  return {
    position: BASE_COLUMNS.length + i,
    section: dot < 0 ? null : path.slice(0, dot),
    key: dot < 0 ? path : path.slice(dot + 1),
  };
});
const POSITION = Object.fromEntries(ALL_COLUMNS.map((c, i) => [c, i])) as Record<(typeof BASE_COLUMNS)[number], number>;

/**
 * Rebuilds a frame from its columns, read through `value(position in ALL_COLUMNS)`; sections absent
 * at ingest stay absent, missing readings are omitted.
 */
function buildFrame(value: (position: number) => unknown): TelemetryFrame {
  const sections = Number(value(POSITION.sections));
  const frame: Record<string, unknown> = {
    v: 1,
    seq: Number(value(POSITION.seq)),
    ts: Number(value(POSITION.ts)),
    source: value(POSITION.source),
  };
  if (sections & SECTION_BITS.mains) frame.mains = { present: value(POSITION.mains_present) === 1 };
  if (sections & SECTION_BITS.generator) frame.generator = { running: value(POSITION.generator_running) === 1 };
  if (sections & SECTION_BITS.battery) frame.battery = {};
  if (sections & SECTION_BITS.charging)
    frame.charging = { engineRunning: value(POSITION.charging_engine_running) === 1 };
  for (const { position, section, key } of FIELD_SLOTS) {
    const v = value(position);
    if (v === null || v === undefined) continue;
    if (section === null) frame[key] = Number(v);
    else {
      const target = frame[section] as Record<string, unknown> | undefined;
      if (target) target[key] = Number(v);
    }
  }
  return frame as TelemetryFrame;
}

/** Rebuilds a frame from a row read as an object (column name → value). */
export function unflatten(row: Record<string, unknown>): TelemetryFrame {
  return buildFrame((position) => row[ALL_COLUMNS[position]!]);
}

/**
 * A stored frame from a row read as an array in ALL_COLUMNS order (`SELECT <ALL_COLUMNS>` in
 * better-sqlite3's raw mode): no object per row with 35 named keys, which is most of the cost of
 * reading many rows.
 */
export function storedFromValues(values: readonly unknown[]): {
  vehicleId: string;
  receivedAt: number;
  frame: TelemetryFrame;
} {
  return {
    vehicleId: String(values[POSITION.vehicle_id]),
    receivedAt: Number(values[POSITION.received_at]),
    frame: buildFrame((position) => values[position]),
  };
}
