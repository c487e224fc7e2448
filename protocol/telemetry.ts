import { z } from 'zod';
import { NUMERIC_FIELDS, type NumericFieldPath } from './numeric-fields.ts';

export { NUMERIC_FIELDS, NUMERIC_FIELD_PATHS, type NumericFieldPath } from './numeric-fields.ts';

/** Supply currently feeding the vehicle's load. */
export const POWER_SOURCES = ['mains', 'generator', 'battery', 'none'] as const;
export type PowerSource = (typeof POWER_SOURCES)[number];

/** Upper bound of frames in one `{"frames":[...]}` batch. */
export const MAX_FRAMES_PER_BATCH = 500;

/** Frames stamped further than this in the future are refused (gateway clock wrong). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;
/** Frames stamped before 2000-01-01 are refused. */
export const MIN_FRAME_TS = Date.UTC(2000, 0, 1);

const rangeOf = (path: NumericFieldPath) => {
  const f = NUMERIC_FIELDS.find((x) => x.path === path);
  if (!f) throw new Error(`unknown field ${path}`);
  return f;
};

/** A measurement: a finite number within its range, or null / absent when the sensor has no reading. */
const measure = (path: NumericFieldPath) => {
  const { min, max, unit } = rangeOf(path);
  return z
    .number({ error: `must be a number (${unit})` })
    .min(min, { error: `must be >= ${min} ${unit}` })
    .max(max, { error: `must be <= ${max} ${unit}` })
    .nullish();
};

export const mainsSchema = z.object({
  present: z.boolean({ error: 'must be true or false' }),
  voltageV: measure('mains.voltageV'),
  frequencyHz: measure('mains.frequencyHz'),
  currentA: measure('mains.currentA'),
});

export const generatorSchema = z.object({
  running: z.boolean({ error: 'must be true or false' }),
  voltageV: measure('generator.voltageV'),
  frequencyHz: measure('generator.frequencyHz'),
  currentA: measure('generator.currentA'),
  rpm: measure('generator.rpm'),
  fuelPct: measure('generator.fuelPct'),
  coolantC: measure('generator.coolantC'),
  oilKpa: measure('generator.oilKpa'),
});

export const batterySchema = z.object({
  voltageV: measure('battery.voltageV'),
  /** Positive while the battery is being charged, negative while it discharges. */
  currentA: measure('battery.currentA'),
  socPct: measure('battery.socPct'),
  tempC: measure('battery.tempC'),
});

export const chargingSchema = z.object({
  engineRunning: z.boolean({ error: 'must be true or false' }),
  alternatorV: measure('charging.alternatorV'),
  currentA: measure('charging.currentA'),
});

/**
 * Where the vehicle is (WGS-84 degrees, from the gateway's GPS): optional — a gateway without a fix
 * leaves it out. Not a measurement: it is not stored with the frame's columns; the stock keeps the
 * latest per vehicle to find the nearest store with parts (docs/resources.md).
 */
export const positionSchema = z.object({
  lat: z
    .number({ error: 'must be degrees of latitude' })
    .min(-90, { error: 'must be >= -90' })
    .max(90, { error: 'must be <= 90' }),
  lon: z
    .number({ error: 'must be degrees of longitude' })
    .min(-180, { error: 'must be >= -180' })
    .max(180, { error: 'must be <= 180' }),
});

export const telemetryFrameSchema = z.object({
  v: z.literal(1, { error: 'unsupported protocol version (expected 1)' }),
  seq: z
    .number({ error: 'must be an integer' })
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must be >= 0' })
    .max(Number.MAX_SAFE_INTEGER, { error: 'too large' }),
  ts: z
    .number({ error: 'must be epoch milliseconds' })
    .int({ error: 'must be integer epoch milliseconds' })
    .min(MIN_FRAME_TS, { error: 'must be epoch milliseconds after 2000-01-01' }),
  source: z.enum(POWER_SOURCES, { error: `must be one of ${POWER_SOURCES.join(', ')}` }),
  mains: mainsSchema.optional(),
  generator: generatorSchema.optional(),
  battery: batterySchema.optional(),
  charging: chargingSchema.optional(),
  loadKw: measure('loadKw'),
  position: positionSchema.optional(),
});

export type TelemetryFrame = z.infer<typeof telemetryFrameSchema>;

/** A replay batch: up to 500 frames, oldest first. Frames are validated one by one. */
export const telemetryBatchSchema = z.object({
  frames: z
    .array(z.unknown(), { error: 'frames must be an array' })
    .min(1, { error: 'frames must not be empty' })
    .max(MAX_FRAMES_PER_BATCH, { error: `at most ${MAX_FRAMES_PER_BATCH} frames per batch` }),
});

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
