import type { DeadLetter, DeadLetterLog } from '../core/inbound.ts';
import type { Logger } from '../core/logger.ts';
import type { RecordsDb } from './db.ts';

/**
 * Dead letters in the records store, bounded to `maxEntries` (oldest dropped). Entries are written
 * in batches off the hot path; a flood of bad input costs one commit per flush interval.
 */
export function createDeadLetterLog(deps: { db: RecordsDb; log: Logger }, options: { maxEntries: number; flushMs?: number }): DeadLetterLog {
  let pending: DeadLetter[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let writesSinceTrim = 0;

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return chain;
    // never write more than can be kept
    const batch = pending.slice(-options.maxEntries);
    pending = [];
    chain = chain
      .then(async () => {
        await deps.db.transaction().execute(async (tx) => {
          for (let i = 0; i < batch.length; i += 200) {
            await tx
              .insertInto('dead_letters')
              .values(batch.slice(i, i + 200).map((d) => ({ at: d.at, vehicle_id: d.vehicleId, topic: d.topic, code: d.code, message: d.message, excerpt: d.excerpt })))
              .execute();
          }
          writesSinceTrim += batch.length;
          if (writesSinceTrim >= Math.min(1000, options.maxEntries)) {
            writesSinceTrim = 0;
            const max = await tx.selectFrom('dead_letters').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
            await tx.deleteFrom('dead_letters').where('id', '<=', Number(max?.max ?? 0) - options.maxEntries).execute();
          }
        });
      })
      .catch((err: unknown) => deps.log.error({ err }, 'dead letters could not be written'));
    return chain;
  }

  return {
    add(entry) {
      pending.push(entry);
      if (pending.length >= 1000) void flush();
      else timer ??= setTimeout(() => void flush(), options.flushMs ?? 500);
    },
    async list(q = {}) {
      await flush();
      let query = deps.db.selectFrom('dead_letters').selectAll().orderBy('id', 'desc').limit(q.limit ?? 100);
      if (q.vehicleId) query = query.where('vehicle_id', '=', q.vehicleId);
      const rows = await query.execute();
      return rows.map((r) => ({ at: Number(r.at), vehicleId: r.vehicle_id, topic: r.topic, code: r.code as DeadLetter['code'], message: r.message, excerpt: r.excerpt }));
    },
    flush,
  };
}
