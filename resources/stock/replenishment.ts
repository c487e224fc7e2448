import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { Catalogue } from './catalogue.ts';
import { balances, post } from './ledger.ts';
import { inTransit } from './transfers.ts';
import './errors.ts';

const DAY_MS = 86_400_000;

export interface OrderContract {
  id: number;
  number: string;
  /** The supplier as the suppliers register knows it (no foreign key: the register is another part's). */
  supplierId: string;
  supplierName: string;
  currency: string;
  validFrom: number;
  validTo: number;
  items: { partNo: string; unitPriceCents: number; leadTimeDays: number }[];
}

export const ORDER_STATUSES = ['ordered', 'partially_received', 'received'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface PurchaseOrder {
  id: number;
  number: string;
  contractId: number;
  contractNumber: string;
  supplierId: string;
  supplierName: string;
  storeId: string;
  status: OrderStatus;
  expectedAt: number;
  createdBy: string;
  createdAt: number;
  lines: { partNo: string; qty: number; unitPriceCents: number; received: number }[];
}

/** 缺件: no stock anywhere and no contract: machining documents (加工技术文件) or a purchase list (采购清单). */
export const SHORTAGE_KINDS = ['machining_documents', 'purchase_list'] as const;
export interface ShortageTask {
  id: number;
  partNo: string;
  qty: number;
  ticketId: number | null;
  kind: (typeof SHORTAGE_KINDS)[number];
  status: 'open' | 'done';
  note: string | null;
  createdBy: string;
  createdAt: number;
  /** Who marked it done, when, and what came of it (null while open). */
  doneBy: string | null;
  doneAt: number | null;
  outcome: string | null;
  /** Raised by a ticket's reservation proposal (raiseFromProposal), not by hand. */
  automatic: boolean;
}

export interface ReplenishmentProposal {
  partNo: string;
  storeId: string;
  min: number;
  max: number;
  onHand: number;
  available: number;
  onOrder: number;
  /** On its way from another store by a transfer (shipped, not yet received). */
  inTransit: number;
  /** Enough to bring available + on order + in transit up to max. */
  proposedQty: number;
  /** The cheapest contract valid now that covers the part; null: none (see `path`). */
  contract: null | { id: number; number: string; supplierName: string; unitPriceCents: number; leadTimeDays: number };
  /** order: a purchase order against the contract; transfer: another store has it; shortage: the 缺件 path. */
  path: 'order' | 'transfer' | 'shortage';
}

export function createReplenishment(deps: { db: RecordsDb; now: () => number; catalogue: Catalogue }) {
  const { db, now, catalogue } = deps;

  async function contracts(): Promise<OrderContract[]> {
    const [rows, items] = await Promise.all([
      db.selectFrom('order_contracts').selectAll().orderBy('id').execute(),
      db.selectFrom('order_contract_items').selectAll().orderBy('part_no').execute(),
    ]);
    return rows.map((r) => ({
      id: Number(r.id),
      number: r.number,
      supplierId: r.supplier_id,
      supplierName: r.supplier_name,
      currency: r.currency,
      validFrom: Number(r.valid_from),
      validTo: Number(r.valid_to),
      items: items
        .filter((i) => Number(i.contract_id) === Number(r.id))
        .map((i) => ({
          partNo: i.part_no,
          unitPriceCents: Number(i.unit_price_cents),
          leadTimeDays: i.lead_time_days,
        })),
    }));
  }

  async function contract(id: number): Promise<OrderContract> {
    const c = (await contracts()).find((x) => x.id === id);
    if (!c) throw new PlatformError('ORDER_CONTRACT_NOT_FOUND', `order contract ${id} not found`);
    return c;
  }

  async function addContract(input: Omit<OrderContract, 'id'>, actor: string): Promise<OrderContract> {
    for (const i of input.items) await catalogue.part(i.partNo);
    if (input.validTo <= input.validFrom)
      throw new PlatformError('INVALID_ARGUMENT', 'validTo must be after validFrom');
    const id = await inTransaction(db, async (tx) => {
      const dup = await tx
        .selectFrom('order_contracts')
        .select('id')
        .where('number', '=', input.number)
        .executeTakeFirst();
      if (dup) throw new PlatformError('STOCK_EXISTS', `order contract ${input.number} exists already`);
      const r = await tx
        .insertInto('order_contracts')
        .values({
          number: input.number,
          supplier_id: input.supplierId,
          supplier_name: input.supplierName,
          currency: input.currency,
          valid_from: input.validFrom,
          valid_to: input.validTo,
          created_by: actor,
          created_at: now(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('order_contract_items')
        .values(
          input.items.map((i) => ({
            contract_id: Number(r.id),
            part_no: i.partNo,
            unit_price_cents: i.unitPriceCents,
            lead_time_days: i.leadTimeDays,
          })),
        )
        .execute();
      return Number(r.id);
    });
    return contract(id);
  }

  /**
   * Changes an order contract (supplier, currency, validity, items with prices and lead times).
   * Orders placed against it keep the prices they were placed at (their lines carry them).
   */
  async function updateContract(id: number, input: Omit<OrderContract, 'id'>): Promise<OrderContract> {
    for (const i of input.items) await catalogue.part(i.partNo);
    if (input.validTo <= input.validFrom)
      throw new PlatformError('INVALID_ARGUMENT', 'validTo must be after validFrom');
    await inTransaction(db, async (tx) => {
      const found = await tx.selectFrom('order_contracts').select('id').where('id', '=', id).executeTakeFirst();
      if (!found) throw new PlatformError('ORDER_CONTRACT_NOT_FOUND', `order contract ${id} not found`);
      const dup = await tx
        .selectFrom('order_contracts')
        .select('id')
        .where('number', '=', input.number)
        .where('id', '<>', id)
        .executeTakeFirst();
      if (dup) throw new PlatformError('STOCK_EXISTS', `order contract ${input.number} exists already`);
      await tx
        .updateTable('order_contracts')
        .set({
          number: input.number,
          supplier_id: input.supplierId,
          supplier_name: input.supplierName,
          currency: input.currency,
          valid_from: input.validFrom,
          valid_to: input.validTo,
        })
        .where('id', '=', id)
        .execute();
      await tx.deleteFrom('order_contract_items').where('contract_id', '=', id).execute();
      await tx
        .insertInto('order_contract_items')
        .values(
          input.items.map((i) => ({
            contract_id: id,
            part_no: i.partNo,
            unit_price_cents: i.unitPriceCents,
            lead_time_days: i.leadTimeDays,
          })),
        )
        .execute();
    });
    return contract(id);
  }

  /** The cheapest contract valid now that covers the part. */
  async function bestContract(partNo: string) {
    const t = now();
    let best: ReplenishmentProposal['contract'] = null;
    for (const c of await contracts()) {
      if (c.validFrom > t || c.validTo < t) continue;
      const i = c.items.find((x) => x.partNo === partNo);
      if (i && (!best || i.unitPriceCents < best.unitPriceCents))
        best = { id: c.id, number: c.number, supplierName: c.supplierName, ...i };
    }
    return best;
  }

  async function orders(filter: { id?: number; status?: OrderStatus } = {}): Promise<PurchaseOrder[]> {
    let q = db.selectFrom('purchase_orders').selectAll().orderBy('id', 'desc').limit(500);
    if (filter.id !== undefined) q = q.where('id', '=', filter.id);
    if (filter.status) q = q.where('status', '=', filter.status);
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [lines, recv, all] = await Promise.all([
      db.selectFrom('purchase_order_lines').selectAll().where('order_id', 'in', ids).execute(),
      db
        .selectFrom('stock_movements')
        .select(['order_id', 'part_no', 'qty'])
        .where('kind', '=', 'receipt')
        .where('order_id', 'in', ids)
        .execute(),
      contracts(),
    ]);
    return rows.map((r) => {
      const c = all.find((x) => x.id === Number(r.contract_id))!;
      return {
        id: Number(r.id),
        number: r.number,
        contractId: c.id,
        contractNumber: c.number,
        supplierId: c.supplierId,
        supplierName: c.supplierName,
        storeId: r.store_id,
        status: r.status as OrderStatus,
        expectedAt: Number(r.expected_at),
        createdBy: r.created_by,
        createdAt: Number(r.created_at),
        lines: lines
          .filter((l) => Number(l.order_id) === Number(r.id))
          .map((l) => ({
            partNo: l.part_no,
            qty: l.qty,
            unitPriceCents: Number(l.unit_price_cents),
            received: recv
              .filter((m) => Number(m.order_id) === Number(r.id) && m.part_no === l.part_no)
              .reduce((a, m) => a + m.qty, 0),
          })),
      };
    });
  }

  async function order(id: number): Promise<PurchaseOrder> {
    const o = (await orders({ id }))[0];
    if (!o) throw new PlatformError('PURCHASE_ORDER_NOT_FOUND', `purchase order ${id} not found`);
    return o;
  }

  /** A purchase order against an order contract (订货合同): its prices, its lead time. */
  async function placeOrder(
    input: { contractId: number; storeId: string; lines: { partNo: string; qty: number }[] },
    actor: string,
  ): Promise<PurchaseOrder> {
    const c = await contract(input.contractId);
    await catalogue.store(input.storeId);
    const t = now();
    if (c.validFrom > t || c.validTo < t)
      throw new PlatformError('STOCK_INVALID_STATE', `order contract ${c.number} is not valid now`);
    const priced = input.lines.map((l) => {
      const i = c.items.find((x) => x.partNo === l.partNo);
      if (!i) throw new PlatformError('STOCK_INVALID_STATE', `order contract ${c.number} does not cover ${l.partNo}`);
      return { ...l, unitPriceCents: i.unitPriceCents, leadTimeDays: i.leadTimeDays };
    });
    const lead = Math.max(...priced.map((l) => l.leadTimeDays));
    const id = await inTransaction(db, async (tx) => {
      const r = await tx
        .insertInto('purchase_orders')
        .values({
          number: `p-${t}-${Math.random().toString(36).slice(2, 12)}`, // varchar(32): replaced below
          contract_id: c.id,
          store_id: input.storeId,
          status: 'ordered',
          expected_at: t + lead * DAY_MS,
          created_by: actor,
          created_at: t,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const oid = Number(r.id);
      await tx
        .updateTable('purchase_orders')
        .set({ number: `PO-${new Date(t).getUTCFullYear()}-${String(oid).padStart(6, '0')}` })
        .where('id', '=', oid)
        .execute();
      await tx
        .insertInto('purchase_order_lines')
        .values(
          priced.map((l) => ({ order_id: oid, part_no: l.partNo, qty: l.qty, unit_price_cents: l.unitPriceCents })),
        )
        .execute();
      return oid;
    });
    return order(id);
  }

  /** Goods in against a purchase order: receipts into its store; the order is received when every line is. */
  async function receiveOrder(
    id: number,
    lines: { partNo: string; qty: number }[],
    actor: string,
  ): Promise<PurchaseOrder> {
    const o = await order(id);
    if (o.status === 'received')
      throw new PlatformError('STOCK_INVALID_STATE', `purchase order ${o.number} is received already`);
    for (const l of lines) {
      const ol = o.lines.find((x) => x.partNo === l.partNo);
      if (!ol) throw new PlatformError('STOCK_INVALID_STATE', `purchase order ${o.number} has no line ${l.partNo}`);
      if (l.qty > ol.qty - ol.received)
        throw new PlatformError(
          'STOCK_INVALID_STATE',
          `${l.partNo}: ${ol.qty - ol.received} still due on ${o.number}, not ${l.qty}`,
        );
    }
    await inTransaction(db, async (tx) => {
      await post(
        tx,
        lines.map((l) => ({
          kind: 'receipt' as const,
          partNo: l.partNo,
          storeId: o.storeId,
          qty: l.qty,
          orderId: id,
          reason: `purchase order ${o.number}`,
          actor,
          at: now(),
        })),
      );
      const done = o.lines.every((ol) => ol.received + (lines.find((l) => l.partNo === ol.partNo)?.qty ?? 0) >= ol.qty);
      await tx
        .updateTable('purchase_orders')
        .set({ status: done ? 'received' : 'partially_received' })
        .where('id', '=', id)
        .execute();
    });
    return order(id);
  }

  /** What is on order for a part and not yet received, per open purchase order. */
  async function onOrder(partNo: string) {
    const open = [...(await orders({ status: 'ordered' })), ...(await orders({ status: 'partially_received' }))];
    return open.flatMap((o) =>
      o.lines
        .filter((l) => l.partNo === partNo && l.qty > l.received)
        .map((l) => ({ orderNo: o.number, storeId: o.storeId, qty: l.qty - l.received, expectedAt: o.expectedAt })),
    );
  }

  /** Every (part, store) whose available stock plus what is on order or in transit to it is below its min level. */
  async function proposals(): Promise<ReplenishmentProposal[]> {
    const levels = await db.selectFrom('stock_levels').selectAll().orderBy('part_no').orderBy('store_id').execute();
    const bal = await balances(db);
    const moving = await inTransit(db);
    const out: ReplenishmentProposal[] = [];
    for (const l of levels) {
      const b = bal.find((x) => x.partNo === l.part_no && x.storeId === l.store_id);
      const available = b?.available ?? 0;
      const ordered = (await onOrder(l.part_no)).filter((x) => x.storeId === l.store_id).reduce((a, x) => a + x.qty, 0);
      const coming = moving.find((x) => x.partNo === l.part_no && x.storeId === l.store_id)?.qty ?? 0;
      if (available + ordered + coming >= l.min_qty) continue;
      const contract = await bestContract(l.part_no);
      const elsewhere = bal.some((x) => x.partNo === l.part_no && x.storeId !== l.store_id && x.available > 0);
      out.push({
        partNo: l.part_no,
        storeId: l.store_id,
        min: l.min_qty,
        max: l.max_qty,
        onHand: b?.onHand ?? 0,
        available,
        onOrder: ordered,
        inTransit: coming,
        proposedQty: l.max_qty - available - ordered - coming,
        contract,
        path: contract ? 'order' : elsewhere ? 'transfer' : 'shortage',
      });
    }
    return out;
  }

  function shortageOf(r: {
    id: number | bigint;
    part_no: string;
    qty: number;
    ticket_id: number | null;
    kind: string;
    status: string;
    note: string | null;
    created_by: string;
    created_at: number;
    done_by: string | null;
    done_at: number | null;
    outcome: string | null;
    auto_key: string | null;
  }): ShortageTask {
    return {
      id: Number(r.id),
      partNo: r.part_no,
      qty: r.qty,
      ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
      kind: r.kind as ShortageTask['kind'],
      status: r.status as ShortageTask['status'],
      note: r.note,
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
      doneBy: r.done_by,
      doneAt: r.done_at === null ? null : Number(r.done_at),
      outcome: r.outcome,
      automatic: r.auto_key !== null,
    };
  }

  /** Marks a shortage task done with its outcome (what was made or bought); once. */
  async function completeShortage(id: number, outcome: string, actor: string): Promise<ShortageTask> {
    const r = await db
      .updateTable('stock_shortage_tasks')
      .set({ status: 'done', outcome, done_by: actor, done_at: now() })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .returningAll()
      .executeTakeFirst();
    if (r) return shortageOf(r);
    const exists = await db.selectFrom('stock_shortage_tasks').select('id').where('id', '=', id).executeTakeFirst();
    if (!exists) throw new PlatformError('SHORTAGE_NOT_FOUND', `shortage task ${id} not found`);
    throw new PlatformError('STOCK_INVALID_STATE', `shortage task ${id} is done already`);
  }

  async function shortages(): Promise<ShortageTask[]> {
    const rows = await db.selectFrom('stock_shortage_tasks').selectAll().orderBy('id', 'desc').limit(500).execute();
    return rows.map(shortageOf);
  }

  /**
   * The plan's 缺件 path as a task: only for a part no store has available and no valid contract
   * covers (otherwise reserve, transfer or order it). Machinable parts get machining documents
   * (加工技术文件), the others a purchase list (采购清单). One open task per part and ticket.
   */
  async function raiseShortage(
    input: { partNo: string; qty: number; ticketId: number | null; note: string | null },
    actor: string,
  ): Promise<ShortageTask> {
    const part = await catalogue.part(input.partNo);
    const avail = (await balances(db, { partNo: input.partNo })).filter((b) => b.available > 0);
    if (avail.length)
      throw new PlatformError(
        'STOCK_INVALID_STATE',
        `${input.partNo} is in stock (${avail.map((b) => `${b.storeId} ${b.available}`).join(', ')}): reserve or transfer it`,
      );
    const c = await bestContract(input.partNo);
    if (c)
      throw new PlatformError(
        'STOCK_INVALID_STATE',
        `${input.partNo} is covered by order contract ${c.number}: order it`,
      );
    let q = db
      .selectFrom('stock_shortage_tasks')
      .selectAll()
      .where('part_no', '=', input.partNo)
      .where('status', '=', 'open');
    q = input.ticketId === null ? q.where('ticket_id', 'is', null) : q.where('ticket_id', '=', input.ticketId);
    const open = await q.executeTakeFirst();
    if (open) return shortageOf(open);
    const r = await db
      .insertInto('stock_shortage_tasks')
      .values({
        part_no: input.partNo,
        qty: input.qty,
        ticket_id: input.ticketId,
        kind: part.machinable ? 'machining_documents' : 'purchase_list',
        status: 'open',
        note: input.note,
        created_by: actor,
        created_at: now(),
        done_by: null,
        done_at: null,
        outcome: null,
        auto_key: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return shortageOf(r);
  }

  /**
   * The 缺件 path raised automatically by a ticket's reservation proposal (issue 14 §4): a part the
   * ticket's plan needs that no store has available and no valid contract covers gets a shortage task,
   * once per (ticket, part) — the unique `auto_key` (migration 0033) keeps it once whoever proposes at
   * the same time and however often, also after the task is done. The check and the task are one
   * transaction. Returns the task when this call raised it, null when it was raised before, the part
   * is in stock or under contract after all, or the catalogue does not know it.
   */
  async function raiseFromProposal(input: {
    partNo: string;
    qty: number;
    ticketId: number;
  }): Promise<ShortageTask | null> {
    // a plan part the catalogue does not know has no stock ledger to speak of: nothing to raise against
    const part = (await catalogue.parts()).find((p) => p.partNo === input.partNo);
    if (!part || (await bestContract(input.partNo))) return null;
    const key = `ticket:${input.ticketId}:${input.partNo}`;
    return inTransaction(db, async (tx) => {
      const avail = (await balances(tx, { partNo: input.partNo })).filter((b) => b.available > 0);
      if (avail.length) return null;
      const r = await tx
        .insertInto('stock_shortage_tasks')
        .values({
          part_no: input.partNo,
          qty: input.qty,
          ticket_id: input.ticketId,
          kind: part.machinable ? 'machining_documents' : 'purchase_list',
          status: 'open',
          note: 'raised by the ticket’s reservation proposal: no stock in any store, no order contract',
          created_by: 'system',
          created_at: now(),
          done_by: null,
          done_at: null,
          outcome: null,
          auto_key: key,
        })
        .onConflict((oc) => oc.column('auto_key').doNothing())
        .returningAll()
        .executeTakeFirst();
      return r ? shortageOf(r) : null;
    });
  }

  /** The ticket's shortage task for a part, newest first (raised automatically or by hand); null: none. */
  async function ticketShortage(ticketId: number, partNo: string): Promise<ShortageTask | null> {
    const r = await db
      .selectFrom('stock_shortage_tasks')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .where('part_no', '=', partNo)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return r ? shortageOf(r) : null;
  }

  return {
    contracts,
    contract,
    addContract,
    updateContract,
    orders,
    order,
    placeOrder,
    receiveOrder,
    onOrder,
    proposals,
    shortages,
    raiseShortage,
    raiseFromProposal,
    ticketShortage,
    completeShortage,
    bestContract,
  };
}

export type Replenishment = ReturnType<typeof createReplenishment>;
