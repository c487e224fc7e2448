import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { createFineHistogram, type FineHistogram, type FineHistogramSnapshot } from './fine-histogram.ts';

/** The main thread's pauses, cumulative since start (core/fine-histogram.ts: read twice, take the difference). */
export interface RuntimeStatsSnapshot {
  /** Event-loop delay (ms a timer fired later than due), from `monitorEventLoopDelay`. */
  eventLoopDelay: FineHistogramSnapshot;
  /** Garbage-collection pauses (ms), from the `gc` performance entries. */
  gc: FineHistogramSnapshot;
  /**
   * Of those, the full collections' (V8's mark-compact of the old generation, entry kind major);
   * the rest are young-generation scavenges and the small incremental and weak-callback steps.
   */
  gcMajor: FineHistogramSnapshot;
  /**
   * A vehicle's QoS 1 message inside the platform (ms): from the broker's authorizePublish to the
   * verdict, i.e. what its PUBACK waited for (decode, validation, the group commit), recorded by
   * the broker. The rest of what a gateway measures is the socket, the parser and the PUBACK write.
   */
  puback: FineHistogramSnapshot;
}

export interface RuntimeStats {
  start(): void;
  stop(): void;
  snapshot(): RuntimeStatsSnapshot;
  /** Where the broker records each PUBACK's wait (`puback` in the snapshot). */
  readonly puback: Pick<FineHistogram, 'record'>;
}

/**
 * Where the main thread's time goes in pauses, for `/metrics.json` and the benches' cause
 * breakdown (docs/benchmarks.md): the event-loop delay and the GC pauses as cumulative fine
 * histograms. The delay comes from `perf_hooks.monitorEventLoopDelay` (a libuv timer every
 * `resolutionMs`, in C++); its histogram is folded into the cumulative one every `foldMs` and on
 * every snapshot (by its percentile steps, so a fold keeps each value to its HDR bucket). The GC
 * observer costs one callback per collection. Both timers are unref'd.
 */
export function createRuntimeStats(options: { resolutionMs?: number; foldMs?: number } = {}): RuntimeStats {
  const resolution = options.resolutionMs ?? 10;
  const foldMs = options.foldMs ?? 1000;
  const loop = createFineHistogram();
  const gc = createFineHistogram();
  const gcMajor = createFineHistogram();
  const puback = createFineHistogram();
  let delay: IntervalHistogram | undefined;
  let observer: PerformanceObserver | undefined;
  let timer: NodeJS.Timeout | undefined;

  function fold() {
    if (!delay || delay.count === 0) return;
    foldInto(loop, delay, resolution);
    delay.reset();
  }

  return {
    puback,
    start() {
      if (delay) return;
      delay = monitorEventLoopDelay({ resolution });
      delay.enable();
      observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          gc.record(e.duration);
          if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
            gcMajor.record(e.duration);
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      timer = setInterval(fold, foldMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      fold();
      delay?.disable();
      observer?.disconnect();
      delay = observer = timer = undefined;
    },
    snapshot() {
      fold();
      return {
        eventLoopDelay: loop.snapshot(),
        gc: gc.snapshot(),
        gcMajor: gcMajor.snapshot(),
        puback: puback.snapshot(),
      };
    },
  };
}

/**
 * Adds what an IntervalHistogram holds to a fine histogram, as lag (the time between two firings
 * minus the timer's period): each step of its percentile distribution (the share of values up to
 * that value) becomes that many values of that lag.
 */
export function foldInto(
  target: FineHistogram,
  h: Pick<IntervalHistogram, 'count' | 'percentiles'>,
  resolutionMs: number,
) {
  const steps = [...h.percentiles.entries()].sort((a, b) => a[0] - b[0]);
  let done = 0;
  for (const [pct, ns] of steps) {
    const upTo = Math.round((pct / 100) * h.count);
    if (upTo > done) {
      target.recordMany(Math.max(0, ns / 1e6 - resolutionMs), upTo - done);
      done = upTo;
    }
  }
}

/**
 * What `memoryFigures` answers, in bytes: `rss`, the resident memory of the whole process (every
 * thread, native allocations, the heaps); `heapTotal` and `heapUsed`, the main thread's V8 heap
 * reserved and used (live and not yet collected objects); `external`, held outside that heap by the
 * main thread's JavaScript objects, `arrayBuffers` of it by Buffers and ArrayBuffers; `v8Malloced`,
 * what V8 itself holds for the main thread outside the heap (its compilers' and parser's memory).
 */
export type MemoryFigures = NodeJS.MemoryUsage & { v8Malloced: number };

/**
 * The process's memory now, for `/metrics.json` and `/metrics`: what of the resident memory the main
 * thread's heap, its Buffers and V8's own allocations hold; the rest is native (SQLite's caches, the
 * writer thread's heap — `runtime.telemetryWriter.heap` in `/metrics.json` —, the allocator's free
 * lists, code).
 */
export function memoryFigures(): MemoryFigures {
  return { ...process.memoryUsage(), v8Malloced: getHeapStatistics().malloced_memory };
}
