import type { TelemetryFrame } from './telemetry.ts';
import type { Command, CommandAck, ProtocolError, VehicleEvent, VehicleStatus } from './messages.ts';

/** The one typed topic map: what travels on each vehicle topic. */
export interface TopicMap {
  telemetry: TelemetryFrame | { frames: TelemetryFrame[] };
  status: VehicleStatus;
  events: VehicleEvent;
  commands: Command;
  'commands/ack': CommandAck;
  errors: ProtocolError;
}
