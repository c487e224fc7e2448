/**
 * Simulated time. Everything in the simulators reads time from a Clock, never from Date.now
 * directly, so the same code runs in real time, accelerated (a week in seconds) or by hand in tests.
 */
export interface Clock {
  /** Current simulated time, epoch milliseconds. */
  now(): number;
}

/** A clock moved only by the caller: tests and offline runs. */
export interface ManualClock extends Clock {
  advance(ms: number): number;
  set(ts: number): void;
}

export function createManualClock(startTs: number): ManualClock {
  let t = startTs;
  return {
    now: () => t,
    advance(ms) {
      if (!(ms >= 0)) throw new Error(`clock cannot go backwards (${ms} ms)`);
      t += ms;
      return t;
    },
    set(ts) {
      if (ts < t) throw new Error('clock cannot go backwards');
      t = ts;
    },
  };
}

/**
 * Real time scaled by `speed` from `startTs`: speed 1 is wall-clock time, speed 60 runs an hour in
 * a minute. `realNow` is injected (defaults to Date.now) so that it stays testable.
 */
export function createScaledClock(options: { startTs: number; speed: number; realNow?: () => number }): Clock {
  const realNow = options.realNow ?? Date.now;
  const realStart = realNow();
  if (!(options.speed > 0)) throw new Error('speed must be > 0');
  return { now: () => Math.floor(options.startTs + (realNow() - realStart) * options.speed) };
}
