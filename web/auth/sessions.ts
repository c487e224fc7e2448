import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RecordsDb } from '../../records/db.ts';
import { toAccount, type Account, type Role } from './accounts.ts';

declare module '../../records/schema.ts' {
  interface SessionsTable {
    /** When the session last proved its password or second factor (login, re-authentication); null: at creation. */
    authenticated_at: number | null;
  }
}

/** The session cookie. `__Host-` makes browsers insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-pw_session';
/** The header that must carry the session's CSRF token on every state-changing request. */
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionOptions {
  /** A session unused for this long ends. */
  idleTimeoutMs: number;
  /** A session ends this long after login, whatever the activity. */
  maxAgeMs: number;
  /** Accounts of these roles must enrol a second factor before doing anything else (REQUIRE_2FA_ROLES). */
  requireTwoFactorRoles?: readonly Role[];
}

export interface ActiveSession {
  /** SHA-256 of the token (the stored id). */
  id: string;
  account: Account;
  createdAt: number;
  expiresAt: number;
  /** When the session ends if unused from now on. */
  idleExpiresAt: number;
  csrfToken: string;
  /** When this session last proved its password or second factor (login or re-authentication). */
  authenticatedAt: number;
  /** The deployment requires a second factor for this account's role and none is enrolled: enrol first. */
  twoFactorRequired: boolean;
}

/** One session as its owner or an admin sees it in a list (never its token). */
export interface SessionInfo {
  /** A public handle of the session (the first 16 hex digits of its stored id): names it for revoking. */
  id: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
  /** The session the request came with. */
  current: boolean;
}

/** The public handle of a stored session id. */
export const sessionHandle = (id: string) => id.slice(0, 16);

/** A session, or every session of an account but `keep`, just ended (logout, disable, reset, removal). */
export type SessionEnded = { sessionId: string } | { accountId: string; keep?: string | undefined };

/** How often (at most) a session's last-seen time is written. */
const TOUCH_EVERY_MS = 60_000;

const sessionId = (token: string) => createHash('sha256').update(token).digest('hex');

/** The CSRF token is derived from the session's secret token: nothing to store, useless without the cookie. */
export function csrfTokenFor(token: string): string {
  return createHmac('sha256', token).update('powerwatch csrf v1').digest('base64url');
}

export function csrfMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Server-side sessions in the records store. The cookie carries a 256-bit random token; only its
 * SHA-256 is stored. A session ends at logout, after the idle timeout, at its absolute expiry,
 * and when its account is disabled, removed or its password changes.
 */
