import Database from 'better-sqlite3';

/** Frames stored per vehicle in a platform's telemetry.db (read-only): the zero-loss check's count. */
export function storedByVehicle(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT vehicle_id AS id, count(*) AS n FROM telemetry GROUP BY vehicle_id').all() as {
      id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    db.close();
  }
}
