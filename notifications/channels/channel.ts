import type { NotificationsTable } from '../outbox.ts';

/** One row of the outbox as a channel sees it: what to send, to whom, and the key the receiver may deduplicate by. */
export type Delivery = Pick<
  NotificationsTable,
  | 'key'
  | 'channel'
  | 'target'
  | 'kind'
  | 'language'
  | 'customer_id'
  | 'account_id'
  | 'vehicle_id'
  | 'ticket_id'
  | 'subject'
  | 'body'
  | 'html'
  | 'payload'
  | 'urgent'
  | 'created_at'
> & {
  id: number;
  /** This is try number `attempt` (1 = first). */
  attempt: number;
};

/**
 * What a channel made of one try:
 * - `ok`: delivered;
 * - `retry`: not now (network, 5xx, rate limit), try again later; `afterMs` when the receiver said when;
 * - `permanent`: will never work as configured (unknown target, refused credentials): failed at once;
 * - `disableTarget`: the receiver said it is gone (webhook 410): the target is disabled and its waiting rows fail.
 */
export type SendResult =
  | { ok: true }
  | { retry: true; error: string; afterMs?: number }
  | { permanent: true; error: string }
  | { disableTarget: true; error: string };

/** One way of delivering (email, webhook, a group robot, the console inbox): a small adapter behind this interface. */
export interface Channel {
  send(delivery: Delivery): Promise<SendResult>;
  /** Releases connections (SMTP pool). */
  close?(): Promise<void>;
}

export const retry = (error: string, afterMs?: number): SendResult =>
  afterMs === undefined ? { retry: true, error } : { retry: true, error, afterMs };
export const permanent = (error: string): SendResult => ({ permanent: true, error });

/** An error's message for last_error, without anything after a newline and bounded. */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return (code + msg).split('\n')[0]!.slice(0, 500);
}
