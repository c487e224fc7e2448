import type { EventBus } from '../core/bus.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { CommandSender } from '../commands/types.ts';
import type { RemoteSession } from './types.ts';

/** What a live session asks of its vehicle's gateway: 10 Hz for 5 minutes, renewed while it lasts. */
export const SESSION_RATE = { hz: 10, durationS: 300 } as const;
/** Renewed this often by default (SESSION_RATE_RENEW_MS): well inside `durationS`, so a lost renewal is retried in time. */
export const DEFAULT_SESSION_RATE_RENEW_MS = 120_000;

export interface SessionTelemetryRateDeps {
  bus: Pick<EventBus<PlatformEvents>, 'on'>;
  commands: CommandSender;
  log: Logger;
  /** Sessions live now (at start after a restart: their rate is asked for again). */
  liveSessions?: () => Promise<Pick<RemoteSession, 'id' | 'vehicleId'>[]>;
}

/**
 * 10 Hz while a remote session is live. When a session goes live the vehicle is sent
 * `setTelemetryRate {hz: 10, durationS: 300}` (actor `system`, the session's id) and again every
 * `renewMs` while it stays live; when it ends, `setTelemetryRate {hz: 'default'}` puts the gateway
 * back to its base rate at once — unless another live session watches the same vehicle. If the
 * platform dies, or a session ends without that, the gateway falls back by itself when `durationS`
 * runs out. A command the gateway refused or did not answer is logged; the next renewal tries again.
 */
export function createSessionTelemetryRate(deps: SessionTelemetryRateDeps, opts: { renewMs: number }) {
  const log = deps.log.child({ module: 'session-rate' });
  const live = new Map<number, { vehicleId: string; timer: NodeJS.Timeout }>();
  const offs: (() => void)[] = [];

  async function send(sessionId: number, vehicleId: string, args: Record<string, unknown>): Promise<void> {
    try {
      const r = await deps.commands.send({ vehicleId, name: 'setTelemetryRate', args, actor: 'system', sessionId });
      if (r.state !== 'done')
        log.warn({ sessionId, vehicleId, args, state: r.state, error: r.error }, 'telemetry rate not confirmed');
    } catch (err) {
      log.warn({ err, sessionId, vehicleId }, 'telemetry rate command failed');
    }
  }

  function raise(sessionId: number, vehicleId: string): void {
    if (live.has(sessionId)) return;
    const timer = setInterval(() => void send(sessionId, vehicleId, { ...SESSION_RATE }), opts.renewMs);
    timer.unref?.();
    live.set(sessionId, { vehicleId, timer });
    void send(sessionId, vehicleId, { ...SESSION_RATE });
  }

  function lower(sessionId: number): void {
    const s = live.get(sessionId);
    if (!s) return;
    clearInterval(s.timer);
    live.delete(sessionId);
    for (const other of live.values()) if (other.vehicleId === s.vehicleId) return; // still watched live
    void send(sessionId, s.vehicleId, { hz: 'default' });
  }

  return {
    async start(): Promise<void> {
      offs.push(
        deps.bus.on('remote.session.changed', ({ session }) => {
          if (session.status === 'live') raise(session.id, session.vehicleId);
          else if (session.status === 'ended') lower(session.id);
        }),
        // a gateway that (re)connects during a live session — after a link loss, or after a platform
        // restart, when the vehicles come back after the sessions resumed — is asked again at once,
        // not at the next renewal: a reconnect may also be a gateway reboot at its base rate
        deps.bus.on('vehicle.connected', ({ vehicleId }) => {
          for (const [sessionId, s] of live)
            if (s.vehicleId === vehicleId) {
              void send(sessionId, vehicleId, { ...SESSION_RATE });
              return;
            }
        }),
      );
      for (const s of (await deps.liveSessions?.()) ?? []) raise(s.id, s.vehicleId);
    },
    /** Stops renewing; the gateways fall back on their own when `durationS` runs out. */
    stop(): void {
      for (const off of offs.splice(0)) off();
      for (const s of live.values()) clearInterval(s.timer);
      live.clear();
    },
    /** Sessions whose rate is kept up now. */
    liveSessions: () => [...live.keys()],
  };
}
