import type { ServiceOrder } from '../../diagnostics/service-orders/orders.ts';
import type { OrderReportSources } from '../../reports/order-report.ts';
import type { WebContext } from '../context.ts';

/**
 * A service order's report sources as the customer side may see them — the document both sides
 * sign, so everybody gets the same one: people by public names (never a staff login id), no
 * internal notes.
 */
export async function orderReportSources(ctx: WebContext, o: ServiceOrder): Promise<OrderReportSources> {
  const orders = ctx.deps.diagnostics.serviceOrders;
  const naming = await ctx.names.forCustomer(o.customerId);
  const records = (await orders.records.list(o.id)).map((r) => ({
    ...r,
    actor: naming.person(r.actor),
    internalNote: null,
  }));
  const vehicles: OrderReportSources['vehicles'] = {};
  for (const id of new Set(
    records.flatMap((r) => (r.body.type === 'visit' && r.body.vehicleId ? [r.body.vehicleId] : [])),
  )) {
    const v = await ctx.deps.vehicles.get(id);
    vehicles[id] = { id, name: v?.name || null, model: v?.model || null };
  }
  const unit = await ctx.deps.customers.get(o.customerId);
  return {
    order: {
      ...o,
      requestedBy: naming.person(o.requestedBy),
      signOff: o.signOff && { ...o.signOff, by: naming.person(o.signOff.by) },
    },
    unit: { id: o.customerId, name: unit?.name || null },
    vehicles,
    team: (await orders.records.team(o.id)).map((m) => ({
      name: naming.person(m.accountId),
      role: m.role,
      duty: m.duty,
    })),
    records,
    events: (await orders.events(o.id)).map((e) => ({ ...e, actor: naming.person(e.actor) })),
    generatedAt: (ctx.deps.now ?? Date.now)(),
  };
}
