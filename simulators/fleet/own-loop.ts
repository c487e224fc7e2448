import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * The measuring process's own event-loop delay, the largest in each window of `windowMs`: a PUBACK
 * that arrived while this process was stalled (its GC, its own work) is timed late by as much, so a
 * latency tail that lines up with these figures is the measuring side's, not the broker's. Used by
 * `npm run simulate` (10 s windows) and bench:ingest's load generator (1 s windows of the window).
 * At most `keep` windows are kept (a long run does not grow without bound).
 */
export function watchOwnLoop(options: { windowMs: number; keep: number }): { stop(): number[] } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const maxMs: number[] = [];
  const close = () => {
    if (maxMs.length < options.keep) maxMs.push(Math.round(delay.max / 1e5) / 10);
    delay.reset();
  };
  // never what keeps the process alive
  const timer = setInterval(close, options.windowMs).unref();
  let stopped: number[] | null = null;
  return {
    /** Ends watching; the last, shorter window counts too. Returns the maximum (ms, one decimal) per window. */
    stop() {
      if (stopped) return stopped;
      clearInterval(timer);
      close();
      delay.disable();
      stopped = maxMs;
      return maxMs;
    },
  };
}
