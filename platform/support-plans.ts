import type { Logger } from '../core/logger.ts';
import {
  createSupportPlans,
  type SupportPlanMaterials,
  type SupportPlans,
} from '../diagnostics/support-plans/plans.ts';
import type { TicketService } from '../diagnostics/tickets/service.ts';
import type { RecordsDb } from '../records/db.ts';
import type { Stock } from '../resources/stock/stock.ts';
import type { Tools } from '../resources/tools/tools.ts';

/**
 * The support plan's materials over the resources stage: spare parts through the stock ledger's
 * reservations (resources/stock/reservations.ts), tools through the tools register
 * (resources/tools/tools.ts). The support plan module knows only SupportPlanMaterials.
 */
export function supportPlanMaterials(
  stock: Pick<Stock, 'reservations' | 'catalogue'>,
  tools: Tools,
): SupportPlanMaterials {
  const r = stock.reservations;
  return {
    async reserve(ticket, lines, actor) {
      const before = new Set((await r.ofTicket(ticket.id)).map((x) => x.id));
      const after = await r.reserve(ticket, lines, actor);
      // the new reservations, in the order of the lines (reserve inserts them in that order)
      return after.filter((x) => !before.has(x.id)).map((x) => x.id);
    },
    async reservations(ticketId) {
      const parts = await stock.catalogue.parts();
      return (await r.ofTicket(ticketId)).map((x) => ({
        id: x.id,
        partNo: x.partNo,
        name: parts.find((p) => p.partNo === x.partNo)?.name ?? { en: x.partNo, zh: x.partNo },
        storeId: x.storeId,
        qty: x.qty,
        reserved: x.reserved,
        inField: x.inField,
        consumed: x.consumed,
      }));
    },
    async proposal(ticket) {
      const p = await r.proposal(ticket);
      return p.lines
        .filter((l) => l.qty - l.covered > 0)
        .map((l) => ({ partNo: l.partNo, name: l.name, qty: l.qty - l.covered, storeId: l.proposedStoreId }));
    },
    async shipments(ticketId) {
      return (await r.shipments({ ticketId })).map((s) => ({
        noticeNo: s.noticeNo,
        carrier: s.carrier,
        trackingNo: s.trackingNo,
        consignee: s.consignee,
        address: s.address,
        shippedAt: s.shippedAt,
        lines: s.lines,
      }));
    },
    async tool(id) {
      const t = await tools.get(id);
      return {
        id: t.id,
        code: t.code,
        name: { en: t.name, zh: t.nameZh ?? t.name },
        checkedOutTo: t.status === 'checked_out' ? (t.checkout?.ticketId ?? -1) : t.status === 'available' ? null : -1,
      };
    },
    async checkOutTool(id, ticketId, team, actor) {
      await tools.checkOut(id, { ticketId, team, by: actor });
    },
  };
}

/** The support plan documents (应急保障工作计划) as the platform and the tests build them. */
export function createSupportPlanStage(deps: {
  db: RecordsDb;
  log: Logger;
  now?: () => number;
  tickets: TicketService;
  stock: Pick<Stock, 'reservations' | 'catalogue'>;
  tools: Tools;
}): SupportPlans {
  return createSupportPlans({
    db: deps.db,
    log: deps.log.child({ module: 'support-plans' }),
    tickets: deps.tickets,
    materials: supportPlanMaterials(deps.stock, deps.tools),
    ...(deps.now ? { now: deps.now } : {}),
  });
}
