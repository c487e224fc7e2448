import type { OrderRecord } from '../../diagnostics/service-orders/order-records.ts';
import type { ServiceOrder } from '../../diagnostics/service-orders/orders.ts';
import type { TeamMember } from '../../diagnostics/tickets/team.ts';
import type { Account } from '../auth/accounts.ts';
import type { WebContext } from '../context.ts';
import type { RecordOut } from './order-schemas.ts';

/**
 * What one viewer is sent of a service order, its team and its records: staff everything; a
 * customer people by public names (never a staff login id) and no internal notes.
 */
export function orderViews(ctx: WebContext) {
  return {
    async order(me: Account, o: ServiceOrder): Promise<ServiceOrder> {
      if (me.role !== 'customer') return o;
      const naming = await ctx.names.forViewer(me);
      return {
        ...o,
        requestedBy: naming.person(o.requestedBy),
        signOff: o.signOff && { ...o.signOff, by: naming.person(o.signOff.by) },
      };
    },

    async team(me: Account, team: TeamMember[]) {
      const naming = await ctx.names.forViewer(me);
      const out = [];
      for (const m of team) {
        if (me.role === 'customer') {
          const name = naming.person(m.accountId);
          out.push({ accountId: name, role: m.role, duty: m.duty, name });
        } else {
          const a = await ctx.accounts.get(m.accountId);
          out.push({ accountId: m.accountId, role: m.role, duty: m.duty, name: a?.name ?? m.accountId });
        }
      }
      return out;
    },

    async records(me: Account, records: OrderRecord[]): Promise<RecordOut[]> {
      const naming = await ctx.names.forViewer(me);
      return records.map((r) => ({
        ...r,
        actor: naming.person(r.actor),
        body: r.body as unknown as Record<string, unknown>,
        internalNote: me.role === 'customer' ? null : r.internalNote,
      }));
    },
  };
}
