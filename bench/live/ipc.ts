/** Messages between bench/live/run.ts and its child processes (fleet.ts, consoles.ts), over the Node IPC channel. */
import type { ChildProcess } from 'node:child_process';
import { sendToParent as send } from '../shared/child.ts';
import { nextOfType, tell as tellChild } from '../shared/procs.ts';

/** Absolute times (epoch ms, the one machine clock every process reads). */
export interface Schedule {
  /** The fleet starts publishing. */
  startAt: number;
  /** Frames published in [windowStart, windowEnd) are the measured ones. */
  windowStart: number;
  windowEnd: number;
  /** The fleet stops publishing (a little after windowEnd, so the last measured frames travel under the same load). */
  stopAt: number;
}

export interface FleetResult {
  vehicles: number;
  published: number;
  acked: number;
  errors: number;
  disconnects: number;
  /** Frames published inside the window, per vehicle of this process's slice (in slice order). */
  publishedInWindow: number[];
  /** Frames of one vehicle published less than 1/maxRateHz after its previous one (the live throttle may merge those). */
  bunched: number;
  /** Publish→PUBACK (= publish→stored) of frames published in the window, as [ms, count] pairs. */
  ackLatency: [number, number][];
  /** How far the publish schedule fell behind at worst, ms (the load process's own event-loop lag). */
  maxLagMs: number;
  firstError?: string;
}

export interface ConsolesResult {
  consoles: number;
  /** `frame` messages received for frames published in the window, per vehicle (global vehicle index), summed over this process's consoles. */
  framesByVehicle: number[];
  /** `frame` messages for frames published outside the window (warm-up, tail). */
  framesOutside: number;
  /** Publish→arrival in a console of those frames, as [ms, count] pairs. */
  frameLatency: [number, number][];
  fleetMessages: number;
  /** Fleet entries received carrying a frame published in the window, and their age at arrival (batched every LIVE_FLEET_INTERVAL_MS). */
  fleetEntries: number;
  /** The characters of the `fleet` messages that arrived in the window: the batches' volume. */
  fleetBytes: number;
  fleetAge: [number, number][];
  disconnects: number;
  sessionsEnded: number;
  firstError?: string;
}

export type FleetToParent =
  | { type: 'connected'; connected: number; failed: number; ms: number; firstError?: string }
  | { type: 'done'; result: FleetResult }
  | { type: 'fatal'; message: string };

export type ConsolesToParent =
  | {
      type: 'ready';
      consoles: number;
      /** Subscriptions acknowledged, per vehicle (global vehicle index). */
      subscriptions: number[];
      refused: number;
      maxSubscriptions: number;
      maxRateHz: number;
      ms: number;
      firstError?: string;
    }
  | { type: 'done'; result: ConsolesResult }
  | { type: 'fatal'; message: string };

export type ParentToChild = { type: 'go'; schedule: Schedule } | { type: 'report' } | { type: 'release' };

/** The next IPC message of `type` from `child`; rejects on a `fatal` message, on exit, or on timeout. */
export const nextMessage = nextOfType;

export const tell: (child: ChildProcess, m: ParentToChild) => void = tellChild;

/** In a child: sends a message to the bench and resolves once it is handed over. */
export const sendToParent: (m: FleetToParent | ConsolesToParent) => Promise<void> = send;

/** In a child: the next message of `type` from the bench (bounded by `timeoutMs`). */
export function fromParent<K extends ParentToChild['type']>(
  type: K,
  timeoutMs: number,
): Promise<Extract<ParentToChild, { type: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error(`no '${type}' from the bench within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const onMessage = (m: ParentToChild) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(m as Extract<ParentToChild, { type: K }>);
    };
    process.on('message', onMessage);
  });
}
