import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { Catalogue } from './catalogue.ts';
import { balances, lockPosition, post } from './ledger.ts';
import './errors.ts';

export interface StockCount {
  id: number;
  storeId: string;
  status: 'open' | 'booked';
  createdBy: string;
  createdAt: number;
  bookedBy: string | null;
  bookedAt: number | null;
  lines: {
    partNo: string;
    /** On hand by the ledger when the sheet was made. */
    expected: number;
    counted: number | null;
    difference: number | null;
    reason: string | null;
    countedBy: string | null;
  }[];
}

/**
 * Stock-taking (盘点): a count sheet per store lists every part the store holds or keeps a level
 * for, with what the ledger says is on hand at that moment; the counts are entered with a reason
 * for each difference, and booking posts each difference as an adjustment movement (who and why).
 * Should a count leave less on hand than is reserved, the newest reservations are released so
 * that available stays at or above zero.
 */
export function createStocktake(deps: { db: RecordsDb; now: () => number; catalogue: Catalogue }) {
  const { db, now, catalogue } = deps;

  async function counts(filter: { id?: number; storeId?: string } = {}): Promise<StockCount[]> {
    let q = db.selectFrom('stock_counts').selectAll().orderBy('id', 'desc').limit(200);
    if (filter.id !== undefined) q = q.where('id', '=', filter.id);
    if (filter.storeId) q = q.where('store_id', '=', filter.storeId);
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const lines = await db
      .selectFrom('stock_count_lines')
      .selectAll()
      .where(
        'count_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('part_no')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      storeId: r.store_id,
      status: r.status as StockCount['status'],
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
      bookedBy: r.booked_by,
      bookedAt: r.booked_at === null ? null : Number(r.booked_at),
      lines: lines
        .filter((l) => Number(l.count_id) === Number(r.id))
        .map((l) => ({
          partNo: l.part_no,
          expected: l.expected_qty,
          counted: l.counted_qty,
          difference: l.counted_qty === null ? null : l.counted_qty - l.expected_qty,
          reason: l.reason,
          countedBy: l.counted_by,
        })),
    }));
  }

  async function count(id: number): Promise<StockCount> {
    const c = (await counts({ id }))[0];
    if (!c) throw new PlatformError('STOCK_COUNT_NOT_FOUND', `stock count ${id} not found`);
    return c;
  }

  async function open(storeId: string, actor: string): Promise<StockCount> {
    await catalogue.store(storeId);
    const id = await inTransaction(db, async (tx) => {
      const bal = await balances(tx, { storeId });
      const levels = await tx.selectFrom('stock_levels').select('part_no').where('store_id', '=', storeId).execute();
      const partNos = [...new Set([...bal.map((b) => b.partNo), ...levels.map((l) => l.part_no)])].sort();
      const r = await tx
        .insertInto('stock_counts')
        .values({
          store_id: storeId,
          status: 'open',
          created_by: actor,
          created_at: now(),
          booked_by: null,
          booked_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (partNos.length)
        await tx
          .insertInto('stock_count_lines')
          .values(
            partNos.map((p) => ({
              count_id: Number(r.id),
              part_no: p,
              expected_qty: bal.find((b) => b.partNo === p)?.onHand ?? 0,
              counted_qty: null,
              reason: null,
              counted_by: null,
            })),
          )
          .execute();
      return Number(r.id);
    });
    return count(id);
  }

  async function record(
    id: number,
    lines: { partNo: string; counted: number; reason: string | null }[],
    actor: string,
  ): Promise<StockCount> {
    const c = await count(id);
    if (c.status !== 'open') throw new PlatformError('STOCK_INVALID_STATE', `stock count ${id} is booked already`);
    await inTransaction(db, async (tx) => {
      for (const l of lines) {
        const existing = c.lines.find((x) => x.partNo === l.partNo);
        if (!existing) {
          // a part found on the shelf that the sheet did not list
          await catalogue.part(l.partNo);
          await tx
            .insertInto('stock_count_lines')
            .values({
              count_id: id,
              part_no: l.partNo,
              expected_qty: 0,
              counted_qty: l.counted,
              reason: l.reason,
              counted_by: actor,
            })
            .execute();
        } else
          await tx
            .updateTable('stock_count_lines')
            .set({ counted_qty: l.counted, reason: l.reason, counted_by: actor })
            .where('count_id', '=', id)
            .where('part_no', '=', l.partNo)
            .execute();
      }
    });
    return count(id);
  }

  async function book(id: number, actor: string): Promise<StockCount> {
    const c = await count(id);
    if (c.status !== 'open') throw new PlatformError('STOCK_INVALID_STATE', `stock count ${id} is booked already`);
    const uncounted = c.lines.filter((l) => l.counted === null).map((l) => l.partNo);
    if (uncounted.length) throw new PlatformError('STOCK_INVALID_STATE', `not counted yet: ${uncounted.join(', ')}`);
    const unexplained = c.lines.filter((l) => l.difference !== 0 && !l.reason).map((l) => l.partNo);
    if (unexplained.length)
      throw new PlatformError('STOCK_INVALID_STATE', `a difference needs a reason: ${unexplained.join(', ')}`);
    await inTransaction(db, async (tx) => {
      for (const l of c.lines) {
        if (!l.difference) continue;
        await lockPosition(tx, l.partNo, c.storeId);
        await post(tx, [
          {
            kind: 'adjustment',
            partNo: l.partNo,
            storeId: c.storeId,
            qty: Math.abs(l.difference),
            delta: l.difference,
            countId: id,
            reason: `stock-take ${id} (counted by ${l.countedBy ?? actor}): ${l.reason ?? ''}`,
            actor,
            at: now(),
          },
        ]);
        const b = (await balances(tx, { partNo: l.partNo, storeId: c.storeId }))[0];
        let excess = b ? b.reserved - b.onHand : 0;
        if (excess > 0) {
          // available would be negative: release the newest reservations at this position
          const res = await tx
            .selectFrom('stock_movements')
            .select(['reservation_id', 'ticket_id'])
            .select((eb) => eb.fn.sum<number | string>('reserved_delta').as('held'))
            .where('part_no', '=', l.partNo)
            .where('store_id', '=', c.storeId)
            .where('reservation_id', 'is not', null)
            .groupBy(['reservation_id', 'ticket_id'])
            .orderBy('reservation_id', 'desc')
            .execute();
          for (const r of res) {
            const held = Number(r.held);
            if (excess <= 0 || held <= 0) continue;
            const q = Math.min(held, excess);
            excess -= q;
            await post(tx, [
              {
                kind: 'release',
                partNo: l.partNo,
                storeId: c.storeId,
                qty: q,
                reservationId: Number(r.reservation_id),
                ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
                reason: `stock-take ${id}: fewer on hand than reserved`,
                actor,
                at: now(),
              },
            ]);
          }
        }
      }
      await tx
        .updateTable('stock_counts')
        .set({ status: 'booked', booked_by: actor, booked_at: now() })
        .where('id', '=', id)
        .execute();
    });
    return count(id);
  }

  return { counts, count, open, record, book };
}

export type Stocktake = ReturnType<typeof createStocktake>;
