import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCounters } from '../../core/counters.ts';
import { silentLogger } from '../../core/logger.ts';
import { createInfluxExport, fileCursor, influxWriter } from '../../telemetry/influx-export.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { StoredFrame } from '../../telemetry/store.ts';
import { exportFrame, seedBacklog } from './seed.ts';
import { VICTORIA_METRICS, countPoints, freePort, startVictoria, stopVictoria } from './victoria.ts';

const USAGE = `Usage: npm run bench:export -- [options]

The InfluxDB export's catch-up after an outage (issue 19): an outage's backlog (vehicles × rate ×
outage seconds) is written straight into a fresh telemetry store (store.append, the call ingest
makes after MQTT; not sent over MQTT in real time), then the export (telemetry/influx-export.ts,
durable cursor, @influxdata/influxdb-client's transport) sends it to victoria-metrics' /api/v2/write
while the fleet keeps storing vehicles × rate frames per second. Measures the export rate, the
catch-up time (until the export lag is 0) and counts the points the server holds: 0 lost.

  --vehicles N      default 2000 (at most 10000)
  --rate HZ         frames per second per vehicle, default 1 (at most 10)
  --outage S        seconds of outage, default 600 (at most 3600)
  --batch N         INFLUX_BATCH_FRAMES, default 5000
  --max S           give up catching up after this many seconds, default 900
Ends with one JSON line.`;

