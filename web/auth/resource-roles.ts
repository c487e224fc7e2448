/**
 * Who reads and who changes the resource register (tools, suppliers and quality, partners,
 * people): docs/resources-register.md "Who may change what". Plain data with a type-only import, so
 * the browser console imports it too and shows edit controls to exactly the roles the routes let
 * write (web/routes/resource-schemas.ts re-exports these for the routes).
 */
import type { Role } from './roles.ts';

/** Who reads the register: staff (customers see none of it). */
export const REGISTER_READ: readonly Role[] = ['admin', 'dispatcher', 'engineer'];
/** Who keeps the tools register and checks tools out and back: every staff role (the duty desk, engineers). */
export const TOOLS_EDIT: readonly Role[] = ['admin', 'dispatcher', 'engineer'];
/** Who attributes a ticket's cause to a supplier's part: admin and engineers (technical centre); the attribution is made from the ticket. */
export const QUALITY_EDIT: readonly Role[] = ['admin', 'engineer'];
/** Who reads suppliers, their quality records and failure rates: staff and supply chain (供应链管理部). */
export const SUPPLIERS_READ: readonly Role[] = [...REGISTER_READ, 'supply'];
/** Who keeps suppliers, evaluates them and sends quality feedback (质量信息反馈): admin, engineers and supply chain. */
export const SUPPLIERS_EDIT: readonly Role[] = ['admin', 'engineer', 'supply'];
/** Who keeps partners and dispatches them: admin and the duty desk (market department). */
export const PARTNERS_EDIT: readonly Role[] = ['admin', 'dispatcher'];
/** Who keeps people, skills and availability: admin and the duty desk. */
export const PEOPLE_EDIT: readonly Role[] = ['admin', 'dispatcher'];
