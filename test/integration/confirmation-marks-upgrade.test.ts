import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetryFile } from '../../platform/data-files.ts';
import type { RecordsDb } from '../../records/db.ts';
import { createConfirmationStore } from '../../records/telemetry-confirmations.ts';
import { openTestRecords } from '../helpers/records.ts';
import { startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/**
 * An installation whose confirmation marks were kept in the records store (before 2026-12-06) started
 * on a build that keeps them in telemetry.db: the marks are carried over at start and confirmed to
 * the gateway on its next connection, as before.
 */
describe('the confirmation marks of an older installation', () => {
  let dataDir: string;
  let records: RecordsDb;
  let tp: TestPlatform | undefined;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pw-marks-upgrade-'));
    records = await openTestRecords({ file: join(dataDir, 'records.db') });
  });
  afterEach(async () => {
    await tp?.close();
    tp = undefined;
    await records.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are moved from the records to telemetry.db at start, and the gateway gets its mark on connect', async () => {
    tp = await startTestPlatform({}, { dataDir, records });
    const { id, secret } = await tp.addVehicle('UPG-1');
    await tp.close();
    tp = undefined;
    // what the older build left: the mark in the records, none in telemetry.db
    const ts = Date.now() - 60_000;
    await createConfirmationStore({ db: records }).save([{ vehicleId: id, seq: 41, ts }], ts);

    tp = await startTestPlatform({}, { dataDir, records });
    expect(tp.platform.confirmations.state(id)).toMatchObject({ seq: 41, confirmed: { seq: 41, ts } });
    expect(await createConfirmationStore({ db: records }).load()).toEqual([]);
    const file = new Database(telemetryFile(dataDir), { readonly: true });
    expect(file.prepare(`SELECT vehicle_id, seq, ts FROM telemetry_confirmations`).all()).toEqual([
      { vehicle_id: id, seq: 41, ts },
    ]);
    file.close();

    const gateway = await tp.connect(id, secret);
    const confirmed = new Promise<unknown>((resolve) =>
      gateway.on('message', (topic, payload) => {
        if (topic.endsWith('/telemetry/confirmed')) resolve(JSON.parse(payload.toString()));
      }),
    );
    await gateway.subscribeAsync(`v1/vehicles/${id}/telemetry/confirmed`, { qos: 1 });
    expect(await confirmed).toEqual({ v: 1, seq: 41, ts });
  });
});
