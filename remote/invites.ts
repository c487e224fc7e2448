import { createHash, randomBytes } from 'node:crypto';
import type { EventBus } from '../core/bus.ts';
import { PlatformError } from '../core/errors.ts';
import type { PlatformEvents } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { RecordsDb } from '../records/db.ts';
import type { RemoteSessions } from './sessions.ts';
import type { SessionPrincipal } from './types.ts';
import './errors.ts';

export interface SessionInvitesTable {
  id: string;
  session_id: number;
  /** SHA-256 (hex) of the link's token; the token itself is shown once and never stored. */
  token_hash: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
  /** SHA-256 of the guest's cookie token once the link was used. */
  guest_token_hash: string | null;
  guest_expires_at: number | null;
}

declare module '../records/schema.ts' {
  interface RecordsSchema {
    session_invites: SessionInvitesTable;
  }
}

/** The longest an invitation link works: 2 h (SESSION_INVITE_TTL_MS may only shorten it). */
export const INVITE_MAX_TTL_MS = 2 * 3_600_000;
/** A guest's cookie session ends at the latest this long after it started (else with the session, or revoked). */
export const GUEST_MAX_AGE_MS = 12 * 3_600_000;

export interface SessionInvite {
  id: string;
  sessionId: number;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
  /** `open` (not used yet), `used` (a guest is in with it), `expired`, `revoked`. */
  status: 'open' | 'used' | 'expired' | 'revoked';
}

