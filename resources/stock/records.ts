import type { Generated } from 'kysely';

/** Row types of the stock tables (migration 0024). Timestamps are epoch milliseconds. */
export interface PartsTable {
  part_no: string;
  name_en: string;
  name_zh: string;
  unit: string;
  wearing: number;
  machinable: number;
  /** JSON string[] of vehicle models. */
  fits_models: string;
  /** JSON string[] of power-system modules (mains, generator, battery, charging, …). */
  fits_modules: string;
  lead_time_days: number;
  created_at: number;
  updated_at: number;
}
export interface PartsSuppliersTable {
  part_no: string;
  supplier_id: string;
  supplier_name: string;
}
export interface StockStoresTable {
  id: string;
  kind: string;
  name_en: string;
  name_zh: string;
  lat: number;
  lon: number;
  address: string;
  created_at: number;
}
export interface StockLevelsTable {
  part_no: string;
  store_id: string;
  min_qty: number;
  max_qty: number;
}
export interface StockPositionsTable {
  part_no: string;
  store_id: string;
  version: number;
}
export interface StockReservationsTable {
  id: Generated<number>;
  ticket_id: number;
  customer_id: string | null;
  part_no: string;
  store_id: string;
  qty: number;
  transport: string | null;
  eta_at: number | null;
  created_by: string;
  created_at: number;
}
export interface StockShipmentsTable {
  id: Generated<number>;
  notice_no: string;
  ticket_id: number | null;
  customer_id: string | null;
  store_id: string;
  carrier: string;
  tracking_no: string;
  consignee: string;
  address: string;
  created_by: string;
  shipped_at: number;
}
export interface OrderContractsTable {
  id: Generated<number>;
  number: string;
  supplier_id: string;
  supplier_name: string;
  currency: string;
  valid_from: number;
  valid_to: number;
  created_by: string;
  created_at: number;
}
export interface OrderContractItemsTable {
  contract_id: number;
  part_no: string;
  unit_price_cents: number;
  lead_time_days: number;
}
export interface PurchaseOrdersTable {
  id: Generated<number>;
  number: string;
  contract_id: number;
  store_id: string;
  status: string;
  expected_at: number;
  created_by: string;
  created_at: number;
}
export interface PurchaseOrderLinesTable {
  order_id: number;
  part_no: string;
  qty: number;
  unit_price_cents: number;
}
export interface StockCountsTable {
  id: Generated<number>;
  store_id: string;
  status: string;
  created_by: string;
  created_at: number;
  booked_by: string | null;
  booked_at: number | null;
}
export interface StockCountLinesTable {
  count_id: number;
  part_no: string;
  expected_qty: number;
  counted_qty: number | null;
  reason: string | null;
  counted_by: string | null;
}
export interface StockShortageTasksTable {
  id: Generated<number>;
  part_no: string;
  qty: number;
  ticket_id: number | null;
  kind: string;
  status: string;
  note: string | null;
  created_by: string;
  created_at: number;
  done_by: string | null;
  done_at: number | null;
  /** What came of it, when done (migration 0030). */
  outcome: string | null;
  /** `ticket:<id>:<partNo>` when a reservation proposal raised it automatically, null by hand (migration 0033). */
  auto_key: string | null;
}
export interface StockMovementsTable {
  id: Generated<number>;
  kind: string;
  part_no: string;
  store_id: string;
  qty: number;
  on_hand_delta: number;
  reserved_delta: number;
  ticket_id: number | null;
  reservation_id: number | null;
  shipment_id: number | null;
  order_id: number | null;
  count_id: number | null;
  transfer_store_id: string | null;
  /** The transfer document it belongs to (migration 0031). */
  transfer_id: number | null;
  reason: string | null;
  actor: string;
  at: number;
}
/** A transfer between stores (migration 0031): draft → in_transit → partially_received → received. */
export interface StockTransfersTable {
  id: Generated<number>;
  number: string;
  from_store_id: string;
  to_store_id: string;
  status: string;
  reason: string | null;
  carrier: string | null;
  tracking_no: string | null;
  eta_at: number | null;
  created_by: string;
  created_at: number;
  shipped_by: string | null;
  shipped_at: number | null;
  updated_at: number;
}
export interface StockTransferLinesTable {
  transfer_id: number;
  part_no: string;
  qty: number;
}
export interface StockVehiclePositionsTable {
  vehicle_id: string;
  lat: number;
  lon: number;
  source: string;
  set_by: string;
  at: number;
}

declare module '../../records/schema.ts' {
  interface RecordsSchema {
    parts: PartsTable;
    parts_suppliers: PartsSuppliersTable;
    stock_stores: StockStoresTable;
    stock_levels: StockLevelsTable;
    stock_positions: StockPositionsTable;
    stock_reservations: StockReservationsTable;
    stock_shipments: StockShipmentsTable;
    order_contracts: OrderContractsTable;
    order_contract_items: OrderContractItemsTable;
    purchase_orders: PurchaseOrdersTable;
    purchase_order_lines: PurchaseOrderLinesTable;
    stock_counts: StockCountsTable;
    stock_count_lines: StockCountLinesTable;
    stock_shortage_tasks: StockShortageTasksTable;
    stock_movements: StockMovementsTable;
    stock_vehicle_positions: StockVehiclePositionsTable;
    stock_transfers: StockTransfersTable;
    stock_transfer_lines: StockTransferLinesTable;
  }
}
