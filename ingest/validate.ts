import type { z } from 'zod';
import {
  MAX_FUTURE_SKEW_MS,
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
      return { frames: [], rejections: [{ code: 'invalid_batch', message: `invalid batch: ${describe(issues)}`, issues }] };
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

export function validateFrame(value: unknown, now: number): { ok: true; frame: TelemetryFrame } | { ok: false; rejection: Rejection } {
  const parsed = telemetryFrameSchema.safeParse(value);
  const seq = seqOf(value);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    return { ok: false, rejection: { code: 'invalid_frame', message: `invalid frame: ${describe(issues)}`, issues, ...(seq === undefined ? {} : { seq }) } };
  }
  if (parsed.data.ts > now + MAX_FUTURE_SKEW_MS) {
    return {
      ok: false,
      rejection: {
        code: 'ts_out_of_range',
        message: `ts ${parsed.data.ts} is more than ${MAX_FUTURE_SKEW_MS / 60_000} min ahead of the platform clock (${now}); check the gateway clock`,
        seq: parsed.data.seq,
      },
    };
  }
  return { ok: true, frame: parsed.data };
}

/** Validates a small message (status, event, ack) against its schema. */
export function validateMessage<T>(schema: z.ZodType<T>, value: unknown, code: Rejection['code'], what: string): { ok: true; value: T } | { ok: false; rejection: Rejection } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = issuesOf(parsed.error);
  return { ok: false, rejection: { code, message: `invalid ${what}: ${describe(issues)}`, issues } };
}
