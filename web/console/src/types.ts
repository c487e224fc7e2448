/**
 * The API's shapes as the console uses them (see docs/api.md and /docs/json). Alarms, tickets and
 * frames come from the platform's own type modules, type-only, so nothing server-side is bundled.
 */
import type { Alarm, AlarmNote, Ticket as TicketRecord, TimelineEntry } from '../../../diagnostics/types.ts';
import type { PowerSource, TelemetryFrame } from '../../../protocol/index.ts';
import type { FieldSeries, Series } from '../../../telemetry/store.ts';
import type { Localized } from './i18n.ts';

export type { Alarm, AlarmNote, FieldSeries, PowerSource, Series, TelemetryFrame, TimelineEntry };
export type Role = 'admin' | 'dispatcher' | 'engineer' | 'customer';
export type Severity = Alarm['severity'];
export type Ticket = TicketRecord & { nextDueAt: number | null };

export interface Account {
  id: string;
  name: string;
  role: Role;
  customerId: string | null;
  mustChangePassword: boolean;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
}

export interface Session {
  account: Account;
  csrfToken: string;
  expiresAt: number;
  idleExpiresAt: number;
}

export interface Latest {
  receivedAt: number;
  ts: number;
  source: PowerSource;
  batterySocPct: number | null;
  timeToEmptyMin: number | null;
  frame?: TelemetryFrame;
}

export interface VehicleState {
  id: string;
  name: string;
  model: string;
  customerId: string;
  profile: {
    hasGenerator: boolean;
    battery: { nominalV: number; capacityAh: number };
    mains: { nominalV: number; frequencyHz: number };
  };
  createdAt: number;
  online: boolean;
  presenceChangedAt: number | null;
  disconnectReason: string | null;
  latest: Latest | null;
  activeAlarms: number;
  worstAlarm: { id: number; code: string; severity: Severity; title: Localized } | null;
}

export interface FleetCounts {
  total: number;
  online: number;
  offline: number;
  bySource: Record<string, number>;
  withAlarms: number;
}

export interface Plan {
  code: string;
  version: number;
  reviewedAt: string;
  reviewEveryDays: number;
  reviewDueAt: number;
  overdue: boolean;
  faultType: string;
  title: Localized;
  likelyCauses: Localized[];
  remoteChecks: Localized[];
  parts: { partNo: string; name: Localized; qty: number }[];
  recommendedMode: string;
  safety?: Localized;
}

export interface TicketDetail {
  ticket: Ticket;
  timeline: TimelineEntry[];
  snapshot: Series | null;
  plan: Plan | null;
}

export interface Customer {
  id: string;
  name: string;
  createdAt: number;
  vehicleCount: number;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  ip: string | null;
  details: unknown;
}

export interface StaffMember {
  id: string;
  name: string;
  role: Role;
}
