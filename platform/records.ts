import type { Logger } from '../core/logger.ts';
import { openPostgresRecords, openSqliteRecords, type RecordsDb } from '../records/db.ts';
import type { PlatformConfig } from './config.ts';
import { recordsFile } from './data-files.ts';

/**
 * The records store the configuration names: PostgreSQL when DATABASE_URL is set, else the embedded
 * SQLite file in DATA_DIR (the default). The platform and the registry CLI open it the same way.
 */
export function openRecords(
  config: Pick<PlatformConfig, 'DATABASE_URL' | 'dataDir'>,
  log?: Logger,
): Promise<RecordsDb> {
  if (config.DATABASE_URL)
    return openPostgresRecords({
      url: config.DATABASE_URL,
      onIdleError: (err) => log?.child({ module: 'records' }).warn({ err }, 'idle PostgreSQL connection failed'),
    });
  return openSqliteRecords({ file: recordsFile(config.dataDir) });
}
