import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.ts';
import { confirmationMarksOf } from '../../platform/telemetry.ts';
import type { TelemetryFrame } from '../../protocol/index.ts';
import type { RecordsDb } from '../../records/db.ts';
import { createConfirmationStore } from '../../records/telemetry-confirmations.ts';
import { createMemoryTelemetryStore } from '../../telemetry/memory-store.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { describeConfirmationStore } from '../helpers/confirmation-store-suite.ts';
import { frame } from '../helpers/platform.ts';
import { openTestRecords } from '../helpers/records.ts';

/** A directory per store, removed when it closes. */
function tempStore(writer: 'thread' | 'inline' = 'thread') {
  const dir = mkdtempSync(join(tmpdir(), 'pw-marks-'));
  const file = join(dir, 'telemetry.db');
  const telemetry = createSqliteTelemetryStore({ file, writer });
  return {
    dir,
    file,
    telemetry,
    store: telemetry.confirmations,
    async close() {
      await telemetry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeConfirmationStore('telemetry.db, saved by its writer thread', async () => tempStore('thread'));
describeConfirmationStore('telemetry.db, saved inline (one connection)', async () => tempStore('inline'));
describeConfirmationStore('telemetry.db in memory', async () => {
  const telemetry = createSqliteTelemetryStore({ file: ':memory:' });
  return { store: telemetry.confirmations, close: () => telemetry.close() };
});

describe('the confirmation marks in telemetry.db', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-marks-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('are saved by the writer thread, after the frames written before them, and kept in the file', async () => {
    const file = join(dir, 'telemetry.db');
    const store = createSqliteTelemetryStore({ file });
    const before = (await store.writerStats())!.marksSave.count;
    const t0 = Date.parse('2026-12-06T08:00:00Z');
    await store.append([{ vehicleId: 'V1', receivedAt: t0, frame: frame(7, t0) as TelemetryFrame }]);
    await store.confirmations.save([{ vehicleId: 'V1', seq: 7, ts: t0 }], t0 + 5);
    await store.confirmations.save([{ vehicleId: 'V2', seq: 1, ts: t0 }], t0 + 6);
    expect((await store.writerStats())!.marksSave.count - before).toBe(2);
    await store.close();

    // the WAL is checkpointed at close: the file itself holds the frames and the marks
    const raw = new Database(file, { readonly: true });
    expect(
      raw.prepare(`SELECT vehicle_id, seq, ts, updated_at FROM telemetry_confirmations ORDER BY vehicle_id`).all(),
    ).toEqual([
      { vehicle_id: 'V1', seq: 7, ts: t0, updated_at: t0 + 5 },
      { vehicle_id: 'V2', seq: 1, ts: t0, updated_at: t0 + 6 },
    ]);
    expect(raw.prepare(`SELECT count(*) AS n FROM telemetry`).get()).toEqual({ n: 1 });
    raw.close();

    const again = createSqliteTelemetryStore({ file });
    expect(await again.confirmations.load()).toEqual([
      { vehicleId: 'V1', seq: 7, ts: t0 },
      { vehicleId: 'V2', seq: 1, ts: t0 },
    ]);
    await again.close();
  });

  it('a file from before the marks were kept in it gets their table when it is opened', async () => {
    const file = join(dir, 'telemetry.db');
    await createSqliteTelemetryStore({ file }).close();
    const raw = new Database(file);
    raw.exec(`DROP TABLE telemetry_confirmations`);
    raw.close();
    const store = createSqliteTelemetryStore({ file });
    expect(await store.confirmations.load()).toEqual([]);
    await store.confirmations.save([{ vehicleId: 'V1', seq: 3, ts: 30 }], 1);
    expect(await store.confirmations.load()).toEqual([{ vehicleId: 'V1', seq: 3, ts: 30 }]);
    await store.close();
  });

  it('refuses saves once the store is closed', async () => {
    const store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
    await store.close();
    await expect(store.confirmations.save([{ vehicleId: 'V1', seq: 1, ts: 1 }], 1)).rejects.toMatchObject({
      code: 'SHUTTING_DOWN',
    });
  });
});

describe('where the platform keeps the marks (platform/telemetry.ts confirmationMarksOf)', () => {
  let records: RecordsDb;
  let telemetry: SqliteTelemetryStore;
  let dir: string;
  let logged: string[];
  const log = () =>
    createLogger(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          logged.push(JSON.parse(String(chunk)).msg);
          done();
        },
      }),
    );
  const now = () => 42;

  beforeEach(async () => {
    logged = [];
    records = await openTestRecords();
    dir = mkdtempSync(join(tmpdir(), 'pw-marks-'));
    telemetry = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
  });
  afterEach(async () => {
    await telemetry.close();
    await records.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with the embedded telemetry: in telemetry.db; marks left in records.db are carried over once, then removed there', async () => {
    const inRecords = createConfirmationStore({ db: records });
    await inRecords.save(
      [
        { vehicleId: 'V1', seq: 10, ts: 100 },
        { vehicleId: 'V2', seq: 20, ts: 200 },
      ],
      1,
    );
    const store = confirmationMarksOf(telemetry, { records, log: log(), now });
    expect((await store.load()).sort((a, b) => a.vehicleId.localeCompare(b.vehicleId))).toEqual([
      { vehicleId: 'V1', seq: 10, ts: 100 },
      { vehicleId: 'V2', seq: 20, ts: 200 },
    ]);
    expect(await inRecords.load()).toEqual([]);
    expect(logged).toContain('confirmation marks moved from the records store to telemetry.db');

    await store.save([{ vehicleId: 'V1', seq: 11, ts: 110 }], 2);
    await store.remove('V2');
    expect(await telemetry.confirmations.load()).toEqual([{ vehicleId: 'V1', seq: 11, ts: 110 }]);
    expect(await inRecords.load()).toEqual([]);
    // loaded again (the next start): nothing left to carry
    expect(await store.load()).toEqual([{ vehicleId: 'V1', seq: 11, ts: 110 }]);
    expect(logged.filter((m) => m.startsWith('confirmation marks'))).toHaveLength(1);
  });

  it('marks in records.db beside those of telemetry.db (a records.db restored from an older backup) are stale: removed, not read', async () => {
    await telemetry.confirmations.save([{ vehicleId: 'V1', seq: 50, ts: 500 }], 1);
    const inRecords = createConfirmationStore({ db: records });
    await inRecords.save([{ vehicleId: 'V1', seq: 10, ts: 100 }], 1);
    const store = confirmationMarksOf(telemetry, { records, log: log(), now });
    expect(await store.load()).toEqual([{ vehicleId: 'V1', seq: 50, ts: 500 }]);
    expect(await inRecords.load()).toEqual([]);
    expect(logged).toContain('confirmation marks left in the records store removed (telemetry.db holds its own)');
  });

  it('with another telemetry store (PostgreSQL, memory): in the records store', async () => {
    const store = confirmationMarksOf(createMemoryTelemetryStore(), { records, log: log(), now });
    await store.save([{ vehicleId: 'V1', seq: 1, ts: 10 }], 1);
    expect(await createConfirmationStore({ db: records }).load()).toEqual([{ vehicleId: 'V1', seq: 1, ts: 10 }]);
    expect(await telemetry.confirmations.load()).toEqual([]);
  });
});
