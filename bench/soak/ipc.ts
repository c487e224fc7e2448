/** Messages between the soak orchestrator (run.ts) and its child processes (fleet.ts, consoles.ts), over the Node IPC channel. */
import type { ChildProcess } from 'node:child_process';
import { sendToParent as send } from '../shared/child.ts';
import { nextMessage } from '../shared/procs.ts';
import type { PowerProfile } from '../../protocol/index.ts';
import type { ScenarioName } from '../../simulators/scenarios/index.ts';

export interface SoakVehicle {
  id: string;
  secret: string;
  customerId: string;
  profile: PowerProfile;
}

/** One fault landed on one vehicle, in absolute (wall-clock) time. */
export interface SoakFault {
  /** Global fault number (also the scenario entry index: the fault's id is `${name}#${index}`). */
  index: number;
  vehicleId: string;
  name: ScenarioName;
  startTs: number;
  /** Seconds; null = until the end. */
  durationS: number | null;
  params: Record<string, unknown>;
  /** The fault code of the ticket this fault must open, or null when it must open none. */
  ticketCode: string | null;
  /** A ticket is expected only when the fault started at least this long before the end of the soak. */
  ticketWithinS: number;
}

/** Fleet totals at one moment (sums over the child's gateways). */
export interface FleetTotals {
  vehicles: number;
  online: number;
  framesSampled: number;
  framesAcked: number;
  messagesSent: number;
  batchesSent: number;
  buffered: number;
  dropped: number;
  lostOnReboot: number;
  connects: number;
  connectFailures: number;
  errorsReceived: number;
  backfillRequests: number;
  confirmations: number;
  activeFaults: number;
}

/** Per vehicle, in the order of the child's slice, at the end. */
export interface FleetLedger {
  ids: string[];
  sampled: number[];
  acked: number[];
  buffered: number[];
  dropped: number[];
  lostOnReboot: number[];
}

export interface ConsoleTicket {
  ticketId: number;
  vehicleId: string | null;
  faultCode: string | null;
  receivedAt: number;
  arrivedAt: number;
}

export interface ConsoleFigures {
  consoles: number;
  connected: number;
  fleetMessages: number;
  fleetEntries: number;
  frames: number;
  alarms: number;
  tickets: number;
  disconnects: number;
  relogins: number;
  firstError?: string;
}

export type ParentToFleet =
  | { type: 'start'; t0: number }
  | { type: 'faults'; faults: SoakFault[] }
  | { type: 'stats'; id: number }
  | { type: 'publishedAt'; id: number; queries: { vehicleId: string; ts: number }[] }
  | { type: 'stop'; id: number; drainMs: number }
  | { type: 'exit' };

export type FleetToParent =
  | { type: 'ready'; vehicles: number; ms: number }
  | { type: 'stats'; id: number; totals: FleetTotals; ackBuckets: number[] }
  | { type: 'publishedAt'; id: number; answers: (number | null)[] }
  | { type: 'stopped'; id: number; drained: boolean; totals: FleetTotals; ledger: FleetLedger; ackBuckets: number[] }
  | { type: 'fatal'; message: string };

export type ParentToConsoles = { type: 'stats'; id: number } | { type: 'stop'; id: number };

export type ConsolesToParent =
  | { type: 'ready'; consoles: number; ms: number }
  | { type: 'ticket'; ticket: ConsoleTicket }
  | { type: 'stats'; id: number; figures: ConsoleFigures }
  | { type: 'stopped'; id: number; figures: ConsoleFigures }
  | { type: 'fatal'; message: string };

/** In a child: sends to the parent and resolves once the message is handed over. */
export const sendToParent: (m: FleetToParent | ConsolesToParent) => Promise<void> = send;

/**
 * In the parent: a request with an id to a child, answered by a message of the same id (or a fatal
 * message, the child's exit, or the timeout).
 */
export function request<T extends { type: string; id?: number }>(
  child: ChildProcess,
  message: { type: string; id: number; [k: string]: unknown },
  answer: T['type'],
  timeoutMs: number,
  what: string,
): Promise<T> {
  const answered = nextMessage(
    child,
    (m: { type: string; id?: number }): m is T => m.type === answer && m.id === message.id,
    timeoutMs,
    what,
  );
  if (child.connected) child.send(message);
  return answered;
}

let nextId = 1;
export const requestId = () => nextId++;
