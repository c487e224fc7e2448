import { z } from 'zod';

const epochMs = z
  .number({ error: 'must be epoch milliseconds' })
  .int({ error: 'must be integer epoch milliseconds' })
  .min(0);

const count = z
  .number({ error: 'must be a count' })
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be >= 0' });
const seqNumber = z
  .number({ error: 'must be an integer' })
  .int({ error: 'must be an integer' })
  .min(0, { error: 'must be >= 0' })
  .max(Number.MAX_SAFE_INTEGER, { error: 'too large' });

/**
 * `status` (retained). The gateway publishes `online:true` on connect and sets `online:false` as its
 * last will. Optional buffer figures: `buffered` frames not yet acknowledged, `dropped` frames its full
 * buffer dropped unsent since it started (lost for good; the platform counts them, never silently).
 */
export const statusSchema = z.object({
  online: z.boolean({ error: 'must be true or false' }),
  ts: epochMs,
  buffered: count.optional(),
  dropped: count.optional(),
});
export type VehicleStatus = z.infer<typeof statusSchema>;

/**
 * `telemetry/confirmed` (platform → gateway, retained): every frame of the gateway's current run up to
 * `seq` is durably stored, or was settled as lost (the gateway said it no longer has it) or refused;
 * `ts` is the timestamp of the newest stored frame at or below `seq`. A gateway deletes buffered frames
 * with `seq <= seq` **and** `ts <= ts`: the second test keeps a confirmation from before a seq restart
 * (gateway reboot without a persistent buffer) from deleting the new run's frames.
 */
export const telemetryConfirmedSchema = z.object({
  v: z.literal(1, { error: 'unsupported protocol version (expected 1)' }),
  seq: seqNumber,
  ts: epochMs,
});
export type TelemetryConfirmed = z.infer<typeof telemetryConfirmedSchema>;

export const EVENT_SEVERITIES = ['info', 'minor', 'major', 'critical'] as const;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

/** `events`: a fault code the gateway's own controller reports. */
export const vehicleEventSchema = z.object({
  ts: epochMs,
  code: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1–64 of A-Z a-z 0-9 _ . : -' }),
  severity: z.enum(EVENT_SEVERITIES, { error: `must be one of ${EVENT_SEVERITIES.join(', ')}` }),
  message: z.string({ error: 'must be a string' }).max(500, { error: 'at most 500 characters' }).optional(),
});
export type VehicleEvent = z.infer<typeof vehicleEventSchema>;

const commandId = z.string({ error: 'must be a string' }).min(1).max(64, { error: 'at most 64 characters' });

/** How long a command stays valid after its `ts` when it does not say (`ttlS`), seconds. */
export const DEFAULT_COMMAND_TTL_S = 60;
/** The longest a command may ask to stay valid, seconds. */
export const MAX_COMMAND_TTL_S = 3600;
/** How far ahead of the gateway's clock a command's `ts` may be (clock skew) before it is refused. */
export const COMMAND_CLOCK_SKEW_MS = 5 * 60_000;
/** How many recent command ids a gateway remembers at least, to answer a repeated id without executing it again. */
export const COMMAND_IDS_REMEMBERED = 1000;

/**
 * `commands`: platform → gateway. Never retained (the broker refuses a retained command). A command
 * is valid from `ts` (less `COMMAND_CLOCK_SKEW_MS`) until `ts + ttlS` seconds (default
 * `DEFAULT_COMMAND_TTL_S`); outside that the gateway answers `ok:false`, `error:"expired"` (or
 * `"not yet valid"`) without executing. Ids are unique: a gateway answers a repeated id from memory.
 */
export const commandSchema = z.object({
  id: commandId,
  ts: epochMs,
  ttlS: z
    .number({ error: 'must be seconds' })
    .int({ error: 'must be whole seconds' })
    .min(1, { error: 'must be >= 1' })
    .max(MAX_COMMAND_TTL_S, { error: `must be <= ${MAX_COMMAND_TTL_S}` })
    .optional(),
  name: z
    .string({ error: 'must be a string' })
    .regex(/^[a-z][a-zA-Z0-9_.-]{0,63}$/, { error: 'must be a command name' }),
  args: z.record(z.string(), z.unknown()).default({}),
});
export type Command = z.infer<typeof commandSchema>;

