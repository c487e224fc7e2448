import { watchLoopGaps } from '../../core/loop-gaps.ts';

/**
 * The measuring process's own event-loop delay, the largest in each window of `windowMs`: a PUBACK
 * that arrived while this process was stalled (its GC, its own work) is timed late by as much, so a
 * latency tail that lines up with these figures is the measuring side's, not the broker's. Used by
 * `npm run simulate` (10 s windows) and bench:ingest's load generator (1 s windows of the window).
 * At most `keep` windows are kept (a long run does not grow without bound).
 *
 * The figure is the longest gap between two firings of a timer due every 10 ms (core/loop-gaps.ts;
 * 10 ms on an idle loop, as `perf_hooks.monitorEventLoopDelay` reported it before): a stall counts in
 * the window in which the late firing came, also when it spans a window's end (monitorEventLoopDelay's
 * reset at each window's end lost such a stall).
 */
export function watchOwnLoop(options: { windowMs: number; keep: number }): { stop(): number[] } {
  let windowMax = 0;
  const stopGaps = watchLoopGaps(10, (gap) => {
    windowMax = Math.max(windowMax, gap);
  });
  const maxMs: number[] = [];
  const close = () => {
    if (maxMs.length < options.keep) maxMs.push(Math.round(windowMax * 10) / 10);
    windowMax = 0;
  };
  // never what keeps the process alive
  const timer = setInterval(close, options.windowMs).unref();
  let stopped: number[] | null = null;
  return {
    /** Ends watching; the last, shorter window counts too. Returns the maximum (ms, one decimal) per window. */
    stop() {
      if (stopped) return stopped;
      clearInterval(timer);
      stopGaps();
      close();
      stopped = maxMs;
      return maxMs;
    },
  };
}
