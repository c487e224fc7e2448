/**
 * The console's two big reads on an otherwise idle platform, each against the way it was read
 * before, in the same run:
 *
 * - the fleet list, GET /api/vehicles, at fleet size: the whole request (HTTP, session, registry,
 *   presence, alarms, latest frames, derived values, serialisation), and on the store alone the
 *   latest frame of every vehicle one by one (as the route did) and in bulk (latestMany);
 * - a day of one vehicle at 1 Hz (86,400 frames) downsampled to 2,000 points,
 *   GET /api/vehicles/:id/telemetry, and on the store alone from the frames (before the writer
 *   thread rolled them up) and from the rollups.
 *
 * The platform runs in this process (ports picked free, a fresh temp DATA_DIR) on N provisioned
 * vehicles with `--frames` frames each (1 Hz up to now) plus the day of history of the first one,
 * seeded into telemetry.db before the start.
 *
 *   npx tsx bench/live/reads.ts [--vehicles 2000] [--frames 60] [--runs 30]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../../core/logger.ts';
import { loadConfig } from '../../platform/config.ts';
import { createPlatform } from '../../platform/platform.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { provisionVehicles } from '../shared/provision.ts';
import { createConsoleAccounts } from './accounts.ts';
import { historyFrame, seedTelemetry } from './history.ts';
import { login } from '../shared/console-client.ts';
import { summarize } from './stats.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values: a } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '2000' },
    frames: { type: 'string', default: '60' },
    runs: { type: 'string', default: '30' },
  },
});
const vehicles = Number(a.vehicles);
const framesPer = Number(a.frames);
const runs = Number(a.runs);
const say = (s = '') => process.stdout.write(s + '\n');

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'pw-bench-reads-'));
  try {
    say(`console reads bench — ${new Date().toISOString()} — ${availableParallelism()} cores, node ${process.version}`);
    say(`provisioning ${vehicles} vehicles, ${framesPer} frames each …`);
    const creds = await provisionVehicles(ROOT, dir, vehicles);
    const end = Date.now() - 1000;
    const file = join(dir, 'telemetry.db');
    await seedTelemetry(file, vehicles * framesPer, (i) => {
      const v = i % vehicles;
      const k = Math.floor(i / vehicles);
      const ts = end - (framesPer - 1 - k) * 1000 - v;
      return { vehicleId: creds[v]!.id, receivedAt: ts + 20, frame: historyFrame(k, ts, v) };
    });
    const DAY = 86_400;
    const dayEnd = end - framesPer * 1000;
    await seedTelemetry(file, DAY, (i) => {
      const ts = dayEnd - (DAY - i) * 1000;
      return { vehicleId: creds[0]!.id, receivedAt: ts + 20, frame: historyFrame(100_000 + i, ts) };
    });
    const [user] = await createConsoleAccounts(dir, 1);
    const day = (to: number) => ({ vehicleId: creds[0]!.id, from: to - DAY * 1000, to, maxPoints: 2000 });

    // the day from the frames: nothing is rolled up yet (the seeding wrote inline)
    const fromFrames: number[] = [];
    const plain = createSqliteTelemetryStore({ file, writer: 'inline' });
    for (let i = 0; i < runs + 3; i++) {
      const t = await timed(() => plain.series(day(Date.now())));
      if (i >= 3) fromFrames.push(t.ms);
    }
    await plain.close();

    const log = createLogger({ level: 'warn' });
    const config = loadConfig({
      DATA_DIR: dir,
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DIAGNOSTICS_RECOVERY_MS: '0',
    });
    const platform = await createPlatform(config, { log });
    try {
      const { http } = await platform.start();
      const base = `http://127.0.0.1:${http}`;
      const cookie = await login(base, user!);
      const ids = creds.map((c) => c.id);

      const list = async () => {
        const res = await fetch(`${base}/api/vehicles`, { headers: { cookie } });
        const body = await res.text();
        if (res.status !== 200) throw new Error(`GET /api/vehicles: ${res.status} ${body.slice(0, 200)}`);
        return body.length;
      };
      const one = async () => {
        const got = await Promise.all(ids.map((id) => platform.telemetry.latest(id)));
        return got.filter(Boolean).length;
      };
      const bulk = async () => (await platform.telemetry.latestMany(ids)).size;
      await (platform.telemetry as SqliteTelemetryStore).compactRollups();
      const history = async () => {
        const to = Date.now();
        const res = await fetch(
          `${base}/api/vehicles/${creds[0]!.id}/telemetry?from=${to - DAY * 1000}&to=${to}&maxPoints=2000`,
          { headers: { cookie } },
        );
        const body = (await res.json()) as { ts: number[] };
        if (res.status !== 200) throw new Error(`GET …/telemetry: ${res.status}`);
        return body.ts.length;
      };
      const rolled = async () => (await platform.telemetry.series(day(Date.now()))).ts.length;

      for (let i = 0; i < 3; i++) for (const f of [list, one, bulk, history, rolled]) await f();
      const t = {
        list: [] as number[],
        one: [] as number[],
        bulk: [] as number[],
        history: [] as number[],
        rolled: [] as number[],
      };
      let bytes = 0;
      let points = 0;
      let found = [0, 0];
      for (let i = 0; i < runs; i++) {
        const h = await timed(list);
        t.list.push(h.ms);
        bytes = h.value;
        const o = await timed(one);
        t.one.push(o.ms);
        const b = await timed(bulk);
        t.bulk.push(b.ms);
        found = [o.value, b.value];
        const q = await timed(history);
        t.history.push(q.ms);
        points = q.value;
        t.rolled.push((await timed(rolled)).ms);
      }
      const s = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summarize(v)])) as Record<
        keyof typeof t,
        ReturnType<typeof summarize>
      >;
      const ff = summarize(fromFrames);
      say('');
      say(
        `GET /api/vehicles, ${vehicles} vehicles (${Math.round(bytes / 1024)} KiB): min ${s.list.min} ms, p50 ${s.list.p50} ms, p95 ${s.list.p95} ms, max ${s.list.max} ms over ${runs} runs`,
      );
      say(
        `  store, latest frame of every vehicle one by one: min ${s.one.min} ms, p50 ${s.one.p50} ms, max ${s.one.max} ms (${found[0]} found)`,
      );
      say(
        `  store, latestMany of all ${vehicles}:             min ${s.bulk.min} ms, p50 ${s.bulk.p50} ms, max ${s.bulk.max} ms (${found[1]} found)`,
      );
      say(
        `GET /api/vehicles/:id/telemetry, 24 h at 1 Hz → ${points} points: min ${s.history.min} ms, p50 ${s.history.p50} ms, p95 ${s.history.p95} ms, max ${s.history.max} ms`,
      );
      say(`  store, from the 86,400 frames: min ${ff.min} ms, p50 ${ff.p50} ms, max ${ff.max} ms`);
      say(`  store, from the rollups:       min ${s.rolled.min} ms, p50 ${s.rolled.p50} ms, max ${s.rolled.max} ms`);
      say(
        JSON.stringify({
          vehicles,
          framesPerVehicle: framesPer,
          runs,
          listP50Ms: s.list.p50,
          listP95Ms: s.list.p95,
          listMaxMs: s.list.max,
          latestOneByOneP50Ms: s.one.p50,
          latestManyP50Ms: s.bulk.p50,
          historyP50Ms: s.history.p50,
          historyMaxMs: s.history.max,
          seriesFromFramesP50Ms: ff.p50,
          seriesFromRollupsP50Ms: s.rolled.p50,
          bytes,
        }),
      );
    } finally {
      await platform.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`reads bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