/** A signed-in guest: the cookie session (by its stored id) and who it is to the session records. */
export interface GuestSession {
  /** SHA-256 of the guest cookie token. */
  id: string;
  principal: SessionPrincipal & { role: 'guest'; sessionId: number };
  expiresAt: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
export const guestIdOf = (inviteId: string) => `guest:${inviteId}`;

/**
 * One-time guest invitations of remote sessions (7. guests without an account). Staff make a link
 * for a crew member who has no account: its 32-byte token is shown once and stored as SHA-256,
 * works for at most 2 h and once. Using it admits a `guest` participant to that one session and
 * starts the guest's own cookie session (its token, too, stored as SHA-256), which ends when the
 * invitation is revoked, the remote session ends, or after GUEST_MAX_AGE_MS. Listeners hear of a
 * guest session ended by a revocation or the session's end at once (the live layer cuts its sockets).
 */
export function createSessionInvites(
  deps: {
    db: RecordsDb;
    bus: Pick<EventBus<PlatformEvents>, 'on'>;
    log: Logger;
    now?: () => number;
    sessions: Pick<RemoteSessions, 'get' | 'admitGuest'>;
  },
  options: { ttlMs: number },
) {
  const { db, log } = deps;
  const now = deps.now ?? Date.now;
  const ttlMs = Math.min(options.ttlMs, INVITE_MAX_TTL_MS);
  const endListeners = new Set<(guestSessionIds: string[]) => void>();
  let off: (() => void) | undefined;

  function ended(ids: (string | null)[]): void {
    const live = ids.filter((x): x is string => !!x);
    if (!live.length) return;
    for (const l of endListeners) {
      try {
        l(live);
      } catch (err) {
        log.warn({ err }, 'guest session end listener failed');
      }
    }
  }

  function toInvite(r: SessionInvitesTable): SessionInvite {
    const at = now();
    return {
      id: r.id,
      sessionId: Number(r.session_id),
      createdBy: r.created_by,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
      usedAt: r.used_at === null ? null : Number(r.used_at),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      status:
        r.revoked_at !== null
          ? 'revoked'
          : r.used_at !== null
            ? 'used'
            : Number(r.expires_at) <= at
              ? 'expired'
              : 'open',
    };
  }

  async function guestRow(guestTokenHash: string) {
    return db
      .selectFrom('session_invites')
      .innerJoin('remote_sessions', 'remote_sessions.id', 'session_invites.session_id')
      .select([
        'session_invites.id',
        'session_invites.session_id',
        'session_invites.revoked_at',
        'session_invites.guest_expires_at',
        'remote_sessions.status',
        'remote_sessions.customer_id',
      ])
      .where('session_invites.guest_token_hash', '=', guestTokenHash)
      .executeTakeFirst();
  }

  return {
    ttlMs,
    /** Calls `listener` with the guest sessions (stored ids) a revocation or a session's end just ended. */
    onEnded(listener: (guestSessionIds: string[]) => void): () => void {
      endListeners.add(listener);
      return () => void endListeners.delete(listener);
    },

    start(): void {
      off ??= deps.bus.on('remote.session.changed', ({ session, action }) => {
        if (action !== 'ended') return;
        db.selectFrom('session_invites')
          .select('guest_token_hash')
          .where('session_id', '=', session.id)
          .where('guest_token_hash', 'is not', null)
          .execute()
          .then(
            (rows) => ended(rows.map((r) => r.guest_token_hash)),
            (err: unknown) => log.warn({ err }, 'guests of an ended session not cut'),
          );
      });
    },
    stop(): void {
      off?.();
      off = undefined;
    },

    /** A new invitation to `sessionId` by a staff member: its id, the token (shown once) and when it expires. */
    async create(sessionId: number, createdBy: string): Promise<{ invite: SessionInvite; token: string }> {
      const s = await deps.sessions.get(sessionId);
      if (s.status === 'ended')
        throw new PlatformError('SESSION_INVALID_STATE', `session ${sessionId} has ended; nobody can be invited`);
      const token = randomBytes(32).toString('base64url');
      const id = `inv_${randomBytes(9).toString('base64url')}`;
      const at = now();
      const row: SessionInvitesTable = {
        id,
        session_id: sessionId,
        token_hash: sha256(token),
        created_by: createdBy,
        created_at: at,
        expires_at: at + ttlMs,
        used_at: null,
        revoked_at: null,
        revoked_by: null,
        guest_token_hash: null,
        guest_expires_at: null,
      };
      await db.insertInto('session_invites').values(row).execute();
      return { invite: toInvite(row), token };
    },

    async list(sessionId: number): Promise<SessionInvite[]> {
      const rows = await db
        .selectFrom('session_invites')
        .selectAll()
        .where('session_id', '=', sessionId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map(toInvite);
    },

    /** Revokes an invitation: an unused link stops working, a guest who used it is out at once. */
    async revoke(sessionId: number, inviteId: string, by: string): Promise<SessionInvite> {
      const row = await db
        .selectFrom('session_invites')
        .selectAll()
        .where('id', '=', inviteId)
        .where('session_id', '=', sessionId)
        .executeTakeFirst();
      if (!row) throw new PlatformError('INVITE_NOT_FOUND', `invitation ${inviteId} not found`);
      if (row.revoked_at === null) {
        const at = now();
        await db
          .updateTable('session_invites')
          .set({ revoked_at: at, revoked_by: by })
          .where('id', '=', inviteId)
          .execute();
        row.revoked_at = at;
        row.revoked_by = by;
        ended([row.guest_token_hash]);
      }
      return toInvite(row);
    },

    /**
     * Uses a link: the guest joins its session and gets its own cookie token. Any link that does not
     * work now — unknown, used, expired, revoked, its session ended — is the same GUEST_LINK_INVALID.
     */
    async login(token: string): Promise<{ guestToken: string; guest: GuestSession; inviteId: string }> {
      const invalid = () =>
        new PlatformError('GUEST_LINK_INVALID', 'this guest link is not valid (used, expired or revoked)');
      if (token.length < 20 || token.length > 100) throw invalid();
      const row = await db
        .selectFrom('session_invites')
        .selectAll()
        .where('token_hash', '=', sha256(token))
        .executeTakeFirst();
      const at = now();
      if (!row || row.used_at !== null || row.revoked_at !== null || Number(row.expires_at) <= at) throw invalid();
      const sessionId = Number(row.session_id);
      const guestToken = randomBytes(32).toString('base64url');
      const expiresAt = at + GUEST_MAX_AGE_MS;
      try {
        await deps.sessions.admitGuest(sessionId, guestIdOf(row.id), async (tx) => {
          const res = await tx
            .updateTable('session_invites')
            .set({ used_at: at, guest_token_hash: sha256(guestToken), guest_expires_at: expiresAt })
            .where('id', '=', row.id)
            .where('used_at', 'is', null)
            .where('revoked_at', 'is', null)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1) throw invalid(); // used or revoked meanwhile
        });
      } catch (err) {
        if (err instanceof PlatformError && (err.code === 'SESSION_INVALID_STATE' || err.code === 'SESSION_NOT_FOUND'))
          throw invalid();
        throw err;
      }
      return {
        guestToken,
        inviteId: row.id,
        guest: {
          id: sha256(guestToken),
          principal: { id: guestIdOf(row.id), role: 'guest', customerId: null, sessionId },
          expiresAt,
        },
      };
    },

    /** The guest session of a cookie token, while its invitation stands and its remote session is open. */
    async lookup(guestToken: string): Promise<GuestSession | undefined> {
      if (guestToken.length < 20 || guestToken.length > 100) return undefined;
      const id = sha256(guestToken);
      const r = await guestRow(id);
      if (!r || r.revoked_at !== null || r.status === 'ended' || Number(r.guest_expires_at) <= now()) return undefined;
      return {
        id,
        principal: { id: guestIdOf(r.id), role: 'guest', customerId: r.customer_id, sessionId: Number(r.session_id) },
        expiresAt: Number(r.guest_expires_at),
      };
    },

    /** Whether a guest session (by stored id) still stands. */
    async alive(id: string): Promise<boolean> {
      const r = await guestRow(id);
      return !!r && r.revoked_at === null && r.status !== 'ended' && Number(r.guest_expires_at) > now();
    },

    /** The guest signs out: the cookie stops working (the link was single use, so it is over). */
    async logout(id: string): Promise<void> {
      await db
        .updateTable('session_invites')
        .set({ guest_token_hash: null, guest_expires_at: null })
        .where('guest_token_hash', '=', id)
        .execute();
      ended([id]);
    },
  };
}

export type SessionInvites = ReturnType<typeof createSessionInvites>;
