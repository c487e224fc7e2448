import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportVehicleId, seedBacklog } from '../../bench/export/seed.ts';
import { VICTORIA_METRICS, countPoints, freePort, startVictoria, stopVictoria } from '../../bench/export/victoria.ts';
import { createCounters } from '../../core/counters.ts';
import { silentLogger } from '../../core/logger.ts';
import { createInfluxExport, influxWriter, type ExportCursor } from '../../telemetry/influx-export.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';

/**
 * bench:export's seed and verification, small: the backlog written into the store is what the
 * vehicles would have sent, and the server-side count finds every exported frame and notices
 * missing ones (the bench's `lost`).
 */
const present = existsSync(VICTORIA_METRICS);
if (!present) console.warn(`SKIPPED: ${VICTORIA_METRICS} is absent (apt-get install victoria-metrics)`);

describe.skipIf(!present)('bench:export seed and count', () => {
  let dir: string;
  let vm: ChildProcess;
  let url: string;
  let store: SqliteTelemetryStore;
  const fromTs = Date.UTC(2026, 11, 4, 8, 0, 0);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pw-bench-export-test-'));
    const port = await freePort();
    vm = await startVictoria(join(dir, 'vm'), port);
    url = `http://127.0.0.1:${port}`;
    store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db') });
  });
  afterAll(async () => {
    await store?.close();
    if (vm) await stopVictoria(vm);
    rmSync(dir, { recursive: true, force: true });
  });

  it('seeds vehicles × rate × seconds frames, in time order, each vehicle’s seq counting up', async () => {
    const seed = await seedBacklog(store, { vehicles: 5, rateHz: 2, seconds: 30, fromTs, batchFrames: 64 });
    expect(seed).toMatchObject({ frames: 300, nextSeq: 60, toTs: fromTs + 29_500 });
    expect(await store.count(exportVehicleId(0))).toBe(60);
    const frames = await store.frames(exportVehicleId(4), 0, fromTs + 60_000);
    expect(frames.map((f) => f.frame.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(frames.map((f) => f.frame.ts)).toEqual(Array.from({ length: 60 }, (_, i) => fromTs + i * 500));
    // seeding again stores nothing more: the same frames are duplicates
    expect((await seedBacklog(store, { vehicles: 5, rateHz: 2, seconds: 30, fromTs, batchFrames: 64 })).frames).toBe(0);
  });

  /** The cursor kept in memory only. */
  function memoryCursor(): ExportCursor<number> {
    let position = 0;
    return {
      load: async () => position,
      async turn(step) {
        position = (await step(position)) ?? position;
        return true;
      },
    };
  }

  it('the count on the server is 0 before the export and every frame after it; a missing point shows', async () => {
    expect(await countPoints(url, fromTs, fromTs + 30_000)).toEqual({ points: 0, series: 0 });
    const exporter = createInfluxExport(
      {
        source: store,
        tagsOf: async () => ({ unit: 'C1', model: 'PW-2000' }),
        write: influxWriter({ url, token: '', org: 'bench', bucket: 'bench', timeoutMs: 10_000 }),
        cursor: memoryCursor(),
        counters: createCounters(),
        log: silentLogger(),
      },
      { batchFrames: 70, idleMs: 20, backoffMinMs: 20, backoffMaxMs: 200 },
    );
    exporter.start();
    await exporter.until((s) => s.exportedFrames >= 300);
    await exporter.stop();
    expect(await countPoints(url, fromTs, fromTs + 30_000)).toEqual({ points: 300, series: 5 });
    // a window that leaves out the last second: 5 vehicles × 2 frames fewer
    expect((await countPoints(url, fromTs, fromTs + 28_999)).points).toBe(290);
  });
});
