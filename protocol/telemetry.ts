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

// the numeric fields' readers live apart from the schemas: the telemetry writer thread reads fields
// without loading zod (field-readers.ts)
export { FIELD_READERS, readField } from './field-readers.ts';
