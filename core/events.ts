import type { DiagnosticsEvents } from '../diagnostics/types.ts';
import type { ResourceEvents } from '../resources/events.ts';
import type { ModeStepEvents } from '../diagnostics/tickets/mode-steps.ts';
import type { CommandRecord } from '../commands/types.ts';
import type { DeliveryView, InboxItem } from '../notifications/deliveries.ts';
import type { RemoteSession, SessionTimelineEntry, StepResult } from '../remote/types.ts';
import type { CommandAck, ProtocolError, TelemetryFrame, VehicleEvent, VehicleStatus } from '../protocol/index.ts';

/** The typed event map of the platform's internal bus. Stages talk only through these. */
export interface PlatformEvents extends DiagnosticsEvents, ResourceEvents, ModeStepEvents {
  /** Frames just stored (duplicates excluded), in the order received. */
  'telemetry.stored': { vehicleId: string; receivedAt: number; frames: TelemetryFrame[] };
  /**
   * Every frame of one message that is now durably stored, new or stored before (a re-send): what
   * the delivery confirmation (`telemetry/confirmed`) counts. Emitted after the commit, before the PUBACK.
   */
  'telemetry.committed': { vehicleId: string; receivedAt: number; frames: TelemetryFrame[] };
  /** A message, or one frame of a batch, was refused. */
  'ingest.rejected': { vehicleId: string; error: ProtocolError };
  'vehicle.event': { vehicleId: string; receivedAt: number; event: VehicleEvent };
  'vehicle.status': { vehicleId: string; receivedAt: number; status: VehicleStatus };
  'vehicle.connected': { vehicleId: string; at: number; address: string | null };
  'vehicle.disconnected': { vehicleId: string; at: number; reason: string };
  'command.ack': { vehicleId: string; receivedAt: number; ack: CommandAck };
  /** A vehicle or service account was added, rotated or removed (also from another process). */
  'registry.changed': {
    subject: 'vehicle' | 'service';
    id: string;
    change: 'added' | 'rotated' | 'removed' | 'updated';
  };
  /** An operator command was published to a vehicle (commands/). */
  'command.sent': { command: CommandRecord };
  /** An operator command was answered (done/refused) or timed out (no_answer). */
  'command.settled': { command: CommandRecord };
  /** A remote session was created or changed status/participants (remote/). */
  'remote.session.changed': { session: RemoteSession; action: string };
  /** An entry was appended to a session's timeline. */
  'remote.timeline': { sessionId: number; entry: SessionTimelineEntry };
  /** These accounts are rung for a session (console alert; the alerts' paging once wired). */
  'remote.ringing': { session: RemoteSession; accounts: string[]; step: 'primary' | 'secondary' | 'duty_lead' };
  /** A guided step changed (remote/steps): the session records put it on the timeline. */
  'remote.step': { result: StepResult };
  /**
   * Rows were written into the notification outbox (or a failed one re-sent): emitted after the commit
   * so the dispatcher delivers at once instead of at its next poll.
   */
  'notification.enqueued': { count: number };
  /** A delivery reached its receiver (emitted after the commit); an inbox delivery carries the account's item. */
  'notification.delivered': { delivery: DeliveryView; inboxItem?: InboxItem };
  /** A delivery failed for good (tries used up, a permanent refusal, its target disabled). */
  'notification.failed': { delivery: DeliveryView };
}
