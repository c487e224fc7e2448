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
  /** Otherwise flush this long after the first frame arrived (`timer`, the default). */
  flushMs: number;
  /**
   * `timer` (the default): a batch is committed `flushMs` after its first frame. `adaptive`: at the
   * end of the event-loop turn its first frame arrived in when a commit slot is free, otherwise as
   * soon as one is (a commit ending): no fixed wait, and the busier the store the larger the batch.
   */
  flush?: 'timer' | 'adaptive';
  /**
   * How many commits may be under way at once (default 1: one after another). A store that commits
   * over the network (PostgreSQL) gains from more than one: a batch's round trips and fsync overlap
   * the next batch's. Callers are resolved in arrival order whatever order the commits end in.
   */
  maxCommitsInFlight?: number;
  /** Told how long each commit took (seconds), e.g. for a latency histogram. */
  onCommit?: (seconds: number) => void;
}

/**
 * Step 4, persist: group commit. Frames from many messages share one transaction; each caller's
 * promise resolves only after the transaction holding its frames has committed, which is what lets
 * the broker send PUBACK after, never before, the frame is durable.
 */
export function createBatchWriter(store: TelemetryStore, options: WriterOptions) {
  const maxInFlight = Math.max(1, options.maxCommitsInFlight ?? 1);
  const adaptive = options.flush === 'adaptive';
  let queue: Pending[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  let turnEnd: NodeJS.Immediate | undefined;
  /** The last batch's settlement: each batch's callers are told after the batch before it's. */
  let chain: Promise<void> = Promise.resolve();
  let batches = 0;
  let inFlight = 0;
  /** Batches waiting for a commit slot, in arrival order. */
  const slots: (() => void)[] = [];

  const acquire = (): Promise<void> => {
    if (inFlight < maxInFlight) {
      inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve) => slots.push(resolve));
  };
  const flushAtTurnEnd = () => {
    turnEnd ??= setImmediate(() => void flush());
  };
  const release = () => {
    const next = slots.shift();
    if (next) next();
    else inFlight--;
    // adaptive: what gathered while every slot was busy goes now
    if (adaptive && queue.length > 0 && inFlight < maxInFlight) flushAtTurnEnd();
  };

  async function commit(frames: readonly StoredFrame[]): Promise<boolean[]> {
    await acquire();
    try {
      const started = process.hrtime.bigint();
      const { inserted } = await store.append(frames);
      options.onCommit?.(secondsSince(started));
      batches++;
      return inserted;
    } finally {
      release();
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (turnEnd) clearImmediate(turnEnd);
    turnEnd = undefined;
    if (queue.length === 0) return chain;
    const work = queue;
    queue = [];
    queued = 0;
    // Commits start in arrival order (up to maxCommitsInFlight at once); callers are settled in it.
    const committed = commit(work.length === 1 ? work[0]!.frames : work.flatMap((p) => p.frames));
    committed.catch(() => undefined); // settled below, after the batches before it
    chain = chain.then(async () => {
      try {
        const inserted = await committed;
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
        else if (!adaptive) timer ??= setTimeout(() => void flush(), options.flushMs);
        else if (inFlight < maxInFlight) flushAtTurnEnd();
        // else: release() flushes when a commit ends
      });
    },
    flush,
    stats: () => ({ batches, queuedFrames: queued, commitsInFlight: inFlight }),
  };
}
