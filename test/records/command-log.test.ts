import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCommandLog } from '../../commands/command-log.ts';
import { createInProcessBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import { silentLogger } from '../../core/logger.ts';
import type { RecordsDb } from '../../records/db.ts';
import { openTestRecords } from '../helpers/records.ts';

const backfill = (n: number) => JSON.stringify({ id: `bf-${n}`, ts: 1, name: 'backfill', args: {} });

describe('the MQTT command log', () => {
  let db: RecordsDb | undefined;
  afterEach(async () => {
    await db?.destroy();
    db = undefined;
  });

  function start(d: RecordsDb) {
    const log = createCommandLog({
      db: d,
      bus: createInProcessBus<PlatformEvents>(silentLogger()),
      log: silentLogger(),
    });
    log.start();
    return log;
  }

  it('commands recorded in the same turn share one transaction, in the order they were recorded', async () => {
    db = await openTestRecords();
    const log = start(db);
    const transactions = vi.spyOn(db, 'transaction');
    // a backfill round after an outage: one command per vehicle, all at once
    await Promise.all(
      Array.from({ length: 450 }, (_, i) =>
        log.record({ vehicleId: `V${i}`, publisher: 'platform', payload: backfill(i) }),
      ),
    );
    expect(transactions).toHaveBeenCalledTimes(1);
    const rows = await db
      .selectFrom('mqtt_commands')
      .select(['seq', 'vehicle_id', 'command_id'])
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.command_id)).toEqual(Array.from({ length: 450 }, (_, i) => `bf-${i}`));
    // a lone command needs no transaction of its own
    await log.record({ vehicleId: 'V1', publisher: 'svc', payload: Buffer.from(backfill(450)) });
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(await log.ofVehicle('V1')).toMatchObject([{ commandId: 'bf-450', publisher: 'svc' }, { commandId: 'bf-1' }]);
    await log.stop();
  });

  it('when the write fails, every command of it is refused (none is delivered unrecorded)', async () => {
    db = await openTestRecords();
    const log = start(db);
    const failing = vi.spyOn(db, 'transaction').mockImplementation(() => {
      throw new Error('disk full');
    });
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => log.record({ vehicleId: `V${i}`, publisher: 'platform', payload: backfill(i) })),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    failing.mockRestore();
    expect(await db.selectFrom('mqtt_commands').selectAll().execute()).toEqual([]);
    await log.stop();
  });
});
