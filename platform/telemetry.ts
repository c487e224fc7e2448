import type { Logger } from '../core/logger.ts';
import { openPostgresTelemetryStore } from '../telemetry/postgres-store.ts';
import { createSqliteTelemetryStore } from '../telemetry/sqlite-store.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import type { PlatformConfig } from './config.ts';
import { telemetryFile } from './data-files.ts';

/**
 * The telemetry store the configuration names: the embedded SQLite file in DATA_DIR (the default),
 * or PostgreSQL with TELEMETRY_STORE=postgres (config.ts checked that it has a URL).
 */
export async function openTelemetry(
  config: Pick<PlatformConfig, 'TELEMETRY_STORE' | 'TELEMETRY_SYNC' | 'dataDir' | 'telemetryDatabaseUrl'>,
  log: Logger,
): Promise<TelemetryStore> {
  if (config.TELEMETRY_STORE === 'postgres')
    return openPostgresTelemetryStore({
      url: config.telemetryDatabaseUrl!,
      onIdleError: (err) => log.child({ module: 'telemetry' }).warn({ err }, 'idle PostgreSQL connection failed'),
    });
  return createSqliteTelemetryStore({ file: telemetryFile(config.dataDir), synchronous: config.TELEMETRY_SYNC });
}
