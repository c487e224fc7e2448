import { createHash, randomBytes } from 'node:crypto';
import { PlatformError } from '../../core/errors.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type {} from './errors.ts';

/** Password reset links: only the SHA-256 of the link's token is stored. */
export interface PasswordResetsTable {
  id: string;
  account_id: string;
  issued_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    password_resets: PasswordResetsTable;
  }
}

const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The console path a reset link opens: the token is in the fragment, which browsers never send to
 * a server (nor to a proxy log, nor in a Referer), and the console posts it to POST /api/auth/reset.
 */
export const resetLinkPath = (token: string) => `/#/reset?token=${token}`;

export interface IssuedReset {
  /** The one-time token (256 random bits); shown once. */
  token: string;
  /** `resetLinkPath(token)`: prefix it with the console's address. */
  path: string;
  expiresAt: number;
}

/**
 * Password reset by a one-time link (issue 16, item 12). `issue` is the seam for every channel: the
 * admin route returns the link to the admin to hand over, and the notifications stage calls the
 * same `issue` to send it by email (not built yet). A link expires after `ttlMs`, works once, and a
 * new link for the same account cancels the older ones; using it sets the password (the password
 * rule applies) and ends every session of the account.
 */
export function createPasswordResets(deps: { db: RecordsDb; now: () => number }, options: { ttlMs: number }) {
  const { db, now } = deps;
  return {
    ttlMs: options.ttlMs,
    async issue(accountId: string, issuedBy: string): Promise<IssuedReset> {
      const token = randomBytes(32).toString('base64url');
      const at = now();
      const expiresAt = at + options.ttlMs;
      await inTransaction(db, async (tx) => {
        const a = await tx.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
        if (!a) throw new PlatformError('ACCOUNT_NOT_FOUND', `account ${accountId} not found`);
        await tx
          .deleteFrom('password_resets')
          .where('account_id', '=', accountId)
          .where('used_at', 'is', null)
          .execute();
        await tx
          .insertInto('password_resets')
          .values({
            id: digest(token),
            account_id: accountId,
            issued_by: issuedBy,
            created_at: at,
            expires_at: expiresAt,
            used_at: null,
          })
          .execute();
      });
      return { token, path: resetLinkPath(token), expiresAt };
    },
    /** The account a live link is for (nothing is used up), or RESET_LINK_INVALID. */
    async peek(token: string): Promise<{ accountId: string; expiresAt: number }> {
      const row = TOKEN_PATTERN.test(token)
        ? await db.selectFrom('password_resets').selectAll().where('id', '=', digest(token)).executeTakeFirst()
        : undefined;
      if (!row || row.used_at !== null || Number(row.expires_at) <= now())
        throw new PlatformError(
          'RESET_LINK_INVALID',
          'this reset link is unknown, used or expired; ask an admin for a new one',
        );
      return { accountId: row.account_id, expiresAt: Number(row.expires_at) };
    },
    /**
     * Uses a link up: `apply` (setting the password) runs only if this call is the one that marked
     * the link used, so two requests with the same link cannot both set a password.
     */
    async redeem(token: string, apply: (accountId: string) => Promise<void>): Promise<string> {
      const { accountId } = await this.peek(token);
      const res = await db
        .updateTable('password_resets')
        .set({ used_at: now() })
        .where('id', '=', digest(token))
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1)
        throw new PlatformError(
          'RESET_LINK_INVALID',
          'this reset link is unknown, used or expired; ask an admin for a new one',
        );
      try {
        await apply(accountId);
      } catch (err) {
        // a refused password (the rule) does not use the link up
        await db.updateTable('password_resets').set({ used_at: null }).where('id', '=', digest(token)).execute();
        throw err;
      }
      return accountId;
    },
  };
}

export type PasswordResets = ReturnType<typeof createPasswordResets>;
