import { sql } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { Catalogue } from './catalogue.ts';
import { distanceKm, etas } from './geo.ts';
import { balanceOf, balances, lockPosition, post } from './ledger.ts';
import './errors.ts';

/**
 * Transfers between stores (调拨) as a document with a time in transit: created from store A to
 * store B with its lines (draft), shipped — `transfer_out` movements at A, so the parts are on hand
 * nowhere and shown as in transit to B with carrier, tracking number and ETA — and received at B
 * (`transfer_in` movements, partial receipts allowed). What has not arrived after a receipt is a
 * discrepancy, booked with a reason as `transfer_loss` (it moves no stock: A let the parts go, B
 * never had them). Every movement carries the transfer's id. A draft may be cancelled (it moved
 * nothing); a shipped transfer cannot — it is received, or what is missing booked as lost.
 * docs/resources.md.
 */
export const TRANSFER_STATUSES = ['draft', 'in_transit', 'partially_received', 'received', 'cancelled'] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

export interface TransferLine {
  partNo: string;
  name: { en: string; zh: string };
  qty: number;
  shipped: number;
  received: number;
  /** Booked as not arrived, with a reason. */
  lost: number;
  /** Shipped and neither received nor booked as lost: in transit. */
  outstanding: number;
}

export interface Transfer {
  id: number;
  number: string;
  from: string;
  to: string;
  status: TransferStatus;
  reason: string | null;
  carrier: string | null;
  trackingNo: string | null;
  etaAt: number | null;
  createdBy: string;
  createdAt: number;
  shippedBy: string | null;
  shippedAt: number | null;
  lines: TransferLine[];
  /** After a short receipt: what is still missing, to be received or booked with a reason (0 otherwise). */
  discrepancy: number;
}

export interface InTransit {
  partNo: string;
  /** The receiving store. */
  storeId: string;
  qty: number;
}

/**
 * What is in transit to each store per part, from the ledger: a transfer's `transfer_out` (at the
 * sending store, naming the receiving one) less its `transfer_in` and `transfer_loss` (at the
 * receiving store). Transfers booked before 0031 (out and in at once) net to zero.
 */
export async function inTransit(
  db: RecordsDb,
  filter: { partNo?: string; storeId?: string } = {},
): Promise<InTransit[]> {
  let out = db
    .selectFrom('stock_movements')
    .select(['part_no', 'transfer_store_id'])
    .select((eb) => eb.fn.sum<number | string>('qty').as('qty'))
    .where('kind', '=', 'transfer_out')
    .where('transfer_id', 'is not', null)
    .groupBy(['part_no', 'transfer_store_id']);
  let back = db
    .selectFrom('stock_movements')
    .select(['part_no', 'store_id'])
    .select((eb) => eb.fn.sum<number | string>('qty').as('qty'))
    .where('kind', 'in', ['transfer_in', 'transfer_loss'])
    .where('transfer_id', 'is not', null)
    .groupBy(['part_no', 'store_id']);
  if (filter.partNo) {
    out = out.where('part_no', '=', filter.partNo);
    back = back.where('part_no', '=', filter.partNo);
  }
  if (filter.storeId) {
    out = out.where('transfer_store_id', '=', filter.storeId);
    back = back.where('store_id', '=', filter.storeId);
  }
  const sums = new Map<string, InTransit>();
  for (const r of await out.execute()) {
    const storeId = r.transfer_store_id ?? '';
    sums.set(`${r.part_no}\u0000${storeId}`, { partNo: r.part_no, storeId, qty: Number(r.qty) });
  }
  for (const r of await back.execute()) {
    const s = sums.get(`${r.part_no}\u0000${r.store_id}`);
    if (s) s.qty -= Number(r.qty);
  }
  return [...sums.values()]
    .filter((s) => s.qty > 0)
    .sort((a, b) => a.partNo.localeCompare(b.partNo) || a.storeId.localeCompare(b.storeId));
}

/** One shipped transfer's parts still on their way to a store, with the transfer's ETA. */
export interface InTransitTransfer {
  transferId: number;
  number: string;
  partNo: string;
  /** The receiving store. */
  storeId: string;
  qty: number;
  etaAt: number | null;
}

/**
 * What is in transit per transfer (shipped, neither received nor booked as lost) for one part, with
 * the transfer's number and ETA: the reservation proposal shows it per store. Earliest ETA first.
 */
