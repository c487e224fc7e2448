import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import type { StockTicket } from '../../resources/stock/reservations.ts';
import { STOCK_ROLES, type Role } from '../auth/accounts.ts';
import { auditFrom, who } from '../auth/guard.ts';
import type { WebContext } from '../context.ts';
import { AUTHED, errors, intQuery, numericParams } from '../schemas.ts';
import {
  balanceInTransitOut,
  balanceOut,
  consumeIn,
  contractIn,
  contractOut,
  countIn,
  countLinesIn,
  countOut,
  customerShipmentOut,
  dispatchIn,
  levelIn,
  movementOut,
  nearQuery,
  orderIn,
  orderOut,
  orderReceiptIn,
  partIn,
  partEditIn,
  partNoSchema,
  partOut,
  partParams,
  proposalRowOut,
  receiptIn,
  releaseIn,
  reservationOut,
  reserveIn,
  returnIn,
  shipmentOut,
  shortageDoneIn,
  shortageIn,
  shortageOut,
  storeIdSchema,
  storeEditIn,
  storeIn,
  storeOut,
  storeParams,
  ticketParams,
  ticketStockOut,
  transferCancelIn,
  transferDiscrepancyIn,
  transferIn,
  transferOut,
  transferQuery,
  transferReceiptIn,
  transferShipIn,
} from './stock-schemas.ts';

/** Supply chain (供应链管理部) keeps the stock; admins may too. */
const EDIT: readonly Role[] = ['admin', 'supply'];
/** Who reserves, releases and sends parts for a ticket: the duty desk and supply chain. */
const RESERVE: readonly Role[] = ['admin', 'dispatcher', 'supply'];
/** Who records parts used on a ticket: whoever did the work or took the report. */
const CONSUME: readonly Role[] = ['admin', 'dispatcher', 'engineer'];
/** Shipments to a unit: staff and supply chain, and the unit's own customers. */
const SHIPMENT_READERS: readonly Role[] = [...STOCK_ROLES, 'customer'];

/**
 * Spare-parts stock (resources/stock/, docs/resources.md): catalogue, stores, the ledger, a ticket's
 * reservations from its emergency plan, shipments, consumption, replenishment (order contracts,
 * purchase orders), shortage tasks (缺件) and stock-takes (盘点). Customers see only the shipments
 * to their own unit.
 */
