import type { NumericFieldPath } from './numeric-fields.ts';
import type { TelemetryFrame } from './telemetry.ts';

type FieldReader = (frame: TelemetryFrame) => number | null;

/**
 * One reader per numeric field, each a function of its own with a literal property path. Read
 * through one shared function with computed keys, every field read was a megamorphic lookup, and
 * fields are read per frame and field (the rule engine, the SQLite store's row encoder). The type
 * makes the compiler check that every field has its reader and that each path exists on the frame.
 */
export const FIELD_READERS: Readonly<Record<NumericFieldPath, FieldReader>> = {
  'mains.voltageV': (f) => f.mains?.voltageV ?? null,
  'mains.frequencyHz': (f) => f.mains?.frequencyHz ?? null,
  'mains.currentA': (f) => f.mains?.currentA ?? null,
  'generator.voltageV': (f) => f.generator?.voltageV ?? null,
  'generator.frequencyHz': (f) => f.generator?.frequencyHz ?? null,
  'generator.currentA': (f) => f.generator?.currentA ?? null,
  'generator.rpm': (f) => f.generator?.rpm ?? null,
  'generator.fuelPct': (f) => f.generator?.fuelPct ?? null,
  'generator.coolantC': (f) => f.generator?.coolantC ?? null,
  'generator.oilKpa': (f) => f.generator?.oilKpa ?? null,
  'battery.voltageV': (f) => f.battery?.voltageV ?? null,
  'battery.currentA': (f) => f.battery?.currentA ?? null,
  'battery.socPct': (f) => f.battery?.socPct ?? null,
  'battery.tempC': (f) => f.battery?.tempC ?? null,
  'charging.alternatorV': (f) => f.charging?.alternatorV ?? null,
  'charging.currentA': (f) => f.charging?.currentA ?? null,
  loadKw: (f) => f.loadKw ?? null,
};

/** Reads a numeric field by its dotted path, returning null when absent. */
export function readField(frame: TelemetryFrame, path: NumericFieldPath): number | null {
  const read = FIELD_READERS[path] as FieldReader | undefined;
  return read ? read(frame) : null;
}
