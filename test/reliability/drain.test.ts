import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { recordsFile, telemetryFile } from '../../platform/data-files.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { openSqliteRecords } from '../../records/db.ts';
import { createVehicleRegistry } from '../../registry/vehicles.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { frame, withTimeout } from '../helpers/platform.ts';
import { freePort, outputOf, startPlatformProcess, until } from './kill-loop.ts';

const GATEWAYS = 4;
/** Each gateway's frames at most (a bound; the drain ends the stream long before). */
const MAX_FRAMES = 20_000;
const IN_FLIGHT = 8;
const DRAIN_TIMEOUT_MS = 20_000;

/**
 * SIGTERM to the platform process while gateways stream QoS 1 telemetry: /readyz answers 503 first
 * (DRAIN_READY_DELAY_MS) while the frames go on being acknowledged, then the gateways' connections
 * are closed (spread over DRAIN_MOVE_MS), the commits finish and the process exits 0 within
 * DRAIN_TIMEOUT_MS. Every frame a gateway saw acknowledged is in the store.
 */
describe('graceful drain of a platform process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-drain-proc-'));
  const dataDir = join(dir, 'data');
  const children: ChildProcess[] = [];
  const clients: MqttClient[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns /readyz 503, keeps acknowledging, stores every acknowledged frame and exits 0 in time', async () => {
    const db = await openSqliteRecords({ file: recordsFile(dataDir) });
    const vehicles = createVehicleRegistry({ db });
    const secrets: { id: string; secret: string }[] = [];
    for (let g = 0; g < GATEWAYS; g++) {
      const id = `DRN${g}`;
      secrets.push({ id, secret: (await vehicles.add({ id, customerId: 'C1' })).secret });
    }
    await db.destroy();

    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const child = await startPlatformProcess(children, dataDir, {
      MQTT_PORT: String(mqttPort),
      HTTP_PORT: String(httpPort),
      NODE_ID: 'drain-node',
      DRAIN_READY_DELAY_MS: '2000',
      DRAIN_MOVE_MS: '500',
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      INGEST_FLUSH_MS: '20',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(5000) });
      return { status: res.status, body: (await res.json()) as { status: string; node: string; failing: string[] } };
    };
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready', node: 'drain-node' } });

    // the gateways stream: IN_FLIGHT QoS 1 frames each, the next sent as one is acknowledged
    const acked: { id: string; seq: number; ts: number }[] = [];
    const t0 = Date.now() - 3_600_000;
    const streams = secrets.map(async ({ id, secret }) => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      clients.push(client);
      client.on('error', () => undefined);
      await withTimeout(
        new Promise<void>((resolve) => client.once('connect', () => resolve())),
        10_000,
        `${id} to connect`,
      );
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      let next = 0;
      const lane = async () => {
        while (next < MAX_FRAMES && client.connected) {
          const seq = next++;
          const ts = t0 + seq * 100;
          const ok = await client
            .publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(seq, ts)), { qos: 1 })
            .then(
              () => true,
              () => false,
            );
          if (!ok) return;
          acked.push({ id, seq, ts });
        }
      };
      const lanes = Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      await closed;
      // a PUBACK cannot come any more: what is still pending is given up
      client.end(true);
      await lanes;
    });

    await until(() => acked.length >= 200, 20_000, '200 acknowledged frames');
    const sigterm = performance.now();
    child.kill('SIGTERM');
    await until(() => outputOf(child).includes('draining: /readyz answers 503'), 5000, 'the drain to begin');
    const during = await readyz();
    const ackedAtReadyz = acked.length;
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ status: 'draining', node: 'drain-node', failing: ['broker'] });
    // the gateways are still served while the balancers notice: more frames are acknowledged
    await until(() => acked.length > ackedAtReadyz + 50, 5000, 'acknowledgements while draining');

    const code = await withTimeout(exited, DRAIN_TIMEOUT_MS + 5000, 'the process to exit');
    const took = performance.now() - sigterm;
    expect(code, outputOf(child).slice(-3000)).toBe(0);
    expect(took).toBeLessThan(DRAIN_TIMEOUT_MS);
    // it waited the readiness delay before closing anything
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(outputOf(child)).toContain('closing MQTT connections');
    await withTimeout(Promise.all(streams), 10_000, 'the gateways to be closed');

    const store = createSqliteTelemetryStore({ file: telemetryFile(dataDir) });
    try {
      const missing: string[] = [];
      for (const { id } of secrets) {
        const onDisk = new Set((await store.frames(id, 0, Date.now())).map((f) => `${f.frame.seq}@${f.frame.ts}`));
        for (const a of acked) if (a.id === id && !onDisk.has(`${a.seq}@${a.ts}`)) missing.push(`${id}:${a.seq}`);
      }
      expect(acked.length).toBeGreaterThan(ackedAtReadyz);
      expect(missing).toEqual([]);
    } finally {
      await store.close();
    }
  }, 90_000);
});
