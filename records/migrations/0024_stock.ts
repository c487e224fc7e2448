import type { Kysely, Migration } from 'kysely';
import { idColumn, type RecordsDialect } from '../migrations.ts';

/**
 * Spare parts (issue 14, items 1–5; resources/stock/): the parts catalogue, stores, stock as a
 * ledger of movements, reservations on tickets, shipments (售后服务发运通知), order contracts
 * (订货合同), purchase orders, shortage tasks (缺件) and stock-takes (盘点). Docs: docs/resources.md.
 *
 * Suppliers are referenced by a text `supplier_id` (plus the name as the contract states it) with
 * no foreign key: the suppliers table belongs to the suppliers register (resources/, its own migration).
 */
export function stockMigration(dialect: RecordsDialect): Migration {
  const id = (t: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
    t.addColumn('id', idColumn(dialect), (c) =>
      c.primaryKey().$call((b) => (dialect === 'sqlite' ? b.autoIncrement() : b)),
    );
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('parts')
        .addColumn('part_no', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name_en', 'varchar(200)', (c) => c.notNull())
        .addColumn('name_zh', 'varchar(200)', (c) => c.notNull())
        .addColumn('unit', 'varchar(16)', (c) => c.notNull())
        .addColumn('wearing', 'integer', (c) => c.notNull())
        .addColumn('machinable', 'integer', (c) => c.notNull())
        .addColumn('fits_models', 'text', (c) => c.notNull())
        .addColumn('fits_modules', 'text', (c) => c.notNull())
        .addColumn('lead_time_days', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('parts_suppliers')
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('supplier_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('supplier_name', 'varchar(200)', (c) => c.notNull())
        .addPrimaryKeyConstraint('parts_suppliers_pk', ['part_no', 'supplier_id'])
        .execute();
      await db.schema
        .createTable('stock_stores')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('name_en', 'varchar(200)', (c) => c.notNull())
        .addColumn('name_zh', 'varchar(200)', (c) => c.notNull())
        .addColumn('lat', 'double precision', (c) => c.notNull())
        .addColumn('lon', 'double precision', (c) => c.notNull())
        .addColumn('address', 'varchar(300)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('stock_levels')
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('min_qty', 'integer', (c) => c.notNull())
        .addColumn('max_qty', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_levels_pk', ['part_no', 'store_id'])
        .execute();
      // one row per (part, store) ever stocked: the row a reserver locks (UPDATE … version + 1)
      // before it sums the ledger, so two reservations of the same position queue (SQLite and PostgreSQL)
      await db.schema
        .createTable('stock_positions')
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('stock_positions_pk', ['part_no', 'store_id'])
        .execute();
      await id(db.schema.createTable('stock_reservations'))
        .addColumn('ticket_id', 'bigint', (c) => c.notNull())
        .addColumn('customer_id', 'varchar(64)')
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('qty', 'integer', (c) => c.notNull())
        .addColumn('transport', 'varchar(20)')
        .addColumn('eta_at', 'bigint')
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('stock_reservations_ticket').on('stock_reservations').column('ticket_id').execute();
      await id(db.schema.createTable('stock_shipments'))
        .addColumn('notice_no', 'varchar(32)', (c) => c.notNull().unique())
        .addColumn('ticket_id', 'bigint')
        .addColumn('customer_id', 'varchar(64)')
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('carrier', 'varchar(100)', (c) => c.notNull())
        .addColumn('tracking_no', 'varchar(64)', (c) => c.notNull())
        .addColumn('consignee', 'varchar(200)', (c) => c.notNull())
        .addColumn('address', 'varchar(300)', (c) => c.notNull())
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('shipped_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('stock_shipments_customer').on('stock_shipments').column('customer_id').execute();
      await id(db.schema.createTable('order_contracts'))
        .addColumn('number', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('supplier_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('supplier_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('valid_from', 'bigint', (c) => c.notNull())
        .addColumn('valid_to', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('order_contract_items')
        .addColumn('contract_id', 'bigint', (c) => c.notNull().references('order_contracts.id'))
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('unit_price_cents', 'bigint', (c) => c.notNull())
        .addColumn('lead_time_days', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_contract_items_pk', ['contract_id', 'part_no'])
        .execute();
      await id(db.schema.createTable('purchase_orders'))
        .addColumn('number', 'varchar(32)', (c) => c.notNull().unique())
        .addColumn('contract_id', 'bigint', (c) => c.notNull().references('order_contracts.id'))
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('expected_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('purchase_order_lines')
        .addColumn('order_id', 'bigint', (c) => c.notNull().references('purchase_orders.id'))
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('qty', 'integer', (c) => c.notNull())
        .addColumn('unit_price_cents', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('purchase_order_lines_pk', ['order_id', 'part_no'])
        .execute();
      await id(db.schema.createTable('stock_counts'))
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('booked_by', 'varchar(64)')
        .addColumn('booked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('stock_count_lines')
        .addColumn('count_id', 'bigint', (c) => c.notNull().references('stock_counts.id'))
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('expected_qty', 'integer', (c) => c.notNull())
        .addColumn('counted_qty', 'integer')
        .addColumn('reason', 'varchar(500)')
        .addColumn('counted_by', 'varchar(64)')
        .addPrimaryKeyConstraint('stock_count_lines_pk', ['count_id', 'part_no'])
        .execute();
      await id(db.schema.createTable('stock_shortage_tasks'))
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('qty', 'integer', (c) => c.notNull())
        .addColumn('ticket_id', 'bigint')
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('note', 'varchar(1000)')
        .addColumn('created_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('done_by', 'varchar(64)')
        .addColumn('done_at', 'bigint')
        .execute();
      await id(db.schema.createTable('stock_movements'))
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('part_no', 'varchar(64)', (c) => c.notNull().references('parts.part_no'))
        .addColumn('store_id', 'varchar(32)', (c) => c.notNull().references('stock_stores.id'))
        .addColumn('qty', 'integer', (c) => c.notNull())
        .addColumn('on_hand_delta', 'integer', (c) => c.notNull())
        .addColumn('reserved_delta', 'integer', (c) => c.notNull())
        .addColumn('ticket_id', 'bigint')
        .addColumn('reservation_id', 'bigint')
        .addColumn('shipment_id', 'bigint')
        .addColumn('order_id', 'bigint')
        .addColumn('count_id', 'bigint')
        .addColumn('transfer_store_id', 'varchar(32)')
        .addColumn('reason', 'varchar(500)')
        .addColumn('actor', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('stock_movements_position')
        .on('stock_movements')
        .columns(['part_no', 'store_id'])
        .execute();
      await db.schema.createIndex('stock_movements_ticket').on('stock_movements').column('ticket_id').execute();
      await db.schema
        .createIndex('stock_movements_reservation')
        .on('stock_movements')
        .column('reservation_id')
        .execute();
      await db.schema.createIndex('stock_movements_order').on('stock_movements').column('order_id').execute();
      await db.schema
        .createTable('stock_vehicle_positions')
        .addColumn('vehicle_id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('lat', 'double precision', (c) => c.notNull())
        .addColumn('lon', 'double precision', (c) => c.notNull())
        .addColumn('source', 'varchar(20)', (c) => c.notNull())
        .addColumn('set_by', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const t of [
        'stock_vehicle_positions',
        'stock_movements',
        'stock_shortage_tasks',
        'stock_count_lines',
        'stock_counts',
        'purchase_order_lines',
        'purchase_orders',
        'order_contract_items',
        'order_contracts',
        'stock_shipments',
        'stock_reservations',
        'stock_positions',
        'stock_levels',
        'stock_stores',
        'parts_suppliers',
        'parts',
      ])
        await db.schema.dropTable(t).execute();
    },
  };
}
