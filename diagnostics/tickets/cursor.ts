import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PlatformError } from '../../core/errors.ts';
import type { QueuePosition } from './queue.ts';

const CURSOR_VERSION = 'q1';

/**
 * Opaque cursors: the position, and a MAC over it and the list's filters under a key of this
 * process. A cursor edited, built by hand, or used with other filters than the list that gave it
 * is INVALID_CURSOR (so is one from before a restart: the client starts again from the first page).
 */
export function createCursors(key: Buffer = randomBytes(32)) {
  const mac = (payload: string, filters: string) =>
    createHmac('sha256', key).update(payload).update('\u0000').update(filters).digest('base64url').slice(0, 22);
  return {
    /** The cursor of the page after position `p` of the list with these `filters` (any stable string). */
    encode(p: QueuePosition, filters: string): string {
      const payload = Buffer.from(JSON.stringify([CURSOR_VERSION, p.dueAt, p.workContentDueAt, p.id])).toString(
        'base64url',
      );
      return `${payload}.${mac(payload, filters)}`;
    },
    /** The position in a cursor from `encode` with the same filters; anything else is INVALID_CURSOR. */
    decode(cursor: string, filters: string): QueuePosition {
      const bad = () =>
        new PlatformError(
          'INVALID_CURSOR',
          'cursor: not a cursor of this list with these filters; start again without one',
        );
      const [payload, sig, ...rest] = cursor.split('.');
      if (cursor.length > 200 || rest.length || !payload || !sig) throw bad();
      const expected = Buffer.from(mac(payload, filters));
      const given = Buffer.from(sig);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
      let v: unknown;
      try {
        v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      if (
        !Array.isArray(v) ||
        v.length !== 4 ||
        v[0] !== CURSOR_VERSION ||
        !v.slice(1).every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
      )
        throw bad();
      const [, dueAt, workContentDueAt, id] = v as [string, number, number, number];
      return { dueAt, workContentDueAt, id };
    },
  };
}

export type Cursors = ReturnType<typeof createCursors>;
