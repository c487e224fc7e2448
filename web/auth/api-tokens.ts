import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import type { RecordsDb } from '../../records/db.ts';
import { toAccount, type Account } from './accounts.ts';
import type {} from './errors.ts';

/**
 * What an API token may do: a closed list. A route open to tokens names the scope it needs in its
 * access config (web/auth/guard.ts); every other route refuses tokens.
 */
export const TOKEN_SCOPES = [
  'vehicles:read',
  'telemetry:read',
  'alarms:read',
  'tickets:read',
  'tickets:create',
] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export const tokenScopeSchema = z.enum(TOKEN_SCOPES, { error: `must be one of ${TOKEN_SCOPES.join(', ')}` });

export interface ApiTokensTable {
  /** The public id ("tok_" + 16 hex digits): names the token in lists, audit and revocation. */
  id: string;
  /** SHA-256 of the secret token (256 random bits: no work factor needed). */
  token_hash: string;
  /** The account the token acts as: its role and unit apply, narrowed by the scopes and `customer_id`. */
  account_id: string;
  name: string;
  /** JSON array of TokenScope. */
  scopes: string;
  /** Limits the token to one customer unit: it sees what that unit's customer sees. */
  customer_id: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    api_tokens: ApiTokensTable;
  }
}

export interface ApiToken {
  id: string;
  name: string;
  accountId: string;
  scopes: TokenScope[];
  customerId: string | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** A bearer request's principal: the token, and the account it acts as (narrowed to the token's unit). */
export interface TokenPrincipal {
  token: ApiToken;
  account: Account;
}

export const TOKEN_PREFIX = 'pwt_';
const TOKEN_PATTERN = /^pwt_[A-Za-z0-9_-]{43}$/;
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
/** How often (at most) `last_used_at` is written. */
const TOUCH_EVERY_MS = 60_000;

function toToken(r: ApiTokensTable): ApiToken {
  return {
    id: r.id,
    name: r.name,
    accountId: r.account_id,
    scopes: JSON.parse(r.scopes) as TokenScope[],
    customerId: r.customer_id,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  };
}

/**
 * The account a token acts as. A token limited to a customer unit acts as that unit's customer
 * would, whoever its account is: the tenant checks (web/context.ts) then keep it in that unit,
 * exactly as they keep a customer's session.
 */
export function actingAccount(account: Account, token: ApiToken): Account {
  if (!token.customerId) return account;
  return { ...account, role: 'customer', customerId: token.customerId };
}

/**
 * API tokens for integrations (issue 16, item 14): scoped, optionally limited to one customer unit,
 * expiring, revocable, shown once, stored as SHA-256. A token acts as its account (disabled or
 * removed: the token stops working) and passes the same guard and tenant checks as a session.
 */
export function createApiTokens(deps: { db: RecordsDb; now: () => number }) {
  const { db, now } = deps;
  return {
    async create(input: {
      accountId: string;
      name: string;
      scopes: TokenScope[];
      customerId: string | null;
      expiresAt: number;
      createdBy: string;
    }): Promise<{ token: string; info: ApiToken }> {
      const a = await db.selectFrom('accounts').selectAll().where('id', '=', input.accountId).executeTakeFirst();
      if (!a) throw new PlatformError('ACCOUNT_NOT_FOUND', `account ${input.accountId} not found`);
      if (a.role === 'customer' && input.customerId && input.customerId !== a.customer_id)
        throw new PlatformError('INVALID_ARGUMENT', `a customer account’s token can only be limited to its own unit`);
      const customerId = a.role === 'customer' ? a.customer_id : input.customerId;
      if (customerId) {
        const c = await db.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
        if (!c) throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${customerId} not found`);
      }
      if (input.expiresAt <= now()) throw new PlatformError('INVALID_ARGUMENT', 'expiresAt must be in the future');
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const row: ApiTokensTable = {
        id: `tok_${randomBytes(8).toString('hex')}`,
        token_hash: digest(token),
        account_id: a.id,
        name: input.name,
        scopes: JSON.stringify([...new Set(input.scopes)].sort()),
        customer_id: customerId ?? null,
        created_by: input.createdBy,
        created_at: now(),
        expires_at: input.expiresAt,
        revoked_at: null,
        last_used_at: null,
      };
      await db.insertInto('api_tokens').values(row).execute();
      return { token, info: toToken(row) };
    },
    async list(filter: { accountId?: string } = {}): Promise<ApiToken[]> {
      let q = db.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc');
      if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
      return (await q.execute()).map(toToken);
    },
    async revoke(id: string): Promise<ApiToken> {
      const res = await db
        .updateTable('api_tokens')
        .set({ revoked_at: now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row || (Number(res.numUpdatedRows) === 0 && row.revoked_at === null))
        throw new PlatformError('TOKEN_NOT_FOUND', `API token ${id} not found`);
      return toToken(row);
    },
    /** The principal of a bearer token, or why there is none (unknown, expired, revoked, account disabled). */
    async lookup(token: string): Promise<TokenPrincipal | undefined> {
      if (!TOKEN_PATTERN.test(token)) return undefined;
      const row = await db
        .selectFrom('api_tokens')
        .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
        .selectAll('accounts')
        .select([
          'api_tokens.id as token_id',
          'api_tokens.token_hash',
          'api_tokens.name as token_name',
          'api_tokens.scopes',
          'api_tokens.customer_id as token_customer_id',
          'api_tokens.created_by',
          'api_tokens.created_at as token_created_at',
          'api_tokens.expires_at',
          'api_tokens.revoked_at',
          'api_tokens.last_used_at',
        ])
        .where('api_tokens.token_hash', '=', digest(token))
        .executeTakeFirst();
      const at = now();
      if (!row || row.revoked_at !== null || Number(row.expires_at) <= at || row.disabled === 1) return undefined;
      const info = toToken({
        id: row.token_id,
        token_hash: row.token_hash,
        account_id: row.id,
        name: row.token_name,
        scopes: row.scopes,
        customer_id: row.token_customer_id,
        created_by: row.created_by,
        created_at: row.token_created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
      });
      if (row.last_used_at === null || at - Number(row.last_used_at) >= TOUCH_EVERY_MS) {
        await db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', info.id).execute();
        info.lastUsedAt = at;
      }
      return { token: info, account: actingAccount(toAccount(row), info) };
    },
  };
}

export type ApiTokens = ReturnType<typeof createApiTokens>;

/**
 * Requests per token: a token bucket of `perMinute` requests refilled continuously. Over it the
 * request gets 429 RATE_LIMITED with Retry-After and is counted (`web.api_token_limited`).
 */
export function createTokenRateLimit(options: { perMinute: number; maxEntries?: number }, now: () => number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const rate = options.perMinute / 60_000;
  const max = options.maxEntries ?? 10_000;
  return {
    /** 0 when the request may go on (and takes one request), else the seconds to wait. */
    take(tokenId: string): number {
      const at = now();
      const b = buckets.get(tokenId) ?? { tokens: options.perMinute, at };
      b.tokens = Math.min(options.perMinute, b.tokens + (at - b.at) * rate);
      b.at = at;
      buckets.delete(tokenId);
      buckets.set(tokenId, b);
      if (buckets.size > max) buckets.delete(buckets.keys().next().value!);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
    },
  };
}

export type TokenRateLimit = ReturnType<typeof createTokenRateLimit>;
