import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PlatformError } from './errors.ts';

const VERSION = 'k1';

/**
 * Opaque cursors for keyset paging: a position in a list's order (whole numbers, e.g. a sort key
 * and the id), with a MAC over it and the list (its name and filters) under a key of this process.
 * A cursor edited, built by hand, used with another list or other filters, or from before a restart
 * is INVALID_CURSOR: the client starts again from the first page.
 */
export function createCursors(key: Buffer = randomBytes(32)) {
  const mac = (payload: string, list: string) =>
    createHmac('sha256', key).update(payload).update('\u0000').update(list).digest('base64url').slice(0, 22);
  return {
    /** The cursor of the page after `position` in `list` (a stable string naming the list and its filters). */
    encode(position: readonly number[], list: string): string {
      const payload = Buffer.from(JSON.stringify([VERSION, ...position])).toString('base64url');
      return `${payload}.${mac(payload, list)}`;
    },
    /** The position of `size` numbers in a cursor from `encode` for the same list; anything else is INVALID_CURSOR. */
    decode(cursor: string, list: string, size: number): number[] {
      const bad = () =>
        new PlatformError(
          'INVALID_CURSOR',
          'cursor: not a cursor of this list with these filters; start again without one',
        );
      const [payload, sig, ...rest] = cursor.split('.');
      if (cursor.length > 200 || rest.length || !payload || !sig) throw bad();
      const expected = Buffer.from(mac(payload, list));
      const given = Buffer.from(sig);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      if (!Array.isArray(v) || v.length !== size + 1 || v[0] !== VERSION) throw bad();
      const position = v.slice(1) as unknown[];
      if (!position.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) throw bad();
      return position as number[];
    },
  };
}

export type Cursors = ReturnType<typeof createCursors>;

/** The cursors of this process (one key: cursors end with the process). */
export const cursors: Cursors = createCursors();
