import { PlatformError } from '../../core/errors.ts';
import { inTransaction, insertInChunks, type RecordsDb } from '../../records/db.ts';
import type { Catalogue, Store } from './catalogue.ts';
import { distanceKm, etas, type Eta, type Point, type Transport } from './geo.ts';
import { balanceOf, balances, lockPosition, post, type Balance } from './ledger.ts';
import './errors.ts';

/** The ticket as the stock needs it. */
export interface StockTicket {
  id: number;
  customerId: string | null;
  vehicleId: string | null;
  faultCode: string | null;
  planRef: { code: string; version: number } | null;
}

/** The plan's parts (diagnostics/plans): a part number, its name and how many. */
export type PlanParts = (
  code: string,
) => { partNo: string; name: { en: string; zh: string }; qty: number }[] | undefined;

export interface Reservation {
  id: number;
  ticketId: number;
  partNo: string;
  storeId: string;
  qty: number;
  transport: Transport | null;
  etaAt: number | null;
  createdBy: string;
  createdAt: number;
  /** Still reserved at the store. */
  reserved: number;
  /** Issued to an engineer or shipped, and neither consumed nor returned: in the field. */
  inField: number;
  consumed: number;
  returned: number;
  released: number;
}

export interface Shipment {
  id: number;
  noticeNo: string;
  ticketId: number | null;
  customerId: string | null;
  storeId: string;
  carrier: string;
  trackingNo: string;
  consignee: string;
  address: string;
  shippedAt: number;
  lines: { partNo: string; name: { en: string; zh: string }; qty: number }[];
}

export interface StoreOption {
  storeId: string;
  available: number;
  onHand: number;
  distanceKm: number | null;
  etas: Eta[];
  /** Shipped to this store by transfers and not yet received, per transfer with its ETA. */
  inTransit: { transferNo: string; qty: number; etaAt: number | null }[];
}

export interface ProposalLine {
  partNo: string;
  name: { en: string; zh: string };
  qty: number;
  /** Already reserved or sent for this ticket. */
  covered: number;
  /** The nearest store whose available stock covers the rest (null: none does). */
  proposedStoreId: string | null;
  options: StoreOption[];
  shortage: null | {
    missing: number;
    /** Nothing anywhere covers it: other stores' available stock, open purchase orders, and whether a contract covers the part. */
    elsewhere: { storeId: string; available: number }[];
    onOrder: { orderNo: string; storeId: string; qty: number; expectedAt: number }[];
    contract: boolean;
    /** The ticket's shortage task (缺件) for the part, if any (raised automatically when nothing and no contract covers it). */
    task: ShortageTaskRef | null;
  };
}

