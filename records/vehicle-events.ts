import type { VehicleEvent } from '../protocol/index.ts';
import type { Logger } from '../core/logger.ts';
import type { RecordsDb } from './db.ts';

export interface StoredVehicleEvent extends VehicleEvent {
  vehicleId: string;
  receivedAt: number;
}

/**
 * Gateway-reported fault events, written in small batches (group commit). `append` resolves once
 * the event's transaction has committed, so the broker acknowledges only stored events.
 */
export function createVehicleEventLog(deps: { db: RecordsDb; log: Logger }, options: { flushMs?: number } = {}) {
  let pending: { event: StoredVehicleEvent; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return chain;
    const batch = pending;
    pending = [];
    chain = chain
      .then(async () => {
        await deps.db.transaction().execute(async (tx) => {
          for (let i = 0; i < batch.length; i += 200) {
            await tx
              .insertInto('vehicle_events')
              .values(batch.slice(i, i + 200).map(({ event: e }) => ({ vehicle_id: e.vehicleId, ts: e.ts, code: e.code, severity: e.severity, message: e.message ?? null, received_at: e.receivedAt })))
              .execute();
          }
        });
        for (const p of batch) p.resolve();
      })
      .catch((err: unknown) => {
        deps.log.error({ err, events: batch.length }, 'vehicle events could not be written');
        for (const p of batch) p.reject(err);
      });
    return chain;
  }

  return {
    append(vehicleId: string, event: VehicleEvent, receivedAt: number): Promise<void> {
      return new Promise((resolve, reject) => {
        pending.push({ event: { ...event, vehicleId, receivedAt }, resolve, reject });
        if (pending.length >= 500) void flush();
        else timer ??= setTimeout(() => void flush(), options.flushMs ?? 5);
      });
    },
    flush,
    async list(vehicleId: string, limit = 100): Promise<StoredVehicleEvent[]> {
      await flush();
      const rows = await deps.db.selectFrom('vehicle_events').selectAll().where('vehicle_id', '=', vehicleId).orderBy('ts', 'desc').limit(limit).execute();
      return rows.map((r) => ({
        vehicleId: r.vehicle_id,
        ts: Number(r.ts),
        code: r.code,
        severity: r.severity as VehicleEvent['severity'],
        ...(r.message === null ? {} : { message: r.message }),
        receivedAt: Number(r.received_at),
      }));
    },
  };
}
