import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../core/errors.ts';
import { startWeb, type TestWeb } from '../web/helpers.ts';

/**
 * Issue 16, item 10: a vehicle could be created with a `svc-` id, the prefix the MQTT login reads
 * as a service account. Refused at creation (registry, console API, CLI) with VEHICLE_ID_RESERVED.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let w: TestWeb;
beforeAll(async () => {
  w = await startWeb();
});
afterAll(async () => {
  await w.app.close();
});

describe('a vehicle id with the svc- prefix', () => {
  it('is refused by the registry', async () => {
    const err = await w.vehicles.add({ id: 'svc-bridge', customerId: 'CA' }).catch((e: unknown) => e);
    expect(isPlatformError(err) && err.code).toBe('VEHICLE_ID_RESERVED');
    expect(await w.vehicles.get('svc-bridge')).toBeUndefined();
    // ids that only look alike are vehicles like any other
    await expect(w.vehicles.add({ id: 'svc_bridge', customerId: 'CA' })).resolves.toBeDefined();
  });

  it('is refused by POST /api/vehicles with 400 VEHICLE_ID_RESERVED', async () => {
    const admin = await w.login('admin');
    const res = await admin.post('/api/vehicles', { id: 'svc-anything', customerId: 'CA' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VEHICLE_ID_RESERVED' } });
  });

  it('is refused by the provisioning CLI', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pw-ids-'));
    try {
      const r = await promisify(execFile)(
        'npx',
        ['tsx', 'registry/cli.ts', 'add', 'svc-x', '--customer', 'C1', '--json'],
        {
          cwd: ROOT,
          env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
          timeout: 30_000,
        },
      ).catch((e: { code: number; stdout: string }) => e);
      expect(r).toMatchObject({ code: 1 });
      expect(JSON.parse((r as { stdout: string }).stdout.trim())).toMatchObject({
        error: { code: 'VEHICLE_ID_RESERVED' },
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