/** Refusal texts of a command outside its validity (`commands/ack` `error`). */
export const COMMAND_EXPIRED = 'expired';
export const COMMAND_NOT_YET_VALID = 'not yet valid';
/** Refusal text of a command delivered with the MQTT retain flag (one a broker kept: never executed). */
export const COMMAND_RETAINED = 'retained';

/** Whether a command may run at `now` (the gateway's clock, epoch ms): `ok`, or why not. */
export function commandValidity(cmd: Pick<Command, 'ts' | 'ttlS'>, now: number): 'ok' | 'expired' | 'not yet valid' {
  if (cmd.ts - COMMAND_CLOCK_SKEW_MS > now) return COMMAND_NOT_YET_VALID;
  if (now > cmd.ts + (cmd.ttlS ?? DEFAULT_COMMAND_TTL_S) * 1000) return COMMAND_EXPIRED;
  return 'ok';
}

/** The command the platform sends when a seq gap does not fill by itself: re-send these frames. */
export const BACKFILL_COMMAND = 'backfill';
/** At most this many seqs per backfill request. */
export const MAX_BACKFILL_SEQS = 1_000_000;

/**
 * `backfill` args: re-send the frames with `fromSeq <= seq <= toSeq` (and, when given,
 * `afterTs < ts < beforeTs`: the timestamps of the stored frames either side of the gap, which pin
 * the request to one run of seqs) that are still in the buffer.
 */
export const backfillArgsSchema = z
  .object({
    fromSeq: seqNumber,
    toSeq: seqNumber,
    afterTs: epochMs.optional(),
    beforeTs: epochMs.optional(),
  })
  .refine((a) => a.toSeq >= a.fromSeq, { error: 'toSeq must be >= fromSeq', path: ['toSeq'] })
  .refine((a) => a.toSeq - a.fromSeq < MAX_BACKFILL_SEQS, {
    error: `at most ${MAX_BACKFILL_SEQS} seqs per request`,
    path: ['toSeq'],
  });
export type BackfillArgs = z.infer<typeof backfillArgsSchema>;

/**
 * `backfill` result (in `commands/ack`): `resent` frames are on their way (as telemetry, oldest
 * first); `missing` lists the seq ranges `[from, to]` of the request the gateway no longer has
 * (dropped when its buffer was full, lost in a reboot, never sampled): the platform stops waiting for them.
 */
export const backfillResultSchema = z.object({
  fromSeq: seqNumber,
  toSeq: seqNumber,
  resent: count,
  missing: z.array(z.tuple([seqNumber, seqNumber])).max(10_000),
});
export type BackfillResult = z.infer<typeof backfillResultSchema>;

/** `commands/ack`: gateway → platform. */
export const commandAckSchema = z.object({
  id: commandId,
  ts: epochMs,
  ok: z.boolean({ error: 'must be true or false' }),
  result: z.unknown().optional(),
  error: z.string().max(500).optional(),
});
export type CommandAck = z.infer<typeof commandAckSchema>;

/** Stable codes for why the platform refused a message. They never change meaning. */
export const REJECTION_CODES = [
  'payload_too_large',
  'malformed_json',
  'invalid_batch',
  'invalid_frame',
  'ts_out_of_range',
  'invalid_status',
  'invalid_event',
  'invalid_ack',
  'topic_not_allowed',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface RejectionIssue {
  path: string;
  message: string;
}

/** `errors`: platform → gateway, why a message (or one frame of a batch) was refused. */
export interface ProtocolError {
  ts: number;
  code: RejectionCode;
  message: string;
  topic: string;
  /** For one frame of a batch: its index in `frames`. */
  index?: number;
  seq?: number;
  issues?: RejectionIssue[];
}
