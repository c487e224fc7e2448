import type { Generated } from 'kysely';

/** Row types of the records store. Timestamps are epoch milliseconds. */
export interface CustomersTable {
  id: string;
  name: string;
  created_at: number;
}

export interface VehiclesTable {
  id: string;
  name: string;
  model: string;
  customer_id: string;
  /** JSON of PowerProfile. */
  profile: string;
  secret_hash: string;
  created_at: number;
  updated_at: number;
}

export interface ServiceAccountsTable {
  id: string;
  description: string;
  secret_hash: string;
  created_at: number;
  updated_at: number;
}

export interface RegistryChangesTable {
  id: Generated<number>;
  subject: 'vehicle' | 'service';
  subject_id: string;
  change: 'added' | 'rotated' | 'removed' | 'updated';
  at: number;
}

export interface VehiclePresenceTable {
  vehicle_id: string;
  online: number;
  changed_at: number;
  last_connect_at: number | null;
  last_disconnect_at: number | null;
  last_address: string | null;
  disconnect_reason: string | null;
}

export interface VehicleEventsTable {
  id: Generated<number>;
  vehicle_id: string;
  ts: number;
  code: string;
  severity: string;
  message: string | null;
  received_at: number;
}

export interface DeadLettersTable {
  id: Generated<number>;
  at: number;
  vehicle_id: string | null;
  topic: string;
  code: string;
  message: string;
  excerpt: string;
}

export interface RecordsSchema {
  customers: CustomersTable;
  vehicles: VehiclesTable;
  service_accounts: ServiceAccountsTable;
  registry_changes: RegistryChangesTable;
  vehicle_presence: VehiclePresenceTable;
  vehicle_events: VehicleEventsTable;
  dead_letters: DeadLettersTable;
}
