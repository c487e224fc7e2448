/**
 * The roles of console accounts. Plain data with no imports, so the browser app and the live
 * channel's event map can import it (type-only) without pulling server code.
 */
export const ROLES = ['admin', 'dispatcher', 'engineer', 'customer'] as const;
export type Role = (typeof ROLES)[number];
/** The manufacturer's own people: everyone but customers. */
export const STAFF_ROLES: readonly Role[] = ['admin', 'dispatcher', 'engineer'];
