import { sql } from 'kysely';
import type { RecordsDb } from '../../records/db.ts';
import './records.ts';

/** One part used on a ticket, as the ledger's consumptions say: per part and the store it left. */
export interface ConsumedPart {
  partNo: string;
  name: { en: string; zh: string };
  unit: string;
  qty: number;
  storeId: string;
  /** The first and last consumption of it on the ticket. */
  firstAt: number;
  lastAt: number;
}

/**
 * The parts consumed on a ticket (movements of kind `consumption`), summed per part and store in
 * SQL, with the catalogue's names and unit; what the service report's "parts used" and the
 * statistics read. A consumption less its returns is not netted: a part returned was never consumed.
 */
export async function consumedOnTicket(db: RecordsDb, ticketId: number): Promise<ConsumedPart[]> {
  const rows = await db
    .selectFrom('stock_movements as m')
    .leftJoin('parts as p', 'p.part_no', 'm.part_no')
    .select((eb) => [
      'm.part_no',
      'm.store_id',
      eb.fn.max('p.name_en').as('name_en'),
      eb.fn.max('p.name_zh').as('name_zh'),
      eb.fn.max('p.unit').as('unit'),
      eb.fn.sum<number | string>('m.qty').as('qty'),
      eb.fn.min('m.at').as('first_at'),
      eb.fn.max('m.at').as('last_at'),
    ])
    .where('m.ticket_id', '=', ticketId)
    .where('m.kind', '=', 'consumption')
    .groupBy(['m.part_no', 'm.store_id'])
    .orderBy(sql`min(m.at)`)
    .orderBy('m.part_no')
    .execute();
  return rows.map((r) => ({
    partNo: r.part_no,
    name: { en: r.name_en ?? r.part_no, zh: r.name_zh ?? r.part_no },
    unit: r.unit ?? '',
    qty: Number(r.qty),
    storeId: r.store_id,
    firstAt: Number(r.first_at),
    lastAt: Number(r.last_at),
  }));
}
