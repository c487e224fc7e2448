import type { Logger } from '../core/logger.ts';
import { fileCursor, type ExportCursor, type ExportSource } from '../telemetry/influx-export.ts';
import { openPostgresTelemetryStore, type PostgresTelemetryStore } from '../telemetry/postgres-store.ts';
import { createSqliteTelemetryStore, type SqliteTelemetryStore } from '../telemetry/sqlite-store.ts';
import type { TelemetryStore } from '../telemetry/store.ts';
import type { RecordsDb } from '../records/db.ts';
import { createConfirmationStore, type ConfirmationStore } from '../records/telemetry-confirmations.ts';
import type { PlatformConfig } from './config.ts';
import { influxCursorFile, telemetryFile } from './data-files.ts';

/**
 * The telemetry store the configuration names: the embedded SQLite file in DATA_DIR (the default),
 * or PostgreSQL with TELEMETRY_STORE=postgres (config.ts checked that it has a URL).
 */
export async function openTelemetry(
  config: Pick<PlatformConfig, 'TELEMETRY_STORE' | 'TELEMETRY_SYNC' | 'dataDir' | 'telemetryDatabaseUrl'>,
  log: Logger,
): Promise<TelemetryStore> {
  const telemetryLog = log.child({ module: 'telemetry' });
  if (config.TELEMETRY_STORE === 'postgres')
    return openPostgresTelemetryStore({
      url: config.telemetryDatabaseUrl!,
      onIdleError: (err) => telemetryLog.warn({ err }, 'idle PostgreSQL connection failed'),
    });
  return createSqliteTelemetryStore({
    file: telemetryFile(config.dataDir),
    synchronous: config.TELEMETRY_SYNC,
    onUpgrade: (event) => {
      if (event.phase === 'start')
        telemetryLog.warn(
          { upgrade: event.upgrade, frames: event.frames },
          'telemetry.db is from an older layout: re-indexing its frames by time slot before start-up (one transaction; a large file takes minutes)',
        );
      else
        telemetryLog.info(
          { upgrade: event.upgrade, frames: event.frames, seconds: Number(event.seconds.toFixed(1)) },
          'telemetry.db re-indexed by time slot',
        );
    },
  });
}

/** The name of the InfluxDB frame export's cursor row on PostgreSQL. */
export const INFLUX_EXPORT_CURSOR = 'influx';

/**
 * Where the InfluxDB export reads the store and keeps its cursor: on PostgreSQL a row of the
 * telemetry database (any node continues it), on SQLite a file beside telemetry.db. Undefined for a
 * store that cannot export (the in-memory one of some tests).
 */
export function frameExportOf(
  telemetry: TelemetryStore,
  config: Pick<PlatformConfig, 'dataDir'>,
): { source: ExportSource<unknown>; cursor: ExportCursor<unknown> } | undefined {
  if ('exportCursor' in telemetry) {
    const store = telemetry as PostgresTelemetryStore;
    return { source: store, cursor: store.exportCursor(INFLUX_EXPORT_CURSOR) } as {
      source: ExportSource<unknown>;
      cursor: ExportCursor<unknown>;
    };
  }
  if ('framesAfter' in telemetry)
    return {
      source: telemetry as SqliteTelemetryStore,
      cursor: fileCursor(influxCursorFile(config.dataDir)),
    } as { source: ExportSource<unknown>; cursor: ExportCursor<unknown> };
  return undefined;
}

/**
 * Where the delivery confirmations' marks are kept: in telemetry.db when the telemetry is embedded
 * (its writer thread saves them, after their frames: telemetry/confirmation-marks.ts), else in the
 * records store. An installation that kept them in the records store before (records.db, or the
 * records on PostgreSQL) gets them carried over when they are first loaded (the platform's start):
 * copied unless telemetry.db holds marks already, then removed there, so that a stale copy is never
 * read again.
 */
export function confirmationMarksOf(
  telemetry: TelemetryStore,
  deps: { records: RecordsDb; log: Logger; now: () => number },
): ConfirmationStore {
  const { log } = deps;
  const inRecords = createConfirmationStore({ db: deps.records });
  if (!('confirmations' in telemetry)) return inRecords;
  const marks = (telemetry as SqliteTelemetryStore).confirmations;
  return {
    async load() {
      const old = await inRecords.load();
      if (old.length) {
        const kept = await marks.load();
        if (kept.length === 0) await marks.save(old, deps.now());
        await inRecords.clear();
        log.info(
          { marks: old.length, carried: kept.length === 0 },
          kept.length === 0
            ? 'confirmation marks moved from the records store to telemetry.db'
            : 'confirmation marks left in the records store removed (telemetry.db holds its own)',
        );
      }
      return marks.load();
    },
    save: (rows, at) => marks.save(rows, at),
    remove: (vehicleId) => marks.remove(vehicleId),
  };
}
