import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import {
  createFineHistogram,
  summariseHistogram,
  type FineHistogram,
  type FineHistogramSnapshot,
} from './fine-histogram.ts';
import { watchLoopGaps } from './loop-gaps.ts';

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
 * (default 10 ms, core/loop-gaps.ts) records at each firing how much later than due it ran (the gap
 * since its previous firing, less the period) into the window's fine histogram and the one since
 * start (core/fine-histogram.ts: percentiles are bucket upper bounds, at most 9 % high; the max is
 * exact). A window's end only starts a new histogram, so a delay spanning it counts in the window
 * where the late firing came (`perf_hooks.monitorEventLoopDelay`, used before, lost it at its
 * `reset()`). The timers are unref'd, so they never keep a process alive. Exposed on `GET /metrics`.
 */
export function createEventLoopMonitor(
  options: { windowMs?: number; resolutionMs?: number; now?: () => number } = {},
): EventLoopMonitor {
  const windowMs = options.windowMs ?? 10_000;
  const resolution = options.resolutionMs ?? 10;
  const now = options.now ?? Date.now;
  // the current window's lags and all since start; `stopGaps` set: the monitor runs
  let delay: FineHistogram = createFineHistogram();
  let total: FineHistogram = createFineHistogram();
  let stopGaps: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let windowStart = 0;
  let startedAt = 0;
  let elu: EventLoopUtilization | undefined;
  let eluStart: EventLoopUtilization | undefined;
  let last: EventLoopFigures | null = null;
  let sinceStart: EventLoopFigures | null = null;

  const figures = (snap: FineHistogramSnapshot, at: number, spanMs: number, utilization: number): EventLoopFigures => {
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
    const at = now();
    const u = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    const window = delay.snapshot();
    if (window.count > 0) {
      last = figures(window, at, at - windowStart, u.utilization);
      sinceStart = figures(
        total.snapshot(),
        at,
        at - startedAt,
        performance.eventLoopUtilization(eluStart).utilization,
      );
    }
    delay = createFineHistogram();
    windowStart = at;
  }

  return {
    start() {
      if (stopGaps) return;
      delay = createFineHistogram();
      total = createFineHistogram();
      windowStart = startedAt = now();
      elu = eluStart = performance.eventLoopUtilization();
      stopGaps = watchLoopGaps(resolution, (gap) => {
        const lag = Math.max(0, gap - resolution);
        delay.record(lag);
        total.record(lag);
      });
      timer = setInterval(rotate, windowMs);
      timer.unref();
    },
    stop() {
      stopGaps?.();
      if (timer) clearInterval(timer);
      stopGaps = timer = undefined;
    },
    snapshot: () => ({ windowMs, last, sinceStart }),
  };
}
