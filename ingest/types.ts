export type { InboundMessage, IngestVerdict, Rejection, DeadLetter, DeadLetterLog } from '../core/inbound.ts';
