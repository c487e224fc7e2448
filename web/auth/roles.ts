/**
 * The roles of console accounts. Plain data with no imports, so the browser app and the live
 * channel's event map can import it (type-only) without pulling server code.
 */
export const ROLES = ['admin', 'dispatcher', 'engineer', 'customer', 'supply'] as const;
export type Role = (typeof ROLES)[number];
/** The manufacturer's own people: everyone but customers. */
export const STAFF_ROLES: readonly Role[] = ['admin', 'dispatcher', 'engineer'];
/**
 * The roles that work vehicles, alarms, tickets, remote sessions and customer units: everyone but
 * supply chain. Routes about those name these, not ROLES (which also holds roles of other work).
 */
export const FIELD_ROLES: readonly Role[] = ['admin', 'dispatcher', 'engineer', 'customer'];
/**
 * Supply chain (供应链管理部): keeps the spare-parts stock (catalogue, stores, orders, stock-takes).
 * Not one of STAFF_ROLES: it does not work tickets, vehicles or remote sessions; the stock routes
 * name it where it may act (web/routes/stock.ts).
 */
export const STOCK_ROLES: readonly Role[] = ['admin', 'dispatcher', 'engineer', 'supply'];
