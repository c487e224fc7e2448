import type { Ticket } from '../diagnostics/types.ts';
import { ticketPartLines, type ReportPartLine, type ReportParts } from '../reports/service-report.ts';
import type { ConsumedPart } from '../resources/stock/consumed.ts';

/**
 * The service report's "parts used" from the spare-parts ledger: the consumptions on the ticket
 * (part number, names en/zh, quantity and unit, the store it left), then the ticket's own free lines
 * (resolution.partsUsed) that do not name one of those part numbers — a free line such as
 * "1× FF-5421" written beside a booked consumption is the same part, not a second one.
 */
export function ledgerReportParts(consumed: (ticketId: number) => Promise<ConsumedPart[]>): ReportParts {
  return {
    async partsUsed(t: Ticket): Promise<ReportPartLine[]> {
      const booked = await consumed(t.id);
      const lines: ReportPartLine[] = booked.map((c) => ({
        name: c.name.en,
        names: c.name,
        partNo: c.partNo,
        quantity: c.qty,
        unit: c.unit || null,
        note: null,
        store: c.storeId,
      }));
      const numbers = booked.map((c) => c.partNo.toLowerCase());
      const free = (await ticketPartLines.partsUsed(t)).filter(
        (l) => !numbers.some((n) => l.name.toLowerCase().includes(n)),
      );
      return [...lines, ...free];
    },
  };
}
