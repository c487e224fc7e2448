import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { PlatformError } from '../../core/errors.ts';
import { hashSecret, PASSWORD_COST, verifySecret, type ScryptCost } from '../../core/secrets.ts';
import { inTransaction, type RecordsDb } from '../../records/db.ts';
import type { AccountsTable } from '../../records/schema.ts';
import { checkPassword } from './password-policy.ts';
import type { Role } from './roles.ts';

declare module '../../records/schema.ts' {
  interface AccountsTable {
    /** 1 once a TOTP second factor is confirmed (web/auth/two-factor.ts); 0 otherwise. */
    totp_enabled: import('kysely').Generated<number>;
  }
}

export { FIELD_ROLES, ROLES, STAFF_ROLES, STOCK_ROLES, type Role } from './roles.ts';

export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{1,63}$/;
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.ts';

export interface Account {
  id: string;
  name: string;
  /** The name customers see for a staff member; null: a role label instead (web/public-names.ts). */
  displayName: string | null;
  role: Role;
  /** Set for (and only for) customer accounts. */
  customerId: string | null;
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  /** A TOTP second factor is enrolled and confirmed. */
  twoFactor: boolean;
}

type Row = Selectable<AccountsTable>;

export function toAccount(r: Row): Account {
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name ?? null,
    role: r.role,
    customerId: r.customer_id,
    mustChangePassword: r.must_change_password === 1,
    disabled: r.disabled === 1,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    lastLoginAt: r.last_login_at === null ? null : Number(r.last_login_at),
    twoFactor: Number(r.totp_enabled ?? 0) === 1,
  };
}

/** A password for a person to type once and then change: 128 random bits, URL-safe. */
export function generatePassword(): string {
  return randomBytes(16).toString('base64url');
}

export interface NewAccount {
  id: string;
  name: string;
  displayName?: string | null;
  role: Role;
  customerId?: string | null;
  password: string;
  mustChangePassword?: boolean;
}

export interface AccountChange {
  name?: string;
  displayName?: string | null;
  role?: Role;
  customerId?: string | null;
  disabled?: boolean;
}

/**
 * Console accounts: scrypt-hashed passwords, roles, the customer unit a customer account is bound to.
 * Keeps at least one enabled admin: the last one can be neither removed, disabled nor demoted.
 */