/** A shortage task as the proposal names it. */
export interface ShortageTaskRef {
  id: number;
  kind: 'machining_documents' | 'purchase_list';
  status: 'open' | 'done';
  automatic: boolean;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function createReservations(deps: {
  db: RecordsDb;
  now: () => number;
  catalogue: Catalogue;
  planParts: PlanParts;
  onOrder: (partNo: string) => Promise<{ orderNo: string; storeId: string; qty: number; expectedAt: number }[]>;
  hasContract: (partNo: string) => Promise<boolean>;
  /** What transfers have on their way to each store for a part, with their ETA (transfers.ts). */
  inTransit: (partNo: string) => Promise<{ number: string; storeId: string; qty: number; etaAt: number | null }[]>;
  /**
   * The 缺件 path for a part no store has and no contract covers (replenishment.ts raiseFromProposal):
   * raises the ticket's task once, and answers the ticket's task for the part (raised now or before).
   */
  shortageTask?: (input: { partNo: string; qty: number; ticketId: number }) => Promise<ShortageTaskRef | null>;
  /** Resolves once the positions heard from telemetry so far are written (positions.ts), read before a vehicle's position. */
  positionsWritten?: () => Promise<void>;
}) {
  const { db, now, catalogue } = deps;

  function describe(list: Balance[], stores: Store[]): string {
    const avail = list.filter((b) => b.available > 0);
    if (avail.length === 0) return 'none available in any store';
    return `available: ${avail.map((b) => `${stores.find((s) => s.id === b.storeId)?.id ?? b.storeId} ${b.available}`).join(', ')}`;
  }

  /** `stores` read before the transaction: inside it, only `tx` may be used (SQLite has one connection). */
  async function insufficient(
    tx: RecordsDb,
    stores: Store[],
    partNo: string,
    storeId: string,
    qty: number,
    have: number,
  ) {
    const all = await balances(tx, { partNo });
    return new PlatformError(
      'INSUFFICIENT_STOCK',
      `${partNo}: ${qty} requested at ${storeId}, ${Math.max(0, have)} available there; ${describe(all, stores)}`,
      {
        details: {
          partNo,
          storeId,
          requested: qty,
          available: all.map((b) => ({ storeId: b.storeId, available: b.available })),
        },
      },
    );
  }

  /** Where the ticket's vehicle is: the point given, else its last known position, else unknown. */
  async function originOf(ticket: StockTicket, near?: Point): Promise<(Point & { source: string }) | null> {
    if (near) return { ...near, source: 'given' };
    if (!ticket.vehicleId) return null;
    await deps.positionsWritten?.();
    const r = await db
      .selectFrom('stock_vehicle_positions')
      .selectAll()
      .where('vehicle_id', '=', ticket.vehicleId)
      .executeTakeFirst();
    return r ? { lat: r.lat, lon: r.lon, source: r.source } : null;
  }

  async function setVehiclePosition(
    vehicleId: string,
    p: Point,
    source: string,
    by: string,
    at: number = now(),
  ): Promise<void> {
    const row = { lat: p.lat, lon: p.lon, source, set_by: by, at };
    await db
      .insertInto('stock_vehicle_positions')
      .values({ vehicle_id: vehicleId, ...row })
      .onConflict((oc) => oc.column('vehicle_id').doUpdateSet(row))
      .execute();
  }

  /**
   * Upserts many vehicles' positions (at most one per vehicle), one statement per INSERT_CHUNK_ROWS
   * vehicles with a turn of the event loop between two (records/db.ts insertInChunks).
   */
  async function setVehiclePositions(
    positions: readonly { vehicleId: string; lat: number; lon: number; at: number }[],
    source: string,
    by: string,
  ): Promise<void> {
    await insertInChunks(positions, (chunk) =>
      db
        .insertInto('stock_vehicle_positions')
        .values(chunk.map((p) => ({ vehicle_id: p.vehicleId, lat: p.lat, lon: p.lon, source, set_by: by, at: p.at })))
        .onConflict((oc) =>
          oc.column('vehicle_id').doUpdateSet((eb) => ({
            lat: eb.ref('excluded.lat'),
            lon: eb.ref('excluded.lon'),
            source: eb.ref('excluded.source'),
            set_by: eb.ref('excluded.set_by'),
            at: eb.ref('excluded.at'),
          })),
        )
        .execute(),
    );
  }

  async function ofTicket(ticketId: number, q: RecordsDb = db): Promise<Reservation[]> {
    const rows = await q
      .selectFrom('stock_reservations')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .orderBy('id')
      .execute();
    if (rows.length === 0) return [];
    const moves = await q
      .selectFrom('stock_movements')
      .select(['reservation_id', 'kind', 'qty', 'reserved_delta'])
      .where(
        'reservation_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return rows.map((r) => {
      const mine = moves.filter((m) => Number(m.reservation_id) === Number(r.id));
      const sum = (kinds: string[]) => mine.filter((m) => kinds.includes(m.kind)).reduce((a, m) => a + m.qty, 0);
      const out = sum(['issue', 'shipment']);
      const consumed = sum(['consumption']);
      const returned = sum(['return']);
      return {
        id: Number(r.id),
        ticketId: Number(r.ticket_id),
        partNo: r.part_no,
        storeId: r.store_id,
        qty: r.qty,
        transport: r.transport as Transport | null,
        etaAt: r.eta_at === null ? null : Number(r.eta_at),
        createdBy: r.created_by,
        createdAt: Number(r.created_at),
        reserved: mine.reduce((a, m) => a + m.reserved_delta, 0),
        inField: out - consumed - returned,
        consumed,
        returned,
        released: sum(['release']),
      };
    });
  }

