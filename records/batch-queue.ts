import type { Logger } from '../core/logger.ts';

/**
 * A group-commit queue for records written off the hot path: items wait up to `flushMs` (or until
 * `maxItems` are queued), then one `write` commits them all. Writes run one after another.
 * `add` resolves once the item's batch has committed and rejects if it failed, so a caller that
 * must not acknowledge before storing can wait; others can ignore the promise.
 */
export function createBatchQueue<T>(
  deps: { log: Logger; what: string; write: (items: T[]) => Promise<void> },
  options: { flushMs: number; maxItems: number; keepLast?: number },
) {
  let pending: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return chain;
    const batch = pending;
    pending = [];
    // a bounded log never needs to write more than it keeps
    const items = (options.keepLast ? batch.slice(-options.keepLast) : batch).map((p) => p.item);
    chain = chain
      .then(() => deps.write(items))
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => {
          deps.log.error({ err, items: batch.length }, `${deps.what} could not be written`);
          batch.forEach((p) => p.reject(err));
        },
      );
    return chain;
  }

  return {
    add(item: T): Promise<void> {
      return new Promise((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (pending.length >= options.maxItems) void flush();
        else timer ??= setTimeout(() => void flush(), options.flushMs);
      });
    },
    flush,
  };
}
