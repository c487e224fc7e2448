import type { TelemetryFrame } from './telemetry.ts';
import type {
  Command,
  CommandAck,
  ProtocolError,
  TelemetryConfirmed,
  VehicleEvent,
  VehicleStatus,
} from './messages.ts';

/** The one typed topic map: what travels on each vehicle topic. */
export interface TopicMap {
  telemetry: TelemetryFrame | { frames: TelemetryFrame[] };
  'telemetry/confirmed': TelemetryConfirmed;
  status: VehicleStatus;
  events: VehicleEvent;
  commands: Command;
  'commands/ack': CommandAck;
  errors: ProtocolError;
}
