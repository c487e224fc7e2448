/** The live layer's settings. The defaults below are the one source: platform/config.ts uses them for LIVE_*. */
export interface LiveOptions {
  /** At most this many `frame` messages a second per vehicle (latest value wins). */
  maxRateHz: number;
  /** Fleet changes are batched and sent this often. */
  fleetIntervalMs: number;
  /** A connection with this many messages waiting to be written is "behind": frames for it are dropped. */
  maxBuffered: number;
  /** Vehicles one connection may subscribe to at once. */
  maxSubscriptions: number;
  /** How often every connection's session is checked again (expiry, idle timeout, another process). */
  sessionCheckMs: number;
  /** A connection behind (`maxBuffered`) without a break for this long has stopped reading: it is closed. */
  slowTimeoutMs: number;
  /** Client events (requests) a second one connection may send, on average; beyond, refused with RATE_LIMITED. */
  eventRateHz: number;
  /** Client events one connection may send at once (the bucket's size). */
  eventBurst: number;
  /** A connection with this many events refused within FLOOD_WINDOW_MS (10 s) is disconnected (`live.flood_disconnects`). */
  floodMaxRefused: number;
  /**
   * The reverse proxies (as HTTP_TRUSTED_PROXIES) whose X-Forwarded-Host / -Proto name the
   * console's own host; from any other peer they are ignored. None by default.
   */
  trustedProxies?: readonly string[];
}

export const LIVE_DEFAULTS = {
  maxRateHz: 4,
  fleetIntervalMs: 1000,
  maxBuffered: 32,
  maxSubscriptions: 100,
  sessionCheckMs: 30_000,
  slowTimeoutMs: 30_000,
  eventRateHz: 20,
  eventBurst: 100,
  floodMaxRefused: 200,
} as const satisfies LiveOptions;
