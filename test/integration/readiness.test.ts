import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { telemetryFile } from '../../platform/data-files.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import type { RecordsDb } from '../../records/db.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { openTestRecords, TEST_RECORDS_DIALECT, withAdmin } from '../helpers/records.ts';
import { parsePrometheusText } from '../helpers/prometheus-text.ts';

interface Report {
  ready: boolean;
  status: string;
  node: string;
  failing: string[];
  checks: Record<string, { ok: boolean; failure?: string }>;
}

const get = async (tp: TestPlatform, path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`http://127.0.0.1:${tp.platform.ports.http}${path}`, { headers });
  return { status: res.status, body: (await res.json()) as Report };
};

/** Issue 18 item 7: `/readyz` names each dependency; a graceful stop turns it 503 first. */
describe('readiness and drain', () => {
  let tp: TestPlatform | undefined;
  let records: RecordsDb | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await tp?.close();
    tp = undefined;
    await records?.destroy().catch(() => undefined);
    records = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('answers 200 on a started platform, each check named, and labels /metrics with the node', async () => {
    const token = 'readiness-scrape-token-0123456789';
    tp = await startTestPlatform({ NODE_ID: 'node-a', METRICS_TOKEN: token });
    const { status, body } = await get(tp, '/readyz');
    expect(status).toBe(200);
    expect(body).toMatchObject({ ready: true, status: 'ready', node: 'node-a', failing: [] });
    expect(Object.keys(body.checks).sort()).toEqual(['broker', 'records', 'telemetry']);
    for (const c of Object.values(body.checks)) expect(c.ok).toBe(true);

    const text = await (
      await fetch(`http://127.0.0.1:${tp.platform.ports.http}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).text();
    const families = parsePrometheusText(text);
    expect(families.size).toBeGreaterThan(10);
    for (const f of families.values())
      for (const s of f.samples) expect(s.labels.node, `${s.name} has the node label`).toBe('node-a');
    expect(families.get('powerwatch_draining')?.samples[0]?.value).toBe(0);
  });

  it('answers 503 naming `records` once the records database is closed', async () => {
    records = await openTestRecords();
    tp = await startTestPlatform({}, { records });
    expect((await get(tp, '/readyz')).status).toBe(200);
    await records.destroy();
    const { status, body } = await get(tp, '/readyz');
    expect(status).toBe(503);
    expect(body).toMatchObject({ ready: false, status: 'not_ready', failing: ['records'] });
    expect(body.checks.records).toEqual({ ok: false, ms: expect.any(Number), failure: 'failed' });
    expect(body.checks.broker!.ok).toBe(true);
    // liveness is not readiness: the process still runs
    expect((await fetch(`http://127.0.0.1:${tp.platform.ports.http}/healthz`)).status).toBe(200);
    // the platform cannot stop cleanly without its records; what it holds is closed by hand
    const platform = tp.platform;
    dataDir = tp.dataDir; // afterEach removes it
    tp = undefined;
    records = undefined;
    await platform.stop().catch(() => undefined);
    await platform.telemetry.close();
  });

  it.skipIf(TEST_RECORDS_DIALECT !== 'postgres')(
    'answers 503 naming `records` while PostgreSQL refuses connections, 200 again once it takes them',
    async () => {
      const started = (tp = await startTestPlatform());
      const name = new URL(started.platform.config.DATABASE_URL!).pathname.slice(1);
      expect((await get(tp, '/readyz')).status).toBe(200);
      await withAdmin(async (admin) => {
        await admin.query(`alter database "${name}" allow_connections false`);
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      });
      try {
        const { status, body } = await get(tp, '/readyz');
        expect(status).toBe(503);
        expect(body.failing).toEqual(['records']);
      } finally {
        await withAdmin((admin) => admin.query(`alter database "${name}" allow_connections true`));
      }
      // a connection ended while the database refused them may answer the first check after: ready again within seconds
      await vi.waitFor(async () => expect((await get(started, '/readyz')).status).toBe(200), {
        timeout: 5000,
        interval: 200,
      });
    },
  );

  it('turns 503 when the drain begins, while QoS 1 frames in flight still get their PUBACK and are stored', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pw-drain-'));
    // a commit per second at most: the frames wait in ingest when the drain begins
    tp = await startTestPlatform({ INGEST_BATCH_FRAMES: '10000', INGEST_FLUSH_MS: '1000' }, { dataDir });
    const platform = tp.platform;
    const { id, secret } = await tp.addVehicle('DR1');
    const gateway = await tp.connect(id, secret);
    const t0 = Date.now() - 600_000;
    const sent = Array.from({ length: 30 }, (_, seq) =>
      gateway.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(seq, t0 + seq * 1000)), { qos: 1 }),
    );
    // every frame has reached ingest and waits for its commit (none acknowledged yet)
    await vi.waitFor(() => expect(platform.ingest.stats().queuedFrames).toBe(30), { timeout: 5000 });
    expect(platform.counters.get('ingest.frames_stored')).toBe(0);

    platform.beginDrain();
    const { status, body } = await get(tp, '/readyz');
    expect(status).toBe(503);
    expect(body).toMatchObject({ ready: false, status: 'draining', failing: ['broker'] });
    expect(body.checks.broker).toMatchObject({ ok: false, failure: 'draining' });
    expect(body.checks.records!.ok).toBe(true);
    // liveness stays 200 while draining: an orchestrator must not kill the node for it
    const health = await fetch(`http://127.0.0.1:${platform.ports.http}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ draining: true });

    // the frames in flight are committed and acknowledged, and more still are while draining
    await withTimeout(Promise.all(sent), 5000, 'the PUBACKs of the frames in flight');
    await gateway.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(30, t0 + 30_000)), { qos: 1 });
    expect((await get(tp, '/readyz')).status).toBe(503);

    await platform.stop();
    const store = createSqliteTelemetryStore({ file: telemetryFile(dataDir) });
    try {
      const seqs = (await store.frames(id, 0, Date.now())).map((f) => f.frame.seq);
      expect(seqs).toEqual(Array.from({ length: 31 }, (_, i) => i));
    } finally {
      await store.close();
    }
  });
});
