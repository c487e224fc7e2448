import type { Kysely, Migration } from 'kysely';

/**
 * Remote sessions' photos and guests: the photos the participants attach (`session_photos`: the
 * bytes live in a file under the photo directory, named randomly; the row keeps its type, size and
 * SHA-256) and the one-time guest invitations (`session_invites`: the link's token and the guest's
 * cookie token stored only as SHA-256).
 */
export function sessionGuestsPhotosMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('session_photos')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('session_id', 'bigint', (c) => c.notNull())
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('file', 'varchar(64)', (c) => c.notNull())
        .addColumn('caption', 'text')
        .addColumn('uploaded_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('session_photos_session').on('session_photos').columns(['session_id']).execute();
      await db.schema
        .createTable('session_invites')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('session_id', 'bigint', (c) => c.notNull())
        .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('created_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_by', 'varchar(100)')
        .addColumn('guest_token_hash', 'varchar(64)', (c) => c.unique())
        .addColumn('guest_expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('session_invites_session').on('session_invites').columns(['session_id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('session_invites').execute();
      await db.schema.dropTable('session_photos').execute();
    },
  };
}