export function createAccounts(
  deps: { db: RecordsDb; now?: () => number },
  options: { passwordCost?: ScryptCost } = {},
) {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const cost = options.passwordCost ?? PASSWORD_COST;
  let dummyHash: Promise<string> | undefined;

  async function get(id: string, h: RecordsDb = db): Promise<Account | undefined> {
    const row = await h.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toAccount(row);
  }

  async function require(id: string, h: RecordsDb = db): Promise<Account> {
    const a = await get(id, h);
    if (!a) throw new PlatformError('ACCOUNT_NOT_FOUND', `account ${id} not found`);
    return a;
  }

  async function checkBinding(h: RecordsDb, role: Role, customerId: string | null | undefined): Promise<void> {
    if (role === 'customer') {
      if (!customerId)
        throw new PlatformError('INVALID_ARGUMENT', 'a customer account must be bound to a customer unit (customerId)');
      const c = await h.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
      if (!c) throw new PlatformError('CUSTOMER_NOT_FOUND', `customer ${customerId} not found`);
    } else if (customerId) {
      throw new PlatformError(
        'INVALID_ARGUMENT',
        `a ${role} account is not bound to a customer unit; leave customerId empty`,
      );
    }
  }

  async function enabledAdmins(h: RecordsDb): Promise<string[]> {
    return (
      await h.selectFrom('accounts').select('id').where('role', '=', 'admin').where('disabled', '=', 0).execute()
    ).map((r) => r.id);
  }

  return {
    get,
    require,
    async list(filter: { role?: Role; customerId?: string } = {}): Promise<Account[]> {
      let q = db.selectFrom('accounts').selectAll().orderBy('id');
      if (filter.role) q = q.where('role', '=', filter.role);
      if (filter.customerId) q = q.where('customer_id', '=', filter.customerId);
      return (await q.execute()).map(toAccount);
    },
    async hasEnabledAdmin(): Promise<boolean> {
      return (await enabledAdmins(db)).length > 0;
    },
    async add(input: NewAccount): Promise<Account> {
      const id = input.id.toLowerCase();
      if (!ACCOUNT_ID_PATTERN.test(id))
        throw new PlatformError(
          'INVALID_ARGUMENT',
          `account id "${input.id}" must be 2–64 characters of a-z 0-9 . _ -, starting with a letter or digit`,
        );
      checkPassword(input.password, { accountId: id, names: [input.name, input.displayName] });
      const hash = await hashSecret(input.password, cost);
      const at = now();
      return inTransaction(db, async (tx) => {
        if (await get(id, tx)) throw new PlatformError('ACCOUNT_EXISTS', `account ${id} already exists`);
        await checkBinding(tx, input.role, input.customerId);
        await tx
          .insertInto('accounts')
          .values({
            id,
            name: input.name,
            display_name: input.displayName ?? null,
            role: input.role,
            customer_id: input.role === 'customer' ? (input.customerId ?? null) : null,
            password_hash: hash,
            must_change_password: input.mustChangePassword ? 1 : 0,
            disabled: 0,
            created_at: at,
            updated_at: at,
            last_login_at: null,
          })
          .execute();
        return (await get(id, tx))!;
      });
    },
    async update(id: string, change: AccountChange): Promise<{ before: Account; after: Account }> {
      return inTransaction(db, async (tx) => {
        const before = await require(id, tx);
        const role = change.role ?? before.role;
        const customerId =
          change.customerId !== undefined ? change.customerId : role === 'customer' ? before.customerId : null;
        await checkBinding(tx, role, customerId);
        const losesAdmin =
          before.role === 'admin' && !before.disabled && (role !== 'admin' || change.disabled === true);
        if (losesAdmin && (await enabledAdmins(tx)).length <= 1) {
          throw new PlatformError('LAST_ADMIN', `${id} is the last enabled admin; make another admin first`);
        }
        await tx
          .updateTable('accounts')
          .set({
            ...(change.name !== undefined ? { name: change.name } : {}),
            ...(change.displayName !== undefined ? { display_name: change.displayName } : {}),
            role,
            customer_id: role === 'customer' ? customerId : null,
            ...(change.disabled !== undefined ? { disabled: change.disabled ? 1 : 0 } : {}),
            updated_at: now(),
          })
          .where('id', '=', id)
          .execute();
        return { before, after: (await get(id, tx))! };
      });
    },
    async remove(id: string): Promise<Account> {
      return inTransaction(db, async (tx) => {
        const a = await require(id, tx);
        if (a.role === 'admin' && !a.disabled && (await enabledAdmins(tx)).length <= 1) {
          throw new PlatformError('LAST_ADMIN', `${id} is the last enabled admin; make another admin first`);
        }
        await tx.deleteFrom('sessions').where('account_id', '=', id).execute();
        await tx.deleteFrom('accounts').where('id', '=', id).execute();
        return a;
      });
    },
    /** Sets a password; `mustChange` marks it one-time (reset by an admin, first setup). */
    async setPassword(id: string, password: string, mustChange: boolean): Promise<void> {
      const a = await require(id);
      checkPassword(password, { accountId: a.id, names: [a.name, a.displayName] });
      const hash = await hashSecret(password, cost);
      const res = await db
        .updateTable('accounts')
        .set({ password_hash: hash, must_change_password: mustChange ? 1 : 0, updated_at: now() })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new PlatformError('ACCOUNT_NOT_FOUND', `account ${id} not found`);
    },
    /**
     * Checks a login. Takes the same time whether or not the account exists (a dummy hash is
     * verified for unknown names), so timing does not tell which names exist.
     */
    async verifyLogin(
      id: string,
      password: string,
    ): Promise<
      { ok: true; account: Account } | { ok: false; reason: 'unknown_account' | 'bad_password' | 'disabled' }
    > {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
      if (!row) {
        dummyHash ??= hashSecret(generatePassword(), cost);
        await verifySecret(password, await dummyHash);
        return { ok: false, reason: 'unknown_account' };
      }
      const good = await verifySecret(password, row.password_hash);
      if (!good) return { ok: false, reason: 'bad_password' };
      if (row.disabled === 1) return { ok: false, reason: 'disabled' };
      return { ok: true, account: toAccount(row) };
    },
    async markLogin(id: string, at: number): Promise<void> {
      await db.updateTable('accounts').set({ last_login_at: at }).where('id', '=', id).execute();
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
