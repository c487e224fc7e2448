import type { DeadLetter, DeadLetterLog } from '../core/inbound.ts';
import type { Logger } from '../core/logger.ts';
import { insertInChunks, type RecordsDb } from './db.ts';
import { createBatchQueue } from './batch-queue.ts';

/**
 * Dead letters in the records store, bounded to `maxEntries` (oldest dropped, in the same
 * transaction that adds new ones). Entries are written in batches off the hot path; a flood of bad
 * input costs one commit per flush interval.
 */
export function createDeadLetterLog(
  deps: { db: RecordsDb; log: Logger },
  options: { maxEntries: number; flushMs?: number },
): DeadLetterLog {
  const queue = createBatchQueue<DeadLetter>(
    {
      log: deps.log,
      what: 'dead letters',
      write: (batch) =>
        deps.db.transaction().execute(async (tx) => {
          await insertInChunks(batch, (chunk) =>
            tx
              .insertInto('dead_letters')
              .values(
                chunk.map((d) => ({
                  at: d.at,
                  vehicle_id: d.vehicleId,
                  topic: d.topic,
                  code: d.code,
                  message: d.message,
                  excerpt: d.excerpt,
                })),
              )
              .execute(),
          );
          const max = await tx
            .selectFrom('dead_letters')
            .select((eb) => eb.fn.max('id').as('max'))
            .executeTakeFirst();
          await tx
            .deleteFrom('dead_letters')
            .where('id', '<=', Number(max?.max ?? 0) - options.maxEntries)
            .execute();
        }),
    },
    { flushMs: options.flushMs ?? 500, maxItems: 1000, keepLast: options.maxEntries },
  );
  const flush = queue.flush;

  return {
    add(entry) {
      // bookkeeping: a failed write is logged by the queue and must not fail the caller
      queue.add(entry).catch(() => undefined);
    },
    async list(q = {}) {
      await flush();
      let query = deps.db
        .selectFrom('dead_letters')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(q.limit ?? 100);
      if (q.vehicleId) query = query.where('vehicle_id', '=', q.vehicleId);
      const rows = await query.execute();
      return rows.map((r) => ({
        at: Number(r.at),
        vehicleId: r.vehicle_id,
        topic: r.topic,
        code: r.code as DeadLetter['code'],
        message: r.message,
        excerpt: r.excerpt,
      }));
    },
    flush,
  };
}
