import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createFineHistogram, summariseHistogram, type FineHistogram } from './fine-histogram.ts';

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
 * Measures the process's event-loop delay in windows of `windowMs` (default 10 s): the figures of
 * the last complete window, and of all windows since start. A timer due every `resolutionMs`
 * (default 10 ms) records at each firing how much later than due it ran (the time since its
 * previous firing, less the period) into the window's fine histogram and the one since start
 * (core/fine-histogram.ts: percentiles are bucket upper bounds, at most 9 % high; the max is exact).
 * A window's end only starts a new histogram, so a delay spanning it counts in the window where the
 * late firing came. (`perf_hooks.monitorEventLoopDelay`, used before, forgot at each `reset()` when
 * its timer last fired, and the delay of the period after a window's end was lost.) The timers are
 * unref'd, so they never keep a process alive. Exposed on `GET /metrics`.
 */
export function createEventLoopMonitor(
  options: { windowMs?: number; resolutionMs?: number; now?: () => number } = {},
): EventLoopMonitor {
  const windowMs = options.windowMs ?? 10_000;
  const resolution = options.resolutionMs ?? 10;
  const now = options.now ?? Date.now;
  let delay: FineHistogram | undefined;
  let total: FineHistogram | undefined;
  let tick: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastTick = 0;
  let windowStart = 0;
  let startedAt = 0;
  let elu: EventLoopUtilization | undefined;
  let eluStart: EventLoopUtilization | undefined;
  let last: EventLoopFigures | null = null;
  let sinceStart: EventLoopFigures | null = null;

  const figures = (h: FineHistogram, at: number, spanMs: number, utilization: number): EventLoopFigures => {
    const snap = h.snapshot();
    const s = summariseHistogram(snap);
    return {
      at,
      spanMs,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      maxMs: s.maxMs,
      meanMs: snap.count ? Math.round((snap.sum / snap.count) * 100) / 100 : 0,
      utilization: Math.round(utilization * 1000) / 1000,
    };
  };

  function rotate() {
    if (!delay || !total) return;
    const at = now();
    const u = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    if (delay.snapshot().count > 0) {
      last = figures(delay, at, at - windowStart, u.utilization);
      sinceStart = figures(total, at, at - startedAt, performance.eventLoopUtilization(eluStart).utilization);
    }
    delay = createFineHistogram();
    windowStart = at;
  }

  return {
    start() {
      if (tick) return;
      delay = createFineHistogram();
      total = createFineHistogram();
      windowStart = startedAt = now();
      elu = eluStart = performance.eventLoopUtilization();
      lastTick = performance.now();
      tick = setInterval(() => {
        const t = performance.now();
        const lag = Math.max(0, t - lastTick - resolution);
        lastTick = t;
        delay?.record(lag);
        total?.record(lag);
      }, resolution);
      tick.unref();
      timer = setInterval(rotate, windowMs);
      timer.unref();
    },
    stop() {
      if (tick) clearInterval(tick);
      if (timer) clearInterval(timer);
      tick = timer = undefined;
      delay = total = undefined;
    },
    snapshot: () => ({ windowMs, last, sinceStart }),
  };
}
