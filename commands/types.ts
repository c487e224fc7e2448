/**
 * Operator commands to vehicles (platform → `commands`, answered on `commands/ack`): the shapes the
 * command service (commands/) and its users (the web API, remote sessions) share.
 */

/** `sent`: published, waiting for the ack; `done`: the gateway executed it; `refused`: the gateway said no
 * (with its reason); `no_answer`: no ack within the timeout — never shown as done. */
export const COMMAND_STATES = ['sent', 'done', 'refused', 'no_answer'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

export interface CommandRequest {
  vehicleId: string;
  name: string;
  args: Record<string, unknown>;
  /** The caller's id for the command: a retry with the same id returns the first one's record. */
  id?: string;
  /** Account id of who sent it, or `system` / `session:<id>`. */
  actor: string;
  /** The remote session it was sent from, if any. */
  sessionId?: number | null;
}

export interface CommandRecord {
  id: string;
  vehicleId: string;
  name: string;
  args: Record<string, unknown>;
  actor: string;
  sessionId: number | null;
  sentAt: number;
  state: CommandState;
  settledAt: number | null;
  /** The ack's `result` when done. */
  result: unknown;
  /** The gateway's refusal reason, or why there was no answer. */
  error: string | null;
  /** An answer that came after the command was settled `no_answer`: recorded, never turning it into done. */
  lateAck?: LateAck | null;
}

/** An ack received after the timeout (the command stays `no_answer`). */
export interface LateAck {
  at: number;
  ok: boolean;
  result: unknown;
  error: string | null;
}

/** Sends a command and resolves once the gateway answered or the ack timeout passed. */
export interface CommandSender {
  send(request: CommandRequest): Promise<CommandRecord>;
}
