import { z } from 'zod';

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

export {
  PARTNERS_EDIT,
  PEOPLE_EDIT,
  QUALITY_EDIT,
  REGISTER_READ,
  SUPPLIERS_EDIT,
  SUPPLIERS_READ,
  TOOLS_EDIT,
} from '../auth/resource-roles.ts';