export async function inTransitByTransfer(db: RecordsDb, partNo: string): Promise<InTransitTransfer[]> {
  const rows = await db
    .selectFrom('stock_movements as m')
    .innerJoin('stock_transfers as t', 't.id', 'm.transfer_id')
    .select(['m.transfer_id', 't.number', 't.to_store_id', 't.eta_at'])
    .select(sql<number | string>`sum(case when m.kind = 'transfer_out' then m.qty else -m.qty end)`.as('qty'))
    .where('m.part_no', '=', partNo)
    .where('m.kind', 'in', ['transfer_out', 'transfer_in', 'transfer_loss'])
    .where('t.status', 'in', ['in_transit', 'partially_received'])
    .groupBy(['m.transfer_id', 't.number', 't.to_store_id', 't.eta_at'])
    .execute();
  return rows
    .map((r) => ({
      transferId: Number(r.transfer_id),
      number: r.number,
      partNo,
      storeId: r.to_store_id,
      qty: Number(r.qty),
      etaAt: r.eta_at === null ? null : Number(r.eta_at),
    }))
    .filter((r) => r.qty > 0)
    .sort((a, b) => (a.etaAt ?? Infinity) - (b.etaAt ?? Infinity) || a.transferId - b.transferId);
}

const HOUR_MS = 3_600_000;

