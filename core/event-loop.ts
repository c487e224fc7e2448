import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Event-loop lag (how much later than due a timer fired: 0 on an idle loop) and utilization (share
 * of time the loop was busy) over a span.
 */
export interface EventLoopFigures {
  /** End of the span, epoch ms. */
  at: number;
  /** Length of the span, ms. */
  spanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Share of the span the event loop was busy (0–1): `performance.eventLoopUtilization`. */
  utilization: number;
}

export interface EventLoopSnapshot {
  windowMs: number;
  /** The last complete window; null until the first one has ended. */
  last: EventLoopFigures | null;
  /** Every complete window since start() together. */
  sinceStart: EventLoopFigures | null;
}

export interface EventLoopMonitor {
  start(): void;
  stop(): void;
  snapshot(): EventLoopSnapshot;
}

/**
 * Measures the process's event-loop delay with `perf_hooks.monitorEventLoopDelay` in windows of
 * `windowMs` (default 10 s): the figures of the last complete window, and of all windows since
 * start. Cheap (two libuv timers at `resolutionMs`, default 10 ms — one histogram reset every
 * window, one never; both live in C++); the window timer is unref'd, so it never keeps a process
 * alive. Exposed on `GET /metrics`.
 */
export function createEventLoopMonitor(
  options: { windowMs?: number; resolutionMs?: number; now?: () => number } = {},
): EventLoopMonitor {
  const windowMs = options.windowMs ?? 10_000;
  const resolution = options.resolutionMs ?? 10;
  const now = options.now ?? Date.now;
  let delay: IntervalHistogram | undefined;
  let total: IntervalHistogram | undefined;
  let timer: NodeJS.Timeout | undefined;
  let windowStart = 0;
  let startedAt = 0;
  let elu: EventLoopUtilization | undefined;
  let eluStart: EventLoopUtilization | undefined;
  let last: EventLoopFigures | null = null;
  let sinceStart: EventLoopFigures | null = null;

  // the histogram holds the time between two firings of a timer due every `resolution` ms: the lag is what exceeds it
  const lagMs = (ns: number) => Math.max(0, Math.round((ns / 1e6 - resolution) * 100) / 100);
  const figures = (h: IntervalHistogram, at: number, spanMs: number, utilization: number): EventLoopFigures => ({
    at,
    spanMs,
    p50Ms: lagMs(h.percentile(50)),
    p99Ms: lagMs(h.percentile(99)),
    maxMs: lagMs(h.max),
    meanMs: h.count ? lagMs(h.mean) : 0,
    utilization: Math.round(utilization * 1000) / 1000,
  });

  function rotate() {
    if (!delay || !total) return;
    const at = now();
    const u = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    if (delay.count > 0) {
      last = figures(delay, at, at - windowStart, u.utilization);
      sinceStart = figures(total, at, at - startedAt, performance.eventLoopUtilization(eluStart).utilization);
    }
    delay.reset();
    windowStart = at;
  }

  return {
    start() {
      if (delay) return;
      delay = monitorEventLoopDelay({ resolution });
      total = monitorEventLoopDelay({ resolution });
      delay.enable();
      total.enable();
      windowStart = startedAt = now();
      elu = eluStart = performance.eventLoopUtilization();
      // Rotate in the check phase, after every due timer ran: a loop blocked across a window's end
      // delays the histograms' own timers too, and resetting before they record would lose that lag.
      // (A reset histogram measures from its next tick: a block starting within `resolution` ms of
      // a window's start shows in sinceStart only.)
      timer = setInterval(() => setImmediate(rotate), windowMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      delay?.disable();
      total?.disable();
      delay = total = undefined;
    },
    snapshot: () => ({ windowMs, last, sinceStart }),
  };
}
