import type { EventBus } from '../../core/bus.ts';
import type { PlatformEvents } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { RecordsDb } from '../../records/db.ts';
import { createCatalogue } from './catalogue.ts';
import { consumedOnTicket } from './consumed.ts';
import { balances, movements } from './ledger.ts';
import { createReplenishment } from './replenishment.ts';
import { createReservations, type PlanParts } from './reservations.ts';
import { createStocktake } from './stocktake.ts';
import { createTelemetryPositions } from './positions.ts';
import { createTransfers, inTransit, inTransitByTransfer } from './transfers.ts';

export interface StockDeps {
  db: RecordsDb;
  log: Logger;
  now?: () => number;
  /** The emergency plan's parts for a fault code (diagnostics/plans). */
  planParts: PlanParts;
  /** When given, the vehicles' GPS positions in telemetry are kept for the proposals (positions.ts). */
  bus?: EventBus<PlatformEvents>;
}

/**
 * Spare-parts stock (备品备件, plan §4b and 4.6): the catalogue and stores, stock as a ledger of
 * movements, reservations on tickets from their emergency plan, shipments, consumption,
 * replenishment against order contracts, shortage tasks and stock-taking. docs/resources.md.
 */
export function createStock(deps: StockDeps) {
  const now = deps.now ?? Date.now;
  const db = deps.db;
  const catalogue = createCatalogue({ db, now });
  const replenishment = createReplenishment({ db, now, catalogue });
  const reservations = createReservations({
    db,
    now,
    catalogue,
    planParts: deps.planParts,
    onOrder: (p) => replenishment.onOrder(p),
    hasContract: async (p) => (await replenishment.bestContract(p)) !== null,
    inTransit: (p) => inTransitByTransfer(db, p),
    async shortageTask(input) {
      const t =
        (await replenishment.raiseFromProposal(input)) ??
        (await replenishment.ticketShortage(input.ticketId, input.partNo));
      return t && { id: t.id, kind: t.kind, status: t.status, automatic: t.automatic };
    },
    positionsWritten: () => positions?.idle() ?? Promise.resolve(),
  });
  const stocktake = createStocktake({ db, now, catalogue });
  const transfers = createTransfers({ db, now, catalogue });
  const positions = deps.bus
    ? createTelemetryPositions({
        bus: deps.bus,
        log: deps.log,
        setMany: (list) => reservations.setVehiclePositions(list, 'telemetry', 'system'),
      })
    : undefined;
  // a ticket opened with a plan: its proposal at once, so a part nowhere in stock and under no
  // contract gets its 缺件 task without waiting for a dispatcher to open the ticket's parts
  let offOpened: (() => void) | undefined;
  let proposing = Promise.resolve();
  const proposeOnOpening = (ticket: PlatformEvents['ticket.opened']['ticket']) => {
    if (!ticket.planRef && !ticket.faultCode) return;
    proposing = proposing
      .then(() => reservations.proposal(ticket))
      .then(
        () => undefined,
        (err: unknown) => deps.log.warn({ err, ticketId: ticket.id }, 'could not propose the ticket’s parts'),
      );
  };
  return {
    catalogue,
    reservations,
    replenishment,
    stocktake,
    transfers,
    balances: (filter: { partNo?: string; storeId?: string } = {}) => balances(db, filter),
    /**
     * The balances with what is in transit to each store (`inTransit`: shipped by a transfer, on hand
     * nowhere yet); a store with only stock on its way is listed with zeros on hand.
     */
    async balancesInTransit(filter: { partNo?: string; storeId?: string } = {}) {
      const [list, moving] = await Promise.all([balances(db, filter), inTransit(db, filter)]);
      const out = list.map((b) => ({
        ...b,
        inTransit: moving.find((m) => m.partNo === b.partNo && m.storeId === b.storeId)?.qty ?? 0,
      }));
      const only = moving.filter((m) => !list.some((b) => b.partNo === m.partNo && b.storeId === m.storeId));
      if (only.length === 0) return out;
      for (const m of only)
        out.push({ partNo: m.partNo, storeId: m.storeId, onHand: 0, reserved: 0, available: 0, inTransit: m.qty });
      return out.sort((a, b) => a.partNo.localeCompare(b.partNo) || a.storeId.localeCompare(b.storeId));
    },
    /** The parts consumed on a ticket, per part and store (the service report's parts used). */
    consumed: (ticketId: number) => consumedOnTicket(db, ticketId),
    movements: (filter: { partNo?: string; storeId?: string; ticketId?: number; limit: number }) =>
      movements(db, filter),
    /** Resolves once every vehicle position heard from telemetry so far is written. */
    positionsIdle: () => positions?.idle() ?? Promise.resolve(),
    /** Resolves once every opened ticket heard so far is proposed (and its shortage tasks raised). */
    proposalsIdle: () => proposing,
    async start() {
      positions?.start();
      if (deps.bus) offOpened ??= deps.bus.on('ticket.opened', (e) => proposeOnOpening(e.ticket));
    },
    async stop() {
      offOpened?.();
      offOpened = undefined;
      await proposing;
      await positions?.stop();
    },
  };
}

export type Stock = ReturnType<typeof createStock>;