export function createSessions(deps: { db: RecordsDb; now?: () => number }, options: SessionOptions) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const endListeners = new Set<(e: SessionEnded) => void>();
  const ended = (e: SessionEnded) => {
    for (const l of endListeners) {
      try {
        l(e);
      } catch {
        // a listener's failure must not fail the logout
      }
    }
  };

  return {
    options,
    /** Calls `listener` right after sessions end by logout or an account change (not by expiry: see `alive`). */
    onEnded(listener: (e: SessionEnded) => void): () => void {
      endListeners.add(listener);
      return () => void endListeners.delete(listener);
    },
    /** Whether a session (by id) is still live, without refreshing its idle timer. */
    async alive(id: string): Promise<boolean> {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
        .select(['sessions.expires_at', 'sessions.last_seen_at', 'accounts.disabled'])
        .where('sessions.id', '=', id)
        .executeTakeFirst();
      const at = now();
      return (
        !!row &&
        Number(row.expires_at) > at &&
        Number(row.last_seen_at) + options.idleTimeoutMs > at &&
        row.disabled !== 1
      );
    },
    async create(
      accountId: string,
      meta: { ip: string | null; userAgent: string | null },
    ): Promise<{ token: string; session: ActiveSession }> {
      const token = randomBytes(32).toString('base64url');
      const at = now();
      const id = sessionId(token);
      await db
        .insertInto('sessions')
        .values({
          id,
          account_id: accountId,
          created_at: at,
          expires_at: at + options.maxAgeMs,
          last_seen_at: at,
          authenticated_at: at,
          ip: meta.ip,
          user_agent: meta.userAgent?.slice(0, 300) ?? null,
        })
        .execute();
      const session = await this.lookup(token);
      if (!session) throw new Error('a session just created could not be read');
      return { token, session };
    },
    /** The live session for a cookie token, or why there is none. Refreshes the idle timer. */
    async lookup(token: string): Promise<ActiveSession | undefined> {
      if (token.length < 20 || token.length > 100) return undefined;
      const id = sessionId(token);
      const row = await db
        .selectFrom('sessions')
        .innerJoin('accounts', 'accounts.id', 'sessions.account_id')
        .selectAll('accounts')
        .select([
          'sessions.id as session_id',
          'sessions.created_at as session_created_at',
          'sessions.expires_at',
          'sessions.last_seen_at',
          'sessions.authenticated_at',
        ])
        .where('sessions.id', '=', id)
        .executeTakeFirst();
      if (!row) return undefined;
      const at = now();
      const lastSeen = Number(row.last_seen_at);
      const expiresAt = Number(row.expires_at);
      if (expiresAt <= at || lastSeen + options.idleTimeoutMs <= at || row.disabled === 1) {
        await db.deleteFrom('sessions').where('id', '=', id).execute();
        return undefined;
      }
      if (at - lastSeen >= TOUCH_EVERY_MS)
        await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
      const seen = at - lastSeen >= TOUCH_EVERY_MS ? at : lastSeen;
      const account = toAccount(row);
      return {
        id,
        account,
        twoFactorRequired: !account.twoFactor && !!options.requireTwoFactorRoles?.includes(account.role),
        createdAt: Number(row.session_created_at),
        expiresAt,
        idleExpiresAt: Math.min(expiresAt, seen + options.idleTimeoutMs),
        csrfToken: csrfTokenFor(token),
        authenticatedAt: Number(row.authenticated_at ?? row.session_created_at),
      };
    },
    /** Records that the session just proved its password or second factor again. */
    async reauthenticated(id: string): Promise<number> {
      const at = now();
      await db.updateTable('sessions').set({ authenticated_at: at }).where('id', '=', id).execute();
      return at;
    },
    /** The live sessions of an account, newest first; `currentId` is flagged. */
    async listOf(accountId: string, currentId?: string): Promise<SessionInfo[]> {
      const at = now();
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('expires_at', '>', at)
        .where('last_seen_at', '>', at - options.idleTimeoutMs)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map((r) => ({
        id: sessionHandle(r.id),
        createdAt: Number(r.created_at),
        lastSeenAt: Number(r.last_seen_at),
        expiresAt: Math.min(Number(r.expires_at), Number(r.last_seen_at) + options.idleTimeoutMs),
        ip: r.ip,
        userAgent: r.user_agent,
        current: r.id === currentId,
      }));
    },
    /**
     * Ends one session of an account by its public handle; false when the account has no such
     * session (another account's session is "not found" too). Live connections of it are cut.
     */
    async endOf(accountId: string, handle: string): Promise<boolean> {
      if (!/^[0-9a-f]{16}$/.test(handle)) return false;
      const rows = await db
        .selectFrom('sessions')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', 'like', `${handle}%`)
        .execute();
      if (rows.length !== 1) return false;
      await this.end(rows[0]!.id);
      return true;
    },
    async end(id: string): Promise<void> {
      await db.deleteFrom('sessions').where('id', '=', id).execute();
      ended({ sessionId: id });
    },
    /** Ends every session of an account, but `keep` (the one changing its own password). */
    async endAllOf(accountId: string, keep?: string): Promise<number> {
      let q = db.deleteFrom('sessions').where('account_id', '=', accountId);
      if (keep) q = q.where('id', '<>', keep);
      const n = Number((await q.executeTakeFirst()).numDeletedRows);
      ended({ accountId, keep });
      return n;
    },
    /** Deletes ended sessions (expired or idle). */
    async sweep(): Promise<number> {
      const at = now();
      const res = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', at), eb('last_seen_at', '<=', at - options.idleTimeoutMs)]))
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
