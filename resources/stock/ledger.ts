import { sql } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import type { RecordsDb } from '../../records/db.ts';
import './errors.ts';
import './records.ts';

/**
 * Stock is a ledger, never a counter: every change is a movement row, and a store's on-hand and
 * reserved quantities are the sums of the movements' deltas (available = on-hand − reserved).
 */
export const MOVEMENT_KINDS = [
  'receipt',
  'reservation',
  'release',
  'issue',
  'shipment',
  'consumption',
  'return',
  'transfer_out',
  'transfer_in',
  'transfer_loss',
  'adjustment',
] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

/** What a movement of `qty` does to the store's on-hand and reserved quantities (an adjustment's sign is its own). */
export const DELTAS: Record<MovementKind, { onHand: -1 | 0 | 1; reserved: -1 | 0 | 1 }> = {
  receipt: { onHand: 1, reserved: 0 },
  reservation: { onHand: 0, reserved: 1 },
  release: { onHand: 0, reserved: -1 },
  // reserved stock leaves the shelf: handed to an engineer or service vehicle (issue) or sent by carrier (shipment)
  issue: { onHand: -1, reserved: -1 },
  shipment: { onHand: -1, reserved: -1 },
  // used on the ticket from what was issued or shipped: the store's figures no longer hold it
  consumption: { onHand: 0, reserved: 0 },
  return: { onHand: 1, reserved: 0 },
  // a transfer's parts leave the sending store (out) and are in transit, on hand nowhere, until they
  // arrive (in, at the receiving store); what never arrives is booked as lost with a reason (loss):
  // the sending store let them go already, the receiving one never had them
  transfer_out: { onHand: -1, reserved: 0 },
  transfer_in: { onHand: 1, reserved: 0 },
  transfer_loss: { onHand: 0, reserved: 0 },
  adjustment: { onHand: 1, reserved: 0 },
};

export interface Balance {
  partNo: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
}

export interface MovementInput {
  kind: MovementKind;
  partNo: string;
  storeId: string;
  /** Positive; an adjustment's sign is given by `delta`. */
  qty: number;
  /** For an adjustment only: the signed change of on-hand. */
  delta?: number;
  ticketId?: number | null;
  reservationId?: number | null;
  shipmentId?: number | null;
  orderId?: number | null;
  countId?: number | null;
  transferStoreId?: string | null;
  transferId?: number | null;
  reason?: string | null;
  actor: string;
  at: number;
}

export interface Movement extends Required<Omit<MovementInput, 'delta'>> {
  id: number;
  onHandDelta: number;
  reservedDelta: number;
}

/** Makes sure the (part, store) position row exists: the row reservers lock. */
export async function ensurePosition(tx: RecordsDb, partNo: string, storeId: string): Promise<void> {
  await tx
    .insertInto('stock_positions')
    .values({ part_no: partNo, store_id: storeId, version: 0 })
    .onConflict((oc) => oc.columns(['part_no', 'store_id']).doNothing())
    .execute();
}

/**
 * Locks a (part, store) position for the rest of the transaction: an UPDATE of its row, which
 * PostgreSQL holds as a row lock until commit (a second reserver of the same position waits, then
 * sums the ledger again) and SQLite as the database's write lock. Call inside a transaction, before
 * reading the balance that a movement is checked against. False: the position never held stock.
 */
export async function lockPosition(tx: RecordsDb, partNo: string, storeId: string): Promise<boolean> {
  const r = await tx
    .updateTable('stock_positions')
    .set({ version: sql`version + 1` })
    .where('part_no', '=', partNo)
    .where('store_id', '=', storeId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The balances of every position matching the filter, from the ledger. */
export async function balances(db: RecordsDb, filter: { partNo?: string; storeId?: string } = {}): Promise<Balance[]> {
  let q = db
    .selectFrom('stock_movements')
    .select(['part_no', 'store_id'])
    .select((eb) => [
      eb.fn.sum<number | string>('on_hand_delta').as('on_hand'),
      eb.fn.sum<number | string>('reserved_delta').as('reserved'),
    ])
    .groupBy(['part_no', 'store_id'])
    .orderBy('part_no')
    .orderBy('store_id');
  if (filter.partNo) q = q.where('part_no', '=', filter.partNo);
  if (filter.storeId) q = q.where('store_id', '=', filter.storeId);
  return (await q.execute()).map((r) => {
    const onHand = Number(r.on_hand);
    const reserved = Number(r.reserved);
    return { partNo: r.part_no, storeId: r.store_id, onHand, reserved, available: onHand - reserved };
  });
}

export async function balanceOf(db: RecordsDb, partNo: string, storeId: string): Promise<Balance> {
  return (await balances(db, { partNo, storeId }))[0] ?? { partNo, storeId, onHand: 0, reserved: 0, available: 0 };
}

/** Appends movements to the ledger (the caller checked them inside its transaction). */
export async function post(tx: RecordsDb, movements: MovementInput[]): Promise<void> {
  if (movements.length === 0) return;
  for (const m of movements) await ensurePosition(tx, m.partNo, m.storeId);
  await tx
    .insertInto('stock_movements')
    .values(
      movements.map((m) => {
        const d = DELTAS[m.kind];
        if (!Number.isInteger(m.qty) || m.qty < 0) throw new PlatformError('INVALID_ARGUMENT', 'qty must be ≥ 0');
        return {
          kind: m.kind,
          part_no: m.partNo,
          store_id: m.storeId,
          qty: m.qty,
          on_hand_delta: m.kind === 'adjustment' ? (m.delta ?? 0) : d.onHand * m.qty,
          reserved_delta: d.reserved * m.qty,
          ticket_id: m.ticketId ?? null,
          reservation_id: m.reservationId ?? null,
          shipment_id: m.shipmentId ?? null,
          order_id: m.orderId ?? null,
          count_id: m.countId ?? null,
          transfer_store_id: m.transferStoreId ?? null,
          transfer_id: m.transferId ?? null,
          reason: m.reason ?? null,
          actor: m.actor,
          at: m.at,
        };
      }),
    )
    .execute();
}

export async function movements(
  db: RecordsDb,
  filter: { partNo?: string; storeId?: string; ticketId?: number; limit: number },
): Promise<Movement[]> {
  let q = db.selectFrom('stock_movements').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.partNo) q = q.where('part_no', '=', filter.partNo);
  if (filter.storeId) q = q.where('store_id', '=', filter.storeId);
  if (filter.ticketId !== undefined) q = q.where('ticket_id', '=', filter.ticketId);
  return (await q.execute()).map((r) => ({
    id: Number(r.id),
    kind: r.kind as MovementKind,
    partNo: r.part_no,
    storeId: r.store_id,
    qty: r.qty,
    onHandDelta: r.on_hand_delta,
    reservedDelta: r.reserved_delta,
    ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
    reservationId: r.reservation_id === null ? null : Number(r.reservation_id),
    shipmentId: r.shipment_id === null ? null : Number(r.shipment_id),
    orderId: r.order_id === null ? null : Number(r.order_id),
    countId: r.count_id === null ? null : Number(r.count_id),
    transferStoreId: r.transfer_store_id,
    transferId: r.transfer_id === null ? null : Number(r.transfer_id),
    reason: r.reason,
    actor: r.actor,
    at: Number(r.at),
  }));
}