  async function reservation(id: number, q: RecordsDb = db): Promise<Reservation> {
    const r = await q.selectFrom('stock_reservations').select('ticket_id').where('id', '=', id).executeTakeFirst();
    const found = r && (await ofTicket(Number(r.ticket_id), q)).find((x) => x.id === id);
    if (!found) throw new PlatformError('RESERVATION_NOT_FOUND', `reservation ${id} not found`);
    return found;
  }

  /** The plan's parts as a proposed reservation: per part the stores by distance with stock and ETA, the nearest that covers it, or the shortage. */
  async function proposal(ticket: StockTicket, near?: Point) {
    const code = ticket.planRef?.code ?? ticket.faultCode;
    const parts = (code && deps.planParts(code)) || [];
    const origin = await originOf(ticket, near);
    const stores = await catalogue.stores();
    const held = await ofTicket(ticket.id);
    const lines: ProposalLine[] = [];
    for (const p of parts) {
      const covered = held
        .filter((r) => r.partNo === p.partNo)
        .reduce((a, r) => a + r.reserved + r.inField + r.consumed, 0);
      const need = Math.max(0, p.qty - covered);
      const bal = await balances(db, { partNo: p.partNo });
      const moving = await deps.inTransit(p.partNo);
      const options: StoreOption[] = stores
        .map((s) => {
          const b = bal.find((x) => x.storeId === s.id);
          const km = origin ? distanceKm(origin, s) : null;
          return {
            storeId: s.id,
            available: b?.available ?? 0,
            onHand: b?.onHand ?? 0,
            distanceKm: km === null ? null : round1(km),
            etas: km === null ? [] : etas(s.kind, km),
            inTransit: moving
              .filter((m) => m.storeId === s.id)
              .map((m) => ({ transferNo: m.number, qty: m.qty, etaAt: m.etaAt })),
          };
        })
        .sort((a, b) => (a.distanceKm ?? 0) - (b.distanceKm ?? 0) || a.storeId.localeCompare(b.storeId));
      const best = options.find((o) => o.available >= need);
      let shortage: ProposalLine['shortage'] = null;
      if (need > 0 && !best) {
        const elsewhere = options
          .filter((o) => o.available > 0)
          .map((o) => ({ storeId: o.storeId, available: o.available }));
        const contract = await deps.hasContract(p.partNo);
        // nothing anywhere, nothing to order it against: the plan's 缺件 path, once per (ticket, part)
        const task =
          elsewhere.length === 0 && !contract && deps.shortageTask
            ? await deps.shortageTask({ partNo: p.partNo, qty: need, ticketId: ticket.id })
            : null;
        shortage = { missing: need, elsewhere, onOrder: await deps.onOrder(p.partNo), contract, task };
      }
      lines.push({
        partNo: p.partNo,
        name: p.name,
        qty: p.qty,
        covered,
        proposedStoreId: need > 0 ? (best?.storeId ?? null) : null,
        options,
        shortage,
      });
    }
    return { ticketId: ticket.id, planCode: code, origin, lines };
  }

