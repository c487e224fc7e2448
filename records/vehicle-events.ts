import type { VehicleEvent } from '../protocol/index.ts';
import type { Logger } from '../core/logger.ts';
import { insertInChunks, type RecordsDb } from './db.ts';
import { createBatchQueue } from './batch-queue.ts';

export interface StoredVehicleEvent extends VehicleEvent {
  vehicleId: string;
  receivedAt: number;
}

/**
 * Gateway-reported fault events, written in small batches (group commit). `append` resolves once
 * the event's transaction has committed, so the broker acknowledges only stored events.
 */
export function createVehicleEventLog(deps: { db: RecordsDb; log: Logger }, options: { flushMs?: number } = {}) {
  const queue = createBatchQueue<StoredVehicleEvent>(
    {
      log: deps.log,
      what: 'vehicle events',
      write: (events) =>
        deps.db.transaction().execute(async (tx) => {
          await insertInChunks(events, (chunk) =>
            tx
              .insertInto('vehicle_events')
              .values(
                chunk.map((e) => ({
                  vehicle_id: e.vehicleId,
                  ts: e.ts,
                  code: e.code,
                  severity: e.severity,
                  message: e.message ?? null,
                  received_at: e.receivedAt,
                })),
              )
              .execute(),
          );
        }),
    },
    { flushMs: options.flushMs ?? 5, maxItems: 500 },
  );
  const flush = queue.flush;

  return {
    append(vehicleId: string, event: VehicleEvent, receivedAt: number): Promise<void> {
      return queue.add({ ...event, vehicleId, receivedAt });
    },
    flush,
    async list(vehicleId: string, limit = 100): Promise<StoredVehicleEvent[]> {
      await flush();
      const rows = await deps.db
        .selectFrom('vehicle_events')
        .selectAll()
        .where('vehicle_id', '=', vehicleId)
        .orderBy('ts', 'desc')
        .limit(limit)
        .execute();
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
