import type { Logger } from '../core/logger.ts';
import type { RefusalReason } from './authenticator.ts';

/**
 * What the broker needs of the audit log (records/audit-log.ts), handed to it by the composition
 * root: the broker does not know the records or the web.
 */
export interface BrokerAudit {
  record(e: {
    actor: string;
    action: string;
    subject?: string | null;
    ip?: string | null;
    source?: 'mqtt';
    details?: unknown;
  }): Promise<void>;
}

export interface LoginFailureAuditOptions {
  /** One audit row per source address per window (default one minute). */
  windowMs: number;
  /** Addresses counted at once; failures from more go into one row for the address `*` (a flood cannot grow memory). */
  maxAddresses: number;
  /** Client ids named in a row at most (the rest are only counted). */
  maxClientIds: number;
}

export const LOGIN_FAILURE_AUDIT_DEFAULTS: LoginFailureAuditOptions = {
  windowMs: 60_000,
  maxAddresses: 10_000,
  maxClientIds: 10,
};

/** Stands for every address beyond `maxAddresses` in one window. */
export const OVERFLOW_ADDRESS = '*';

interface Tally {
  windowStart: number;
  count: number;
  reasons: Partial<Record<RefusalReason, number>>;
  clientIds: Set<string>;
  /** Refusals naming a client id beyond the first `maxClientIds` (counted, not named). */
  otherClientIds: number;
  firstAt: number;
  lastAt: number;
}

/**
 * Refused MQTT logins in the audit log, summed up: one row (`mqtt.login_failed`, source `mqtt`)
 * per source address per window, with the number of refusals, their reasons and the first few
 * client ids tried, instead of one row per refusal, so that a password-guessing flood is
 * recorded without flooding the log. A window's row is written once the window is over (by the
 * timer, or when the next refusal from that address comes in a later window) and at `stop`.
 */
export function createLoginFailureAudit(
  deps: { audit: BrokerAudit; log: Logger; now?: () => number },
  options: Partial<LoginFailureAuditOptions> = {},
) {
  const o = { ...LOGIN_FAILURE_AUDIT_DEFAULTS, ...options };
  const now = deps.now ?? Date.now;
  const tallies = new Map<string, Tally>();
  const writing = new Set<Promise<void>>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const windowOf = (at: number) => Math.floor(at / o.windowMs) * o.windowMs;

  function write(address: string, t: Tally): void {
    const p = deps.audit
      .record({
        actor: `mqtt:${address}`,
        action: 'mqtt.login_failed',
        subject: 'mqtt',
        ip: address === OVERFLOW_ADDRESS || address === 'unknown' ? null : address,
        source: 'mqtt',
        details: {
          count: t.count,
          windowStart: t.windowStart,
          windowEnd: t.windowStart + o.windowMs,
          firstAt: t.firstAt,
          lastAt: t.lastAt,
          reasons: t.reasons,
          clientIds: [...t.clientIds],
          otherClientIds: t.otherClientIds,
        },
      })
      .catch((err: unknown) => deps.log.error({ err, address }, 'could not audit failed MQTT logins'))
      .finally(() => writing.delete(p));
    writing.add(p);
  }

  /** Writes the rows of the windows that are over (all of them with `all`). */
  function flush(all = false): Promise<void> {
    const current = windowOf(now());
    for (const [address, t] of tallies) {
      if (!all && t.windowStart >= current) continue;
      tallies.delete(address);
      write(address, t);
    }
    return Promise.all([...writing]).then(() => undefined);
  }

  return {
    /** A CONNECT refused, from `ip` (null: unknown) for `clientId`. */
    failed(ip: string | null, clientId: string, reason: RefusalReason): void {
      const at = now();
      const windowStart = windowOf(at);
      let address = ip ?? 'unknown';
      let t = tallies.get(address);
      if (t && t.windowStart !== windowStart) {
        tallies.delete(address);
        write(address, t);
        t = undefined;
      }
      if (!t) {
        if (tallies.size >= o.maxAddresses) {
          address = OVERFLOW_ADDRESS;
          t = tallies.get(address);
        }
        if (!t) {
          t = { windowStart, count: 0, reasons: {}, clientIds: new Set(), otherClientIds: 0, firstAt: at, lastAt: at };
          tallies.set(address, t);
        }
      }
      t.count++;
      t.lastAt = at;
      t.reasons[reason] = (t.reasons[reason] ?? 0) + 1;
      const id = clientId.slice(0, 80);
      if (t.clientIds.has(id)) return;
      if (t.clientIds.size < o.maxClientIds) t.clientIds.add(id);
      else t.otherClientIds++;
    },
    flush,
    start(): void {
      timer ??= setInterval(() => void flush(), o.windowMs);
      timer.unref();
    },
    /** Stops the timer and writes every window still counting. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flush(true);
    },
  };
}

export type LoginFailureAudit = ReturnType<typeof createLoginFailureAudit>;