export function stockRoutes(ctx: WebContext): FastifyPluginAsyncZod {
  const stock = ctx.deps.stock;
  const tags = ['stock'];
  const edit = { access: { roles: EDIT } };
  const read = { access: { roles: STOCK_ROLES } };

  async function audit(req: FastifyRequest, action: string, subject: string, details: Record<string, unknown> = {}) {
    await ctx.audit.record({ actor: who(req).id, action, subject, ...auditFrom(req), details });
  }

  /** The ticket for the stock routes (their roles are staff and supply chain: no tenant check beyond). */
  async function ticketOf(id: number): Promise<StockTicket> {
    const t = await ctx.deps.diagnostics.tickets.get(id);
    return { id: t.id, customerId: t.customerId, vehicleId: t.vehicleId, faultCode: t.faultCode, planRef: t.planRef };
  }

  return async (app) => {
    // ---------- catalogue and stores
    app.get(
      '/api/stock/parts',
      {
        config: read,
        schema: {
          tags,
          summary: 'The parts catalogue',
          response: { 200: z.object({ parts: z.array(partOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ parts: await stock.catalogue.parts() }),
    );
    app.post(
      '/api/stock/parts',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Adds a part to the catalogue (supply chain)',
          body: partIn,
          response: { 201: partOut, ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const p = await stock.catalogue.addPart(req.body);
        await audit(req, 'stock.part_added', `part:${p.partNo}`);
        return reply.code(201).send(p);
      },
    );
    app.put(
      '/api/stock/parts/:partNo',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Changes a part’s catalogue entry: names, unit, flags, fits, lead time, suppliers (supply chain)',
          params: partParams,
          body: partEditIn,
          response: { 200: partOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const p = await stock.catalogue.updatePart({ ...req.body, partNo: req.params.partNo });
        await audit(req, 'stock.part_changed', `part:${p.partNo}`);
        return p;
      },
    );
    app.get(
      '/api/stock/stores',
      {
        config: read,
        schema: {
          tags,
          summary: 'Stores: central, service points, service vehicles',
          response: { 200: z.object({ stores: z.array(storeOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ stores: await stock.catalogue.stores() }),
    );
    app.post(
      '/api/stock/stores',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Adds a store (supply chain)',
          body: storeIn,
          response: { 201: storeOut, ...errors(400, ...AUTHED, 409) },
        },
      },
      async (req, reply) => {
        const s = await stock.catalogue.addStore(req.body);
        await audit(req, 'stock.store_added', `store:${s.id}`);
        return reply.code(201).send(s);
      },
    );
    app.put(
      '/api/stock/stores/:id',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Changes a store’s kind, names, position and address (supply chain)',
          params: storeParams,
          body: storeEditIn,
          response: { 200: storeOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const s = await stock.catalogue.updateStore({ ...req.body, id: req.params.id });
        await audit(req, 'stock.store_changed', `store:${s.id}`);
        return s;
      },
    );
    app.put(
      '/api/stock/levels',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Sets a part’s min/max level at a store (below min: a replenishment proposal)',
          body: levelIn,
          response: { 204: z.null(), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        await stock.catalogue.setLevel(req.body.partNo, req.body.storeId, req.body.min, req.body.max);
        await audit(req, 'stock.level_set', `part:${req.body.partNo}`, { ...req.body });
        return reply.code(204).send(null);
      },
    );

    // ---------- the ledger
    app.get(
      '/api/stock/balances',
      {
        config: read,
        schema: {
          tags,
          summary:
            'On hand, reserved and available per part and store, summed from the ledger, and what is in transit to the store',
          querystring: z.strictObject({ partNo: partNoSchema.optional(), storeId: storeIdSchema.optional() }),
          response: { 200: z.object({ balances: z.array(balanceInTransitOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ balances: await stock.balancesInTransit(req.query) }),
    );
    app.get(
      '/api/stock/movements',
      {
        config: read,
        schema: {
          tags,
          summary: 'The ledger’s movements, newest first',
          querystring: z.strictObject({
            partNo: partNoSchema.optional(),
            storeId: storeIdSchema.optional(),
            ticketId: intQuery('ticketId', 1, Number.MAX_SAFE_INTEGER).optional(),
            limit: intQuery('limit', 1, 1000).default(200),
          }),
          response: { 200: z.object({ movements: z.array(movementOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ movements: await stock.movements(req.query) }),
    );
    app.post(
      '/api/stock/receipts',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Stock into a store without an order (opening stock, found parts), with a reason',
          body: receiptIn,
          response: { 201: balanceOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const bal = await stock.reservations.receive(b.partNo, b.storeId, b.qty, b.reason, who(req).id);
        await audit(req, 'stock.received', `part:${b.partNo}`, { ...b });
        return reply.code(201).send(bal);
      },
    );
    // ---------- transfers between stores (调拨): draft → in transit → received (or a draft cancelled)
    app.get(
      '/api/stock/transfers',
      {
        config: read,
        schema: {
          tags,
          summary: 'Transfers between stores, newest first, with what is in transit (carrier, tracking number, ETA)',
          querystring: transferQuery,
          response: { 200: z.object({ transfers: z.array(transferOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ transfers: await stock.transfers.list(req.query) }),
    );
    app.get(
      '/api/stock/transfers/:id',
      {
        config: read,
        schema: {
          tags,
          summary: 'One transfer with its lines: shipped, received, booked as lost, outstanding',
          params: numericParams,
          response: { 200: transferOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => stock.transfers.get(req.params.id),
    );
    app.post(
      '/api/stock/transfers',
      {
        config: edit,
        schema: {
          tags,
          summary: 'A transfer document from one store to another (a draft: nothing moves until it is shipped)',
          body: transferIn,
          response: { 201: transferOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const t = await stock.transfers.create(req.body, who(req).id);
        await audit(req, 'stock.transfer_created', `stock_transfer:${t.id}`, { ...req.body, number: t.number });
        return reply.code(201).send(t);
      },
    );
    app.post(
      '/api/stock/transfers/:id/ship',
      {
        config: edit,
        schema: {
          tags,
          summary:
            'Ships a draft transfer: its parts leave the sending store (all lines or none; 409 INSUFFICIENT_STOCK) and are in transit to the receiving one',
          params: numericParams,
          body: transferShipIn,
          response: { 200: transferOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const t = await stock.transfers.ship(req.params.id, req.body, who(req).id);
        await audit(req, 'stock.transfer_shipped', `stock_transfer:${t.id}`, { ...req.body, etaAt: t.etaAt });
        return t;
      },
    );
    app.post(
      '/api/stock/transfers/:id/cancel',
      {
        config: edit,
        schema: {
          tags,
          summary:
            'Cancels a draft transfer with a reason (nothing had moved); a shipped one is refused with 409 STOCK_INVALID_STATE: receive it or book what is missing',
          params: numericParams,
          body: transferCancelIn,
          response: { 200: transferOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const t = await stock.transfers.cancel(req.params.id);
        await audit(req, 'stock.transfer_cancelled', `stock_transfer:${t.id}`, { reason: req.body.reason });
        return t;
      },
    );
    app.post(
      '/api/stock/transfers/:id/receipts',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Goods in at the receiving store: some or all of what is in transit (the rest is a discrepancy)',
          params: numericParams,
          body: transferReceiptIn,
          response: { 200: transferOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const t = await stock.transfers.receive(req.params.id, req.body.lines, who(req).id);
        await audit(req, 'stock.transfer_received', `stock_transfer:${t.id}`, { lines: req.body.lines });
        return t;
      },
    );
    app.post(
      '/api/stock/transfers/:id/discrepancies',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Books what did not arrive (lost, damaged, short-shipped), each with a reason',
          params: numericParams,
          body: transferDiscrepancyIn,
          response: { 200: transferOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const t = await stock.transfers.bookDiscrepancy(req.params.id, req.body.lines, who(req).id);
        await audit(req, 'stock.transfer_discrepancy', `stock_transfer:${t.id}`, { lines: req.body.lines });
        return t;
      },
    );

    // ---------- a ticket's parts
    app.get(
      '/api/tickets/:id/stock',
      {
        config: read,
        schema: {
          tags,
          summary:
            'A ticket’s parts: the plan’s proposed reservation (stores by distance, stock, ETA, shortage), its reservations and shipments',
          params: ticketParams,
          querystring: nearQuery,
          response: { 200: ticketStockOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const t = await ticketOf(req.params.id);
        const near =
          req.query.lat !== undefined && req.query.lon !== undefined
            ? { lat: req.query.lat, lon: req.query.lon }
            : undefined;
        return {
          proposal: await stock.reservations.proposal(t, near),
          reservations: await stock.reservations.ofTicket(t.id),
          shipments: await stock.reservations.shipments({ ticketId: t.id }),
        };
      },
    );
    app.post(
      '/api/tickets/:id/reservations',
      {
        config: { access: { roles: RESERVE } },
        schema: {
          tags,
          summary:
            'Reserves parts for the ticket at the stores picked (all lines or none); 409 INSUFFICIENT_STOCK names what is available where',
          params: ticketParams,
          body: reserveIn,
          response: { 201: z.object({ reservations: z.array(reservationOut) }), ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const t = await ticketOf(req.params.id);
        const reservations = await stock.reservations.reserve(t, req.body.lines, who(req).id);
        await audit(req, 'stock.reserved', `ticket:${t.id}`, { lines: req.body.lines });
        return reply.code(201).send({ reservations });
      },
    );
    app.post(
      '/api/stock/reservations/:id/release',
      {
        config: { access: { roles: RESERVE } },
        schema: {
          tags,
          summary: 'Gives back what a reservation still holds (or some of it)',
          params: numericParams,
          body: releaseIn,
          response: { 200: reservationOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const r = await stock.reservations.release(req.params.id, who(req).id, req.body.qty, req.body.reason);
        await audit(req, 'stock.released', `reservation:${r.id}`, { ticketId: r.ticketId, qty: req.body.qty ?? null });
        return r;
      },
    );
    app.post(
      '/api/tickets/:id/shipments',
      {
        config: { access: { roles: RESERVE } },
        schema: {
          tags,
          summary:
            'Sends a ticket’s reserved parts out of one store: by carrier with a 售后服务发运通知 and tracking number, or handed over (issue)',
          params: ticketParams,
          body: dispatchIn,
          response: { 201: shipmentOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const t = await ticketOf(req.params.id);
        const s = await stock.reservations.dispatch(t, req.body, who(req).id);
        await audit(req, 'stock.shipped', `ticket:${t.id}`, { shipment: s.noticeNo, mode: req.body.mode });
        return reply.code(201).send(s);
      },
    );
    app.post(
      '/api/tickets/:id/consumption',
      {
        config: { access: { roles: CONSUME } },
        schema: {
          tags,
          summary: 'Parts used on the ticket, from what was issued or shipped for it',
          params: ticketParams,
          body: consumeIn,
          response: { 200: reservationOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const t = await ticketOf(req.params.id);
        const r = await stock.reservations.consume(t, req.body.reservationId, req.body.qty, who(req).id);
        await audit(req, 'stock.consumed', `ticket:${t.id}`, { ...req.body });
        return r;
      },
    );
    app.post(
      '/api/tickets/:id/returns',
      {
        config: read,
        schema: {
          tags,
          summary: 'Unused parts back from the field into a store',
          params: ticketParams,
          body: returnIn,
          response: { 200: reservationOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const t = await ticketOf(req.params.id);
        const r = await stock.reservations.giveBack(
          t,
          req.body.reservationId,
          req.body.qty,
          who(req).id,
          req.body.storeId,
        );
        await audit(req, 'stock.returned', `ticket:${t.id}`, { ...req.body });
        return r;
      },
    );

    // ---------- shipments (customers: their own unit's only)
    app.get(
      '/api/stock/shipments',
      {
        config: { access: { roles: SHIPMENT_READERS } },
        schema: {
          tags,
          summary: 'Shipments, newest first (a customer: those to its own unit)',
          querystring: z.strictObject({ ticketId: intQuery('ticketId', 1, Number.MAX_SAFE_INTEGER).optional() }),
          response: {
            200: z.object({ shipments: z.array(customerShipmentOut.or(shipmentOut)) }),
            ...errors(400, ...AUTHED),
          },
        },
      },
      async (req) => {
        const me = who(req);
        if (me.role === 'customer') {
          const list = await stock.reservations.shipments({ customerId: me.customerId ?? '\u0000none', ...req.query });
          return { shipments: list.map(({ storeId: _s, ...rest }) => rest) };
        }
        return { shipments: await stock.reservations.shipments(req.query) };
      },
    );
    app.get(
      '/api/stock/shipments/:id',
      {
        config: { access: { roles: SHIPMENT_READERS } },
        schema: {
          tags,
          summary: 'One shipment with its 售后服务发运通知 number, carrier, tracking number and parts',
          params: numericParams,
          response: { 200: customerShipmentOut.or(shipmentOut), ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => {
        const me = who(req);
        const s = await stock.reservations.shipment(req.params.id).catch(() => null);
        if (!s || (me.role === 'customer' && (s.customerId === null || s.customerId !== me.customerId)))
          throw new PlatformError('SHIPMENT_NOT_FOUND', `shipment ${req.params.id} not found`);
        if (me.role === 'customer') {
          const { storeId: _s, ...rest } = s;
          return rest;
        }
        return s;
      },
    );

    // ---------- replenishment
    app.get(
      '/api/stock/replenishment',
      {
        config: read,
        schema: {
          tags,
          summary:
            'Replenishment proposals: every part and store below its min level, with the contract to order against (or transfer, or the 缺件 path)',
          response: { 200: z.object({ proposals: z.array(proposalRowOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ proposals: await stock.replenishment.proposals() }),
    );
    app.get(
      '/api/stock/contracts',
      {
        config: read,
        schema: {
          tags,
          summary: 'Order contracts (订货合同)',
          response: { 200: z.object({ contracts: z.array(contractOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ contracts: await stock.replenishment.contracts() }),
    );
    app.post(
      '/api/stock/contracts',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Adds an order contract: supplier, prices, lead times',
          body: contractIn,
          response: { 201: contractOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const c = await stock.replenishment.addContract(req.body, who(req).id);
        await audit(req, 'stock.contract_added', `order_contract:${c.id}`, {
          number: c.number,
          supplierId: c.supplierId,
        });
        return reply.code(201).send(c);
      },
    );
    app.put(
      '/api/stock/contracts/:id',
      {
        config: edit,
        schema: {
          tags,
          summary:
            'Changes an order contract: supplier, validity, items with prices and lead times (orders placed keep their prices)',
          params: numericParams,
          body: contractIn,
          response: { 200: contractOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const c = await stock.replenishment.updateContract(req.params.id, req.body);
        await audit(req, 'stock.contract_changed', `order_contract:${c.id}`, {
          number: c.number,
          supplierId: c.supplierId,
        });
        return c;
      },
    );
    app.get(
      '/api/stock/purchase-orders',
      {
        config: read,
        schema: {
          tags,
          summary: 'Purchase orders, newest first, with what has been received',
          response: { 200: z.object({ orders: z.array(orderOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ orders: await stock.replenishment.orders() }),
    );
    app.post(
      '/api/stock/purchase-orders',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Places a purchase order against an order contract (its prices and lead time)',
          body: orderIn,
          response: { 201: orderOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        const o = await stock.replenishment.placeOrder(req.body, who(req).id);
        await audit(req, 'stock.order_placed', `purchase_order:${o.id}`, { number: o.number });
        return reply.code(201).send(o);
      },
    );
    app.post(
      '/api/stock/purchase-orders/:id/receipts',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Goods in against a purchase order: receipts into its store',
          params: numericParams,
          body: orderReceiptIn,
          response: { 200: orderOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const o = await stock.replenishment.receiveOrder(req.params.id, req.body.lines, who(req).id);
        await audit(req, 'stock.order_received', `purchase_order:${o.id}`, { lines: req.body.lines });
        return o;
      },
    );
    app.get(
      '/api/stock/shortages',
      {
        config: read,
        schema: {
          tags,
          summary: 'Shortage tasks (缺件)',
          response: { 200: z.object({ shortages: z.array(shortageOut) }), ...errors(...AUTHED) },
        },
      },
      async () => ({ shortages: await stock.replenishment.shortages() }),
    );
    app.post(
      '/api/stock/shortages',
      {
        config: { access: { roles: RESERVE } },
        schema: {
          tags,
          summary:
            'Raises the 缺件 path for a part with no stock anywhere and no contract: machining documents (加工技术文件) or a purchase list (采购清单)',
          body: shortageIn,
          response: { 201: shortageOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req, reply) => {
        if (req.body.ticketId !== null) await ticketOf(req.body.ticketId);
        const s = await stock.replenishment.raiseShortage(req.body, who(req).id);
        await audit(req, 'stock.shortage_raised', `shortage:${s.id}`, { partNo: s.partNo, ticketId: s.ticketId });
        return reply.code(201).send(s);
      },
    );

    app.post(
      '/api/stock/shortages/:id/done',
      {
        config: { access: { roles: RESERVE } },
        schema: {
          tags,
          summary: 'Marks a shortage task (缺件) done with its outcome: what was made or bought, the document number',
          params: numericParams,
          body: shortageDoneIn,
          response: { 200: shortageOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const s = await stock.replenishment.completeShortage(req.params.id, req.body.outcome, who(req).id);
        await audit(req, 'stock.shortage_done', `shortage:${s.id}`, { outcome: s.outcome });
        return s;
      },
    );

    // ---------- stock-taking (盘点)
    app.get(
      '/api/stock/counts',
      {
        config: read,
        schema: {
          tags,
          summary: 'Stock-takes (盘点), newest first',
          querystring: z.strictObject({ storeId: storeIdSchema.optional() }),
          response: { 200: z.object({ counts: z.array(countOut) }), ...errors(400, ...AUTHED) },
        },
      },
      async (req) => ({ counts: await stock.stocktake.counts(req.query) }),
    );
    app.get(
      '/api/stock/counts/:id',
      {
        config: read,
        schema: {
          tags,
          summary: 'One count sheet',
          params: numericParams,
          response: { 200: countOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req) => stock.stocktake.count(req.params.id),
    );
    app.post(
      '/api/stock/counts',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Opens a count sheet for a store: every part it holds, with what the ledger says is on hand now',
          body: countIn,
          response: { 201: countOut, ...errors(400, ...AUTHED, 404) },
        },
      },
      async (req, reply) => {
        const c = await stock.stocktake.open(req.body.storeId, who(req).id);
        await audit(req, 'stock.count_opened', `stock_count:${c.id}`, { storeId: c.storeId });
        return reply.code(201).send(c);
      },
    );
    app.post(
      '/api/stock/counts/:id/lines',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Enters counted quantities, with a reason for each difference',
          params: numericParams,
          body: countLinesIn,
          response: { 200: countOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const c = await stock.stocktake.record(req.params.id, req.body.lines, who(req).id);
        await audit(req, 'stock.counted', `stock_count:${c.id}`, { lines: req.body.lines.length });
        return c;
      },
    );
    app.post(
      '/api/stock/counts/:id/book',
      {
        config: edit,
        schema: {
          tags,
          summary: 'Books the differences as adjustments (who and why); every line counted, every difference explained',
          params: numericParams,
          response: { 200: countOut, ...errors(400, ...AUTHED, 404, 409) },
        },
      },
      async (req) => {
        const c = await stock.stocktake.book(req.params.id, who(req).id);
        await audit(req, 'stock.count_booked', `stock_count:${c.id}`, {
          differences: c.lines.filter((l) => l.difference).map((l) => ({ partNo: l.partNo, difference: l.difference })),
        });
        return c;
      },
    );
  };
}
