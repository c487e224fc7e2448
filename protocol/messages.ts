import { z } from 'zod';

const epochMs = z.number({ error: 'must be epoch milliseconds' }).int({ error: 'must be integer epoch milliseconds' }).min(0);

/** `status` (retained). The gateway publishes `online:true` on connect and sets `online:false` as its last will. */
export const statusSchema = z.object({
  online: z.boolean({ error: 'must be true or false' }),
  ts: epochMs,
});
export type VehicleStatus = z.infer<typeof statusSchema>;

export const EVENT_SEVERITIES = ['info', 'minor', 'major', 'critical'] as const;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

/** `events`: a fault code the gateway's own controller reports. */
export const vehicleEventSchema = z.object({
  ts: epochMs,
  code: z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1–64 of A-Z a-z 0-9 _ . : -' }),
  severity: z.enum(EVENT_SEVERITIES, { error: `must be one of ${EVENT_SEVERITIES.join(', ')}` }),
  message: z.string({ error: 'must be a string' }).max(500, { error: 'at most 500 characters' }).optional(),
});
export type VehicleEvent = z.infer<typeof vehicleEventSchema>;

const commandId = z.string({ error: 'must be a string' }).min(1).max(64, { error: 'at most 64 characters' });

/** `commands`: platform → gateway. */
export const commandSchema = z.object({
  id: commandId,
  ts: epochMs,
  name: z.string({ error: 'must be a string' }).regex(/^[a-z][a-zA-Z0-9_.-]{0,63}$/, { error: 'must be a command name' }),
  args: z.record(z.string(), z.unknown()).default({}),
});
export type Command = z.infer<typeof commandSchema>;

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
