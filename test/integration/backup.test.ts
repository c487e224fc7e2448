import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { backupDataDir, restoreDataDir } from '../../platform/backup.ts';
import { vehicleTopic } from '../../protocol/index.ts';
import { frame, startTestPlatform, type TestPlatform } from '../helpers/platform.ts';

/** Issue 19, item 6: an online backup under ingest, restored into a fresh platform. */
const dirs: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('backup and restore', () => {
  it('a backup taken while frames arrive holds every frame acknowledged before it, and the records', async () => {
    const source = tmp('pw-backup-src-');
    const tp: TestPlatform = await startTestPlatform({}, { dataDir: source });
    const { id, secret } = await tp.addVehicle('BAK-1', 'UNIT-B');
    const client = await tp.connect(id, secret);
    const t0 = Date.now() - 600_000;
    const acked: number[] = [];
    let seq = 0;
    let stop = false;
    // ingest keeps going during the backup: each frame is counted once its PUBACK came
    const publishing = (async () => {
      while (!stop) {
        const s = seq++;
        await client.publishAsync(vehicleTopic(id, 'telemetry'), JSON.stringify(frame(s, t0 + s * 100)), { qos: 1 });
        acked.push(s);
      }
    })();
    while (acked.length < 200) await new Promise((r) => setImmediate(r));
    const ackedBefore = acked.length;
    const backupDir = join(tmp('pw-backup-'), 'b');
    const { files } = await backupDataDir(source, backupDir);
    stop = true;
    await publishing;
    expect(files).toEqual(expect.arrayContaining(['records.db', 'telemetry.db']));
    expect(acked.length).toBeGreaterThan(ackedBefore); // ingest went on while the backup ran
    await client.endAsync();
    await tp.close();

    // restore into a fresh data directory and start a platform on it
    const target = tmp('pw-restore-');
    restoreDataDir(backupDir, target);
    expect(() => restoreDataDir(backupDir, target)).toThrow(/already has data/);
    const restored = await startTestPlatform({}, { dataDir: target });
    try {
      const stored = await restored.platform.telemetry.frames(id, 0, Date.now() + 60_000);
      const seqs = new Set(stored.map((s) => s.frame.seq));
      for (const s of acked.slice(0, ackedBefore)) expect(seqs.has(s), `seq ${s}`).toBe(true);
      expect(await restored.platform.vehicles.get(id)).toMatchObject({ id, customerId: 'UNIT-B' });
      // the vehicle's secret came back too: it connects to the restored platform
      const again = await restored.connect(id, secret);
      await again.endAsync();
    } finally {
      await restored.close();
    }
  });

  it('npm run backup / restore: the CLI takes DATA_DIR and the directories', async () => {
    const source = tmp('pw-cli-src-');
    const tp = await startTestPlatform({}, { dataDir: source });
    await tp.addVehicle('BAK-2');
    const to = join(tmp('pw-cli-b-'), 'b');
    const run = (args: string[], dataDir: string) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', join(import.meta.dirname, '../../platform/backup-cli.ts'), ...args],
          { env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir }, timeout: 30_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
        ),
      );
    const b = await run(['backup', '--to', to], source);
    await tp.close();
    expect(b, b.out).toMatchObject({ code: 0 });
    const target = tmp('pw-cli-r-');
    const r = await run(['restore', '--from', to], target);
    expect(r, r.out).toMatchObject({ code: 0 });
    const restored = await startTestPlatform({}, { dataDir: target });
    try {
      expect(await restored.platform.vehicles.get('BAK-2')).toBeDefined();
    } finally {
      await restored.close();
    }
    expect((await run(['restore'], target)).code).toBe(2);
  });

  it('with TELEMETRY_STORE=postgres the backup leaves telemetry.db out and says where telemetry is', async () => {
    const source = tmp('pw-pgtel-src-');
    for (const name of ['records.db', 'telemetry.db'])
      new Database(join(source, name)).exec('CREATE TABLE t (x)').close();
    const to = join(tmp('pw-pgtel-b-'), 'b');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, '../../platform/backup-cli.ts'), 'backup', '--to', to],
        {
          env: {
            PATH: process.env.PATH ?? '',
            DATA_DIR: source,
            TELEMETRY_STORE: 'postgres',
            TELEMETRY_DATABASE_URL: 'postgres://127.0.0.1/unused',
          },
          timeout: 30_000,
        },
        (err, stdout, stderr) => (err ? reject(new Error(stdout + stderr)) : resolve(stdout)),
      ),
    );
    expect(out).toContain('back it up with pg_dump');
    expect(existsSync(join(to, 'records.db'))).toBe(true);
    expect(existsSync(join(to, 'telemetry.db'))).toBe(false);
    expect((await backupDataDir(source, join(tmp('pw-pgtel-c-'), 'c'))).files).toContain('telemetry.db');
  });
});
