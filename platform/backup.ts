import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATA_FILES } from './data-files.ts';

/** The SQLite databases, copied with SQLite's online backup API (consistent while the platform writes). */
const DATABASES = [DATA_FILES.records, DATA_FILES.telemetry] as const;
/** Plain files and directories copied as they are. */
const FILES = [DATA_FILES.totpKey, DATA_FILES.influxCursor] as const;

/**
 * A consistent online backup of DATA_DIR into `toDir` (created; must be empty): each database through
 * better-sqlite3's `.backup()` (SQLite's online backup: a snapshot of one committed state, taken page
 * by page without stopping writers), then the TOTP key, the export cursor and the photos. Each
 * database is consistent on its own; records.db and telemetry.db are taken one after the other.
 * Databases on PostgreSQL (DATABASE_URL, TELEMETRY_STORE=postgres) are not in it: pg_dump or PITR.
 */
export async function backupDataDir(
  dataDir: string,
  toDir: string,
  options: { telemetry?: boolean } = {},
): Promise<{ files: string[] }> {
  mkdirSync(toDir, { recursive: true });
  if (readdirSync(toDir).length) throw new Error(`${toDir} is not empty: back up into a new directory`);
  const files: string[] = [];
  // telemetry: false (TELEMETRY_STORE=postgres): a telemetry.db left from before is not the platform's telemetry
  for (const name of DATABASES.filter((n) => options.telemetry !== false || n !== DATA_FILES.telemetry)) {
    const source = join(dataDir, name);
    if (!existsSync(source)) continue;
    const db = new Database(source, { fileMustExist: true });
    try {
      await db.backup(join(toDir, name));
    } finally {
      db.close();
    }
    files.push(name);
  }
  // the cursor after telemetry.db: at worst it points before the copy's last rows (sent again, idempotent)
  for (const name of FILES)
    if (existsSync(join(dataDir, name))) {
      copyFileSync(join(dataDir, name), join(toDir, name));
      files.push(name);
    }
  if (existsSync(join(dataDir, DATA_FILES.photos))) {
    cpSync(join(dataDir, DATA_FILES.photos), join(toDir, DATA_FILES.photos), { recursive: true });
    files.push(DATA_FILES.photos);
  }
  writeFileSync(join(toDir, 'backup.json'), `${JSON.stringify({ at: new Date().toISOString(), files }, null, 2)}\n`);
  return { files };
}

/**
 * Brings a backup back into a data directory of a STOPPED platform. Refuses a directory that
 * already holds a records.db unless `force` (then the databases' WAL files are removed too, so no
 * stale log is replayed over the restored file).
 */
export function restoreDataDir(
  fromDir: string,
  dataDir: string,
  options: { force?: boolean } = {},
): { files: string[] } {
  if (!existsSync(join(fromDir, 'backup.json'))) throw new Error(`${fromDir} is not a backup (no backup.json)`);
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(join(dataDir, DATA_FILES.records)) && !options.force)
    throw new Error(`${dataDir} already has data: stop the platform and restore with --force to replace it`);
  const files: string[] = [];
  for (const name of [...DATABASES, ...FILES]) {
    if (!existsSync(join(fromDir, name))) continue;
    for (const suffix of ['-wal', '-shm'])
      if (existsSync(join(dataDir, name + suffix))) rmSync(join(dataDir, name + suffix));
    copyFileSync(join(fromDir, name), join(dataDir, name));
    files.push(name);
  }
  if (existsSync(join(fromDir, DATA_FILES.photos))) {
    cpSync(join(fromDir, DATA_FILES.photos), join(dataDir, DATA_FILES.photos), { recursive: true });
    files.push(DATA_FILES.photos);
  }
  return { files };
}
