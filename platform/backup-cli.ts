import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { backupDataDir, restoreDataDir } from './backup.ts';

/**
 * `npm run backup -- --to DIR` (while the platform runs) and `npm run restore -- --from DIR [--force]`
 * (into a stopped platform's DATA_DIR). DATA_DIR as the platform reads it (platform/config.ts).
 */
async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: { to: { type: 'string' }, from: { type: 'string' }, force: { type: 'boolean', default: false } },
  });
  const { dataDir, TELEMETRY_STORE } = loadConfig(process.env);
  if (command === 'backup' && values.to) {
    const { files } = await backupDataDir(dataDir, values.to, { telemetry: TELEMETRY_STORE === 'sqlite' });
    console.log(`backed up ${dataDir} to ${values.to}: ${files.join(', ')}`);
    if (TELEMETRY_STORE === 'postgres')
      console.log('telemetry is on PostgreSQL (TELEMETRY_STORE=postgres): back it up with pg_dump or PITR');
    return 0;
  }
  if (command === 'restore' && values.from) {
    const { files } = restoreDataDir(values.from, dataDir, { force: values.force });
    console.log(`restored ${values.from} into ${dataDir}: ${files.join(', ')}`);
    return 0;
  }
  console.error('usage: npm run backup -- --to DIR | npm run restore -- --from DIR [--force]');
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
