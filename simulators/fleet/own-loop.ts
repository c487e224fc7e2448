/**
 * The measuring process's own event-loop delay, the largest in each window of `windowMs`: a PUBACK
 * that arrived while this process was stalled (its GC, its own work) is timed late by as much, so a
 * latency tail that lines up with these figures is the measuring side's, not the broker's. Used by
 * `npm run simulate` (10 s windows) and bench:ingest's load generator (1 s windows of the window).
 * At most `keep` windows are kept (a long run does not grow without bound).
 *
 * A timer due every 10 ms measures the time between its firings (10 ms on an idle loop, as
 * `perf_hooks.monitorEventLoopDelay` reported it before): a stall counts in the window in which the
 * late firing came, also when it spans a window's end (monitorEventLoopDelay's reset at each window's
 * end forgot when its timer last fired, and lost such a stall).
 */
export function watchOwnLoop(options: { windowMs: number; keep: number }): { stop(): number[] } {
  const PERIOD_MS = 10;
  let last = performance.now();
  let windowMax = 0;
  // a timeout that arms itself again: its firings are what is measured
  let tick: NodeJS.Timeout;
  const fire = () => {
    const now = performance.now();
    windowMax = Math.max(windowMax, now - last);
    last = now;
    tick = setTimeout(fire, PERIOD_MS).unref();
  };
  tick = setTimeout(fire, PERIOD_MS).unref();
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
      clearTimeout(tick);
      close();
      stopped = maxMs;
      return maxMs;
    },
  };
}
