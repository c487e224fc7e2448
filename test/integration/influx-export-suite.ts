import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startVictoria, stopVictoria, VICTORIA_METRICS } from '../../bench/export/victoria.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.ts';

/**
 * Issue 19, item 1: every stored frame reaches InfluxDB's write API from a durable cursor, also
 * across an outage — on each telemetry store (test/integration/influx-export.test.ts: SQLite;
 * test/telemetry/postgres-influx-export.test.ts: PostgreSQL). The receiving server is Debian's victoria-metrics, which implements
 * `/api/v2/write`; points are read back through its `/api/v1/export`. With
 * `-dedup.minScrapeInterval=1ms` a point written twice (same series and timestamp) counts once, as
 * InfluxDB overwrites it.
 */
const VM = VICTORIA_METRICS;
const TOKEN = 'influx-export-test-scrape-token-0123456789';
const present = existsSync(VM);

/** The platform's environment for one store, and what to remove after. */
export type StoreSetup = () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;

export function describeInfluxExport(store: string, setup: StoreSetup, enabled = true) {
  if (enabled && !present)
    console.warn(`SKIPPED: ${VM} is absent (apt-get install victoria-metrics; .ci/run installs it)`);
  describe.skipIf(!present || !enabled)(`InfluxDB export to victoria-metrics (/api/v2/write), ${store} store`, () => {
    suite(setup);
  });
}

function suite(setup: StoreSetup) {
  let cleanup: (() => Promise<void>) | undefined;
  let vmDir: string;
  let port: number;
  let vm: ChildProcess | undefined;
  let tp: TestPlatform;

  beforeAll(async () => {
    vmDir = mkdtempSync(join(tmpdir(), 'pw-vm-'));
    port = await freePort();
    vm = await startVictoria(vmDir, port);
    const store = await setup();
    cleanup = store.cleanup;
    tp = await startTestPlatform({
      ...store.env,
      INFLUX_URL: `http://127.0.0.1:${port}`,
      METRICS_TOKEN: TOKEN,
      INFLUX_BATCH_FRAMES: '50',
      INFLUX_IDLE_MS: '20',
      INFLUX_BACKOFF_MIN_MS: '20',
      INFLUX_BACKOFF_MAX_MS: '200',
    });
  });
  afterAll(async () => {
    await tp?.close();
    if (vm) await stopVictoria(vm);
    rmSync(vmDir, { recursive: true, force: true });
    await cleanup?.();
  });

  // each stored frame once: the cursor only moves forward, and by the frames the server accepted
  const exportedAll = async () => {
    const target = await tp.platform.telemetry.count();
    await tp.platform.influxExport!.until((s) => s.exportedFrames >= target);
  };

  /** Every point of a field, by vehicle: timestamps and values as the server holds them. */
  async function readBack(field: string): Promise<Map<string, { ts: number[]; values: number[] }>> {
    await fetch(`http://127.0.0.1:${port}/internal/force_flush`);
    const url = `http://127.0.0.1:${port}/api/v1/export?match[]=${encodeURIComponent(`{__name__="power_${field}"}`)}&start=0`;
    const text = await (await fetch(url)).text();
    const out = new Map<string, { ts: number[]; values: number[] }>();
    for (const line of text.split('\n').filter(Boolean)) {
      const s = JSON.parse(line) as { metric: Record<string, string>; values: number[]; timestamps: number[] };
      out.set(s.metric.vehicle!, { ts: s.timestamps, values: s.values });
    }
    return out;
  }

  async function publish(id: string, secret: string, from: number, n: number, t0: number) {
    const client = await tp.connect(id, secret);
    for (let seq = from; seq < from + n; seq += 10) {
      const batch = Array.from({ length: 10 }, (_, i) =>
        frame(seq + i, t0 + (seq + i) * 1000, { loadKw: (seq + i) / 10 }),
      );
      // PUBACK after the commit: ingest answers whether or not the export keeps up
      await client.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify({ frames: batch }), { qos: 1 });
    }
    await client.endAsync();
  }

  it('exports every frame with its tags, then loses nothing and duplicates nothing across an outage', async () => {
    const t0 = Date.now() - 3_600_000;
    const vehicles = await Promise.all(['INF-1', 'INF-2'].map((id) => tp.addVehicle(id, 'UNIT-A')));
    for (const v of vehicles) await publish(v.id, v.secret, 0, 100, t0);
    await exportedAll();
    const first = await readBack('loadKw');
    for (const v of vehicles) {
      expect(first.get(v.id)?.ts).toHaveLength(100);
      expect(first.get(v.id)?.values[99]).toBeCloseTo(9.9);
    }

    // the server goes away; ingest goes on and the export fails and backs off
    const failuresBefore = tp.platform.influxExport!.stats().failures;
    await stopVictoria(vm!);
    for (const v of vehicles) await publish(v.id, v.secret, 100, 200, t0);
    await tp.platform.influxExport!.until((s) => s.failures > failuresBefore && !s.up);
    expect(await tp.platform.telemetry.count()).toBe(600);
    // the lag and the failures show in the Prometheus metrics
    const metrics = parsePrometheusText(
      await (
        await fetch(`http://127.0.0.1:${tp.platform.ports.http}/metrics`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).text(),
    );
    expect(sampleValue(metrics, 'powerwatch_influx_export_lag_frames')).toBe(400);
    expect(sampleValue(metrics, 'powerwatch_influx_export_up')).toBe(0);
    expect(sampleValue(metrics, 'powerwatch_influx_export_failures_total')).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'powerwatch_influx_export_frames_total')).toBe(200);

    // back: it catches up from its cursor
    vm = await startVictoria(vmDir, port);
    await exportedAll();
    const after = await readBack('loadKw');
    for (const v of vehicles) {
      const got = after.get(v.id)!;
      expect(got.ts).toHaveLength(300);
      expect(new Set(got.ts).size).toBe(300);
      expect(got.ts).toEqual(Array.from({ length: 300 }, (_, i) => t0 + i * 1000));
      expect(got.values).toEqual(Array.from({ length: 300 }, (_, i) => i / 10));
    }
    // the tags a dashboard groups by. The search names the points' own time range: with `start=0`
    // victoria-metrics found nothing when the points lay before midnight UTC and the query after it
    // (both CI failures ran at 00:2x UTC; reproduced at 00:44). Its index is written in the
    // background, so the search is also polled.
    const seriesTags = async () => {
      await fetch(`http://127.0.0.1:${port}/internal/force_flush`);
      const series = (await (
        await fetch(
          `http://127.0.0.1:${port}/api/v1/series?match[]=${encodeURIComponent('{__name__="power_mains_voltageV"}')}&start=${Math.floor(t0 / 1000) - 60}&end=${Math.ceil(Date.now() / 1000) + 60}`,
        )
      ).json()) as { data: Record<string, string>[] };
      return series.data.map((m) => [m.vehicle, m.unit, m.model]).sort();
    };
    await expect.poll(seriesTags, { timeout: 10_000, interval: 200 }).toEqual([
      ['INF-1', 'UNIT-A', expect.any(String)],
      ['INF-2', 'UNIT-A', expect.any(String)],
    ]);
    expect(tp.platform.influxExport!.stats().up).toBe(true);
  });
}
