import { join } from 'node:path';

/**
 * The layout of DATA_DIR: the files the platform keeps there. The platform, the CLIs (`npm run
 * vehicles`, `npm run simulate -- --provision`), the benches and the tests all find them here; the
 * stores themselves only take a file path.
 */
/** `DATA_DIR` when unset, relative to the working directory. */
export const DEFAULT_DATA_DIR = './data';

export const DATA_FILES = {
  /** Vehicles, accounts, alarms, tickets, … (records/db.ts); the CLIs write it while the platform runs. */
  records: 'records.db',
  /** Telemetry frames and their rollups (telemetry/sqlite-store.ts). */
  telemetry: 'telemetry.db',
  /** The key TOTP secrets are encrypted with when TOTP_SECRET_KEY is not set (created at first start, mode 0600). */
  totpKey: 'totp-secret.key',
  /** Remote sessions' photos, one file each with a random name (remote/photos.ts). */
  photos: 'photos',
  /**
   * The InfluxDB export's cursor (telemetry/influx-export.ts): the telemetry.db row last accepted by
   * InfluxDB. Beside telemetry.db, not in records.db: it names that file's rows, is written once per
   * exported batch without touching either database's writer, and is backed up with it.
   */
  influxCursor: 'influx-export.cursor',
} as const;

export const recordsFile = (dataDir: string): string => join(dataDir, DATA_FILES.records);
export const telemetryFile = (dataDir: string): string => join(dataDir, DATA_FILES.telemetry);
export const totpKeyFile = (dataDir: string): string => join(dataDir, DATA_FILES.totpKey);
export const photoDir = (dataDir: string): string => join(dataDir, DATA_FILES.photos);
export const influxCursorFile = (dataDir: string): string => join(dataDir, DATA_FILES.influxCursor);
