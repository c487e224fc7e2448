import { NUMERIC_FIELDS, type NumericFieldPath, type TelemetryFrame, readField } from '../protocol/index.ts';

/** `mains.voltageV` → `mains_voltage_v`. */
export function columnOf(path: NumericFieldPath): string {
  return path.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

export const FIELD_COLUMNS = NUMERIC_FIELDS.map((f) => ({ path: f.path as NumericFieldPath, column: columnOf(f.path) }));

/** Which optional sections a frame carried, as bits. */
export const SECTION_BITS = { mains: 1, generator: 2, battery: 4, charging: 8 } as const;

export function sectionsOf(frame: TelemetryFrame): number {
  return (frame.mains ? 1 : 0) | (frame.generator ? 2 : 0) | (frame.battery ? 4 : 0) | (frame.charging ? 8 : 0);
}

/** Flattens a frame into column values (booleans as 0/1, absent values as null). */
export function flatten(frame: TelemetryFrame): Record<string, number | string | null> {
  const row: Record<string, number | string | null> = {
    seq: frame.seq,
    ts: frame.ts,
    source: frame.source,
    sections: sectionsOf(frame),
    mains_present: frame.mains ? Number(frame.mains.present) : null,
    generator_running: frame.generator ? Number(frame.generator.running) : null,
    charging_engine_running: frame.charging ? Number(frame.charging.engineRunning) : null,
  };
  for (const { path, column } of FIELD_COLUMNS) row[column] = readField(frame, path);
  return row;
}

/** Rebuilds a frame from its columns; sections absent at ingest stay absent, missing readings are omitted. */
export function unflatten(row: Record<string, unknown>): TelemetryFrame {
  const sections = Number(row.sections);
  const frame: Record<string, unknown> = { v: 1, seq: Number(row.seq), ts: Number(row.ts), source: row.source };
  if (sections & SECTION_BITS.mains) frame.mains = { present: row.mains_present === 1 };
  if (sections & SECTION_BITS.generator) frame.generator = { running: row.generator_running === 1 };
  if (sections & SECTION_BITS.battery) frame.battery = {};
  if (sections & SECTION_BITS.charging) frame.charging = { engineRunning: row.charging_engine_running === 1 };
  for (const { path, column } of FIELD_COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    const dot = path.indexOf('.');
    if (dot < 0) frame[path] = Number(value);
    else {
      const section = frame[path.slice(0, dot)] as Record<string, unknown> | undefined;
      if (section) section[path.slice(dot + 1)] = Number(value);
    }
  }
  return frame as TelemetryFrame;
}
