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
  /** When the vehicle came to its current unit (added or transferred); migration 0021. */
  assigned_at: number | null;
  /** When the vehicle was delivered to its unit (the customer file, service/customer-file.ts); migration 0026. */
  delivered_at: number | null;
}

export interface ServiceAccountsTable {
  id: string;
  description: string;
  secret_hash: string;
  /** JSON ServiceScope (registry/service-accounts.ts); null (before migration 0020): the default scope. */
  scope: string | null;
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
  /** The node the current (or last) connection is on (cluster mode; null in the embedded default). */
  node: string | null;
}

/** Cluster mode: the diagnostics owner's lease per vehicle, with its fencing token (cluster/vehicle-owners.ts). */
export interface VehicleOwnersTable {
  vehicle_id: string;
  node: string;
  life: string;
  token: number;
  expires_at: number;
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

export interface AlarmsTable {
  id: Generated<number>;
  vehicle_id: string;
  rule_id: string;
  code: string;
  severity: string;
  state: 'active' | 'acknowledged' | 'cleared';
  raised_at: number;
  cleared_at: number | null;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  /** Times this alarm came back within the flapping window instead of opening a new one. */
  raise_count: number;
  live: number;
  incident_id: number | null;
  caused_by_alarm_id: number | null;
  /** JSON: the frame and derived signals that raised it. */
  evidence: string | null;
  updated_at: number;
  /** The unit the vehicle belonged to when the alarm was raised (null: removed before migration 0021). */
  customer_id: string | null;
}

export interface AlarmNotesTable {
  id: Generated<number>;
  alarm_id: number;
  at: number;
  actor: string;
  kind: 'raised' | 'reraised' | 'acknowledged' | 'cleared' | 'comment';
  text: string | null;
  /** 'internal' | 'customer' (diagnostics/visibility.ts); migration 0017. */
  visibility: 'internal' | 'customer';
}

export interface IncidentsTable {
  id: Generated<number>;
  vehicle_id: string;
  group_key: string;
  root_alarm_id: number;
  severity: string;
  state: 'open' | 'resolved';
  opened_at: number;
  resolved_at: number | null;
  ticket_id: number | null;
  /** The unit the vehicle belonged to when the incident opened (null: removed before migration 0021). */
  customer_id: string | null;
}

/** One ticket number sequence per customer unit ('' for tickets without a unit); migration 0019. */
export interface TicketSequencesTable {
  unit: string;
  /** The last number given in this unit. */
  last_seq: number;
}

export interface TicketsTable {
  id: Generated<number>;
  number: string;
  source: 'rule' | 'hotline' | 'customer';
  vehicle_id: string | null;
  customer_id: string | null;
  level: 'extra_urgent' | 'urgent';
  status: string;
  title: string;
  need: string;
  /** JSON: [{name, phone, role}] */
  contacts: string;
  fault_code: string | null;
  incident_id: number | null;
  service_mode: string | null;
  assignee: string | null;
  escalated_to: string | null;
  received_at: number;
  work_content_due_at: number;
  work_content_done_at: number | null;
  plan_due_at: number | null;
  plan_done_at: number | null;
  /** JSON array of breached deadline names. */
  breaches: string;
  /** JSON: {code, version} of the emergency plan attached. */
  plan_ref: string | null;
  /** JSON: telemetry series around the fault. */
  snapshot: string | null;
  updated_at: number;
  /** The queue's sort key (diagnostics/tickets/queue.ts): 1 while the status is open. */
  is_open: 0 | 1;
  /** The next deadline still to meet, or 2^53 − 1 when none is left. */
  queue_due_at: number;
  /** Its place in its customer unit's ticket sequence (ticket_sequences); null only before migration 0019. */
  unit_seq: number | null;
  /** When help is expected (epoch ms), set by staff; null: not given yet. */
  eta: number | null;
  eta_note: string | null;
  /** The ticket this one was merged into (status `merged`); migration 0022. */
  merged_into: number | null;
  /** Who marked it repaired (four-eyes: the verifier is someone else); migration 0022. */
  repaired_by: string | null;
  /** JSON Resolution (diagnostics/tickets/resolution.ts), given when marked repaired; migration 0022. */
  resolution: string | null;
  /** JSON array of the accounts a missed deadline escalated to; migration 0022. */
  escalated_accounts: string | null;
  /** What the customer or the rule proposed (migration 0023); the duty desk confirms or reclassifies it. */
  proposed_level: 'extra_urgent' | 'urgent' | null;
  /** When and by whom the duty desk confirmed the level; null: not yet classified. */
  level_confirmed_at: number | null;
  level_confirmed_by: string | null;
  /** Where help is needed (address, site), as the duty desk confirmed it. */
  place: string | null;
  /** 'in' 省内 / 'out' 省外; null: not recorded yet. */
  province: 'in' | 'out' | null;
  /** 0: the 30-minute rule does not apply (configured for in-province tasks, and this one is out of province). */
  deadlines_apply: Generated<number>;
  /** Set on a former 常规 (routine) ticket: the service order it became (migration 0023). */
  service_order_id: number | null;
}

/** A member of a ticket's response team or command post (migration 0023). */
export interface TicketTeamMembersTable {
  id: Generated<number>;
  ticket_id: number;
  account_id: string;
  /** diagnostics/tickets/team.ts TEAM_ROLES. */
  team_role: string;
  duty: string | null;
}

/** A planned service requested by application (migration 0023): no 30-minute clock. */
export interface ServiceOrdersTable {
  id: Generated<number>;
  /** SO-<unit>-0001, counted per customer unit. */
  number: string;
  unit_seq: number;
  kind: string;
  status: string;
  customer_id: string;
  vehicle_id: string | null;
  title: string;
  details: string;
  place: string;
  /** YYYY-MM-DD, the date asked for. */
  requested_date: string;
  people: number;
  /** JSON: [{name, phone, role}] */
  contacts: string;
  requested_by: string;
  scheduled_start: number | null;
  scheduled_end: number | null;
  /** The people sent, as the duty desk wrote them. */
  team: string | null;
  /** The 常规 ticket it was moved from (migration 0023). */
  from_ticket_id: number | null;
  created_at: number;
  updated_at: number;
  /** JSON: the kind's application (migration 0029; null for orders requested before). */
  application: string | null;
  /** The outcome written at completion (结论). */
  outcome: string | null;
  /** The customer side's sign-off of the completed order (双方确认). */
  signed_at: number | null;
  signed_by: string | null;
  signed_name: string | null;
  sign_note: string | null;
}

/** A member of a service order's team (migration 0029): diagnostics/tickets/team.ts TEAM_ROLES. */
export interface ServiceOrderTeamMembersTable {
  id: Generated<number>;
  order_id: number;
  account_id: string;
  team_role: string;
  duty: string | null;
}

/** A record of a service order's steps (migration 0029): visit, material, attendee, session, assessment, log. */
export interface ServiceOrderRecordsTable {
  id: Generated<number>;
  order_id: number;
  type: string;
  at: number;
  actor: string;
  /** JSON, checked by diagnostics/service-orders/order-records.ts. */
  body: string;
  /** Staff only: never sent to a customer nor printed in a report. */
  internal_note: string | null;
  created_at: number;
  updated_at: number;
}

export interface ServiceOrderEventsTable {
  id: Generated<number>;
  order_id: number;
  at: number;
  actor: string;
  action: string;
  from_status: string | null;
  to_status: string | null;
  note: string | null;
}

export interface TicketTimelineTable {
  id: Generated<number>;
  ticket_id: number;
  at: number;
  actor: string;
  action: string;
  from_status: string | null;
  to_status: string | null;
  note: string | null;
  /** 'internal' | 'customer' (diagnostics/visibility.ts); migration 0017. */
  visibility: 'internal' | 'customer';
}

/** People who use the web console. Customer accounts are bound to one customer unit. */
export interface AccountsTable {
  /** The login name, lower case. */
  id: string;
  name: string;
  /** What customers see for a staff member; null: a role label ("Duty desk", "Engineer"). Never the login id. */
  display_name: string | null;
  role: 'admin' | 'dispatcher' | 'engineer' | 'customer' | 'supply';
  customer_id: string | null;
  /** scrypt, see core/secrets.ts. */
  password_hash: string;
  /** 1 after a setup or reset password: the account must set its own before doing anything else. */
  must_change_password: number;
  disabled: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

/** Console sessions. The id is the SHA-256 of the cookie's token, so a leaked table opens no session. */
export interface SessionsTable {
  id: string;
  account_id: string;
  created_at: number;
  /** Absolute end, whatever the activity. */
  expires_at: number;
  last_seen_at: number;
  ip: string | null;
  user_agent: string | null;
}

/** Who did what in the console: logins, account changes, ticket transitions. Append-only. */
export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  /** An account id, or the login name tried in a failed login. */
  actor: string;
  action: string;
  /** What it was done to, e.g. `ticket:12`, `account:li.wei`. */
  subject: string | null;
  ip: string | null;
  /** JSON, never a secret. */
  details: string | null;
  /** Where the change came from (records/audit-chain.ts AUDIT_SOURCES); null on rows from before 0018. */
  source: string | null;
  /** The hash of the row before (GENESIS_HASH for the first); unique: the chain cannot fork. */
  prev_hash: string | null;
  /** SHA-256 over prev_hash and this row's content (records/audit-chain.ts auditRowHash). */
  hash: string | null;
}

/**
 * Per vehicle, the highest seq of its gateway's current run stored with no gap before it (the
 * delivery confirmation, `telemetry/confirmed`). Written before the confirmation is published.
 */
export interface TelemetryConfirmationsTable {
  vehicle_id: string;
  seq: number;
  /** ts of the newest stored frame at or below `seq`. */
  ts: number;
  updated_at: number;
}

/** A step done on a ticket in one service mode (migration 0028; diagnostics/tickets/mode-steps.ts). */
export interface TicketModeStepsTable {
  id: Generated<number>;
  ticket_id: number;
  /** on_site_repair | return_to_factory | emergency_replacement */
  mode: string;
  step: string;
  /** When it happened (given by the recorder; default when recorded). */
  at: number;
  recorded_at: number;
  actor: string;
  side: 'staff' | 'customer';
  note: string | null;
  visibility: 'internal' | 'customer';
  /** JSON object: the step's fields (transport, carrier, tracking, count, serial…). */
  details: string;
  /** The other side's confirmation (joint assessment, handover: 双方确认). */
  confirmed_at: number | null;
  confirmed_by: string | null;
  confirm_note: string | null;
}

export interface RecordsSchema {
  accounts: AccountsTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  alarms: AlarmsTable;
  alarm_notes: AlarmNotesTable;
  incidents: IncidentsTable;
  tickets: TicketsTable;
  ticket_timeline: TicketTimelineTable;
  service_orders: ServiceOrdersTable;
  ticket_team_members: TicketTeamMembersTable;
  service_order_events: ServiceOrderEventsTable;
  service_order_team_members: ServiceOrderTeamMembersTable;
  service_order_records: ServiceOrderRecordsTable;
  ticket_sequences: TicketSequencesTable;
  customers: CustomersTable;
  vehicles: VehiclesTable;
  service_accounts: ServiceAccountsTable;
  registry_changes: RegistryChangesTable;
  vehicle_presence: VehiclePresenceTable;
  vehicle_owners: VehicleOwnersTable;
  vehicle_events: VehicleEventsTable;
  dead_letters: DeadLettersTable;
  telemetry_confirmations: TelemetryConfirmationsTable;
  ticket_mode_steps: TicketModeStepsTable;
}
