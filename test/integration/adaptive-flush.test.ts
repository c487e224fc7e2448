import { afterEach, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, startTestPlatform, withTimeout, type TestPlatform } from '../helpers/platform.ts';

/** INGEST_FLUSH=adaptive through the platform, over MQTT: no timer between a frame and its commit. */
describe('adaptive group commit', () => {
  let tp: TestPlatform | undefined;

  // close() ends the clients, stops the platform and removes the data directory it made
  afterEach(async () => {
    await tp?.close();
    tp = undefined;
  });

  it('acknowledges stored frames without waiting for INGEST_FLUSH_MS, and stores every acknowledged one', async () => {
    // the longest timer there is: with it, each PUBACK below would wait a second
    tp = await startTestPlatform({ INGEST_FLUSH: 'adaptive', INGEST_FLUSH_MS: '1000', INGEST_BATCH_FRAMES: '10000' });
    const vehicles = ['AF1', 'AF2', 'AF3'];
    const clients = await Promise.all(
      vehicles.map(async (v) => {
        const { id, secret } = await tp!.addVehicle(v);
        return tp!.connect(id, secret);
      }),
    );
    const t0 = Date.now() - 600_000;
    // one after another, each waiting for its PUBACK: ten seconds with the timer, far less without
    const sequential = 10;
    await withTimeout(
      (async () => {
        for (let seq = 0; seq < sequential; seq++)
          await clients[0]!.publishAsync(
            vehicleTopic('AF1', 'telemetry'),
            JSON.stringify(frame(seq, t0 + seq * 1000)),
            {
              qos: 1,
            },
          );
      })(),
      5_000,
      'ten PUBACKs one after another, without the timer between them',
    );
    expect(await tp.platform.telemetry.count('AF1')).toBe(sequential);
    // many at once from several vehicles: gathered into few commits, every one acknowledged and stored
    const n = 50;
    const offset = sequential;
    await withTimeout(
      Promise.all(
        clients.flatMap((client, c) =>
          Array.from({ length: n }, (_, seq) =>
            client.publishAsync(
              vehicleTopic(vehicles[c]!, 'telemetry'),
              JSON.stringify(frame(offset + seq, t0 + (offset + seq) * 1000)),
              { qos: 1 },
            ),
          ),
        ),
      ),
      10_000,
      'every PUBACK',
    );
    // acknowledged means stored
    expect(await tp.platform.telemetry.count('AF1')).toBe(sequential + n);
    for (const v of ['AF2', 'AF3']) expect(await tp.platform.telemetry.count(v)).toBe(n);
    // fewer commits than messages: what arrived while a commit was under way went in one batch
    expect(tp.platform.ingest.stats().batches).toBeLessThan(sequential + 3 * n);
  });
});
