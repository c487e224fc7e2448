import type { Kysely, Migration } from 'kysely';
import type { RecordsDialect } from '../migrations.ts';

/**
 * Account security (issue 16, items 11–14): TOTP second factor and its recovery codes, the time a
 * session last proved its password or code (re-authentication), admin-issued password reset links,
 * API tokens for integrations. Secrets are stored hashed (recovery codes, reset links, tokens) or
 * encrypted (TOTP secrets).
 */
export function accountSecurityMigration(_dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('accounts')
        .addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('sessions').addColumn('authenticated_at', 'bigint').execute();
      await db.schema
        .createTable('account_totp')
        .addColumn('account_id', 'varchar(64)', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_step', 'bigint')
        .execute();
      await db.schema
        .createTable('recovery_codes')
        .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('recovery_codes_account').on('recovery_codes').column('account_id').execute();
      await db.schema
        .createTable('password_resets')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('issued_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
      await db.schema.createIndex('password_resets_account').on('password_resets').column('account_id').execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('account_id', 'varchar(64)', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'varchar(64)')
        .addColumn('created_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_tokens_account').on('api_tokens').column('account_id').execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of ['api_tokens', 'password_resets', 'recovery_codes', 'account_totp'])
        await db.schema.dropTable(t).execute();
      await db.schema.alterTable('sessions').dropColumn('authenticated_at').execute();
      await db.schema.alterTable('accounts').dropColumn('totp_enabled').execute();
    },
  };
}
