import { performance } from 'node:perf_hooks';

/**
 * A timer due every `periodMs` that tells, at each firing, the time since its previous firing (ms):
 * `periodMs` on an idle loop, more by as long as the loop held it back. What the event-loop figures
 * are made of (core/runtime-stats.ts, core/event-loop.ts, the simulators' own-loop watch). Each gap
 * goes to `onGap` as it comes and nothing is reset, so a gap that spans the end of a reader's window
 * counts where it ends (perf_hooks.monitorEventLoopDelay forgot at each `reset()` when its timer last
 * fired, and lost that gap). A timeout that arms itself again, unref'd: it never keeps a process
 * alive. Returns the function that stops it.
 */
export function watchLoopGaps(periodMs: number, onGap: (gapMs: number) => void): () => void {
  let last = performance.now();
  let timer = setTimeout(fire, periodMs).unref();
  function fire() {
    const now = performance.now();
    onGap(now - last);
    last = now;
    timer = setTimeout(fire, periodMs).unref();
  }
  return () => clearTimeout(timer);
}
