/** Messages between bench/sessions/run.ts and its gateways process (gateways.ts), over the Node IPC channel. */
import type { ChildProcess } from 'node:child_process';
import { sendToParent as send } from '../shared/child.ts';
import { nextOfType, tell as tellChild } from '../shared/procs.ts';
import type { Schedule } from '../live/ipc.ts';

export type { Schedule } from '../live/ipc.ts';

export interface GatewaysResult {
  /** Frames each gateway sampled (and so published) with a `ts` in [windowStart, windowEnd), in slice order. */
  sampledInWindow: number[];
  /** Frames sampled in all, per gateway. */
  sampled: number[];
  commands: number;
  commandsRefused: number;
  /** Frames a full buffer dropped (lost at the gateway). */
  dropped: number;
  disconnects: number;
  /** How far the 5 ms tick loop fell behind at worst, ms. */
  maxLagMs: number;
}

export type GatewaysToParent =
  | { type: 'connected'; connected: number; ms: number }
  | { type: 'done'; result: GatewaysResult }
  | { type: 'fatal'; message: string };

export type ParentToGateways = { type: 'go'; schedule: Schedule } | { type: 'report' } | { type: 'release' };

export const nextMessage = nextOfType;
export const tell: (child: ChildProcess, m: ParentToGateways) => void = tellChild;
export const sendToParent: (m: GatewaysToParent) => Promise<void> = send;

/** In the child: the next message of `type` from the bench (bounded by `timeoutMs`). */
export function fromParent<K extends ParentToGateways['type']>(
  type: K,
  timeoutMs: number,
): Promise<Extract<ParentToGateways, { type: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error(`no '${type}' from the bench within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const onMessage = (m: ParentToGateways) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(m as Extract<ParentToGateways, { type: K }>);
    };
    process.on('message', onMessage);
  });
}