  /**
   * Reserves parts for a ticket, all lines or none. Each line locks its (part, store) position,
   * sums the ledger and refuses with INSUFFICIENT_STOCK (naming what is available where) when the
   * available stock does not cover it: available never goes below zero, whoever reserves at the same time.
   */
  async function reserve(
    ticket: StockTicket,
    lines: { partNo: string; storeId: string; qty: number; transport?: Transport; etaAt?: number }[],
    actor: string,
  ): Promise<Reservation[]> {
    for (const l of lines) {
      await catalogue.part(l.partNo);
      await catalogue.store(l.storeId);
    }
    const stores = await catalogue.stores();
    await inTransaction(db, async (tx) => {
      for (const l of lines) {
        await lockPosition(tx, l.partNo, l.storeId);
        const b = await balanceOf(tx, l.partNo, l.storeId);
        if (b.available < l.qty) throw await insufficient(tx, stores, l.partNo, l.storeId, l.qty, b.available);
        const r = await tx
          .insertInto('stock_reservations')
          .values({
            ticket_id: ticket.id,
            customer_id: ticket.customerId,
            part_no: l.partNo,
            store_id: l.storeId,
            qty: l.qty,
            transport: l.transport ?? null,
            eta_at: l.etaAt ?? null,
            created_by: actor,
            created_at: now(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await post(tx, [
          {
            kind: 'reservation',
            partNo: l.partNo,
            storeId: l.storeId,
            qty: l.qty,
            ticketId: ticket.id,
            reservationId: Number(r.id),
            actor,
            at: now(),
          },
        ]);
      }
    });
    return ofTicket(ticket.id);
  }

  /** Gives back what is still reserved of a reservation (or `qty` of it). */
  async function release(id: number, actor: string, qty?: number, reason?: string): Promise<Reservation> {
    await inTransaction(db, async (tx) => {
      const head = await reservation(id, tx);
      await lockPosition(tx, head.partNo, head.storeId);
      const r = await reservation(id, tx);
      const q = qty ?? r.reserved;
      if (q < 1 || q > r.reserved)
        throw new PlatformError('STOCK_INVALID_STATE', `reservation ${id} holds ${r.reserved}; cannot release ${q}`);
      await post(tx, [
        {
          kind: 'release',
          partNo: r.partNo,
          storeId: r.storeId,
          qty: q,
          ticketId: r.ticketId,
          reservationId: id,
          reason: reason ?? null,
          actor,
          at: now(),
        },
      ]);
    });
    return reservation(id);
  }

  /**
   * Sends reserved parts of a ticket out of one store: by carrier with a shipping notice
   * (售后服务发运通知) and tracking number (`shipment`), or handed to an engineer or service vehicle (`issue`).
   */
  async function dispatch(
    ticket: StockTicket,
    input: {
      mode: 'shipment' | 'issue';
      reservationIds: number[];
      carrier: string;
      trackingNo: string;
      consignee: string;
      address: string;
    },
    actor: string,
  ): Promise<Shipment> {
    const mine = await ofTicket(ticket.id);
    const picked = input.reservationIds.map((id) => {
      const r = mine.find((x) => x.id === id);
      if (!r) throw new PlatformError('RESERVATION_NOT_FOUND', `reservation ${id} not found`);
      if (r.reserved < 1) throw new PlatformError('STOCK_INVALID_STATE', `reservation ${id} holds nothing to send`);
      return r;
    });
    const storeId = picked[0]!.storeId;
    if (picked.some((r) => r.storeId !== storeId))
      throw new PlatformError('STOCK_INVALID_STATE', 'one shipment leaves one store: send each store’s parts apart');
    const id = await inTransaction(db, async (tx) => {
      const s = await tx
        .insertInto('stock_shipments')
        .values({
          notice_no: `p-${ticket.id}-${Math.random().toString(36).slice(2, 12)}`, // varchar(32): replaced below
          ticket_id: ticket.id,
          customer_id: ticket.customerId,
          store_id: storeId,
          carrier: input.carrier,
          tracking_no: input.trackingNo,
          consignee: input.consignee,
          address: input.address,
          created_by: actor,
          shipped_at: now(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const sid = Number(s.id);
      const year = new Date(now()).getUTCFullYear();
      await tx
        .updateTable('stock_shipments')
        .set({ notice_no: `FY-${year}-${String(sid).padStart(6, '0')}` })
        .where('id', '=', sid)
        .execute();
      for (const p of picked) {
        await lockPosition(tx, p.partNo, p.storeId);
        const r = await reservation(p.id, tx);
        if (r.reserved < 1) throw new PlatformError('STOCK_INVALID_STATE', `reservation ${r.id} holds nothing to send`);
        await post(tx, [
          {
            kind: input.mode,
            partNo: r.partNo,
            storeId: r.storeId,
            qty: r.reserved,
            ticketId: ticket.id,
            reservationId: r.id,
            shipmentId: sid,
            actor,
            at: now(),
          },
        ]);
      }
      return sid;
    });
    return shipment(id);
  }

  /** Parts used on the ticket, from what was issued or shipped for it. */
  async function consume(ticket: StockTicket, reservationId: number, qty: number, actor: string): Promise<Reservation> {
    await inTransaction(db, async (tx) => {
      const r = (await ofTicket(ticket.id, tx)).find((x) => x.id === reservationId);
      if (!r) throw new PlatformError('RESERVATION_NOT_FOUND', `reservation ${reservationId} not found`);
      await lockPosition(tx, r.partNo, r.storeId);
      const now_ = await reservation(reservationId, tx);
      if (qty > now_.inField)
        throw new PlatformError(
          'STOCK_INVALID_STATE',
          `reservation ${reservationId} has ${now_.inField} issued or shipped and not yet used; cannot consume ${qty}`,
        );
      await post(tx, [
        {
          kind: 'consumption',
          partNo: r.partNo,
          storeId: r.storeId,
          qty,
          ticketId: ticket.id,
          reservationId,
          actor,
          at: now(),
        },
      ]);
    });
    return reservation(reservationId);
  }

  /** Unused parts back from the field into a store (the one they came from unless another is named). */
  async function giveBack(
    ticket: StockTicket,
    reservationId: number,
    qty: number,
    actor: string,
    storeId?: string,
  ): Promise<Reservation> {
    const head = (await ofTicket(ticket.id)).find((x) => x.id === reservationId);
    if (!head) throw new PlatformError('RESERVATION_NOT_FOUND', `reservation ${reservationId} not found`);
    const to = storeId ?? head.storeId;
    await catalogue.store(to);
    await inTransaction(db, async (tx) => {
      await lockPosition(tx, head.partNo, head.storeId);
      const r = await reservation(reservationId, tx);
      if (qty > r.inField)
        throw new PlatformError(
          'STOCK_INVALID_STATE',
          `reservation ${reservationId} has ${r.inField} in the field; cannot return ${qty}`,
        );
      await post(tx, [
        {
          kind: 'return',
          partNo: r.partNo,
          storeId: to,
          qty,
          ticketId: ticket.id,
          reservationId,
          actor,
          at: now(),
        },
      ]);
    });
    return reservation(reservationId);
  }

  async function shipmentsWhere(filter: { id?: number; customerId?: string; ticketId?: number }): Promise<Shipment[]> {
    let q = db.selectFrom('stock_shipments').selectAll().orderBy('id', 'desc').limit(200);
    if (filter.id !== undefined) q = q.where('id', '=', filter.id);
    if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
    if (filter.ticketId !== undefined) q = q.where('ticket_id', '=', filter.ticketId);
    const rows = await q.execute();
    if (rows.length === 0) return [];
    const moves = await db
      .selectFrom('stock_movements')
      .select(['shipment_id', 'part_no', 'qty'])
      .where(
        'shipment_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    const parts = await catalogue.parts();
    return rows.map((r) => ({
      id: Number(r.id),
      noticeNo: r.notice_no,
      ticketId: r.ticket_id === null ? null : Number(r.ticket_id),
      customerId: r.customer_id,
      storeId: r.store_id,
      carrier: r.carrier,
      trackingNo: r.tracking_no,
      consignee: r.consignee,
      address: r.address,
      shippedAt: Number(r.shipped_at),
      lines: moves
        .filter((m) => Number(m.shipment_id) === Number(r.id))
        .map((m) => ({
          partNo: m.part_no,
          name: parts.find((p) => p.partNo === m.part_no)?.name ?? { en: m.part_no, zh: m.part_no },
          qty: m.qty,
        })),
    }));
  }

  async function shipment(id: number): Promise<Shipment> {
    const s = (await shipmentsWhere({ id }))[0];
    if (!s) throw new PlatformError('SHIPMENT_NOT_FOUND', `shipment ${id} not found`);
    return s;
  }

  /** Stock into a store without an order (opening stock, a found part): a receipt with a reason. */
  async function receive(
    partNo: string,
    storeId: string,
    qty: number,
    reason: string,
    actor: string,
  ): Promise<Balance> {
    await catalogue.part(partNo);
    await catalogue.store(storeId);
    await inTransaction(db, (tx) => post(tx, [{ kind: 'receipt', partNo, storeId, qty, reason, actor, at: now() }]));
    return balanceOf(db, partNo, storeId);
  }

  return {
    proposal,
    reserve,
    release,
    dispatch,
    consume,
    giveBack,
    ofTicket,
    reservation,
    shipment,
    shipments: shipmentsWhere,
    receive,
    setVehiclePosition,
    setVehiclePositions,
  };
}

export type Reservations = ReturnType<typeof createReservations>;