export function createTransfers(deps: { db: RecordsDb; now: () => number; catalogue: Catalogue }) {
  const { db, now, catalogue } = deps;

  async function read(filter: { id?: number; status?: TransferStatus; storeId?: string }, q: RecordsDb = db) {
    let sel = q.selectFrom('stock_transfers').selectAll().orderBy('id', 'desc').limit(200);
    if (filter.id !== undefined) sel = sel.where('id', '=', filter.id);
    if (filter.status) sel = sel.where('status', '=', filter.status);
    if (filter.storeId) {
      const s = filter.storeId;
      sel = sel.where((eb) => eb.or([eb('from_store_id', '=', s), eb('to_store_id', '=', s)]));
    }
    const rows = await sel.execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [lines, moves, parts] = await Promise.all([
      q.selectFrom('stock_transfer_lines').selectAll().where('transfer_id', 'in', ids).orderBy('part_no').execute(),
      q
        .selectFrom('stock_movements')
        .select(['transfer_id', 'kind', 'part_no', 'qty'])
        .where('transfer_id', 'in', ids)
        .execute(),
      q.selectFrom('parts').select(['part_no', 'name_en', 'name_zh']).execute(),
    ]);
    return rows.map((r): Transfer => {
      const id = Number(r.id);
      const sum = (partNo: string, kind: string) =>
        moves
          .filter((m) => Number(m.transfer_id) === id && m.part_no === partNo && m.kind === kind)
          .reduce((a, m) => a + m.qty, 0);
      const mine = lines
        .filter((l) => Number(l.transfer_id) === id)
        .map((l) => {
          const shipped = sum(l.part_no, 'transfer_out');
          const received = sum(l.part_no, 'transfer_in');
          const lost = sum(l.part_no, 'transfer_loss');
          const p = parts.find((x) => x.part_no === l.part_no);
          return {
            partNo: l.part_no,
            name: p ? { en: p.name_en, zh: p.name_zh } : { en: l.part_no, zh: l.part_no },
            qty: l.qty,
            shipped,
            received,
            lost,
            outstanding: shipped - received - lost,
          };
        });
      const status = r.status as TransferStatus;
      return {
        id,
        number: r.number,
        from: r.from_store_id,
        to: r.to_store_id,
        status,
        reason: r.reason,
        carrier: r.carrier,
        trackingNo: r.tracking_no,
        etaAt: r.eta_at === null ? null : Number(r.eta_at),
        createdBy: r.created_by,
        createdAt: Number(r.created_at),
        shippedBy: r.shipped_by,
        shippedAt: r.shipped_at === null ? null : Number(r.shipped_at),
        lines: mine,
        discrepancy: status === 'partially_received' ? mine.reduce((a, l) => a + l.outstanding, 0) : 0,
      };
    });
  }

  async function get(id: number, q: RecordsDb = db): Promise<Transfer> {
    const t = (await read({ id }, q))[0];
    if (!t) throw new PlatformError('TRANSFER_NOT_FOUND', `transfer ${id} not found`);
    return t;
  }

  /**
   * Locks the transfer's row for the rest of the transaction (an UPDATE: PostgreSQL's row lock,
   * SQLite's write lock), so two shippers or receivers of the same transfer queue, then reads it.
   */
  async function lock(tx: RecordsDb, id: number, allowed: TransferStatus[], what: string): Promise<Transfer> {
    const r = await tx
      .updateTable('stock_transfers')
      .set({ updated_at: now() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new PlatformError('TRANSFER_NOT_FOUND', `transfer ${id} not found`);
    const t = await get(id, tx);
    if (!allowed.includes(t.status))
      throw new PlatformError('STOCK_INVALID_STATE', `transfer ${t.number} is ${t.status}: cannot ${what}`);
    return t;
  }

  function settled(t: Transfer): TransferStatus {
    return t.lines.every((l) => l.outstanding === 0) ? 'received' : 'partially_received';
  }

  /** Each line names a part of the transfer at most once and no more than is outstanding. */
  function checkLines(t: Transfer, lines: { partNo: string; qty: number }[], what: string) {
    const seen = new Set<string>();
    for (const l of lines) {
      if (seen.has(l.partNo)) throw new PlatformError('INVALID_ARGUMENT', `${l.partNo} is named twice`);
      seen.add(l.partNo);
      const line = t.lines.find((x) => x.partNo === l.partNo);
      if (!line) throw new PlatformError('STOCK_INVALID_STATE', `transfer ${t.number} has no line for ${l.partNo}`);
      if (l.qty > line.outstanding)
        throw new PlatformError(
          'STOCK_INVALID_STATE',
          `transfer ${t.number}: ${line.outstanding} of ${l.partNo} in transit; cannot ${what} ${l.qty}`,
        );
    }
  }

  /** A transfer document from one store to another (a draft: nothing moves until it is shipped). */
  async function create(
    input: { from: string; to: string; lines: { partNo: string; qty: number }[]; reason: string | null },
    actor: string,
  ): Promise<Transfer> {
    if (input.from === input.to) throw new PlatformError('STOCK_INVALID_STATE', 'a transfer goes to another store');
    await catalogue.store(input.from);
    await catalogue.store(input.to);
    const seen = new Set<string>();
    for (const l of input.lines) {
      if (seen.has(l.partNo)) throw new PlatformError('INVALID_ARGUMENT', `${l.partNo} is named twice`);
      seen.add(l.partNo);
      await catalogue.part(l.partNo);
    }
    const t = now();
    const id = await inTransaction(db, async (tx) => {
      const r = await tx
        .insertInto('stock_transfers')
        .values({
          number: `t-${t}-${Math.random().toString(36).slice(2, 12)}`, // varchar(32): replaced below
          from_store_id: input.from,
          to_store_id: input.to,
          status: 'draft',
          reason: input.reason,
          carrier: null,
          tracking_no: null,
          eta_at: null,
          created_by: actor,
          created_at: t,
          shipped_by: null,
          shipped_at: null,
          updated_at: t,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const tid = Number(r.id);
      await tx
        .updateTable('stock_transfers')
        .set({ number: `TR-${new Date(t).getUTCFullYear()}-${String(tid).padStart(6, '0')}` })
        .where('id', '=', tid)
        .execute();
      await tx
        .insertInto('stock_transfer_lines')
        .values(input.lines.map((l) => ({ transfer_id: tid, part_no: l.partNo, qty: l.qty })))
        .execute();
      return tid;
    });
    return get(id);
  }

  /**
   * Ships a draft: every line leaves the sending store's available stock at once (all or none),
   * checked under the same position locks as a reservation, so available never goes below zero.
   * Without an ETA it is the fastest delivery time between the two stores.
   */
  async function ship(
    id: number,
    input: { carrier: string; trackingNo: string; etaAt?: number | null },
    actor: string,
  ): Promise<Transfer> {
    const head = await get(id);
    const [from, to] = [await catalogue.store(head.from), await catalogue.store(head.to)];
    const t = now();
    const fastest = etas(from.kind, distanceKm(from, to))[0];
    const etaAt = input.etaAt ?? (fastest ? t + Math.round(fastest.hours * HOUR_MS) : null);
    await inTransaction(db, async (tx) => {
      const doc = await lock(tx, id, ['draft'], 'ship it');
      // positions locked in part-number order: two transfers of the same parts cannot deadlock
      for (const l of [...doc.lines].sort((a, b) => a.partNo.localeCompare(b.partNo)))
        await lockPosition(tx, l.partNo, doc.from);
      for (const l of doc.lines) {
        const b = await balanceOf(tx, l.partNo, doc.from);
        if (b.available < l.qty) {
          const all = (await balances(tx, { partNo: l.partNo })).filter((x) => x.available > 0);
          throw new PlatformError(
            'INSUFFICIENT_STOCK',
            `${l.partNo}: ${l.qty} requested at ${doc.from}, ${Math.max(0, b.available)} available there; ${
              all.length
                ? `available: ${all.map((x) => `${x.storeId} ${x.available}`).join(', ')}`
                : 'none available in any store'
            }`,
            {
              details: {
                partNo: l.partNo,
                storeId: doc.from,
                requested: l.qty,
                available: all.map((x) => ({ storeId: x.storeId, available: x.available })),
              },
            },
          );
        }
      }
      await post(
        tx,
        doc.lines.map((l) => ({
          kind: 'transfer_out' as const,
          partNo: l.partNo,
          storeId: doc.from,
          qty: l.qty,
          transferStoreId: doc.to,
          transferId: id,
          reason: doc.reason,
          actor,
          at: t,
        })),
      );
      await tx
        .updateTable('stock_transfers')
        .set({
          status: 'in_transit',
          carrier: input.carrier,
          tracking_no: input.trackingNo,
          eta_at: etaAt,
          shipped_by: actor,
          shipped_at: t,
        })
        .where('id', '=', id)
        .execute();
    });
    return get(id);
  }

  /**
   * Cancels a draft (nothing moved, so nothing is booked back). A shipped transfer is refused with
   * `STOCK_INVALID_STATE`: its parts left the sending store, so it ends by receipt or a booked loss.
   * The reason and who cancelled are kept by the route's audit row.
   */
  async function cancel(id: number): Promise<Transfer> {
    await inTransaction(db, async (tx) => {
      await lock(tx, id, ['draft'], 'cancel it (receive it or book what is missing as lost)');
      await tx.updateTable('stock_transfers').set({ status: 'cancelled' }).where('id', '=', id).execute();
    });
    return get(id);
  }

  /** Goods in at the receiving store: some or all of what is in transit; the rest stays outstanding. */
  async function receive(id: number, lines: { partNo: string; qty: number }[], actor: string): Promise<Transfer> {
    await inTransaction(db, async (tx) => {
      const doc = await lock(tx, id, ['in_transit', 'partially_received'], 'receive it');
      checkLines(doc, lines, 'receive');
      await post(
        tx,
        lines.map((l) => ({
          kind: 'transfer_in' as const,
          partNo: l.partNo,
          storeId: doc.to,
          qty: l.qty,
          transferStoreId: doc.from,
          transferId: id,
          actor,
          at: now(),
        })),
      );
      await tx
        .updateTable('stock_transfers')
        .set({ status: settled(await get(id, tx)) })
        .where('id', '=', id)
        .execute();
    });
    return get(id);
  }

  /** Books what did not arrive (damaged, lost, short-shipped), each with a reason: the transfer is settled by it. */
  async function bookDiscrepancy(
    id: number,
    lines: { partNo: string; qty: number; reason: string }[],
    actor: string,
  ): Promise<Transfer> {
    await inTransaction(db, async (tx) => {
      const doc = await lock(tx, id, ['in_transit', 'partially_received'], 'book a discrepancy');
      checkLines(doc, lines, 'book as missing');
      await post(
        tx,
        lines.map((l) => ({
          kind: 'transfer_loss' as const,
          partNo: l.partNo,
          storeId: doc.to,
          qty: l.qty,
          transferStoreId: doc.from,
          transferId: id,
          reason: l.reason,
          actor,
          at: now(),
        })),
      );
      await tx
        .updateTable('stock_transfers')
        .set({ status: settled(await get(id, tx)) })
        .where('id', '=', id)
        .execute();
    });
    return get(id);
  }

  return {
    create,
    ship,
    receive,
    bookDiscrepancy,
    cancel,
    get: (id: number) => get(id),
    list: (filter: { status?: TransferStatus; storeId?: string } = {}) => read(filter),
    inTransit: (filter: { partNo?: string; storeId?: string } = {}) => inTransit(db, filter),
  };
}

export type Transfers = ReturnType<typeof createTransfers>;
