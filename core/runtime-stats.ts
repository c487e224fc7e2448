import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { createFineHistogram, type FineHistogram, type FineHistogramSnapshot } from './fine-histogram.ts';
import { watchLoopGaps } from './loop-gaps.ts';

/** The main thread's pauses, cumulative since start (core/fine-histogram.ts: read twice, take the difference). */
export interface RuntimeStatsSnapshot {
  /** Event-loop delay: how much later than due (ms) a timer due every `resolutionMs` fired, each firing. */
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
 * histograms. The delay is measured by a timer due every `resolutionMs` (core/loop-gaps.ts): each
 * firing records how much later than due it ran (the gap since the previous firing, less the
 * period) straight into the cumulative histogram, so a read loses nothing. (It came from
 * `perf_hooks.monitorEventLoopDelay`, folded in at each read; the fold's `reset()` also forgot when
 * its timer last fired, and the delay of the next period, a block right after a read, was lost.)
 * The GC observer costs one callback per collection.
 */
export function createRuntimeStats(options: { resolutionMs?: number } = {}): RuntimeStats {
  const resolution = options.resolutionMs ?? 10;
  const loop = createFineHistogram();
  const gc = createFineHistogram();
  const gcMajor = createFineHistogram();
  const puback = createFineHistogram();
  let observer: PerformanceObserver | undefined;
  let stopGaps: (() => void) | undefined;

  return {
    puback,
    start() {
      if (stopGaps) return;
      observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          gc.record(e.duration);
          if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)
            gcMajor.record(e.duration);
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      stopGaps = watchLoopGaps(resolution, (gap) => loop.record(Math.max(0, gap - resolution)));
    },
    stop() {
      stopGaps?.();
      observer?.disconnect();
      observer = stopGaps = undefined;
    },
    snapshot() {
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
