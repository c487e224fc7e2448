import type { z } from 'zod';
import {
  MAX_FUTURE_SKEW_MS,
  MIN_FRAME_TS,
  NUMERIC_FIELDS,
  POWER_SOURCES,
  batterySchema,
  chargingSchema,
  generatorSchema,
  mainsSchema,
  telemetryBatchSchema,
  telemetryFrameSchema,
  type TelemetryFrame,
} from '../protocol/index.ts';
import type { Rejection } from './types.ts';

export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

function describe(issues: { path: string; message: string }[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}

function seqOf(value: unknown): number | undefined {
  const seq = (value as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' ? seq : undefined;
}

/**
 * Step 2, validate: a single frame or a `{"frames":[...]}` batch. Each frame is checked on its own,
 * so one bad frame in a replay batch does not cost the good ones.
 */
export function validateTelemetry(value: unknown, now: number): { frames: TelemetryFrame[]; rejections: Rejection[] } {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isObject && 'frames' in value) {
    const batch = telemetryBatchSchema.safeParse(value);
    if (!batch.success) {
      const issues = issuesOf(batch.error);
      return {
        frames: [],
        rejections: [{ code: 'invalid_batch', message: `invalid batch: ${describe(issues)}`, issues }],
      };
    }
    const frames: TelemetryFrame[] = [];
    const rejections: Rejection[] = [];
    batch.data.frames.forEach((item, index) => {
      const r = validateFrame(item, now);
      if (r.ok) frames.push(r.frame);
      else rejections.push({ ...r.rejection, index });
    });
    return { frames, rejections };
  }
  const r = validateFrame(value, now);
  return r.ok ? { frames: [r.frame], rejections: [] } : { frames: [], rejections: [r.rejection] };
}

export function validateFrame(
  value: unknown,
  now: number,
): { ok: true; frame: TelemetryFrame } | { ok: false; rejection: Rejection } {
  const fast = acceptAsIs(value);
  if (fast) {
    if (fast.ts > now + MAX_FUTURE_SKEW_MS) return { ok: false, rejection: tooFarAhead(fast, now) };
    return { ok: true, frame: fast };
  }
  const parsed = telemetryFrameSchema.safeParse(value);
  const seq = seqOf(value);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    return {
      ok: false,
      rejection: {
        code: 'invalid_frame',
        message: `invalid frame: ${describe(issues)}`,
        issues,
        ...(seq === undefined ? {} : { seq }),
      },
    };
  }
  if (parsed.data.ts > now + MAX_FUTURE_SKEW_MS) return { ok: false, rejection: tooFarAhead(parsed.data, now) };
  return { ok: true, frame: parsed.data };
}

function tooFarAhead(frame: TelemetryFrame, now: number): Rejection {
  return {
    code: 'ts_out_of_range',
    message: `ts ${frame.ts} is more than ${MAX_FUTURE_SKEW_MS / 60_000} min ahead of the platform clock (${now}); check the gateway clock`,
    seq: frame.seq,
  };
}

// ── the fast path ──────────────────────────────────────────────────────────────────────────────
// Zod builds a fresh output object and a result record per field, for every frame: at thousands
// of frames a second that garbage was a large share of ingest's CPU. A frame exactly as the
// protocol describes it (every known key within type and range, no unknown key) is the common
// case: it is accepted as is, with no copy, because zod's output would equal it. Anything else
// (an unknown key to strip, a wrong value to explain) goes through zod, which stays the one
// definition of what is valid. The checks below are derived from the same schemas and field table.

type Check = (v: unknown) => boolean;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isBoolean: Check = (v) => typeof v === 'boolean';
const measureCheck =
  (min: number, max: number): Check =>
  (v) =>
    v === null || v === undefined || (typeof v === 'number' && v >= min && v <= max);

/** A section's keys and their checks (parallel arrays: looping them allocates nothing). */
interface SectionChecks {
  keys: string[];
  checks: Check[];
  known: Set<string>;
}

