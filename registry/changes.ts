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
 * How long an id skipped by a later one is still looked for: on PostgreSQL ids are handed out when a
 * transaction inserts, and a transaction that took id 10 can commit after the one that took id 11.
 */
export const LATE_CHANGE_WAIT_MS = 60_000;
/** At most this many skipped ids are looked for at once (a jump of the sequence is not a thousand changes). */
const MAX_AWAITED = 1000;
const ROWS_PER_POLL = 1000;

/**
 * Follows the append-only `registry_changes` log, so that changes made by another process (the
 * provisioning CLI, another node of a cluster) reach the running platform within one poll interval.
 * An id that a later one overtook (a transaction still open when the later one committed, or one
 * rolled back) is looked for again on each poll for LATE_CHANGE_WAIT_MS, so that a change committed
 * out of order is still passed on, once.
 */
export function createRegistryWatcher(
  deps: { db: RecordsDb; log: Logger; onChange: (change: RegistryChange) => void; clock?: () => number },
  options: { pollMs: number },
) {
  const clock = deps.clock ?? Date.now;
  let cursor = 0;
  /** Ids below the cursor not seen yet → when they were first missed. */
  const awaited = new Map<number, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function poll(): Promise<void> {
    const late = [...awaited.keys()];
    const rows = await deps.db
      .selectFrom('registry_changes')
      .selectAll()
      .where((eb) => (late.length ? eb.or([eb('id', '>', cursor), eb('id', 'in', late)]) : eb('id', '>', cursor)))
      .orderBy('id')
      .limit(ROWS_PER_POLL + late.length)
      .execute();
    const at = clock();
    for (const r of rows) {
      const id = Number(r.id);
      if (id <= cursor && !awaited.delete(id)) continue;
      if (id > cursor) {
        for (let skipped = Math.max(cursor + 1, id - MAX_AWAITED); skipped < id; skipped++) awaited.set(skipped, at);
        cursor = id;
      }
      try {
        deps.onChange({ id, subject: r.subject, subjectId: r.subject_id, change: r.change, at: Number(r.at) });
      } catch (err) {
        deps.log.error({ err, change: r }, 'registry change handler failed');
      }
    }
    for (const [id, since] of awaited) if (at - since >= LATE_CHANGE_WAIT_MS) awaited.delete(id);
    while (awaited.size > MAX_AWAITED) awaited.delete(awaited.keys().next().value!);
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
      // an id missing below the newest may be a transaction still open now: its change is looked for too
      const recent = await deps.db
        .selectFrom('registry_changes')
        .select('id')
        .where('id', '>', cursor - MAX_AWAITED)
        .execute();
      const present = new Set(recent.map((r) => Number(r.id)));
      const at = clock();
      for (let id = Math.max(1, cursor - MAX_AWAITED + 1); id < cursor; id++) if (!present.has(id)) awaited.set(id, at);
      timer = setTimeout(tick, options.pollMs);
    },
    /** Reads any pending changes now (used after a local change and in tests). */
    async pollNow() {
      await running;
      await poll();
    },
    /** Ids overtaken by a later one and still looked for (tests, diagnosis). */
    awaiting: (): number[] => [...awaited.keys()],
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
