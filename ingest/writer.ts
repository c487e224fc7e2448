import { secondsSince } from '../core/histograms.ts';
import type { StoredFrame, TelemetryStore } from '../telemetry/store.ts';

interface Pending {
  frames: readonly StoredFrame[];
  resolve: (inserted: boolean[]) => void;
  reject: (err: unknown) => void;
}

export interface WriterOptions {
  /** Flush as soon as this many frames wait. */
  maxBatchFrames: number;
  /** Otherwise flush this long after the first frame arrived. */
  flushMs: number;
  /** Told how long each commit took (seconds), e.g. for a latency histogram. */
  onCommit?: (seconds: number) => void;
}

/**
 * Step 4, persist: group commit. Frames from many messages share one transaction; each caller's
 * promise resolves only after the transaction holding its frames has committed, which is what lets
 * the broker send PUBACK after, never before, the frame is durable.
 */
export function createBatchWriter(store: TelemetryStore, options: WriterOptions) {
  let queue: Pending[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let batches = 0;

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return chain;
    const work = queue;
    queue = [];
    queued = 0;
    // Commits run one after another, in arrival order.
    chain = chain.then(async () => {
      const all = work.length === 1 ? work[0]!.frames : work.flatMap((p) => p.frames);
      try {
        const started = process.hrtime.bigint();
        const { inserted } = await store.append(all);
        options.onCommit?.(secondsSince(started));
        batches++;
        let offset = 0;
        for (const p of work) {
          p.resolve(inserted.slice(offset, offset + p.frames.length));
          offset += p.frames.length;
        }
      } catch (err) {
        for (const p of work) p.reject(err);
      }
    });
    return chain;
  }

  return {
    write(frames: readonly StoredFrame[]): Promise<boolean[]> {
      return new Promise((resolve, reject) => {
        queue.push({ frames, resolve, reject });
        queued += frames.length;
        if (queued >= options.maxBatchFrames) void flush();
        else timer ??= setTimeout(() => void flush(), options.flushMs);
      });
    },
    flush,
    stats: () => ({ batches, queuedFrames: queued }),
  };
}