const int = (v: string | undefined, flag: string, def: number, min: number, max: number) => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag} must be a whole number ${min}–${max}`);
  return n;
};
const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      vehicles: { type: 'string' },
      rate: { type: 'string' },
      outage: { type: 'string' },
      batch: { type: 'string' },
      max: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const vehicles = int(values.vehicles, '--vehicles', 2000, 1, 10_000);
  const rateHz = int(values.rate, '--rate', 1, 1, 10);
  const outageS = int(values.outage, '--outage', 600, 1, 3600);
  const batchFrames = int(values.batch, '--batch', 5000, 1, 100_000);
  const maxS = int(values.max, '--max', 900, 10, 7200);
  if (!existsSync(VICTORIA_METRICS)) {
    console.error(`${VICTORIA_METRICS} is absent: apt-get install victoria-metrics`);
    return 2;
  }

  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-export-'));
  const port = await freePort();
  const vm = await startVictoria(join(dir, 'vm'), port);
  const store = createSqliteTelemetryStore({ file: join(dir, 'telemetry.db'), synchronous: 'full' });
  let liveTimer: NodeJS.Timeout | undefined;
  try {
    // 1. the outage's backlog, written straight into the store
    const fromTs = Date.now() - outageS * 1000;
    console.error(
      `seeding ${vehicles} vehicles × ${rateHz} Hz × ${outageS} s = ${(vehicles * rateHz * outageS).toLocaleString('en')} frames into the store (store.append, ${batchFrames} per commit)…`,
    );
    const seed = await seedBacklog(store, { vehicles, rateHz, seconds: outageS, fromTs, batchFrames });
    const storeRate = seed.frames / (seed.ms / 1000);
    console.error(
      `  ${seed.frames} frames in ${(seed.ms / 1000).toFixed(1)} s: ${Math.round(storeRate)} frames/s appended`,
    );

    // 2. the server is back: the export catches up while the fleet keeps sending
    const counters = createCounters();
    const exporter = createInfluxExport(
      {
        source: store,
        tagsOf: async (id) => ({ unit: `C${Number(id.slice(3)) % 10}`, model: 'PW-2000' }),
        write: influxWriter({
          url: `http://127.0.0.1:${port}`,
          token: '',
          org: 'bench',
          bucket: 'bench',
          timeoutMs: 30_000,
        }),
        cursor: fileCursor(join(dir, 'influx-export.cursor')),
        counters,
        log: silentLogger(),
      },
      { batchFrames, idleMs: 50, backoffMinMs: 100, backoffMaxMs: 2000 },
    );
    const seq = seed.nextSeq;
    let liveFrames = 0;
    let liveLastTs = seed.toTs;
    let appending = Promise.resolve();
    // the fleet goes on at its rate whatever the event loop does: each tick stores the frames due by then
    const fleetRate = vehicles * rateHz;
    let liveStarted = 0;
    liveTimer = setInterval(() => {
      const n = Math.floor(((Date.now() - liveStarted) * fleetRate) / 1000) - liveFrames;
      if (n <= 0) return;
      // each frame stamped when the fleet's schedule had it due: one per vehicle per 1/rate s, so a
      // late tick (a busy event loop) carries several seconds of frames, never two at one time of one vehicle
      const frames: StoredFrame[] = [];
      for (let i = 0; i < n; i++) {
        const k = liveFrames + i;
        const step = Math.floor(k / vehicles);
        const ts = liveFromTs + Math.round((step * 1000) / rateHz);
        liveLastTs = Math.max(liveLastTs, ts);
        frames.push(exportFrame(k % vehicles, seq + step, ts));
      }
      liveFrames += n;
      appending = appending.then(() => store.append(frames).then(() => undefined));
    }, 100);
    const started = Date.now();
    liveStarted = started;
    const liveFromTs = Math.max(started, seed.toTs + 1000);
    exporter.start();
    let caughtUpMs: number | null = null;
    let lastPrint = started;
    while (Date.now() - started < maxS * 1000) {
      await new Promise((r) => setTimeout(r, 100));
      const lag = await store.exportLag(exporter.stats().position ?? 0);
      if (Date.now() - lastPrint >= 5000) {
        lastPrint = Date.now();
        console.error(`  exported ${exporter.stats().exportedFrames}, lag ${lag.frames} frames, live +${liveFrames}`);
      }
      if (lag.frames === 0 && exporter.stats().exportedFrames >= seed.frames) {
        caughtUpMs = Date.now() - started;
        break;
      }
    }
    const exportedAtCatchUp = exporter.stats().exportedFrames;
    // 3. the fleet stops; the last frames go out; every one is counted on the server
    clearInterval(liveTimer);
    liveTimer = undefined;
    await appending;
    const total = seed.frames + liveFrames;
    const drainStart = Date.now();
    while ((await store.exportLag(exporter.stats().position ?? 0)).frames > 0 && Date.now() - drainStart < 60_000)
      await new Promise((r) => setTimeout(r, 100));
    await exporter.stop();
    // frames the export had not sent when the run ended (not caught up within --max): pending, not lost
    const pending = (await store.exportLag(exporter.stats().position ?? 0)).frames;
    const onServer = await countPoints(`http://127.0.0.1:${port}`, fromTs, liveLastTs);
    const elapsedS = (caughtUpMs ?? Date.now() - started) / 1000;
    const exportRate = exportedAtCatchUp / elapsedS;
    const result = {
      vehicles,
      rateHz,
      outageS,
      backlogFrames: seed.frames,
      seededBy: 'store.append',
      storeAppendPerS: Math.round(storeRate),
      fleetPerS: fleetRate,
      exportPerS: Math.round(exportRate),
      exportToFleet: round(exportRate / fleetRate, 1),
      exportToStoreAppend: round(exportRate / storeRate, 2),
      catchUpS: caughtUpMs === null ? null : round(caughtUpMs / 1000, 1),
      caughtUp: caughtUpMs !== null,
      liveFrames,
      totalFrames: total,
      pointsOnServer: onServer.points,
      seriesOnServer: onServer.series,
      pendingAtEnd: pending,
      lost: total - pending - onServer.points,
      exportFailures: exporter.stats().failures,
      batchFrames,
      cores: cpus().length,
    };
    console.error(`
export after a ${outageS} s outage of ${vehicles} vehicles × ${rateHz} Hz (${seed.frames.toLocaleString('en')} frames backlog)
  export rate        ${result.exportPerS.toLocaleString('en')} frames/s  (while the fleet stored ${fleetRate.toLocaleString('en')} frames/s)
  fleet ingest rate  ${fleetRate.toLocaleString('en')} frames/s  → export is ${result.exportToFleet}× the fleet's rate
  store append rate  ${result.storeAppendPerS.toLocaleString('en')} frames/s (seeding, no MQTT; bench:ingest measures ingest over MQTT)
  catch-up           ${result.catchUpS ?? `not within ${maxS}`} s   (backlog / (export − fleet) ≈ ${round(seed.frames / Math.max(1, exportRate - fleetRate), 1)} s)
  on the server      ${onServer.points.toLocaleString('en')} points in ${onServer.series} series of ${total.toLocaleString('en')} stored (${pending} not yet exported): lost ${result.lost}`);
    console.log(JSON.stringify(result));
    return result.lost === 0 && result.caughtUp ? 0 : 1;
  } finally {
    if (liveTimer) clearInterval(liveTimer);
    await store.close();
    await stopVictoria(vm);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
