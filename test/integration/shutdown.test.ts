import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { createSqliteTelemetryStore } from '../../telemetry/sqlite-store.ts';
import { closed, frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';
import { telemetryFile } from '../../platform/data-files.ts';

const CLIENTS = 6;
const FRAMES_PER_CLIENT = 400;

/** Graceful shutdown while gateways publish: every frame whose PUBACK reached a gateway is on disk. */
describe('shutdown flush', () => {
  let dataDir: string | undefined;
  let tp: TestPlatform | undefined;

  afterEach(async () => {
    await tp?.close();
    tp = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('stores every acknowledged QoS 1 frame when stop() runs in the middle of the traffic', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pw-shutdown-'));
    // Commits happen per 250 frames, or after a whole second: when stop() comes, frames that ingest
    // accepted are usually still waiting for their commit, so the shutdown flush has work to do.
    tp = await startTestPlatform({ INGEST_BATCH_FRAMES: '250', INGEST_FLUSH_MS: '1000' }, { dataDir });
    const platform = tp.platform;

    const clients: MqttClient[] = [];
    for (let c = 0; c < CLIENTS; c++) {
      const { id, secret } = await tp.addVehicle(`SD${c}`);
      clients.push(await tp.connect(id, secret));
    }

    const acked: { vehicleId: string; seq: number; ts: number }[] = [];
    let firstAcks!: () => void;
    const enoughAcked = new Promise<void>((resolve) => (firstAcks = resolve));
    const t0 = Date.now() - 3_600_000;
    const publishes = clients.flatMap((client, c) => {
      const vehicleId = `SD${c}`;
      return Array.from({ length: FRAMES_PER_CLIENT }, (_, seq) => {
        const ts = t0 + seq * 1000;
        return client
          .publishAsync(vehicleTopic(vehicleId, 'telemetry'), JSON.stringify(frame(seq, ts)), { qos: 1 })
          .then(
            () => {
              acked.push({ vehicleId, seq, ts });
              if (acked.length === 200) firstAcks();
            },
            () => undefined, // never acknowledged: the connection closed first
          );
      });
    });

    // stop while most publishes are still in flight
    await withTimeout(enoughAcked, 10_000, '200 PUBACKs');
    const ackedBeforeStop = acked.length;
    const allClosed = Promise.all(clients.map((c) => closed(c, 10_000)));
    await withTimeout(platform.stop(), 10_000, 'platform.stop()');
    const accepted = platform.counters.get('ingest.frames_stored');
    expect(platform.counters.get('ingest.messages', 'telemetry')).toBe(accepted);
    // stop() closes the sessions itself
    await allClosed;
    // a PUBACK cannot arrive any more: settle what is left
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all(publishes);

    expect(ackedBeforeStop).toBeGreaterThanOrEqual(200);
    expect(acked.length).toBeGreaterThanOrEqual(ackedBeforeStop);
    // the test is only meaningful when stop() interrupted the traffic
    expect(acked.length).toBeLessThan(CLIENTS * FRAMES_PER_CLIENT);

    const store = createSqliteTelemetryStore({ file: telemetryFile(dataDir) });
    try {
      const missing: string[] = [];
      for (let c = 0; c < CLIENTS; c++) {
        const vehicleId = `SD${c}`;
        const onDisk = new Set(
          (await store.frames(vehicleId, 0, Date.now())).map((f) => `${f.frame.seq}@${f.frame.ts}`),
        );
        for (const a of acked.filter((x) => x.vehicleId === vehicleId))
          if (!onDisk.has(`${a.seq}@${a.ts}`)) missing.push(`${vehicleId}:${a.seq}`);
      }
      expect(missing).toEqual([]);
      // and everything ingest accepted before it stopped was committed, acknowledged or not
      expect(await store.count()).toBe(accepted);
    } finally {
      await store.close();
    }
  });
});
