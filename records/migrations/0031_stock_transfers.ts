import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Transfers between stores as a document with a time in transit (resources/stock/transfers.ts,
 * docs/resources.md): `stock_transfers` (from, to, status, carrier, tracking number, ETA) with its
 * lines, and `stock_movements.transfer_id` tying the `transfer_out` movements at the sending store,
 * the `transfer_in` movements at the receiving one and any `transfer_loss` (a short receipt booked
 * with a reason) to their transfer.
 */
export function stockTransfersMigration(dialect: RecordsDialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('stock_transfers')
        .addColumn('id', idColumn(dialect), (c) =>
          c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
        )
        .addColumn('number', 'varchar(32)', (c) => c.notNull().unique())
        .addColumn('from_store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('to_store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('reason', 'varchar(500)')
        .addColumn('carrier', 'varchar(100)')
        .addColumn('tracking_no', 'varchar(64)')
        .addColumn('eta_at', 'bigint')
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('shipped_by', 'varchar(64)')
        .addColumn('shipped_at', 'bigint')
        // every change of the document writes it: the row a shipper or receiver locks first
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('stock_transfers_to').on('stock_transfers').column('to_store_id').execute();
      await db.schema
        .createTable('stock_transfer_lines')
        .addColumn('transfer_id', 'bigint', (c) => c.notNull().references('stock_transfers.id'))
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('qty', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_transfer_lines_pk', ['transfer_id', 'part_no'])
        .execute();
      await db.schema.alterTable('stock_movements').addColumn('transfer_id', 'bigint').execute();
      await db.schema.createIndex('stock_movements_transfer').on('stock_movements').column('transfer_id').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('stock_movements_transfer').execute();
      await db.schema.alterTable('stock_movements').dropColumn('transfer_id').execute();
      await db.schema.dropTable('stock_transfer_lines').execute();
      await db.schema.dropTable('stock_transfers').execute();
    },
  };
}
