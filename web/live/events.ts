/**
 * The console's live channel (socket.io on the HTTP port, path `/socket.io`): the one typed event
 * map shared by the server (web/live/live.ts) and the browser app. Type-only: importing it pulls
 * no server code into the browser bundle. See docs/api.md "Live updates".
 */
import type { CommandRecord } from '../../commands/types.ts';
import type { Alarm } from '../../diagnostics/types.ts';
import type { InboxItem } from '../../notifications/deliveries.ts';
import type { PowerSource, TelemetryFrame } from '../../protocol/index.ts';
import type { ParticipantRole, RemoteSession, SessionTimelineEntry, StepResult } from '../../remote/types.ts';
import type { Role } from '../auth/roles.ts';
import type { TicketView as Ticket } from '../ticket-view.ts';

export const LIVE_PATH = '/socket.io';

/** A vehicle's newest stored frame (room `vehicle:ID`), at most `LIVE_MAX_RATE_HZ` a second per vehicle; older ones in between are skipped. */
export interface LiveFrame {
  vehicleId: string;
  receivedAt: number;
  frame: TelemetryFrame;
}

/** What changed of one vehicle in the fleet view since the last `fleet` message. */
export interface FleetEntry {
  id: string;
  /** Present when the vehicle connected or disconnected. */
  online?: boolean;
  presenceChangedAt?: number;
  disconnectReason?: string | null;
  /**
   * Present when frames arrived: a summary of the newest. `receivedAt` and `ts` are always there;
   * of the values, those that changed since the vehicle's last summary (all of them in its first,
   * when a frame in between showed other values, and at least every 30 s). Merge it into what you hold.
   */
  latest?: FleetSummary;
}

/** A fleet summary's values; an entry's `latest` carries the times and the values that changed. */
export interface FleetSummaryValues {
  source: PowerSource;
  batterySocPct: number | null;
  timeToEmptyMin: number | null;
}

export type FleetSummary = { receivedAt: number; ts: number } & Partial<FleetSummaryValues>;

/**
 * A vehicle whose newest frame changed none of its summary's values, and no presence:
 * `[id, receivedAt − at, ts − receivedAt]` (ms, relative to the message's `at`).
 * `fleetEntries` (web/live/fleet-wire.ts) reads it as an entry `{id, latest: {receivedAt, ts}}`.
 */
export type FleetSeen = [id: string, receivedAtOffset: number, tsOffset: number];

/** Fleet changes (presence, newest values) of the vehicles one may see, batched every `LIVE_FLEET_INTERVAL_MS`. */
export interface FleetUpdate {
  at: number;
  vehicles: FleetEntry[];
  /** Vehicles that only sent frames with the values they had (left out when there are none). */
  seen?: FleetSeen[];
}

export interface LiveAlarm {
  kind: 'raised' | 'updated' | 'cleared';
  alarm: Alarm;
}

export type LiveTicket =
  | { kind: 'opened'; ticket: Ticket }
  | { kind: 'updated'; ticket: Ticket; action: string }
  | {
      kind: 'deadline_breached';
      ticket: Ticket;
      deadline: 'work_content' | 'plan';
      escalatedTo: string;
      /** Every account escalated to: their consoles alert them (issue 15, item 3). */
      escalatedAccounts: string[];
    };

/** An operator command to a vehicle was sent, or settled (done, refused, no_answer): to staff subscribed to the vehicle. */
export interface LiveCommand {
  kind: 'sent' | 'settled';
  command: CommandRecord;
}

/** A new item in the account's console inbox (room `account:ID`, never dropped). */
export interface LiveInbox {
  item: InboxItem;
}

/** Sent once right after the connection is accepted. */
export interface LiveWelcome {
  /** `guest`: an invited guest, who may only `session.join` its session. */
  account: { id: string; role: Role | 'guest'; customerId: string | null };
  /** At most this many `frame` messages a second per vehicle. */
  maxRateHz: number;
  /** At most this many vehicles subscribed at once per connection. */
  maxSubscriptions: number;
}

/** Why the server is closing the connection (then it disconnects; log in again to reconnect). */
export interface LiveSessionEnded {
  reason: string;
}

/**
 * A remote support request rings (the bus's `remote.ringing`, pushed to staff by the session
 * module of the live layer): `accounts` are the ones rung at this step of the ladder.
 */
export interface LiveRinging {
  sessionId: number;
  ticketId: number;
  vehicleId: string;
  description: string;
  requestedAt: number;
  step: 'primary' | 'secondary' | 'duty_lead';
  accounts: string[];
}

/** The answer to a request: `ok`, or the platform error code and message (e.g. `VEHICLE_NOT_FOUND`). */
export type LiveAck<T extends object = object> =
  ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };

export interface VehicleSubscription {
  vehicleId: string;
}

/** `session.join`: the session to watch, and the last timeline seq the client has (after a reload), if any. */
export interface SessionJoin {
  sessionId: number;
  /** Entries with a greater seq come in the answer; none (or -1): the whole timeline. */
  sinceSeq?: number;
}

/** The answer to `session.join`: the session now and the timeline entries after `sinceSeq`. */
export interface SessionJoined {
  sessionId: number;
  role: ParticipantRole;
  session: RemoteSession;
  timeline: SessionTimelineEntry[];
}

/**
 * Every frame the session's vehicle stored (the frames of one stored message), unthrottled, to the
 * session's participants (room `session:ID`); skipped for a connection that is behind (backpressure).
 */
export interface LiveSessionFrames {
  sessionId: number;
  vehicleId: string;
  receivedAt: number;
  frames: TelemetryFrame[];
}

/** Server → client. */
export interface ServerToClientEvents {
  welcome: (m: LiveWelcome) => void;
  frame: (m: LiveFrame) => void;
  fleet: (m: FleetUpdate) => void;
  alarm: (m: LiveAlarm) => void;
  ticket: (m: LiveTicket) => void;
  command: (m: LiveCommand) => void;
  inbox: (m: LiveInbox) => void;
  'session.ended': (m: LiveSessionEnded) => void;
  /** Remote session stream (after `session.join`): frames, timeline entries, status changes, guided steps. */
  'remote.frames': (m: LiveSessionFrames) => void;
  'remote.timeline': (m: { sessionId: number; entry: SessionTimelineEntry }) => void;
  'remote.changed': (m: { sessionId: number; action: string; session: RemoteSession }) => void;
  'remote.step': (m: { sessionId: number; result: StepResult }) => void;
  /** Staff only: a remote support request rings (see LiveRinging). */
  'remote.ringing': (m: LiveRinging) => void;
}

/** Client → server; every request takes an acknowledgement callback. */
export interface ClientToServerEvents {
  /** Join `vehicle:ID` to receive its frames; refused (`VEHICLE_NOT_FOUND`) for another unit's vehicle. */
  subscribe: (req: VehicleSubscription, ack: (res: LiveAck<{ vehicleId: string }>) => void) => void;
  unsubscribe: (req: VehicleSubscription, ack: (res: LiveAck<{ vehicleId: string }>) => void) => void;
  /** Join a remote session's room (participants only: SESSION_NOT_FOUND otherwise); answered with its state. */
  'session.join': (req: SessionJoin, ack: (res: LiveAck<SessionJoined>) => void) => void;
  'session.leave': (req: { sessionId: number }, ack: (res: LiveAck<{ sessionId: number }>) => void) => void;
}
