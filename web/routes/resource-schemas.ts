import { z } from 'zod';
import type { Role } from '../auth/roles.ts';

/** Building blocks of the resource register's routes (tools, suppliers, partners, people). */

/** A time in a body: epoch milliseconds. */
export const epochMs = z
  .number({ error: 'must be epoch milliseconds' })
  .int({ error: 'must be whole epoch milliseconds' })
  .min(0, { error: 'must be epoch milliseconds' })
  .max(8_640_000_000_000_000, { error: 'must be epoch milliseconds' });

/** A 1–5 rating. */
export const rating = (name: string) =>
  z
    .number({ error: `${name} must be a number 1–5` })
    .int({ error: `${name} must be a whole number 1–5` })
    .min(1, { error: `${name} must be 1–5` })
    .max(5, { error: `${name} must be 1–5` });

/** A register code or text id: part numbers, tool codes, supplier and person ids. */
export const registerId = (name: string) =>
  z.string({ error: `${name} must be text` }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    error: `${name} must be 1–64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit`,
  });

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
