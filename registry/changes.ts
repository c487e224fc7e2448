import type { RecordsDb } from '../records/db.ts';
import type { Logger } from '../core/logger.ts';

export interface RegistryChange {
  id: number;
  subject: 'vehicle' | 'service';
  subjectId: string;
  change: 'added' | 'rotated' | 'removed' | 'updated';
  at: number;
}

/**
 * Follows the append-only `registry_changes` log, so that changes made by another process (the
 * provisioning CLI) reach the running platform within one poll interval.
 */
export function createRegistryWatcher(
  deps: { db: RecordsDb; log: Logger; onChange: (change: RegistryChange) => void },
  options: { pollMs: number },
) {
  let cursor = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function poll(): Promise<void> {
    const rows = await deps.db
      .selectFrom('registry_changes')
      .selectAll()
      .where('id', '>', cursor)
      .orderBy('id')
      .limit(1000)
      .execute();
    for (const r of rows) {
      cursor = Number(r.id);
      try {
        deps.onChange({ id: cursor, subject: r.subject, subjectId: r.subject_id, change: r.change, at: Number(r.at) });
      } catch (err) {
        deps.log.error({ err, change: r }, 'registry change handler failed');
      }
    }
  }

  const tick = () => {
    running = poll()
      .catch((err: unknown) => deps.log.error({ err }, 'registry poll failed'))
      .finally(() => {
        running = undefined;
        if (timer) timer = setTimeout(tick, options.pollMs);
      });
  };

  return {
    async start() {
      const last = await deps.db
        .selectFrom('registry_changes')
        .select((eb) => eb.fn.max('id').as('max'))
        .executeTakeFirst();
      cursor = Number(last?.max ?? 0);
      timer = setTimeout(tick, options.pollMs);
    },
    /** Reads any pending changes now (used after a local change and in tests). */
    async pollNow() {
      await running;
      await poll();
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
