import type { ProtocolError, RejectionCode, TopicKind } from '../protocol/index.ts';

/** Shapes shared by the broker and ingest, so neither imports the other. */

/** A message a gateway published on one of its own topics, as the broker hands it to ingest. */
export interface InboundMessage {
  vehicleId: string;
  kind: TopicKind;
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/**
 * What ingest answers: whether the broker may pass the message on to MQTT subscribers, and the
 * errors to send back on the vehicle's `errors` topic. The promise resolves only once everything
 * accepted is durably stored, so the broker can acknowledge.
 */
export interface IngestVerdict {
  forward: boolean;
  errors: ProtocolError[];
}

/** A step's refusal. */
export interface Rejection {
  code: RejectionCode;
  message: string;
  index?: number;
  seq?: number;
  issues?: { path: string; message: string }[];
}

export interface DeadLetter {
  at: number;
  vehicleId: string | null;
  topic: string;
  code: RejectionCode;
  message: string;
  /** The first bytes of the payload, for diagnosis. */
  excerpt: string;
}

/** A bounded log of refused messages. */
export interface DeadLetterLog {
  add(entry: DeadLetter): void;
  list(options?: { vehicleId?: string; limit?: number }): Promise<DeadLetter[]>;
  flush(): Promise<void>;
}

/**
 * What the broker asks of whoever takes vehicle messages (ingest, wired by the composition root).
 * `handle` resolves once what it accepted is durable; it rejects only when storage failed.
 */
export interface VehicleMessageHandler {
  handle(msg: InboundMessage): Promise<IngestVerdict>;
  refuse(msg: InboundMessage, rejection: Rejection): ProtocolError;
}
