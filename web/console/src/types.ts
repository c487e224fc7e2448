/**
 * The API's shapes as the console uses them (see docs/api.md and /docs/json): the response schemas
 * of web/schemas.ts (z.infer) and the platform's own type modules. Every import here is type-only,
 * so nothing server-side is bundled; keep it so, and import only modules that pull no node-only code
 * into the console's type check (`npx tsc --noEmit -p web/console`).
 */
import type { z } from 'zod';
import type { Role } from '../../auth/roles.ts';
import type {
  accountOut,
  auditOut,
  customerOut,
  dutyShiftOut,
  fleetCountsOut,
  planOut,
  remoteSessionOut,
  ticketAlarmOut,
  sessionOut,
  staffMemberOut,
  timelineOut,
  vehicleLimitsOut,
  vehicleStateOut,
} from '../../schemas.ts';
import type { TicketView as Ticket } from '../../ticket-view.ts';
import type { ServiceOrder, ServiceOrderEvent } from '../../../diagnostics/service-orders/orders.ts';
import type { TeamMember } from '../../../diagnostics/tickets/team.ts';
import type { Alarm, AlarmNote } from '../../../diagnostics/types.ts';
import type { CommandRecord } from '../../../commands/types.ts';
import type { OperatorCommandName } from '../../../commands/catalogue.ts';
import type { PowerSource, TelemetryFrame } from '../../../protocol/index.ts';
import type { FieldSeries, Series } from '../../../telemetry/store.ts';

export type {
  TeamMember,
  ServiceOrder,
  ServiceOrderEvent,
  Alarm,
  AlarmNote,
  CommandRecord,
  FieldSeries,
  OperatorCommandName,
  PowerSource,
  Role,
  Series,
  TelemetryFrame,
  Ticket,
};
export type Severity = Alarm['severity'];

export type Account = z.infer<typeof accountOut>;
export type Session = z.infer<typeof sessionOut>;
export type VehicleState = z.infer<typeof vehicleStateOut>;
export type VehicleLimits = z.infer<typeof vehicleLimitsOut>;
export type FieldLimit = VehicleLimits['limits'][number];
export type FleetCounts = z.infer<typeof fleetCountsOut>;
export type Plan = z.infer<typeof planOut>;
export type TimelineEntry = z.infer<typeof timelineOut>;
export type Customer = z.infer<typeof customerOut>;
export type AuditEntry = z.infer<typeof auditOut>;
export type StaffMember = z.infer<typeof staffMemberOut>;
export type RemoteSession = z.infer<typeof remoteSessionOut>;
export type DutyShift = z.infer<typeof dutyShiftOut>;

/** GET /api/tickets/{id}; the schema leaves `snapshot` open (a Series or null). */
export interface TicketDetail {
  ticket: Ticket;
  timeline: TimelineEntry[];
  snapshot: Series | null;
  plan: Plan | null;
  /** Its remote sessions, newest first. */
  sessions: RemoteSession[];
  /** Its alarms (its incident's and those of the tickets merged into it), newest first. */
  alarms: TicketAlarm[];
  /** The other open tickets of its vehicle, shown side by side. */
  sameVehicle: Ticket[];
  mergedFrom: { id: number; number: string }[];
  mergedIntoNumber: string | null;
  /** The response team (应急响应小组) and, for 特急, the command post (应急指挥部). */
  team: TeamMember[];
}
export type TicketAlarm = z.infer<typeof ticketAlarmOut>;
export type { DeliveryView, InboxItem } from '../../../notifications/deliveries.ts';

/** A notification contact (GET /api/customers/{id}/contacts, /api/me/contact). */
export interface NotificationContact {
  id: number;
  customerId: string | null;
  accountId: string | null;
  name: string;
  role: string | null;
  phone: string | null;
  email: string | null;
  language: 'en' | 'zh';
  channels: { channel: 'email' | 'webhook' | 'dingtalk' | 'wecom'; target: string }[];
  quietHours: { from: string; to: string } | null;
  timeZone: string;
  subscriptions: { id: number; vehicleId: string | null; kinds: string[]; minLevel: Ticket['level'] }[];
  updatedAt: number;
}

/** A page of a staff member (GET /api/pages, /api/tickets/{id}/pages). */
export interface StaffPage {
  id: number;
  ticketId: number | null;
  reason: string;
  deadline: string | null;
  message: string;
  step: number;
  accountId: string;
  state: 'open' | 'acknowledged' | 'resolved';
  createdAt: number;
  pagedAt: number;
  escalateAt: number | null;
  ackedAt: number | null;
  ackedBy: string | null;
}