/** Per section key: its check, derived from the section's zod shape; null when the shape holds something this path does not know. */
function sectionChecks(
  section: string,
  shape: Record<string, { _zod: { def: { type: string } } }>,
): SectionChecks | null {
  const keys: string[] = [];
  const checks: Check[] = [];
  for (const [key, schema] of Object.entries(shape)) {
    const field = NUMERIC_FIELDS.find((f) => f.path === `${section}.${key}`);
    if (field && schema._zod.def.type === 'optional') checks.push(measureCheck(field.min, field.max));
    else if (!field && schema._zod.def.type === 'boolean') checks.push(isBoolean);
    else return null;
    keys.push(key);
  }
  return { keys, checks, known: new Set(keys) };
}

const SECTIONS = new Map(
  (
    [
      ['mains', sectionChecks('mains', mainsSchema.shape)],
      ['generator', sectionChecks('generator', generatorSchema.shape)],
      ['battery', sectionChecks('battery', batterySchema.shape)],
      ['charging', sectionChecks('charging', chargingSchema.shape)],
    ] as const
  ).filter((e): e is [(typeof e)[0], SectionChecks] => e[1] !== null),
);
const SOURCES = new Set<unknown>(POWER_SOURCES);
const LOAD = NUMERIC_FIELDS.find((f) => f.path === 'loadKw')!;
const isLoad = measureCheck(LOAD.min, LOAD.max);
/** The optional GPS position: exactly {lat, lon}, numbers in range (positionSchema). */
const isPosition: Check = (v) => {
  if (v === undefined) return true;
  if (!isPlainObject(v)) return false;
  for (const k in v) if (Object.hasOwn(v, k) && k !== 'lat' && k !== 'lon') return false;
  const { lat, lon } = v;
  return typeof lat === 'number' && lat >= -90 && lat <= 90 && typeof lon === 'number' && lon >= -180 && lon <= 180;
};
const TOP_KEYS = new Set(['v', 'seq', 'ts', 'source', 'loadKw', 'position', ...SECTIONS.keys()]);
/** Off if the frame schema has a key this path does not check (then every frame goes through zod). */
const FAST_PATH =
  Object.keys(telemetryFrameSchema.shape).every((k) => TOP_KEYS.has(k)) &&
  TOP_KEYS.size === Object.keys(telemetryFrameSchema.shape).length;

/** The frame itself when it is valid exactly as sent; undefined means "ask zod". */
function acceptAsIs(value: unknown): TelemetryFrame | undefined {
  if (!FAST_PATH || !isPlainObject(value)) return undefined;
  if (value.v !== 1 || !SOURCES.has(value.source) || !isLoad(value.loadKw)) return undefined;
  const { seq, ts } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < MIN_FRAME_TS) return undefined;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key === 'v' || key === 'seq' || key === 'ts' || key === 'source' || key === 'loadKw') continue;
    if (key === 'position') {
      if (!isPosition(value.position)) return undefined;
      continue;
    }
    const spec = SECTIONS.get(key as 'mains');
    if (!spec) return undefined; // unknown key: zod strips it
    const section = value[key];
    if (section === undefined) continue;
    if (!isPlainObject(section)) return undefined;
    for (const k in section) if (Object.hasOwn(section, k) && !spec.known.has(k)) return undefined;
    for (let i = 0; i < spec.keys.length; i++) if (!spec.checks[i]!(section[spec.keys[i]!])) return undefined;
  }
  return value as unknown as TelemetryFrame;
}

/** Validates a small message (status, event, ack) against its schema. */
export function validateMessage<T>(
  schema: z.ZodType<T>,
  value: unknown,
  code: Rejection['code'],
  what: string,
): { ok: true; value: T } | { ok: false; rejection: Rejection } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = issuesOf(parsed.error);
  return { ok: false, rejection: { code, message: `invalid ${what}: ${describe(issues)}`, issues } };
}
