import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { vehicleTopic } from '../../protocol/index.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/records.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

describe.skipIf(!process.env.TEST_DATABASE_URL)('the platform on TELEMETRY_STORE=postgres (TEST_DATABASE_URL)', () => {
  let t: TestPlatform | undefined;
  let url: string | undefined;
  afterEach(async () => {
    await t?.close();
    if (url) await dropTestDatabase(url);
    t = url = undefined;
  });

  it('stores a frame published over MQTT in PostgreSQL before the PUBACK', async () => {
    url = await createTestDatabase({ empty: true });
    t = await startTestPlatform({ TELEMETRY_STORE: 'postgres', TELEMETRY_DATABASE_URL: url });
    const { id, secret } = await t.addVehicle('PGV1');
    const gateway = await t.connect(id, secret);
    const ts = Date.now();
    // resolves on the PUBACK, which waits for the commit
    await gateway.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(1, ts, { loadKw: 4.25 })), {
      qos: 1,
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT seq, ts, load_kw FROM telemetry_frames WHERE vehicle_id = $1`, [id]);
      expect(rows).toEqual([{ seq: '1', ts: String(ts), load_kw: 4.25 }]);
    } finally {
      await client.end();
    }
    expect((await t.platform.telemetry.latest(id))?.frame.loadKw).toBe(4.25);
    // nothing went to the embedded file
    expect(existsSync(join(t.dataDir, 'telemetry.db'))).toBe(false);
  });
});
